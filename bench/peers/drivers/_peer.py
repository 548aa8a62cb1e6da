"""What every peer driver shares (standard library only: it runs in the peer's venv).

A driver is started as `python DRIVER JOB.json RESULT.json`. The job says the task
items (inputs and targets), the initial prompt, the step count, the minibatch size,
the seed and the gateway's URL; the driver optimizes the prompt with its framework's
own optimizer, asking the gateway to score outputs (`feedback`), and writes the final
prompt to RESULT.json whatever happens (`Run.finish`, also on errors and budget stops).
"""

from __future__ import annotations

import json
import random
import sys
import traceback
import urllib.request
from typing import Any


def _post(url: str, payload: dict[str, Any]) -> dict[str, Any]:
    req = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as resp:
        return json.loads(resp.read())


class Run:
    """The job, the current prompt, and the way back to undertow."""

    def __init__(self) -> None:
        if len(sys.argv) != 3:
            sys.exit("usage: DRIVER JOB.json RESULT.json")
        with open(sys.argv[1], encoding="utf-8") as f:
            self.job: dict[str, Any] = json.load(f)
        self.result_path = sys.argv[2]
        self.prompt: str = self.job["initial_prompt"]
        self.steps_done = 0
        self.notes: dict[str, Any] = {}
        self.gateway: str = self.job["gateway"]
        # question text -> (split, index), so a framework's own metric can be routed to ours
        self.where: dict[str, tuple[str, int]] = {}
        for split in ("train", "val"):
            for i, item in enumerate(self.job[split]):
                self.where.setdefault(item["input"], (split, i))

    @property
    def train(self) -> list[dict[str, str]]:
        return self.job["train"]

    @property
    def val(self) -> list[dict[str, str]]:
        return self.job["val"]

    def feedback(self, split: str, index: int, output: str) -> tuple[float, str]:
        """undertow's score and feedback sentence for `output` on item `index` of `split`."""
        got = _post(self.gateway + "/_undertow/feedback", {"split": split, "index": index, "output": output})
        return float(got["score"]), str(got["feedback"])

    def feedback_for(self, question: str, output: str) -> tuple[float, str]:
        """The same, for an item named by its question text."""
        split, index = self.where[question]
        return self.feedback(split, index, output)

    def budget(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.gateway + "/_undertow/budget", timeout=30) as resp:
            return json.loads(resp.read())

    def budget_spent(self) -> bool:
        try:
            return bool(self.budget()["spent"])
        except OSError:
            return False

    def batches(self) -> Any:
        """The training batches (item indices) of each step, drawn from the job's seed;
        stops early once the budget is spent."""
        rng = random.Random(self.job["seed"])
        for _ in range(self.job["steps"]):
            if self.budget_spent():
                return
            yield rng.sample(range(len(self.train)), min(self.job["batch_size"], len(self.train)))

    def finish(self, stopped: str, error: str = "") -> None:
        with open(self.result_path, "w", encoding="utf-8") as f:
            json.dump({"prompt": self.prompt, "stopped": stopped, "error": error,
                       "steps_done": self.steps_done, "notes": self.notes}, f)

    def guard(self, body: Any) -> None:
        """Run `body(self)`; record how it ended (steps, budget or error) and the prompt."""
        try:
            body(self)
        except BaseException as exc:  # noqa: BLE001 - every ending must leave a result
            if self.budget_spent():
                self.finish("budget")
            else:
                traceback.print_exc()
                self.finish("error", f"{type(exc).__name__}: {str(exc)[:2000]}")
            return
        self.finish("budget" if self.budget_spent() else "steps")
