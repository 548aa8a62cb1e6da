"""Peer driver: the GEPA package's own `gepa.optimize` with its default adapter and
stock reflection prompt; the task LM and the reflection LM both go through the
gateway (litellm, `openai/<model>` with OPENAI_BASE_URL); undertow's score and
feedback sentence are the evaluator. `max_metric_calls` comes from the job."""

from __future__ import annotations

from _peer import Run


def main(run: Run) -> None:
    import gepa
    from gepa.adapters.default_adapter.default_adapter import EvaluationResult

    def evaluator(data: dict, response: str) -> EvaluationResult:
        score, sentence = run.feedback_for(data["input"], response)
        return EvaluationResult(score=score, feedback=sentence)

    def items(split: str) -> list[dict]:
        return [{"input": x["input"], "answer": x["target"], "additional_context": {}} for x in run.job[split]]

    class BudgetStop:
        def __call__(self, state: object) -> bool:
            return run.budget_spent()

    model = f"openai/{run.job['model']}"
    options = run.job.get("options", {})
    result = gepa.optimize(
        seed_candidate={"system_prompt": run.prompt}, trainset=items("train"), valset=items("val"),
        task_lm=model, evaluator=evaluator, reflection_lm=model,
        reflection_minibatch_size=run.job["batch_size"],
        max_metric_calls=int(options.get("max_metric_calls", 100)), stop_callbacks=[BudgetStop()],
        seed=run.job["seed"], raise_on_exception=False, display_progress_bar=False)
    run.prompt = result.best_candidate["system_prompt"]
    run.notes["candidates"] = len(result.candidates)
    run.steps_done = len(result.candidates) - 1


if __name__ == "__main__":
    Run().guard(main)
