"""Peer driver: DSPy's own MIPROv2 (dspy), stock prompts: instructions and few-shot demos,
`num_trials` = steps, minibatches of the job's batch size scored on the val split."""

from __future__ import annotations

from _dspy import bring_back, setup
from _peer import Run


def main(run: Run) -> None:
    dspy, program, trainset, valset, metric = setup(run)
    from dspy.teleprompt import MIPROv2

    options = run.job.get("options", {})
    optimizer = MIPROv2(metric=metric, auto=None, num_candidates=int(options.get("num_candidates", 3)),
                        max_bootstrapped_demos=int(options.get("max_bootstrapped_demos", 2)),
                        max_labeled_demos=int(options.get("max_labeled_demos", 2)),
                        num_threads=1, seed=run.job["seed"], verbose=False)
    compiled = optimizer.compile(program, trainset=trainset, valset=valset, num_trials=run.job["steps"],
                                 minibatch=True, minibatch_size=run.job["batch_size"],
                                 minibatch_full_eval_steps=max(2, run.job["steps"]))
    run.steps_done = run.job["steps"]
    bring_back(run, compiled)


if __name__ == "__main__":
    Run().guard(main)
