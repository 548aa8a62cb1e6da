"""AutoLibra's loop: ground feedback in trajectories, cluster behaviours into metrics,
rate every trajectory on every metric, and repeat on what the metrics miss while
coverage rises.

Every LLM call goes through an `undertow.engine.llm.LLM` (so caching, budgets and
accounting apply): grounding and clustering under purpose "optimizer", rating under
"judge". A reply that cannot be read is skipped and counted (`MetricSet.skipped_replies`).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

from undertow.optimizers.metrics import meta
from undertow.optimizers.metrics.parse import ReplyError, parse_clusters, parse_grounding, parse_ratings
from undertow.optimizers.metrics.prompts import clustering_request, grounding_request, rating_request
from undertow.optimizers.metrics.schemas import (
    Behaviour,
    Iteration,
    Judgement,
    Metric,
    MetricSet,
    Rating,
    Trajectory,
)


class Counter:
    """LLM calls made and replies skipped by one induction."""

    def __init__(self) -> None:
        self.calls = 0
        self.skipped = 0

    def ask(self, llm: Any, messages: list[dict[str, str]], purpose: str) -> str:
        self.calls += 1
        return llm.complete(messages, purpose=purpose).text


def ground(trajectories: Sequence[Trajectory], llm: Any, counter: Counter | None = None) -> list[Behaviour]:
    """The behaviours each trajectory's feedback talks about (one LLM call per trajectory
    with feedback). Behaviours naming a step the trajectory lacks lose the step."""
    counter = counter or Counter()
    found: list[Behaviour] = []
    for t in trajectories:
        if not t.feedback.strip():
            continue
        try:
            got, skipped = parse_grounding(counter.ask(llm, grounding_request(t), "optimizer"), t.id)
        except ReplyError:
            counter.skipped += 1
            continue
        counter.skipped += skipped
        for b in got:
            found.append(b if b.step is None or t.step(b.step) else b.model_copy(update={"step": None}))
    return found


def cluster(behaviours: Sequence[Behaviour], llm: Any, existing: Sequence[Metric] = (),
            counter: Counter | None = None) -> tuple[list[Metric], dict[int, str]]:
    """New metrics grouping `behaviours` (one LLM call), and behaviour index -> metric name.
    Names clashing with `existing` get a numeric suffix."""
    counter = counter or Counter()
    if not behaviours:
        return [], {}
    try:
        groups, skipped = parse_clusters(counter.ask(llm, clustering_request(behaviours, existing), "optimizer"))
    except ReplyError:
        counter.skipped += 1
        return [], {}
    counter.skipped += skipped
    taken = {m.name for m in existing}
    metrics: list[Metric] = []
    members: dict[int, str] = {}
    for metric, ids in groups:
        name, k = metric.name, 2
        while name in taken:
            name, k = f"{metric.name}_{k}", k + 1
        taken.add(name)
        metrics.append(metric.model_copy(update={"name": name}))
        for i in ids:
            if i.startswith("B") and i[1:].isdigit() and 1 <= int(i[1:]) <= len(behaviours):
                members.setdefault(int(i[1:]) - 1, name)
    return metrics, members


def evaluate(trajectories: Sequence[Trajectory], metrics: Sequence[Metric], llm: Any,
             counter: Counter | None = None) -> list[Judgement]:
    """Every trajectory rated on every metric (one LLM call per trajectory). A metric the
    reply leaves out is `n/a` for that trajectory (and counted as skipped)."""
    counter = counter or Counter()
    names = [m.name for m in metrics]
    out: list[Judgement] = []
    if not metrics:
        return out
    for t in trajectories:
        try:
            got, skipped = parse_ratings(counter.ask(llm, rating_request(t, metrics), "judge"), names)
        except ReplyError:
            got, skipped = {}, 1
        counter.skipped += skipped + sum(1 for n in names if n not in got)
        for n in names:
            rating, reason = got.get(n, ("n/a", "no verdict in the reply"))
            out.append(Judgement(trajectory=t.id, metric=n, rating=rating, reason=reason))
    return out


def rates(judgements: Sequence[Judgement]) -> dict[str, tuple[int, int, int]]:
    """metric -> (positive, negative, n/a) counts."""
    table: dict[str, list[int]] = {}
    for j in judgements:
        row = table.setdefault(j.metric, [0, 0, 0])
        row[("positive", "negative", "n/a").index(j.rating)] += 1
    return {k: (v[0], v[1], v[2]) for k, v in table.items()}


def induce(trajectories: Sequence[Trajectory], llm: Any, *, llm_name: str = "", max_iterations: int = 4,
           first_share: float = 0.5, seed: int = 0,
           on_iteration: Callable[[Iteration], None] | None = None) -> MetricSet:
    """Induce metrics from trajectories with feedback (AutoLibra).

    Iteration 1 clusters the behaviours of a seeded `first_share` of the trajectories;
    each later iteration clusters the behaviours (of all trajectories) that no metric
    captures yet and adds the new metrics. Every trajectory is rated on each new metric.
    The loop stops when coverage stops rising (or after `max_iterations`); the metrics of
    the best iteration are returned, with every iteration's coverage and redundancy.
    """
    if not trajectories:
        raise ValueError("induce needs at least one trajectory with feedback")
    if not any(t.feedback.strip() for t in trajectories):
        raise ValueError("no trajectory has feedback text: AutoLibra induces metrics from feedback; "
                         "add a 'feedback' field to the trajectories")
    counter = Counter()
    behaviours = ground(trajectories, llm, counter)
    order = sorted({t.id for t in trajectories})
    random.Random(f"autolibra/{seed}").shuffle(order)
    first = set(order[: max(1, round(len(order) * first_share))])
    pool = [i for i, b in enumerate(behaviours) if b.trajectory in first]
    metrics: list[Metric] = []
    membership: dict[int, str] = {}
    judged: dict[tuple[str, str], Rating] = {}
    history: list[Iteration] = []
    best: Iteration | None = None
    for it in range(1, max_iterations + 1):
        new, members = cluster([behaviours[i] for i in pool], llm, metrics, counter)
        for local, name in members.items():  # re-clustered behaviours move to their new metric
            membership[pool[local]] = name
        metrics = [*metrics, *new]
        for j in evaluate(trajectories, new, llm, counter):
            judged[j.trajectory, j.metric] = j.rating
        assignment = meta.assign(behaviours, metrics, membership)
        flags = meta.covered(behaviours, assignment, judged)
        record = Iteration(iteration=it, metrics=list(metrics),
                           coverage=meta.coverage(behaviours, assignment, judged),
                           redundancy=meta.redundancy(metrics, behaviours, assignment, judged),
                           covered=sum(flags), behaviours=len(behaviours))
        history.append(record)
        if on_iteration is not None:
            on_iteration(record)
        improved = best is None or record.coverage > best.coverage + 1e-9
        if improved:
            best = record
        pool = [i for i, f in enumerate(flags) if not f]
        if not improved or not new or not pool:
            break
    assert best is not None
    return MetricSet(llm=llm_name, tag=f"llm={llm_name}" if llm_name else "", metrics=best.metrics,
                     iterations=history, behaviours=behaviours, calls=counter.calls,
                     skipped_replies=counter.skipped)
