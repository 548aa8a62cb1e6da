"""AutoLibra: induce agent metrics from open-ended feedback on trajectories.

People rarely hand over a metric; they say "it kept asking the same question". AutoLibra
grounds each feedback sentence in the trajectory it is about (`ground`), groups the
behaviours into named metrics with examples (`cluster`), has an LLM judge rate every
trajectory on every metric (`evaluate`), and measures how much of the feedback the
metrics capture (`coverage`, `redundancy`), iterating while coverage rises (`induce`).
`MetricFeedback` turns the metrics into feedback for any optimizer. See docs/metrics.md.
"""

from undertow.optimizers.metrics.driven import MetricDriven
from undertow.optimizers.metrics.feedback import MetricFeedback, render_judgements
from undertow.optimizers.metrics.induce import cluster, evaluate, ground, induce, rates
from undertow.optimizers.metrics.io import (
    TrajectoryFileError,
    dump_trajectories,
    parse_trajectories,
    read_metric_set,
    read_trajectories,
    write_metric_set,
    write_trajectories,
)
from undertow.optimizers.metrics.meta import assign, coverage, covered, lexical_match, redundancy
from undertow.optimizers.metrics.parse import ReplyError, parse_clusters, parse_grounding, parse_ratings
from undertow.optimizers.metrics.schemas import (
    Behaviour,
    Iteration,
    Judgement,
    Metric,
    MetricSet,
    Step,
    Trajectory,
)

__all__ = [
    "Behaviour", "Iteration", "Judgement", "Metric", "MetricDriven", "MetricFeedback", "MetricSet", "ReplyError",
    "Step",
    "Trajectory", "TrajectoryFileError", "assign", "cluster", "coverage", "covered", "dump_trajectories",
    "evaluate", "ground", "induce", "lexical_match", "parse_clusters", "parse_grounding", "parse_ratings",
    "parse_trajectories", "rates", "read_metric_set", "read_trajectories", "redundancy", "render_judgements",
    "write_metric_set", "write_trajectories",
]
