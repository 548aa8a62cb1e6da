"""The debugging report OptoPrime sends: the subgraph as code, values and feedback.

Sections (each can be masked with `sections={"code": False, ...}`, except the
variables and the reply instructions):

    #Code            the calls that ran, between named values: `mul_0 = mul(x, 2.0)`
    #Documentation   what each operator does (`Op.doc`)
    #Variables       `<variable name=... kind=...>value</variable>`, description, constraints
    #Inputs          values that feed the subgraph from outside (and fixed parameters)
    #Others          intermediate values
    #Outputs and feedback   one `<example>` per output: <input>, <output>, <feedback>
    #Memory          past values of the variables and the feedback they got
    #Rejected        last step's suggestions that were refused, and why

The layout follows the simulator's request convention (docs/sim.md): variables as
`<variable>` tags and outputs as `<example>` blocks, so the simulated LLM reads what a
real model would. The report stays within `max_tokens` (counted by `count`: chars / 4
by default, a real tokenizer from OptoPrime, see `tokens.py`):
it shortens values, collapses runs of calls of the same shape, then drops detail, and
lists in `#Left out` whatever it did not show. Variable values are never shortened.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from undertow.engine import Node, Parameter
from undertow.engine.convention import stable_repr, variable_tag
from undertow.engine.tokens import estimate_tokens
from undertow.optimizers.opto.graph import GraphView, is_error

#: Report sections that can be masked; all are shown by default.
SECTIONS: tuple[str, ...] = ("code", "documentation", "constraints", "inputs", "intermediate",
                             "outputs", "feedback", "memory", "rejections")

_INTRO_PARTS = (("code", "the code that ran as calls between named values (#Code)"),
                ("documentation", "what each operator does (#Documentation)"),
                ("variables", "the trainable variables (#Variables)"),
                ("inputs", "the inputs (#Inputs)"),
                ("intermediate", "intermediate values (#Others)"),
                ("outputs", "each output with the feedback it got (#Outputs and feedback)"),
                ("feedback", "the feedback on the outputs (#Feedback)"))


def intro(shown: Mapping[str, bool]) -> str:
    """The report's first paragraph, naming only the sections it shows."""
    parts = [text for key, text in _INTRO_PARTS if shown.get(key, True)
             and not (key == "feedback" and shown.get("outputs", True))]
    listed = ", ".join(parts[:-1]) + (f", and {parts[-1]}" if len(parts) > 1 else parts[-1])
    return ("You are improving a program by changing its trainable variables. Below is a "
            f"debugging report of how the program ran: {listed}.")


REPLY = ("#Reply\n"
         "Find what in the variables makes the outputs get this feedback, and propose new "
         "values for the variables that should change. Each new value must keep the "
         "variable's kind and constraints; for code, keep the function's name and "
         "parameters. Reply in JSON only, with keys \"reasoning\" and \"suggestion\" "
         "(a map from variable name to its new value), like this:\n"
         '{"reasoning": "<what went wrong and why the change fixes it>", '
         '"suggestion": {"<variable name>": <new value>}}\n'
         "Leave out the variables that should stay as they are; an empty suggestion means "
         "nothing should change.")


def check_sections(sections: Mapping[str, bool] | None) -> dict[str, bool]:
    """Every section's on/off switch; a clear error for an unknown or unmaskable name."""
    shown = dict.fromkeys(SECTIONS, True)
    for key, on in (sections or {}).items():
        if key == "variables":
            raise ValueError("the variables section cannot be masked: the model must see the "
                             "values it changes")
        if key not in shown:
            raise ValueError(f"unknown report section {key!r}; use one of {', '.join(SECTIONS)}")
        shown[key] = bool(on)
    return shown


@dataclass
class Report:
    """A rendered report: its text, its tokens, and what it left out.

    `variable_code` is False when #Code had to be cut so far that calls reading an
    offered variable are missing (OptoPrime then splits the variables into blocks).
    `variable_tokens` is what the #Variables section takes of `tokens` (OptoPrime sizes
    the reply budget by it).
    """

    text: str
    tokens: int
    left_out: list[str] = field(default_factory=list)
    variable_code: bool = True
    variable_tokens: int = 0


@dataclass(frozen=True)
class _Level:
    value_chars: int
    collapse: str  # "none"; "shape": same op and arguments; "op": same op and arity
    intermediates: bool = True
    max_code_lines: int | None = None
    max_examples: int | None = None
    max_inputs: int | None = None


def cut(text: str, limit: int) -> tuple[str, int]:
    """`text` cut to `limit` characters with a marker, and how many were dropped."""
    if len(text) <= limit:
        return text, 0
    keep = max(limit, 8)
    return f"{text[:keep]}…[+{len(text) - keep} chars]", len(text) - keep


def flat(value: Any) -> str:
    """A value on one line: strings in JSON quotes, other values by repr (whitespace runs
    as one space)."""
    if type(value) in (int, float, bool):  # hot in reports of numbers: no space in their repr
        return repr(value)
    text = json.dumps(value, ensure_ascii=False) if isinstance(value, str) else stable_repr(value)
    return " ".join(text.split())


def one_line(value: Any, limit: int) -> str:
    """A one-line preview: `flat(value)` cut to `limit`."""
    return cut(flat(value), limit)[0]


def block_text(value: Any, limit: int) -> str:
    """A value as text for a tag body: strings as they are, others as JSON or repr."""
    if isinstance(value, str):
        text = value
    else:
        try:
            text = json.dumps(value, ensure_ascii=False)
        except (TypeError, ValueError):
            text = stable_repr(value)
    return cut(text, limit)[0]


def _constraint(value: Any) -> str:
    """A constraint value as text; strings bare (a signature), the rest as JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def variable_lines(name: str, p: Parameter, constraints: bool = True) -> str:
    """One variable as #Variables shows it, each line ending with a line break: its tag,
    its description (white space folded) and, with `constraints`, its constraints."""
    text = variable_tag(name, p.kind, p.value) + "\n"
    if p.description:
        text += f"description: {' '.join(p.description.split())}\n"
    cons = p.constraints() if constraints else None
    if cons:
        text += "constraints: " + "; ".join(f"{k} {_constraint(v)}" for k, v in cons.items()) + "\n"
    return text


def _arg(view: GraphView, a: Any, limit: int) -> str:
    if isinstance(a, Node):
        return view.names.get(id(a), "…")
    if isinstance(a, (str, int, float, bool, type(None))):
        return one_line(a, limit)
    if isinstance(a, (list, tuple)) and any(isinstance(x, Node) for x in a):
        inner = ", ".join(_arg(view, x, limit) for x in a)
        return f"[{inner}]" if isinstance(a, list) else f"({inner})"
    if isinstance(a, dict) and any(isinstance(x, Node) for x in a.values()):
        return "{" + ", ".join(f"{one_line(k, limit)}: {_arg(view, v, limit)}"
                               for k, v in a.items()) + "}"
    if isinstance(a, (list, tuple, dict)):
        return one_line(a, limit)
    return f"<{type(a).__name__}>"


def _plain_call(view: GraphView, n: Node) -> str | None:
    """The usual call's #Code line (no keywords, no error, no code run, every argument a
    named node: the line is their names, the same at every value limit); else None."""
    if n.kwargs or is_error(n):
        return None
    for p in n.parents:
        if isinstance(p, Parameter) and p.kind == "code":
            return None
    names = view.names
    try:
        return f"{names[id(n)]} = {n.op.name}({', '.join([names[id(a)] for a in n.args])})"
    except KeyError:  # a literal or an unnamed node among them
        return None


def _call(view: GraphView, n: Node, limit: int) -> str:
    """`n`'s #Code line, literals cut to `limit`."""
    line = _plain_call(view, n)
    return line if line is not None else _general_call(view, n, limit)


def _general_call(view: GraphView, n: Node, limit: int) -> str:
    parts = [_arg(view, a, limit) for a in n.args]
    parts += [f"{k}={_arg(view, v, limit)}" for k, v in (n.kwargs or {}).items()
              if v is not None]
    line = f"{view.name(n)} = {n.op.name}({', '.join(parts)})"
    shown = {id(a) for a in (*n.args, *(n.kwargs or {}).values())}
    code = [view.names[id(p)] for p in n.parents if isinstance(p, Parameter) and p.kind == "code"
            and id(p) not in shown and id(p) in view.names]
    notes = [f"runs the code in {', '.join(code)}"] if code else []
    if is_error(n):
        notes.append(f"raised {one_line(n.value, limit)}")
    return f"{line}  # {'; '.join(notes)}" if notes else line


def _needs_limit(n: Node) -> bool:
    """Whether `n`'s call line depends on the value limit (a literal argument or an error)."""
    if is_error(n):
        return True
    for a in n.args:
        if not isinstance(a, Node):
            return True
    return bool(n.kwargs) and any(v is not None and not isinstance(v, Node) for v in n.kwargs.values())


def _key(view: GraphView, n: Node, collapse: str) -> tuple:
    if collapse == "op":
        return (n.op.name, len(n.args), is_error(n))
    args = tuple("•" if isinstance(a, Node) else _arg(view, a, 40) for a in n.args)
    return (n.op.name, args, tuple(sorted((n.kwargs or {}).keys())), is_error(n))


def _runs(view: GraphView, calls: Sequence[Node], collapse: str, minimum: int = 3,
          key: Callable[[Node, str], tuple] | None = None) -> list[list[Node]]:
    """Consecutive calls with the same key, grouped; groups shorter than `minimum` split."""
    if collapse == "none":
        return [[n] for n in calls]
    key = key or (lambda n, c: _key(view, n, c))
    runs: list[list[Node]] = []
    last: tuple | None = None
    for n in calls:
        k = key(n, collapse)
        if runs and last == k:
            runs[-1].append(n)
        else:
            runs.append([n])
        last = k
    out: list[list[Node]] = []
    for r in runs:
        out.extend([r] if len(r) >= minimum else [[n] for n in r])
    return out


class _Memo:
    """What the levels of one `render_report` share: call lines, run keys, the
    #Variables section and token counts of sections (each computed once, not per level)."""

    def __init__(self, view: GraphView, count: Callable[[str], int],
                 variable_texts: Mapping[int, str] | None = None) -> None:
        self.view, self._count = view, count
        #: each variable's `variable_lines` (with constraints), by id, when the caller has them
        self.variable_texts = variable_texts
        self.plain: dict[int, str] = {}  # call lines that no value limit changes
        self.calls: dict[tuple[int, int], str] = {}  # the others, by (node, limit)
        self.keys: dict[tuple[int, str], tuple] = {}
        self.variables: dict[bool, str] = {}
        self.counts: dict[str, int] = {}
        self._offered = {id(v) for v in view.variables}
        self._reads: dict[int, frozenset[int]] = {}
        self._values: dict[tuple[int, int], str] = {}
        self._flat: dict[int, str] = {}
        self._limited: bool | None = None
        self._docs: dict[str, str] | None = None
        #: #Code as rendered at a level: (text, hidden calls, left-out notes, variable_code)
        self.code: dict[tuple, tuple[str, set[int], list[str], bool]] = {}

    def reads(self, n: Node) -> frozenset[int]:
        """The offered variables `n` reads (ids)."""
        got = self._reads.get(id(n))
        if got is None:
            got = self._reads[id(n)] = frozenset(id(p) for p in n.parents if id(p) in self._offered)
        return got

    def flat(self, n: Node) -> str:
        """`flat(n.value)`, made once whatever the levels' limits (they only cut it)."""
        got = self._flat.get(id(n))
        if got is None:
            got = self._flat[id(n)] = flat(n.value)
        return got

    def value_line(self, n: Node, limit: int) -> str:
        """`(type) name = value` of a node's value, cut to `limit`."""
        k = (id(n), limit)
        line = self._values.get(k)
        if line is None:
            value = n.value
            kind = type(value)
            text = repr(value) if kind is float or kind is int else self.flat(n)
            if len(text) > limit:
                text = cut(text, limit)[0]
            line = self._values[k] = f"({kind.__name__}) {self.view.names[id(n)]} = {text}"
        return line

    def call(self, n: Node, limit: int) -> str:
        """`n`'s #Code line with literals cut to `limit` (one line for every limit when
        its arguments are all named nodes: the usual case)."""
        line = self.plain.get(id(n))
        if line is None:
            line = _plain_call(self.view, n)
            if line is not None:
                self.plain[id(n)] = line
                return line
            k = (id(n), limit)
            line = self.calls.get(k)
            if line is None:
                line = _general_call(self.view, n, limit)
                if _needs_limit(n):
                    self.calls[k] = line
                else:
                    self.plain[id(n)] = line
        return line

    @property
    def limited(self) -> bool:
        """Whether any call line depends on the value limit."""
        if self._limited is None:
            self._limited = any(_needs_limit(n) for n in self.view.calls)
        return self._limited

    def key(self, n: Node, collapse: str) -> tuple:
        k = (id(n), collapse)
        got = self.keys.get(k)
        if got is None:
            got = self.keys[k] = _key(self.view, n, collapse)
        return got

    def docs(self) -> dict[str, str]:
        """Each operator's documentation on one line, in order of first call."""
        if self._docs is None:
            self._docs = {}
            for n in self.view.calls:
                if n.op.name not in self._docs:
                    self._docs[n.op.name] = " ".join((n.op.doc or "(no documentation)").split())
        return self._docs

    def count(self, text: str) -> int:
        got = self.counts.get(text)
        if got is None:
            got = self.counts[text] = self._count(text)
        return got

    def additive(self, parts: Sequence[str]) -> bool:
        """Whether a text of `parts` joined by blank lines is counted exactly part by part
        (a line-additive tokenizer, and every part after the first starts with a character
        that is neither white space nor "/": see `tokens.LINE_ADDITIVE`)."""
        return bool(getattr(self._count, "line_additive", False)) and \
            all(p[:1] and not p[0].isspace() and p[0] != "/" for p in parts[1:])

    def exact(self, parts: Sequence[str], over: int | None = None) -> int:
        """The tokens of `parts` joined by blank lines, as the sum of each part's count
        with the blank line after it (exact: see `additive`); with `over`, largest parts
        first and stopping once the sum passes it (then a lower bound)."""
        last = len(parts) - 1
        order = sorted(range(len(parts)), key=lambda k: len(parts[k]), reverse=True) \
            if over is not None else range(len(parts))
        total = 0
        for k in order:
            total += self.count(parts[k] if k == last else parts[k] + "\n\n")
            if over is not None and total > over:
                break
        return total


#: How many tokens fewer than the sum of two sections' counts their join ("\n\n"
#: between them) can have: BPE may merge the separator with whitespace around it
#: (1 or 2 at most; 4 is generous, tests/optimizers/test_report_counts.py checks it).
JOIN_SLACK = 4


#: Characters per token of the budget past which a level is taken as over it without
#: counting it. OptoPrime's reports (code lines, values, tags, feedback) run at 2.5-3.5
#: characters a token in the real tokenizers and ordinary English prose at 4-4.5, so a
#: longer text is over budget (test_reports_run_under_the_clearly_over_length checks
#: both kinds). Text of unusually long tokens (prose of many long words reaches 5.0,
#: runs of one character more) can be misjudged: its report is then tightened one
#: level more than needed, never sent over budget. Counting 12k-token levels only to
#: pass them was a third of the counting in a 300-variable step.
CLEARLY_OVER_CHARS = 5

#: Characters per token past which a first level is likely over budget (reports run at
#: 2.5-3.5): its sections are counted first, as later levels are, so that the counts of
#: the sections they share with it (variables, documentation, feedback) are reused.
LIKELY_OVER_CHARS = 3.5


class _Renderer:
    def __init__(self, view: GraphView, shown: dict[str, bool], memory: Sequence[Mapping[str, Any]],
                 rejections: Sequence[Mapping[str, Any]], level: _Level, memo: _Memo | None = None) -> None:
        self.view, self.shown, self.level = view, shown, level
        self.memory, self.rejections = memory, rejections
        self.memo = memo or _Memo(view, estimate_tokens)
        self.left_out: list[str] = []
        self.hidden: set[int] = set()  # calls collapsed out of #Code (and #Others)
        self.variable_code = True  # every call reading an offered variable is in #Code
        self.parts: list[str] = []  # the sections of the last render, in order

    def code(self) -> str:
        """#Code at this level; levels that differ only in what #Code does not use (the
        value limit, when no call line depends on it) share one rendering."""
        lv = self.level
        key = (lv.collapse, lv.value_chars if self.memo.limited else 0, lv.max_code_lines)
        got = self.memo.code.get(key)
        if got is None:
            text = self._code()
            self.memo.code[key] = (text, self.hidden, list(self.left_out), self.variable_code)
            return text
        text, self.hidden, left, self.variable_code = got
        self.left_out.extend(left)
        return text

    def _code(self) -> str:
        calls = self.view.calls
        if self.level.collapse == "none":
            call, lim = self.memo.call, self.level.value_chars
            lines = [call(n, lim) for n in calls]
        else:
            lines = self._collapsed_lines(calls)
        cap = self.level.max_code_lines
        if cap is not None and len(lines) > cap:
            head, tail = lines[:cap // 2], lines[-(cap - cap // 2):]
            gone = len(lines) - len(head) - len(tail)
            lines = [*head, f"# … {gone} lines left out", *tail]
            self.left_out.append(f"{gone} lines of #Code")
            self.variable_code = False
        return "#Code\n" + "\n".join(lines) if lines else ""

    def _collapsed_lines(self, calls: Sequence[Node]) -> list[str]:
        """#Code's lines with runs of calls of the same key collapsed."""
        lines: list[str] = []
        lim = self.level.value_chars
        reads = self.memo.reads

        def new_variables(n: Node, seen: set[int]) -> bool:
            """Whether `n` reads an offered variable no shown call of its run has read."""
            fresh = reads(n) - seen
            seen |= fresh
            return bool(fresh)

        call = self.memo.call
        for run in _runs(self.view, calls, self.level.collapse, key=self.memo.key):
            if len(run) == 1:
                lines.append(call(run[0], lim))
                continue
            # A collapsed run still shows, for every offered variable it reads, the first
            # call reading it: that is where the model sees how the variable is used.
            lines.append(call(run[0], lim))
            seen: set[int] = set()
            new_variables(run[0], seen)
            new_variables(run[-1], seen)
            stretch: list[Node] = []
            hidden = 0
            for n in [*run[1:-1], None]:
                if n is not None and not new_variables(n, seen):
                    stretch.append(n)
                    continue
                if len(stretch) == 1:
                    lines.append(call(stretch[0], lim))
                elif stretch:
                    self.hidden.update(id(m) for m in stretch)
                    hidden += len(stretch)
                    lines.append(f"# … {len(stretch)} more calls of {run[0].op.name} of the same shape "
                                 f"({self.view.name(stretch[0])} … {self.view.name(stretch[-1])}), left out")
                stretch = []
                if n is not None:
                    lines.append(call(n, lim))
            lines.append(call(run[-1], lim))
            if hidden:
                self.left_out.append(f"{hidden} repeated {run[0].op.name} calls in #Code")
        return lines

    def documentation(self) -> str:
        docs = self.memo.docs()
        lim = max(self.level.value_chars, 80)
        return "#Documentation\n" + "\n".join(f"[{k}] {cut(v, lim)[0]}" for k, v in docs.items()) \
            if docs else ""

    def variables(self) -> str:
        """The same at every level (values are never shortened): rendered once per report."""
        got = self.memo.variables.get(self.shown["constraints"])
        if got is None:
            got = self.memo.variables[self.shown["constraints"]] = self._variables()
        return got

    def _variables(self) -> str:
        names, constraints, given = self.view.names, self.shown["constraints"], self.memo.variable_texts
        if given is not None and constraints:
            body = "".join(given[id(p)] for p in self.view.variables)
        else:
            body = "".join(variable_lines(names[id(p)], p, constraints) for p in self.view.variables)
        return "#Variables\n" + body[:-1] if body else "#Variables"

    def inputs(self) -> str:
        lim = self.level.value_chars
        lines = []
        inputs = self.view.inputs
        cap = self.level.max_inputs
        if cap is not None and len(inputs) > cap:
            self.left_out.append(f"{len(inputs) - cap} of {len(inputs)} inputs (#Inputs)")
            inputs = inputs[:cap]
        for n in inputs:
            fixed = " (fixed parameter)" if isinstance(n, Parameter) else ""
            lines.append(f"{self.memo.value_line(n, lim)}{fixed}")
        if len(inputs) < len(self.view.inputs):
            lines.append(f"# … {len(self.view.inputs) - len(inputs)} more inputs left out")
        return "#Inputs\n" + "\n".join(lines) if lines else ""

    def intermediate(self) -> str:
        outs = {id(o.node) for o in self.view.outputs}
        mids = [n for n in self.view.calls if id(n) not in outs]
        if not self.level.intermediates:
            if mids:
                self.left_out.append(f"{len(mids)} intermediate values (#Others)")
            return ""
        shown = [n for n in mids if id(n) not in self.hidden]
        lines = [self.memo.value_line(n, self.level.value_chars) for n in shown]
        if len(shown) < len(mids):
            lines.append(f"# … {len(mids) - len(shown)} values of collapsed calls left out")
        return "#Others\n" + "\n".join(lines) if lines else ""

    def outputs(self) -> str:
        lim = self.level.value_chars
        outs = self.view.outputs
        cap = self.level.max_examples
        if cap is not None and len(outs) > cap:
            self.left_out.append(f"{len(outs) - cap} of {len(outs)} outputs with their feedback")
            outs = outs[:cap]
        blocks = []
        for o in outs:
            body = [f'<example output="{self.view.name(o.node)}">']
            if self.shown["inputs"]:
                ins = [block_text(x, lim) for x in o.literals]
                ins += [f"{self.view.name(n)} = {block_text(n.value, lim)}" for n in o.inputs]
                if ins:
                    body.append("<input>" + "\n".join(ins) + "</input>")
            if self.shown["outputs"]:
                body.append(f"<output>{block_text(o.node.value, lim)}</output>")
            if self.shown["feedback"]:
                fb = "\n".join(block_text(f, lim) for f in o.feedback)
                body.append(f"<feedback>{fb}</feedback>")
            body.append("</example>")
            blocks.append("\n".join(body))
        title = "#Outputs and feedback" if self.shown["outputs"] else "#Feedback"
        return f"{title}\n" + "\n".join(blocks) if blocks else ""

    def memory_section(self) -> str:
        if not self.memory:
            return ""
        lim = self.level.value_chars
        lines = ["#Memory (earlier values of the variables and the feedback they got, oldest first)"]
        for m in self.memory:
            vals = "; ".join(f"{k} = {one_line(v, lim)}" for k, v in m.get("values", {}).items())
            fb = " | ".join(cut(str(f), lim)[0] for f in m.get("feedback", []))
            lines.append(f"step {m.get('step')}: {vals}; feedback: {fb}")
        return "\n".join(lines)

    def rejections_section(self) -> str:
        if not self.rejections:
            return ""
        lim = self.level.value_chars
        lines = ["#Rejected (your last suggestions that could not be used; avoid these mistakes)"]
        for r in self.rejections:
            lines.append(f"{r.get('parameter')} = {one_line(r.get('value'), lim)}\n"
                         f"  reason: {one_line(r.get('reason', ''), max(lim, 200))}")
        return "\n".join(lines)

    def render(self) -> tuple[str, list[str]]:
        """The report text and what it left out (`variable_code` is set on the way)."""
        s = self.shown
        parts = [intro(s),
                 self.code() if s["code"] else "",
                 self.documentation() if s["documentation"] else "",
                 self.variables(),
                 self.inputs() if s["inputs"] else "",
                 self.intermediate() if s["intermediate"] else "",
                 self.outputs() if (s["outputs"] or s["feedback"]) else "",
                 self.memory_section() if s["memory"] else "",
                 self.rejections_section() if s["rejections"] else ""]
        if self.left_out:
            parts.append("#Left out (to stay within the report's size budget)\n"
                         + "\n".join(f"- {x}" for x in self.left_out))
        parts.append(REPLY)
        self.parts = [p for p in parts if p]
        return "\n\n".join(self.parts), self.left_out


def _sections_over(memo: _Memo, parts: Sequence[str], max_tokens: int) -> bool:
    """Whether the sections' counts, less the join slack, pass `max_tokens`: a lower bound
    of the whole text's count. Largest first, stopping as soon as it is over."""
    total = -(len(parts) - 1) * JOIN_SLACK
    for part in sorted(parts, key=len, reverse=True):
        total += memo.count(part)
        if total > max_tokens:
            return True
    return False


def _levels(max_value_chars: int, n_outputs: int, n_calls: int, max_tokens: int) -> list[_Level]:
    small = max(40, max_value_chars // 4)
    # A code line is at least ~4 tokens: skip rendering every line when that cannot fit.
    first = 0 if n_calls * 4 <= max_tokens else 1
    levels = [_Level(max_value_chars, "none"), _Level(max_value_chars, "shape"), _Level(small, "shape"),
              _Level(small, "op"), _Level(small, "op", False), _Level(small, "op", False, None, None, 40),
              _Level(small, "op", False, 40, None, 40)]
    k = n_outputs
    while k > 1:
        k //= 2
        levels.append(_Level(small, "op", False, 20, max(k, 1), 20))
    levels.append(_Level(24, "op", False, 6, 1, 6))
    return levels[first:]


def render_report(view: GraphView, *, sections: Mapping[str, bool] | None = None,
                  max_tokens: int = 6000, max_value_chars: int = 500,
                  memory: Sequence[Mapping[str, Any]] = (),
                  rejections: Sequence[Mapping[str, Any]] = (),
                  count: Callable[[str], int] = estimate_tokens,
                  variable_texts: Mapping[int, str] | None = None) -> Report:
    """Render `view` as a report within `max_tokens`, tightening step by step.

    `memory` entries are `{"step", "values": {name: value}, "feedback": [...]}`;
    `rejections` entries are `{"parameter", "value", "reason"}`. `count` counts a
    text's tokens (default: the chars/4 estimate; OptoPrime passes a real tokenizer
    when one is installed, see `tokens.py`). `variable_texts`: each variable's
    `variable_lines(name, p)` by `id(p)`, when the caller made them already (OptoPrime
    sizes its step with them), so that #Variables is not made twice.
    """
    report = _render_levels(view, sections, max_tokens, max_value_chars, memory, rejections, count, False,
                            variable_texts)
    assert report is not None  # only a lossless render gives up
    return report


def render_lossless(view: GraphView, *, sections: Mapping[str, bool] | None = None,
                    max_tokens: int = 6000, max_value_chars: int = 500,
                    memory: Sequence[Mapping[str, Any]] = (),
                    rejections: Sequence[Mapping[str, Any]] = (),
                    count: Callable[[str], int] = estimate_tokens,
                    variable_texts: Mapping[int, str] | None = None) -> Report | None:
    """`render_report`'s report if it leaves nothing out (every call, input and output
    shown), else None, decided at the first level that would need to: the levels only
    get lossier, so tightening further is wasted work (OptoPrime then splits the step)."""
    return _render_levels(view, sections, max_tokens, max_value_chars, memory, rejections, count, True,
                          variable_texts)


def _render_levels(view: GraphView, sections: Mapping[str, bool] | None, max_tokens: int,
                   max_value_chars: int, memory: Sequence[Mapping[str, Any]],
                   rejections: Sequence[Mapping[str, Any]], count: Callable[[str], int],
                   lossless: bool, variable_texts: Mapping[int, str] | None = None) -> Report | None:
    if max_tokens < 1 or max_value_chars < 1:
        raise ValueError("max_tokens and max_value_chars must be positive")
    shown = check_sections(sections)
    text, left, tokens, whole = "", [], 0, True
    memo = _Memo(view, count, variable_texts)
    levels = _levels(max_value_chars, len(view.outputs), len(view.calls), max_tokens)
    judged = ""  # the last text found over budget
    for i, level in enumerate(levels):
        renderer = _Renderer(view, shown, memory, rejections, level, memo)
        text, left = renderer.render()
        whole = renderer.variable_code and shown["code"]
        if lossless and (left or not renderer.variable_code):
            return None
        # a level that changes nothing on this graph (no value long enough to shorten, no
        # run to collapse) gives the text just judged: same verdict, nothing to count
        if text == judged and i < len(levels) - 1:
            continue
        judged = text
        # The sections' own counts are cached (most repeat from level to level): with a
        # line-additive tokenizer they sum to the text's exact count; with another they
        # bound it, so that a level clearly over budget is passed without counting it
        # whole, and the report returned is counted whole.
        parts = renderer.parts
        final = i == len(levels) - 1
        # a text longer than this many characters a token is taken as over budget
        # without counting it (at any level but the last, whose report is returned)
        if not final and len(text) > CLEARLY_OVER_CHARS * max_tokens:
            continue
        if memo.additive(parts):  # each section counted once, whatever the level
            tokens = memo.exact(parts, None if final else max_tokens)
        else:
            # (not at a first level short enough to be likely to fit: counting its
            # sections and then the whole would count it twice)
            if not final and (i > 0 or len(text) > LIKELY_OVER_CHARS * max_tokens) and \
                    _sections_over(memo, parts, max_tokens):
                continue
            tokens = count(text)
        if tokens <= max_tokens:
            return Report(text, tokens, left, whole, _variable_tokens(memo, renderer))
    note = (f"the report is still about {tokens} tokens, over the budget of "
            f"{max_tokens}: the instructions and the variables (never shortened) take that much")
    return Report(text, tokens, [*left, note], whole, _variable_tokens(memo, renderer))


def _variable_tokens(memo: _Memo, renderer: _Renderer) -> int:
    """The #Variables section's tokens in the report (with the blank line after it when
    the report is counted by sections: the count already made)."""
    section = renderer.variables()
    return memo.count(section + "\n\n") if memo.additive(renderer.parts) else memo.count(section)
