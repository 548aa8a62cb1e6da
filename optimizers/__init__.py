"""undertow.optimizers: everything that turns feedback into new parameter values.

All optimizers share one contract (`Optimizer`): built from parameters, `step()`
reads the feedback they received and writes new values, `state_dict()` makes them
resumable, and every proposal with its outcome is logged.
"""

from undertow.optimizers.base import Optimizer, Proposal
from undertow.optimizers.experience import (
           ExperienceOptimizer,
           ExperienceStore,
           TrajectoryBootstrap,
)
from undertow.optimizers.gradient import SGD, Adam
from undertow.optimizers.llambo import LLAMBO
from undertow.optimizers.opro import OPRO, Evaluation
from undertow.optimizers.opto import OptoPrime
from undertow.optimizers.random_search import RandomSearch
from undertow.optimizers.program import Program, PromptProgram, Unlabeled
from undertow.optimizers.prompts import APE, APOHF, GEPA, SPO, SimulatedOracle, TerminalOracle
from undertow.optimizers.search import (
           BeamSearch,
           PromptMCTS,
           best_first,
           best_first_batch,
           mcts_time_share,
)
from undertow.optimizers.textgrad import TextGrad
from undertow.optimizers.whole import WholeProgram

__all__ = [
           "APE",
           "APOHF",
           "GEPA",
           "LLAMBO",
           "RandomSearch",
           "OPRO",
           "SPO",
           "Program",
           "PromptProgram",
           "SimulatedOracle",
           "TerminalOracle",
           "Unlabeled",
           "WholeProgram",
           "SGD",
           "Adam",
           "BeamSearch",
           "Evaluation",
           "ExperienceOptimizer",
           "ExperienceStore",
           "Optimizer",
           "OptoPrime",
           "PromptMCTS",
           "Proposal",
           "TextGrad",
           "TrajectoryBootstrap",
           "best_first",
           "best_first_batch",
           "mcts_time_share",
]
