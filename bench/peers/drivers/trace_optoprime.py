"""Peer driver: Trace's own OptoPrime (trace-opt), stock prompts, on a prompt task.

The agent is a traced function that sends the trainable system prompt and the
question to the LLM (Trace's CustomLLM backend, pointed at the gateway by the
environment). trace-opt 0.1.3.8 takes one feedback per backward pass, so a minibatch
is joined into one traced node, one `ID [i]: ...` line per output, with the
feedback sentences joined the same way (how later Trace releases batch a
minibatch); then one backward and one `optimizer.step()`.
"""

from __future__ import annotations


from _peer import Run
from opto import trace
from opto.optimizers import OptoPrime
from opto.utils.llm import LLM

llm = LLM()


@trace.bundle()
def answer(system_prompt, question):
    """Send the system prompt and the question to the LLM; return its reply."""
    reply = llm(messages=[{"role": "system", "content": system_prompt},
                          {"role": "user", "content": question}])
    return reply.choices[0].message.content


@trace.bundle()
def join_outputs(*outputs):
    """Join the outputs of a minibatch, one `ID [i]: output` line each."""
    return "\n".join(f"ID [{k}]: {o}" for k, o in enumerate(outputs))


def main(run: Run) -> None:
    prompt = trace.node(run.prompt, name="system_prompt", trainable=True,
                        description="the system prompt of an agent that answers the question")
    optimizer = OptoPrime([prompt], llm=llm)
    for batch in run.batches():
        optimizer.zero_feedback()
        outputs, sentences = [], []
        for i in batch:
            question = trace.node(run.train[i]["input"], name="question", trainable=False)
            output = answer(prompt, question)
            outputs.append(output)
            sentences.append(run.feedback("train", i, str(output.data))[1])
        joined = join_outputs(*outputs)
        optimizer.backward(joined, "\n".join(f"ID [{k}]: {s}" for k, s in enumerate(sentences)))
        optimizer.step()
        run.prompt = str(prompt.data)
        run.steps_done += 1


if __name__ == "__main__":
    Run().guard(main)
