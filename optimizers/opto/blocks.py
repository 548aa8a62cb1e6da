"""Splitting one OptoPrime step into requests that each fit the token budget.

On a small graph a step is one report with every variable. When that report would
leave anything out to fit the budget, the trainable variables are split into
blocks, each sent as its own request carrying only its variables, their own
subgraph (the union of their minimal subgraphs), the outputs they reached with their
feedback, and their memory:

- variables that reached the same outputs are kept together (they share code), in
  the order of the graph, then packed greedily so that the variables (with their
  memory lines) take at most `VARIABLE_SHARE` of the budget, leaving the rest for
  their code, documentation and feedback;
- a block whose report still overflows, or fits only by cutting #Code so far that
  calls reading its variables go missing, is halved until it fits (a single variable
  whose own value exceeds the budget is sent alone, over budget, and says so).

Every variable that received feedback is offered in exactly one request every step,
so each gets an update proposal every step. The reply budget of a request is sized
to the variables it offers (`reply_budget`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from undertow.engine import Parameter, SubgraphFeedback
from undertow.optimizers.opto.report import Report, variable_lines

#: The most of a request's budget its variables (and their memory lines) may take.
VARIABLE_SHARE = 0.4

#: A reply's fixed part (JSON frame and reasoning), and its floor and ceiling.
REPLY_BASE, REPLY_MIN, REPLY_MAX = 400, 1024, 32768


@dataclass
class Block:
    """One request of a step: the variable names it offers and its rendered report."""

    names: list[str]
    report: Report
    reply_tokens: int


def variable_text(name: str, p: Parameter) -> str:
    """What the report's #Variables shows for one variable, constraints included (the
    step is sized with it, and the report reuses it)."""
    return variable_lines(name, p)


def reply_budget(value_tokens: int, variables: int) -> int:
    """Reply tokens for a request offering `variables` variables whose texts take
    `value_tokens` in all: each new value may be up to twice the old one, plus its key
    (16) and the reasoning."""
    need = REPLY_BASE + 2 * value_tokens + 16 * variables
    return max(REPLY_MIN, min(REPLY_MAX, need))


def group_order(names: Sequence[str], received: dict[str, list[SubgraphFeedback]]) -> list[str]:
    """`names` with variables that reached the same outputs next to each other.

    Groups come in order of first appearance; inside a group the given order (the
    graph's) is kept, so neighbours in a block tend to share their code.
    """
    groups: dict[tuple[int, ...], list[str]] = {}
    for name in names:
        key = tuple(sorted({id(o) for fb in received[name] for o in fb.outputs}))
        groups.setdefault(key, []).append(name)
    return [n for g in groups.values() for n in g]


def plan_blocks(names: Sequence[str], sizes: dict[str, int], max_tokens: int,
                received: dict[str, list[SubgraphFeedback]]) -> list[list[str]]:
    """Pack `names` into blocks whose variables take at most `VARIABLE_SHARE` of the budget.

    `sizes[name]` is the variable's token cost in the report (value and memory lines).
    """
    ordered = group_order(names, received)
    share = max(1, int(max_tokens * VARIABLE_SHARE))
    blocks: list[list[str]] = []
    current: list[str] = []
    used = 0
    for name in ordered:
        if current and used + sizes[name] > share:
            blocks.append(current)
            current, used = [], 0
        current.append(name)
        used += sizes[name]
    if current:
        blocks.append(current)
    return blocks


def fit_blocks(blocks: list[list[str]], render: Callable[[list[str]], Report], max_tokens: int
               ) -> list[tuple[list[str], Report]]:
    """Render each block, halving those whose report is over budget, in order."""
    out: list[tuple[list[str], Report]] = []
    stack = list(reversed(blocks))
    while stack:
        names = stack.pop()
        report = render(names)
        if (report.tokens > max_tokens or not report.variable_code) and len(names) > 1:
            half = len(names) // 2
            stack += [names[half:], names[:half]]
            continue
        out.append((names, report))
    return out
