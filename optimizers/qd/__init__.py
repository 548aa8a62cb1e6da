"""Quality-diversity search with LLMs: a MAP-Elites archive (vectorized NumPy/Numba
batch insert), QDAIF (axes described in text, judged by an LLM), QDHF (axes learned
from similarity judgements), and the random-sampling and single-objective baselines.
See docs/quality-diversity.md."""

from .archive import Archive
from .backends import available_backends, get_backend
from .baselines import RandomSampling, SingleObjective
from .projection import fit_projection, triplet_accuracy
from .qdaif import QDAIF
from .qdhf import QDHF
from .reference import ReferenceScorer
from .search import Candidate, QDSearch, archive_parameter
from .spec import Axis, QDProblem

__all__ = ["QDAIF", "QDHF", "Archive", "Axis", "Candidate", "QDProblem", "QDSearch", "RandomSampling",
           "ReferenceScorer", "SingleObjective", "archive_parameter", "available_backends",
           "fit_projection", "get_backend", "triplet_accuracy"]
