"""Battleship: boards, rewards, the harness's feedback, failing policies, the agent."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from undertow.agents.battleship import SIGNATURE, BattleshipPlayer
from undertow.bench.tasks import battleship as bs
from undertow.engine import backward
from undertow.engine.code import check_code

INITIAL = BattleshipPlayer().source


def hunt_target(board_view, shots_left):
    """An independent hunt/target policy: neighbours of hits first, else a checkerboard."""
    n = len(board_view)
    for r in range(n):
        for c in range(n):
            if board_view[r][c] == "X":
                for dr, dc in ((0, 1), (1, 0), (0, -1), (-1, 0)):
                    if 0 <= r + dr < n and 0 <= c + dc < n and board_view[r + dr][c + dc] == ".":
                        return r + dr, c + dc
    open_cells = [(r, c) for r in range(n) for c in range(n) if board_view[r][c] == "."]
    even = [rc for rc in open_cells if sum(rc) % 2 == 0]
    return (even or open_cells)[0]


@given(st.integers(0, 10**6), st.sampled_from([(8, (4, 3, 3, 2)), (6, (3, 2)), (10, (5, 4, 3, 3, 2))]))
def test_boards_are_deterministic_and_valid(seed, shape):
    size, ships = shape
    a, b = bs.generate_board(seed, size, ships), bs.generate_board(seed, size, ships)
    assert a == b
    assert sorted(len(s) for s in a.ships) == sorted(ships)
    assert len(a.cells) == sum(ships)  # no overlap
    for ship in a.ships:
        assert all(0 <= r < size and 0 <= c < size for r, c in ship)
        rows, cols = {r for r, _ in ship}, {c for _, c in ship}
        assert len(rows) == 1 or len(cols) == 1  # straight
        span = sorted(cols if len(rows) == 1 else rows)
        assert span == list(range(span[0], span[0] + len(ship)))  # contiguous


def test_bad_board_shapes_are_refused_clearly():
    with pytest.raises(ValueError, match="cannot place ships"):
        bs.generate_board(0, 3, (4,))


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10**6), st.integers(0, 10**6), st.integers(1, 80))
def test_reward_is_a_fraction_and_deterministic(board_seed, policy_seed, limit):
    board = bs.generate_board(board_seed)

    def wild(view, shots_left):  # valid, repeated and invalid shots alike
        rng = random.Random(policy_seed * 1000 + shots_left)
        return rng.choice([(rng.randrange(-2, 10), rng.randrange(-2, 10)), "a1", (1.5, 2), None])

    first = bs.play(board, wild, limit)
    again = bs.play(board, wild, limit)
    assert 0.0 <= first.reward <= 1.0
    assert (first.hits, first.repeated, first.invalid, first.trail) == \
        (again.hits, again.repeated, again.invalid, again.trail)
    assert first.hits + first.repeated + first.invalid + (len(first.trail) - first.hits) == first.shots


@given(st.integers(0, 10**6))
def test_perfect_knowledge_hits_every_ship_cell(seed):
    board = bs.generate_board(seed)
    targets = sorted(board.cells)

    def oracle(view, shots_left):
        return next(rc for rc in targets if view[rc[0]][rc[1]] == ".")

    assert bs.play(board, oracle, len(targets)).reward == 1.0


def test_the_weak_initial_policy_loses_to_hunt_target():
    boards = bs.make_splits(1, 30, 0, 0).train
    weak = bs.score(bs.run_policy(INITIAL, boards))
    strong = bs.score([bs.play(b, hunt_target) for b in boards])
    assert weak + 0.3 < strong, (weak, strong)


def test_splits_are_disjoint_and_seeded():
    s = bs.make_splits(3, 4, 4, 8)
    assert s == bs.make_splits(3, 4, 4, 8)
    seeds = [b.seed for b in s.train + s.val + s.test]
    assert len(set(seeds)) == len(seeds) == 16


def test_feedback_names_the_weaknesses_of_the_initial_policy():
    (result,) = bs.run_policy(INITIAL, [bs.generate_board(5)])
    text = bs.feedback(result)
    assert text.startswith(f"hit {result.hits}/12 ship cells in {bs.SHOT_LIMIT} shots")
    assert "repeated shots" in text and "no follow-up around hits" in text


@pytest.mark.parametrize(("body", "expect"), [
    ("    return 1 // 0", "ZeroDivisionError"),
    ("    while True:\n        pass", "timed out"),
    ("    try:\n        while True:\n            pass\n    except Exception:\n        return 0, 0",
     "timed out"),
    ("    return (", "syntax error"),
])
def test_failing_policies_score_zero_with_the_error_as_feedback(body, expect):
    source = f"def policy(board_view, shots_left):\n{body}\n"
    (result,) = bs.run_policy(source, [bs.generate_board(0)], time_limit_s=0.2)
    assert result.reward == 0.0
    assert expect in bs.feedback(result)


def test_a_changed_signature_is_not_run():
    (result,) = bs.run_policy("def policy(view):\n    return 0, 0\n", [bs.generate_board(0)])
    assert result.reward == 0.0 and "signature" in result.error


def test_error_feedback_shows_the_failing_line():
    source = "def policy(board_view, shots_left):\n    x = board_view[99][0]\n    return 0, 0\n"
    (result,) = bs.run_policy(source, [bs.generate_board(0)])
    assert "IndexError" in result.error and "line 2" in result.error
    assert "board_view[99][0]" in result.error


@given(st.lists(st.sampled_from(["guard", "no_repeat", "hunt", "parity"]), max_size=6))
def test_wrapped_policies_keep_the_signature_and_play(fixes):
    code = INITIAL
    for f in fixes:
        code = bs.wrap_policy(code, f)
    assert check_code(code, SIGNATURE) is None
    (result,) = bs.run_policy(code, [bs.generate_board(len(fixes))])
    assert not result.error and 0.0 <= result.reward <= 1.0


def test_each_fix_removes_the_weakness_it_names():
    boards = bs.make_splits(2, 20, 0, 0).train
    before = bs.run_policy(INITIAL, boards)
    after = bs.run_policy(bs.wrap_policy(INITIAL, "no_repeat"), boards)
    assert sum(r.repeated for r in before) > 0 and sum(r.repeated for r in after) == 0
    scan = bs.wrap_policy(INITIAL, "no_repeat")
    hunted = bs.run_policy(bs.wrap_policy(scan, "hunt"), boards)
    assert sum(r.slow_ships for r in hunted) < sum(r.slow_ships for r in after)
    parity = bs.run_policy(bs.wrap_policy(scan, "parity"), boards)
    assert sum(r.dense_shots for r in parity) < sum(r.dense_shots for r in after) / 2


def test_player_is_a_module_with_a_trainable_policy(tmp_path):
    player = BattleshipPlayer()
    other = BattleshipPlayer()
    assert [n for n, _ in player.named_parameters()] == ["policy.code"]
    out = player(bs.BattleshipGame(bs.generate_board(0)))
    assert player.policy.code in out.parents
    backward(out, bs.feedback(out.value))
    assert player.policy.code.feedback
    assert player.act([["."] * 8 for _ in range(8)], 10).value == (0, 0)
    player.policy.code.value = bs.wrap_policy(player.source, "no_repeat")
    assert other.source == INITIAL  # parameters are per player
    path = player.save(tmp_path / "player.json")
    assert "[fix:no_repeat]" in json.loads(path.read_text())["parameters"]["policy.code"]["value"]
    fresh = BattleshipPlayer()
    fresh.load(path)
    assert fresh.source == player.source
    assert fresh(bs.BattleshipGame(bs.generate_board(0))).value.reward > out.value.reward


def test_policies_run_sandboxed_by_default_and_match_in_process_play():
    from undertow.agents.battleship import BattleshipPlayer
    from undertow.bench.tasks import battleship as bs

    boards = bs.make_splits(3).test[:4]
    source = BattleshipPlayer().source
    sandboxed = bs.run_policy(source, boards)
    local = bs.run_policy(source, boards, sandbox=False)
    assert [(r.hits, r.shots, r.trail) for r in sandboxed] == [(r.hits, r.shots, r.trail) for r in local]
    crash = "def policy(board_view, shots_left):\n    import os\n    os._exit(3)\n"
    (dead,) = bs.run_policy(crash, boards[:1])
    assert dead.reward == 0.0 and "crash" in dead.error
    # the pool recovered: the next run works
    assert bs.run_policy(source, boards[:1])[0].shots > 0
