"""Tree-search optimizers on the vectorised tree store (`undertow.optimizers.tree`).

- :class:`PromptMCTS`: PromptAgent-style MCTS over prompts (UCT, held-out reward).
- :class:`BeamSearch`: APO-style beam search (critiques, edits, paraphrases, bandit
  selection of the beam under an evaluation budget).
- :func:`best_first` / :func:`best_first_batch`: A* / best-first search over any
  states (plan or tool-call steps), cost g + heuristic h.

See docs/search.md.
"""

from undertow.optimizers.search.astar import SearchResult, best_first, best_first_batch
from undertow.optimizers.search.beam import BeamSearch
from undertow.optimizers.search.forest import Forest
from undertow.optimizers.search.mcts import PromptMCTS, PromptNode, mcts_time_share

__all__ = ["BeamSearch", "Forest", "PromptMCTS", "PromptNode", "SearchResult", "best_first",
           "best_first_batch", "mcts_time_share"]
