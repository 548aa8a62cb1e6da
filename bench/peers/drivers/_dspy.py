"""What the DSPy drivers share: the LM, the program, the data and the metric."""

from __future__ import annotations

from typing import Any

from _peer import Run


def setup(run: Run) -> tuple[Any, Any, list[Any], list[Any], Any]:
    """(dspy, program, trainset, valset, metric): a chain-of-thought `question -> answer`
    program whose instructions are the prompt, and undertow's score as the metric."""
    import dspy

    lm = dspy.LM(f"openai/{run.job['model']}", api_base=run.gateway + "/v1", api_key="undertow-local",
                 cache=False, num_retries=0)
    dspy.configure(lm=lm)
    signature = dspy.Signature("question -> answer", instructions=run.prompt)
    program = dspy.ChainOfThought(signature)

    def examples(split: str) -> list[Any]:
        return [dspy.Example(question=x["input"], answer=x["target"]).with_inputs("question")
                for x in run.job[split]]

    def metric(example: Any, prediction: Any, trace: Any = None, *args: Any) -> float:
        return run.feedback_for(example.question, str(getattr(prediction, "answer", "") or ""))[0]

    return dspy, program, examples("train"), examples("val"), metric


def bring_back(run: Run, program: Any) -> None:
    """The optimized instructions become the prompt; demos (if any) follow as worked examples."""
    predictors = list(program.named_predictors())
    _, predictor = predictors[0]
    text = str(predictor.signature.instructions)
    demos = list(getattr(predictor, "demos", []) or [])
    run.notes["demos"] = len(demos)
    if demos:
        shown = []
        for d in demos:
            get = d.get if hasattr(d, "get") else (lambda k, d=d: getattr(d, k, None))
            parts = [f"Question: {get('question')}"]
            if get("reasoning"):
                parts.append(f"Reasoning: {get('reasoning')}")
            parts.append(f"Answer: {get('answer')}")
            shown.append("\n".join(parts))
        text += "\n\nExamples:\n\n" + "\n\n".join(shown)
    run.prompt = text
