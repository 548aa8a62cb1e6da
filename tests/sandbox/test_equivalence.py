"""Arbitrary small pure functions give the same result (or the same exception type)
in the sandbox as in this process, on both runners."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from undertow.engine.sandbox import InProcessRunner

leaf = st.sampled_from(["x", "y", "0", "1", "2", "-3", "7"])
BINOPS = ["+", "-", "*", "//", "%", "**"]
CALLS = ["abs({})", "min({}, {})", "max({}, {})", "({} if {} > {} else {})", "[{}, {}][{} % 2]"]


def _expr(depth: int) -> st.SearchStrategy[str]:
    if depth == 0:
        return leaf
    sub = _expr(depth - 1)
    binop = st.tuples(sub, st.sampled_from(BINOPS), sub).map(lambda t: f"({t[0]} {t[1]} {t[2]})")
    call = st.sampled_from(CALLS).flatmap(
        lambda tpl: st.tuples(*[sub] * tpl.count("{}")).map(lambda args: tpl.format(*args)))
    return st.one_of(leaf, binop, call)


def _in_process(source: str, x: int, y: int) -> tuple[bool, object]:
    ns: dict = {}
    exec(compile(source, "<reference>", "exec"), ns)  # noqa: S102 - test reference
    try:
        return True, ns["f"](x, y)
    except Exception as exc:  # noqa: BLE001
        return False, type(exc).__name__


@settings(max_examples=40)
@given(_expr(3), st.integers(-20, 20), st.integers(-20, 20))
def test_pool_matches_in_process(pool, expr, x, y):
    source = f"def f(x, y):\n    if abs(x) + abs(y) > 0:\n        x = x % 9\n    return {expr}\n"
    # Keep powers small so every case is fast and exact.
    source = source.replace("**", "** 2 *")
    want_ok, want = _in_process(source, x, y)
    for runner in (pool, InProcessRunner()):
        res = runner.run(source, "f", [x], {"y": y})
        if want_ok:
            assert res.ok and res.value == want and type(res.value) is type(want)
        else:
            assert res.error is not None and res.error.kind == "exception" and res.error.type == want
            assert res.error.lineno == 4
