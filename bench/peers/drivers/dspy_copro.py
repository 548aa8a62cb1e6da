"""Peer driver: DSPy's own COPRO (dspy), stock prompts: instruction search, `depth` = steps."""

from __future__ import annotations

from _dspy import bring_back, setup
from _peer import Run


def main(run: Run) -> None:
    dspy, program, trainset, _, metric = setup(run)
    from dspy.teleprompt import COPRO

    breadth = int(run.job.get("options", {}).get("breadth", 3))
    optimizer = COPRO(metric=metric, breadth=breadth, depth=run.job["steps"], init_temperature=1.4)
    compiled = optimizer.compile(program, trainset=trainset,
                                 eval_kwargs={"num_threads": 1, "display_progress": False})
    run.steps_done = run.job["steps"]
    bring_back(run, compiled)


if __name__ == "__main__":
    Run().guard(main)
