"""Battleship with a trainable code policy, as in the Trace paper.

A board is a seeded `SIZE` x `SIZE` grid with ships of lengths `SHIPS` placed
horizontally or vertically without overlap. A policy (see `undertow.agents.battleship`
for its contract and the weak initial one) fires up to `SHOT_LIMIT` shots; the
reward is the fraction of ship cells hit. A policy that raises, times out or breaks
the signature scores 0, with the error as its feedback. The feedback is what a test
harness would say: the hits, then the weaknesses the game shows (repeated or invalid
shots, ships hit but left unsunk, a dense search).

Policies run through one function, `run_policy`, so that its executor can be
switched: today in this process with a time limit (a trace hook stops a policy past
its deadline; memory is not limited), later in `undertow.engine.sandbox`.

`PROFILE` tells the simulated LLM which code fixes exist and which words of the
feedback point at each (docs/sim.md).
"""

from __future__ import annotations

import ast
import random
import re
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from undertow.agents.battleship import SIGNATURE
from undertow.engine.code import check_code, compile_function
from undertow.engine.sandbox.shared import preload_in_shared_pool
from undertow.bench.sim.profile import CodeFix, TaskProfile

SIZE = 8
SHIPS = (4, 3, 3, 2)
SHOT_LIMIT = 36
#: Seconds of policy time per game before the game stops with a timeout.
TIME_LIMIT_S = 1.0
_NEIGHBOURS = ((1, 0), (-1, 0), (0, 1), (0, -1))
Cell = tuple[int, int]


@dataclass(frozen=True)
class Board:
    """One seeded board: its size and the cells of each ship."""

    seed: int
    size: int
    ships: tuple[tuple[Cell, ...], ...]

    @property
    def cells(self) -> frozenset[Cell]:
        return frozenset(c for ship in self.ships for c in ship)


def generate_board(seed: int, size: int = SIZE, ships: Sequence[int] = SHIPS) -> Board:
    """A random board for `seed`; ships never overlap (they may touch)."""
    if size < 2 or not ships or max(ships) > size or sum(ships) > size * size // 2:
        raise ValueError(f"cannot place ships {tuple(ships)} on a {size}x{size} board; "
                         "use fewer or shorter ships or a bigger board")
    rng = random.Random(f"battleship:{seed}:{size}:{tuple(ships)}")
    taken: set[Cell] = set()
    placed = []
    for length in ships:
        while True:
            horizontal = rng.random() < 0.5
            r = rng.randrange(size if horizontal else size - length + 1)
            c = rng.randrange(size - length + 1 if horizontal else size)
            cells = tuple((r, c + i) if horizontal else (r + i, c) for i in range(length))
            if not taken.intersection(cells):
                taken.update(cells)
                placed.append(cells)
                break
    return Board(seed, size, tuple(placed))


@dataclass(frozen=True)
class Splits:
    """Seeded train / validation / test boards."""

    train: list[Board]
    val: list[Board]
    test: list[Board]


def make_splits(seed: int = 0, n_train: int = 8, n_val: int = 8, n_test: int = 16) -> Splits:
    """Disjoint board seeds for each split, all derived from `seed`."""
    base = seed * 100_003
    boards = [generate_board(base + i) for i in range(n_train + n_val + n_test)]
    return Splits(boards[:n_train], boards[n_train:n_train + n_val], boards[n_train + n_val:])


@dataclass
class GameResult:
    """What happened in one game, enough to score it and to say what went wrong."""

    ship_cells: int
    shots: int = 0
    hits: int = 0
    repeated: int = 0
    first_repeat: Cell | None = None
    invalid: int = 0
    slow_ships: int = 0
    search_shots: int = 0
    dense_shots: int = 0
    error: str = ""
    trail: list[Cell] = field(default_factory=list, repr=False)

    @property
    def reward(self) -> float:
        """Fraction of ship cells hit; 0 when the policy failed."""
        return 0.0 if self.error else self.hits / self.ship_cells

    def __repr__(self) -> str:
        return (f"GameResult(hit {self.hits}/{self.ship_cells} in {self.shots} shots, "
                f"reward {self.reward:.3f}{', error' if self.error else ''})")


class PolicyTimeout(BaseException):
    """Raised inside a policy past its deadline (a BaseException: `except Exception` in the
    policy cannot swallow it)."""


def _call_with_deadline(fn: Callable[..., Any], args: tuple[Any, ...], deadline: float,
                        filename: str) -> Any:
    def local(frame: Any, event: str, arg: Any) -> Any:
        if time.perf_counter() > deadline:
            raise PolicyTimeout
        return local

    def on_call(frame: Any, event: str, arg: Any) -> Any:
        if frame.f_code.co_filename != filename:
            return None
        if time.perf_counter() > deadline:
            raise PolicyTimeout
        return local

    previous = sys.gettrace()
    sys.settrace(on_call)
    try:
        return fn(*args)
    finally:
        sys.settrace(previous)


def _error_text(exc: BaseException, filename: str) -> str:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == filename]
    where = f" at line {frames[-1].lineno}: `{(frames[-1].line or '').strip()}`" if frames else ""
    return f"the policy raised {type(exc).__name__}: {exc}{where}"


def play(board: Board, policy_fn: Callable[[list[list[str]], int], Any],
         shot_limit: int = SHOT_LIMIT, time_limit_s: float = TIME_LIMIT_S,
         filename: str = "") -> GameResult:
    """Play one game with a Python callable (no sandbox: use `run_policy` for source code).

    `filename` names the policy's code for the time limit and error lines; empty means
    the callable is trusted and runs without a deadline.
    """
    n = board.size
    cells = board.cells
    view = [["."] * n for _ in range(n)]
    res = GameResult(ship_cells=len(cells))
    first_hit: dict[int, int] = {}
    ship_of = {c: i for i, ship in enumerate(board.ships) for c in ship}
    left = {i: len(ship) for i, ship in enumerate(board.ships)}
    deadline = time.perf_counter() + time_limit_s
    for k in range(shot_limit):
        res.shots = k + 1
        try:
            args = ([row[:] for row in view], shot_limit - k)
            out = _call_with_deadline(policy_fn, args, deadline, filename) if filename \
                else policy_fn(*args)
        except PolicyTimeout:
            res.error = f"the policy timed out: over {time_limit_s:g} s of policy time in one game"
            break
        except Exception as exc:  # noqa: BLE001 - any failure of the policy is its feedback
            res.error = _error_text(exc, filename)
            break
        try:
            r, c = (int(v) for v in out)
            if int(out[0]) != out[0] or int(out[1]) != out[1]:
                raise ValueError
        except (TypeError, ValueError):
            res.invalid += 1
            continue
        if not (0 <= r < n and 0 <= c < n):
            res.invalid += 1
            continue
        if view[r][c] != ".":
            res.repeated += 1
            res.first_repeat = res.first_repeat or (r, c)
            continue
        near_hit = any(0 <= r + dr < n and 0 <= c + dc < n and view[r + dr][c + dc] == "X"
                       for dr, dc in _NEIGHBOURS)
        if not near_hit:
            res.search_shots += 1
            res.dense_shots += any(0 <= r + dr < n and 0 <= c + dc < n
                                   and view[r + dr][c + dc] == "O" for dr, dc in _NEIGHBOURS)
        res.trail.append((r, c))
        if (r, c) in cells:
            view[r][c] = "X"
            res.hits += 1
            ship = ship_of[r, c]
            first_hit.setdefault(ship, k)
            left[ship] -= 1
            if left[ship] == 0 and k - first_hit[ship] > _patience(len(board.ships[ship])):
                res.slow_ships += 1
        else:
            view[r][c] = "O"
    for ship, k0 in first_hit.items():  # hit, never sunk, and long ago
        if left[ship] and res.shots - 1 - k0 > _patience(len(board.ships[ship])):
            res.slow_ships += 1
    return res


def _patience(length: int) -> int:
    """Shots after a ship's first hit within which a hunting policy sinks it."""
    return 2 * length + 2


# The sandbox workers import this module once; each game's call then forks with it loaded.
preload_in_shared_pool(__name__)

_DRIVER = """
def _undertow_battleship(policy_source, boards, shot_limit, time_limit_s):
    import dataclasses
    from undertow.bench.tasks import battleship as bs
    games = [bs.Board(seed, size, tuple(tuple(tuple(c) for c in ship) for ship in ships))
             for seed, size, ships in boards]
    return [dataclasses.asdict(r) for r in
            bs.run_policy(policy_source, games, shot_limit, time_limit_s, sandbox=False)]
"""


def run_policy(source: str, boards: Sequence[Board], shot_limit: int = SHOT_LIMIT,
               time_limit_s: float = TIME_LIMIT_S, *, sandbox: bool | Any = True) -> list[GameResult]:
    """Play each board with the policy in `source`: the one place policies are executed.

    By default the games run in a sandboxed worker (`undertow.engine.sandbox`: CPU,
    memory and wall-clock limits, no network); pass a `SandboxPool` as `sandbox` to
    use your own, or `sandbox=False` to run in this process (an explicit opt-in).
    The signature is checked first; a time limit per game stops runaway loops.
    Failures — a policy that raises, times out, or crashes its worker — become
    results with `error`, which is the feedback the optimizer sees.
    """
    problem = check_code(source, SIGNATURE)
    if problem:
        return [GameResult(ship_cells=len(b.cells), error=f"the policy was not run: {problem}")
                for b in boards]
    if sandbox is not False:
        return _run_sandboxed(source, boards, shot_limit, time_limit_s, sandbox)
    filename = f"<battleship-policy {abs(hash(source)):x}>"
    try:
        fn = compile_function(source, "policy", {"__builtins__": __builtins__}, filename)
    except Exception as exc:  # noqa: BLE001 - module-level code of the policy failed
        return [GameResult(ship_cells=len(b.cells), error=_error_text(exc, filename)) for b in boards]
    return [play(b, fn, shot_limit, time_limit_s, filename) for b in boards]


def _run_sandboxed(source: str, boards: Sequence[Board], shot_limit: int, time_limit_s: float,
                   pool: Any) -> list[GameResult]:
    from undertow.engine.sandbox import shared_pool

    pool = shared_pool() if pool is True else pool
    plain = [(b.seed, b.size, [list(map(list, ship)) for ship in b.ships]) for b in boards]
    budget = time_limit_s * len(boards)
    result = pool.run(_DRIVER, "_undertow_battleship", (source, plain, shot_limit, time_limit_s), {},
                      timeout_s=budget + 10, cpu_seconds=int(budget) + 2)
    if not result.ok:
        fail = result.error
        where = re.findall(r'File "<battleship-policy[^"]*", line (\d+), in \w+\n\s*(.*)', fail.traceback)
        at = f" at line {where[-1][0]}: `{where[-1][1].strip()}`" if where else ""
        error = f"the policy's run was stopped ({fail.kind}): {fail.type}: {fail.message}{at}"
        return [GameResult(ship_cells=len(b.cells), error=error) for b in boards]
    out = []
    for d in result.value:
        d["trail"] = [tuple(c) for c in d["trail"]]
        d["first_repeat"] = tuple(d["first_repeat"]) if d["first_repeat"] is not None else None
        out.append(GameResult(**d))
    return out


@dataclass
class BattleshipGame:
    """One board as an environment a `BattleshipPlayer` can play (`run(policy_source)`)."""

    board: Board
    shot_limit: int = SHOT_LIMIT
    time_limit_s: float = TIME_LIMIT_S

    def run(self, policy_source: str) -> GameResult:
        return run_policy(policy_source, [self.board], self.shot_limit, self.time_limit_s)[0]


def feedback(result: GameResult) -> str:
    """The harness's sentence about one game: the score, then each weakness it shows."""
    head = f"hit {result.hits}/{result.ship_cells} ship cells in {result.shots} shots"
    if result.error:
        return f"{result.error}; a failing policy scores 0 ({head} before it failed)"
    parts = [head]
    if result.repeated:
        parts.append(f"{result.repeated} repeated shots at cells already fired at "
                     f"(first at {result.first_repeat})")
    if result.invalid:
        parts.append(f"{result.invalid} invalid shots (off the board or not a (row, col) "
                     "pair of ints)")
    if result.slow_ships:
        parts.append(f"no follow-up around hits: {result.slow_ships} ship(s) hit but not sunk "
                     "in the shots right after")
    if result.search_shots >= 4 and result.dense_shots * 2 >= result.search_shots:
        parts.append(f"dense search: {result.dense_shots} of {result.search_shots} search shots "
                     "were next to an earlier miss, though every ship spans two or more cells")
    return "; ".join(parts)


def score(results: Sequence[GameResult]) -> float:
    """Mean reward over games."""
    return sum(r.reward for r in results) / len(results) if results else 0.0


# --- the simulated LLM's profile: candidate code fixes ------------------------------------
_FIRST_OPEN = '''    for r in range(size):
        for c in range(size):
            if board_view[r][c] == ".":
                return r, c
'''

_WRAPPERS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "guard": (
        ("Catch the policy's errors and malformed answers and fire at the first open cell "
        "instead."),
        ("raised", "exception", "error", "invalid", "off the board"),
        '''def policy(board_view, shots_left):
    """[fix:guard] Fall back to the first open cell when the inner policy fails or
    aims off the board."""
    size = len(board_view)
    try:
        row, col = {inner}(board_view, shots_left)
        row, col = int(row), int(col)
    except Exception:
        row, col = -1, -1
    if 0 <= row < size and 0 <= col < size:
        return row, col
''' + _FIRST_OPEN + "    return 0, 0\n"),
    "no_repeat": (
        "Never fire at a cell already shot: fall back to the first open cell.",
        ("repeated", "already fired", "fired twice", "same cell"),
        '''def policy(board_view, shots_left):
    """[fix:no_repeat] Never fire twice at a cell: when the inner policy picks a cell
    already shot, fire at the first open cell."""
    size = len(board_view)
    row, col = {inner}(board_view, shots_left)
    if 0 <= row < size and 0 <= col < size and board_view[row][col] == ".":
        return row, col
''' + _FIRST_OPEN + "    return row, col\n"),
    "hunt": (
        ("After a hit, fire at the open neighbours of hit cells (extending lines of hits "
        "first) before searching elsewhere."),
        ("follow-up", "follow up", "around hits", "not sunk", "unsunk"),
        '''def policy(board_view, shots_left):
    """[fix:hunt] Hunt around hits: fire next to a hit cell, preferring cells that
    extend a line of two hits, before searching elsewhere."""
    size = len(board_view)
    best, best_score = None, 0
    for r in range(size):
        for c in range(size):
            if board_view[r][c] != "X":
                continue
            for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                nr, nc = r + dr, c + dc
                if 0 <= nr < size and 0 <= nc < size and board_view[nr][nc] == ".":
                    br, bc = r - dr, c - dc
                    line = 0 <= br < size and 0 <= bc < size and board_view[br][bc] == "X"
                    score = 2 if line else 1
                    if score > best_score:
                        best, best_score = (nr, nc), score
    if best is not None:
        return best
    return {inner}(board_view, shots_left)
'''),
    "parity": (
        ("Search on a checkerboard: every ship covers a cell with (row + col) even, so "
        "search shots go there and shots next to hits are kept."),
        ("dense search", "checkerboard", "parity", "next to an earlier miss"),
        '''def policy(board_view, shots_left):
    """[fix:parity] Search on a checkerboard: ships span two or more cells, so each
    covers a cell with (row + col) even; shots next to a hit are kept."""
    size = len(board_view)
    row, col = {inner}(board_view, shots_left)
    if 0 <= row < size and 0 <= col < size and board_view[row][col] == ".":
        for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            nr, nc = row + dr, col + dc
            if 0 <= nr < size and 0 <= nc < size and board_view[nr][nc] == "X":
                return row, col
    for r in range(size):
        for c in range(size):
            if (r + c) % 2 == 0 and board_view[r][c] == ".":
                return r, c
    return row, col
'''),
}

_REWRITE = '''def policy(board_view, shots_left):
    """[fix:rewrite] Fire at the first open cell in reading order."""
    size = len(board_view)
''' + _FIRST_OPEN + "    return 0, 0\n"

_POLICY_CODE = re.compile(r"def\s+policy\s*\(\s*board_view\s*,\s*shots_left\s*\)")


def wrap_policy(code: str, fix: str) -> str:
    """`code` with its `policy` renamed to a helper and a new `policy` that applies `fix`
    around it: a full module with the same signature. Raises ValueError when `code`
    does not parse or defines no top-level `policy`."""
    if fix not in _WRAPPERS:
        raise ValueError(f"unknown fix {fix!r}; known: {sorted(_WRAPPERS)}")
    tree = ast.parse(code)
    fdef = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "policy"),
                None)
    if fdef is None:
        raise ValueError("the code defines no top-level function `policy`")
    taken = [int(m) for m in re.findall(r"\b_policy_(\d+)\b", code)]
    inner = f"_policy_{max(taken, default=0) + 1}"
    lines = code.splitlines()
    i = fdef.lineno - 1
    lines[i] = re.sub(r"\bdef\s+policy\b", f"def {inner}", lines[i], count=1)
    return "\n".join(lines).rstrip() + "\n\n\n" + _WRAPPERS[fix][2].replace("{inner}", inner)


class BattleshipProfile(TaskProfile):
    """The simulator's knowledge of Battleship: code fixes keyed to the harness's words.

    It finds no answerable items (the task is code, not questions); its `code_fixes`
    recognize a policy by its signature and offer each fix it does not have yet.
    """

    name = "battleship"
    description = "write a Battleship firing policy that hits many ship cells in few shots"
    keywords = ("battleship", "ship cells", "board_view")

    def solve(self, item: str) -> str:
        raise ValueError("battleship has no question items")

    def answer_without(self, item: str, missing: frozenset[str]) -> str:
        raise ValueError("battleship has no question items")

    def code_fixes(self, code: str, evidence: str) -> list[CodeFix]:
        if not _POLICY_CODE.search(code):
            return []
        try:
            ast.parse(code)
        except SyntaxError:
            return [CodeFix(name="rewrite", description="The code does not parse; start over "
                            "from a simple policy that fires at the first open cell.",
                            new_code=_REWRITE, keywords=("syntax", "parse", "not run"))]
        fixes = []
        for name, (description, keywords, _) in _WRAPPERS.items():
            if f"[fix:{name}]" not in code:
                fixes.append(CodeFix(name=name, description=description,
                                     new_code=wrap_policy(code, name), keywords=keywords))
        return fixes


PROFILE = BattleshipProfile()
