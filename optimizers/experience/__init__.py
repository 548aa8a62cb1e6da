"""undertow.optimizers.experience: a persistent, versioned library of experience.

The store (`ExperienceStore`, one SQLite file in WAL mode) keeps records — insights,
trajectories, workflows, doc patches — with an append-only version history, an
append-only event log from which statistics are derived, an FTS5 (BM25) index, a
status life cycle (candidate -> verified -> active -> deprecated) and generations that
can be pinned. `apply_operations` applies a curator's typed update operations;
`Retriever` finds, reranks and packs records for a prompt; `ExperienceOptimizer` and
`TrajectoryBootstrap` learn from it. See docs/experience.md.
"""

from undertow.optimizers.experience.bootstrap import TrajectoryBootstrap
from undertow.optimizers.experience.curation import (
    CurationReport,
    Operation,
    apply_operations,
    parse_operations,
)
from undertow.optimizers.experience.embed import (
    Embedder,
    HashingEmbedder,
    MiniLMEmbedder,
)
from undertow.optimizers.experience.optimizer import ExperienceOptimizer
from undertow.optimizers.experience.records import (
    DocPatch,
    Event,
    Insight,
    Provenance,
    RecordBase,
    RecordStats,
    Trajectory,
    Workflow,
    parse_record,
)
from undertow.optimizers.experience.retrieval import Retrieval, Retrieved, Retriever
from undertow.optimizers.experience.schema import ExperienceStoreError
from undertow.optimizers.experience.store import ExperienceStore

__all__ = [
    "CurationReport", "DocPatch", "Embedder", "Event", "ExperienceOptimizer", "ExperienceStore", "ExperienceStoreError",
    "HashingEmbedder", "Insight", "MiniLMEmbedder", "Operation", "Provenance", "RecordBase",
    "RecordStats", "Retrieval", "Retrieved", "Retriever", "Trajectory", "TrajectoryBootstrap", "Workflow",
    "apply_operations", "parse_operations", "parse_record",
]
