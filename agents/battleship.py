"""A Battleship player whose firing policy is trainable Python code.

The policy is a plain function `policy(board_view, shots_left) -> (row, col)`:

- `board_view` is a fresh list of lists of one-character strings, one row per list:
  `"."` not fired at yet, `"X"` a hit, `"O"` a miss (row 0 is the top row);
- `shots_left` counts the shots still allowed, this one included;
- it returns the cell to fire at as a `(row, col)` pair of ints.

`BattleshipPlayer` makes that function a trainable `code` parameter (`@op(trainable=True)`),
so an optimizer can rewrite it; the signature is a constraint every rewrite keeps.
Playing a game is one traced node (`play`), whose parents are the policy's code and
whose value is the game's outcome as the environment reports it. The environment runs
the code (the bench runs it through its sandboxing function, see
`undertow.bench.tasks.battleship.run_policy`), so any object with a
`run(policy_source) -> outcome` method can be played.

The initial policy is deliberately weak (it counts only its misses, so after its
first hit it fires at the same cell again and again): the bundled task's feedback can
show that, and optimizers have something to fix.
"""

from __future__ import annotations

from typing import Any, Protocol

from undertow.engine import Module, Node, op

#: The policy's fixed signature (name and parameters), as `check_code` expects it.
SIGNATURE = "def policy(board_view, shots_left)"


def policy(board_view, shots_left):
    """Fire at the cells in reading order, counting the shots taken from the misses."""
    size = len(board_view)
    misses = sum(row.count("O") for row in board_view)
    return divmod(misses, size)


class Game(Protocol):
    """What a player can play: an environment that runs a policy's source and reports."""

    def run(self, policy_source: str) -> Any:
        """Play a whole game with the policy in `policy_source`; return the outcome."""
        ...


@op
def play(policy_source: str, game: Game) -> Any:
    """Play one Battleship game with the policy's source code; returns the game's outcome."""
    return game.run(policy_source)


class BattleshipPlayer(Module):
    """A Battleship agent: a trainable firing policy (`policy.code`).

    Args:
        policy_source: start from this source instead of the weak initial policy; it
            must define `policy(board_view, shots_left)`.
    """

    def __init__(self, policy_source: str | None = None) -> None:
        # One code parameter per player (not shared through the class).
        self.policy = op(trainable=True)(policy)
        if policy_source is not None:
            self.policy.code.value = policy_source

    @property
    def source(self) -> str:
        """The policy's current source."""
        return self.policy.code.value

    def forward(self, game: Game) -> Node:
        """Play `game`; the traced outcome node has the policy's code as a parent."""
        return play(self.policy.code, game)

    __call__ = forward

    def act(self, board_view: list[list[str]], shots_left: int) -> Any:
        """One shot, computed in this process by the current policy (a traced node)."""
        return self.policy(board_view, shots_left)
