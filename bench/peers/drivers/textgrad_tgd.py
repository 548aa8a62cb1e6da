"""Peer driver: TextGrad's own TextualGradientDescent (textgrad), stock prompts.

The agent is `tg.BlackboxLLM` with a trainable system prompt; the loss of each
output is a `StringBasedFunction` that returns undertow's feedback sentence (the
pattern of TextGrad's prompt-optimization examples); the minibatch losses are summed,
back-propagated, and TGD steps once.
"""

from __future__ import annotations


from _peer import Run


def main(run: Run) -> None:
    import textgrad as tg
    from textgrad.autograd import StringBasedFunction

    engine = tg.get_engine("gpt-4o")            # ChatOpenAI; OPENAI_BASE_URL points it at the gateway
    tg.set_backward_engine(engine, override=True)
    system_prompt = tg.Variable(run.prompt, requires_grad=True,
                                role_description="system prompt to the language model")
    model = tg.BlackboxLLM(engine, system_prompt=system_prompt)
    optimizer = tg.TGD(parameters=[system_prompt])
    current: dict[str, int] = {}

    def judge(prediction: tg.Variable, question: tg.Variable) -> str:
        return run.feedback("train", current[question.value], prediction.value)[1]

    evaluate = StringBasedFunction(judge, function_purpose="undertow's verdict on the prediction")
    for batch in run.batches():
        optimizer.zero_grad()
        losses = []
        for i in batch:
            text = run.train[i]["input"]
            current[text] = i
            question = tg.Variable(text, requires_grad=False, role_description="question to the language model")
            prediction = model(question)
            prediction.set_role_description("answer of the language model to the question")
            losses.append(evaluate(inputs=dict(prediction=prediction, question=question)))
        tg.sum(losses).backward()
        optimizer.step()
        run.prompt = str(system_prompt.value)
        run.steps_done += 1


if __name__ == "__main__":
    Run().guard(main)
