"""Optimize a DSPy program with undertow's optimizers (extra `[dspy]`).

A DSPy program is a tree of modules whose predictors each hold a signature (its
`instructions`) and few-shot `demos`. `DSPyBridge` exposes them as undertow
`Parameter`s (`"<predictor>.instructions"`, kind `text`; `"<predictor>.demos"`, kind
`json`), runs the program with every predictor call traced as an operator node (an
input that an earlier predictor produced becomes an edge from that call), turns the
program's metric into feedback on the outputs, and writes the optimized values back
into the program. Any optimizer that follows undertow's contract (`backward`, then
`step()`) works: OptoPrime, TextGrad, and with `bridge.evaluator(...)` OPRO or
OptoPrime's candidate selection.

    bridge = DSPyBridge(program, metric)
    optimizer = OptoPrime(bridge.parameters(), make_llm("openai/gpt-4o-mini"))
    result = bridge.optimize(optimizer, trainset, steps=4, valset=valset)
    # program now holds the best instructions found (result.after >= result.before)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
import types
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from undertow.engine import ExecutionError, Node, Op, Parameter, backward, no_trace

INSTALL_HINT = "pip install 'undertow[dspy]'"

Metric = Callable[..., Any]
#: One traced predictor call: its node, its prediction, and a node per output field.
Call = tuple[Node, Any, dict[str, Node]]


def _dspy() -> Any:
    try:
        import dspy
    except ImportError:
        raise ImportError(f"undertow.interop.dspy needs DSPy: {INSTALL_HINT}") from None
    return dspy


@dataclass
class StepRecord:
    """One optimization step: the batch's mean metric before the step, the validation
    score after it (None without a validation set), and how many proposals were accepted."""

    step: int
    train_score: float
    val_score: float | None
    accepted: int


@dataclass
class OptimizeResult:
    """What `DSPyBridge.optimize` did: scores before and after (on the validation set,
    else the training set), the values written back, and one record per step."""

    before: float
    after: float
    values: dict[str, Any]
    steps: list[StepRecord] = field(default_factory=list)

    def _repr_html_(self) -> str:
        """Notebooks show the scores per step and the values written back."""
        from undertow.engine.notebook import html_table, mapping_html

        steps = html_table(f"DSPy program optimized: {self.before:.3f} -> {self.after:.3f}",
                           ("step", "train score", "val score", "accepted"),
                           [(s.step, f"{s.train_score:.3f}",
                             "" if s.val_score is None else f"{s.val_score:.3f}", s.accepted)
                            for s in self.steps])
        return steps + mapping_html("values written back", self.values)


class DSPyBridge:
    """A DSPy program's predictors as undertow parameters.

    Args:
        program: a `dspy.Module` (its predictors are found with `named_predictors()`).
        metric: DSPy's metric, `metric(example, prediction, trace=None)`, returning a
            bool, a number, or an object with `score` (and optionally `feedback`, as
            GEPA-style metrics return).
        demos: also expose each predictor's demos as a `json` parameter.
        pass_score: a metric at or above this counts as correct in the feedback text.
    """

    def __init__(self, program: Any, metric: Metric, *, demos: bool = True,
                 pass_score: float = 1.0) -> None:
        self._dspy = _dspy()
        if not isinstance(program, self._dspy.Module):
            raise TypeError(f"expected a dspy.Module, got {type(program).__name__}")
        self.program = program
        self.metric = metric
        self.pass_score = pass_score
        self.predictors: dict[str, Any] = dict(program.named_predictors())
        if not self.predictors:
            raise ValueError("the DSPy program has no predictors (dspy.Predict) to optimize")
        self.instructions: dict[str, Parameter] = {}
        self.demos: dict[str, Parameter] = {}
        for name, pred in self.predictors.items():
            sig = pred.signature
            fields = f"inputs {', '.join(sig.input_fields)} -> outputs {', '.join(sig.output_fields)}"
            self.instructions[name] = Parameter(
                sig.instructions, kind="text", name=f"{name}.instructions",
                description=f"the instructions of DSPy predictor {name!r} ({fields})")
            if demos:
                self.demos[name] = Parameter(
                    [_plain(d) for d in pred.demos], kind="json", name=f"{name}.demos",
                    description=f"few-shot examples of predictor {name!r}: a list of "
                                f"objects with its fields ({fields})")

    # -- parameters ---------------------------------------------------------------
    def parameters(self) -> list[Parameter]:
        """Every exposed parameter: instructions first, then demos."""
        return [*self.instructions.values(), *self.demos.values()]

    def values(self) -> dict[str, Any]:
        """Parameter name -> current value."""
        return {p.label: p.value for p in self.parameters()}

    def write_back(self) -> None:
        """Put the parameters' current values into the DSPy program's predictors."""
        for name, pred in self.predictors.items():
            pred.signature = pred.signature.with_instructions(self.instructions[name].value)
            if name in self.demos:
                pred.demos = [self._dspy.Example(**d) for d in self.demos[name].value]

    # -- running ------------------------------------------------------------------
    def run(self, example: Any) -> Node:
        """Run the program on one example's inputs, traced; return the output node
        (see `forward`)."""
        return self.forward(example)[0]

    def forward(self, example: Any) -> tuple[Node, Any]:
        """Run the program on one example's inputs, traced; return the output node and
        the program's `dspy.Prediction`.

        The example's inputs are leaf nodes; every predictor call is an operator whose
        parents are its instructions, its demos and its inputs (an example input, or an
        output field of an earlier call with the same text). When the example has one
        label (`answer`), the output node is the call's field that produced the final
        answer; otherwise it is the call that returned the final prediction. When a
        predictor raises, the output is its error node (errors are feedback too) and
        the prediction is None.
        """
        self.write_back()
        inputs = dict(example.inputs())
        leaves = {key: Node(value, name=key) for key, value in inputs.items()}
        calls: list[Call] = [(Node(None), None, {k: n for k, n in leaves.items()
                                                 if isinstance(n.value, str)})]
        try:
            with self._traced(calls):
                prediction = self.program(**inputs)
        except ExecutionError as exc:
            return exc.node, None
        calls = calls[1:]
        if not calls:
            return Node(prediction), prediction
        labels = list(example.labels().keys())
        if len(labels) == 1:  # the call whose output field became the final answer
            produced = _producer(_plain(prediction).get(labels[0]), calls)
            if isinstance(produced, Node):
                return produced, prediction
        for node, value, _ in reversed(calls):
            if value is prediction:
                return node, prediction
        return calls[-1][0], prediction

    @contextmanager
    def _traced(self, calls: list[Call]) -> Iterator[None]:
        """Route each predictor's `forward` through a traced operator while inside."""
        originals: dict[str, Any] = {}
        for name, pred in self.predictors.items():
            originals[name] = pred.__dict__.get("forward")
            bound = types.MethodType(type(pred).forward, pred)  # not via the instance: no DSPy warning
            pred.forward = self._wrap(name, pred, bound, calls)
        try:
            yield
        finally:
            for name, pred in self.predictors.items():
                if originals[name] is None:
                    del pred.forward
                else:
                    pred.forward = originals[name]

    def _wrap(self, name: str, pred: Any, forward: Callable[..., Any],
              calls: list[Call]) -> Callable[..., Any]:
        def call(instructions: Any, demos: Any, **inputs: Any) -> Any:
            return forward(**inputs)

        operator = Op(f"dspy:{name}", call, doc=f"DSPy predictor {name!r}: "
                      f"{', '.join(pred.signature.input_fields)} -> "
                      f"{', '.join(pred.signature.output_fields)}, prompted with its "
                      "instructions and demos")

        def traced(**inputs: Any) -> Any:
            linked = {key: _producer(value, calls) for key, value in inputs.items()}
            out = operator(self.instructions[name], self.demos.get(name), **linked)
            if not isinstance(out, Node):  # tracing is off
                return out
            calls.append((out, out.value, _field_nodes(name, out)))
            return out.value

        return traced

    # -- metric and feedback -----------------------------------------------------
    def score(self, example: Any, prediction: Any) -> tuple[float, str | None]:
        """The metric as a number, and the metric's own feedback text if it gave one
        (0 for a run that raised, whose prediction is None)."""
        if prediction is None:
            return 0.0, "The program raised an error on this example (see the error node)."
        result = self.metric(example, prediction, None)
        if hasattr(result, "score"):
            return float(result.score), getattr(result, "feedback", None)
        return float(result), None

    def feedback(self, example: Any, prediction: Any) -> str:
        """Feedback text for one output: the metric, and what was expected if wrong."""
        value, text = self.score(example, prediction)
        if value >= self.pass_score:
            return text or f"Correct (metric={value:g})."
        expected = "; ".join(f"{k}={v!r}" for k, v in example.labels().items())
        got = "; ".join(f"{k}={v!r}" for k, v in _plain(prediction).items())
        return (f"Wrong (metric={value:g}): expected {expected}, got {got}."
                + (f" {text}" if text else ""))

    def evaluate(self, examples: Sequence[Any]) -> float:
        """The mean metric over `examples` with the current values (not traced); an
        example on which the program raises scores 0 (all of them raising is an error)."""
        if not examples:
            raise ValueError("evaluate needs at least one example")
        self.write_back()
        total, errors = 0.0, []
        with no_trace():
            for ex in examples:
                try:
                    prediction = self.program(**ex.inputs())
                except Exception as exc:  # noqa: BLE001 - a failing example scores 0, as in DSPy
                    errors.append(exc)
                    continue
                total += self.score(ex, prediction)[0]
        if len(errors) == len(examples):  # a setup problem (no LM configured, ...), not a score
            raise RuntimeError(f"the DSPy program failed on every example; the first error: "
                               f"{type(errors[0]).__name__}: {errors[0]}") from errors[0]
        return total / len(examples)

    def evaluator(self, examples: Sequence[Any]) -> Callable[[dict[str, Any]], float]:
        """`evaluate(values) -> float` for optimizers that score candidates (OptoPrime's
        `evaluate=`, OPRO): the candidate values are already in the parameters."""
        examples = list(examples)
        return lambda values: self.evaluate(examples)

    # -- optimizing --------------------------------------------------------------
    def step(self, optimizer: Any, batch: Sequence[Any],
             propagator: Any = "subgraph") -> tuple[float, int]:
        """Forward on `batch`, feedback from the metric, `backward` (with `propagator`:
        TextGrad wants `TextualPropagator(llm)`), `optimizer.step()`; returns the batch's
        mean metric and the number of accepted proposals."""
        runs = [self.forward(ex) for ex in batch]
        scores = [self.score(ex, pred)[0] for ex, (_, pred) in zip(batch, runs, strict=True)]
        backward([node for node, _ in runs],
                 [self.feedback(ex, pred) for ex, (_, pred) in zip(batch, runs, strict=True)],
                 propagator)
        proposals = optimizer.step()
        optimizer.zero_feedback()
        self.write_back()
        return sum(scores) / len(scores), sum(1 for p in proposals if p.accepted)

    def optimize(self, optimizer: Any, trainset: Sequence[Any], *, steps: int = 3,
                 batch_size: int = 8, valset: Sequence[Any] | None = None,
                 propagator: Any = "subgraph") -> OptimizeResult:
        """Run `steps` optimization steps on consecutive batches of `trainset`, then
        write the best values back into the program.

        With `valset`, every step is scored on it and the best-scoring values (the
        starting ones included) are kept; without it, the last values are kept.
        """
        if steps < 1 or batch_size < 1:
            raise ValueError("steps and batch_size must be at least 1")
        if not trainset:
            raise ValueError("optimize needs a non-empty trainset")
        _check_optimizer(optimizer, self.parameters())
        held_out = list(valset) if valset else None
        before = self.evaluate(held_out or trainset)
        best, best_values = before, self.values()
        records = []
        for i in range(steps):
            start = (i * batch_size) % len(trainset)
            batch = [trainset[(start + j) % len(trainset)] for j in range(batch_size)]
            train_score, accepted = self.step(optimizer, batch, propagator)
            val = self.evaluate(held_out) if held_out else None
            records.append(StepRecord(i + 1, train_score, val, accepted))
            if held_out and val is not None and val > best:
                best, best_values = val, self.values()
        if held_out:
            for p in self.parameters():
                p.set(best_values[p.label])
            after = best
        else:
            after = self.evaluate(trainset)
        self.write_back()
        return OptimizeResult(before=before, after=after, values=self.values(), steps=records)


def _check_optimizer(optimizer: Any, params: Iterable[Parameter]) -> None:
    if not hasattr(optimizer, "step"):
        raise TypeError(f"expected an undertow optimizer, got {type(optimizer).__name__}")
    mine = {id(p) for p in params}
    theirs = {id(p) for p in getattr(optimizer, "parameters", [])}
    if theirs and not theirs <= mine:
        raise ValueError("the optimizer was built on other parameters: build it from "
                         "bridge.parameters()")


def _producer(value: Any, calls: list[Call]) -> Any:
    """The output-field node of the latest earlier call that produced `value` (a
    string), else `value` itself: this is how one predictor's output becomes another's
    input edge."""
    if isinstance(value, str) and value:
        for _, _, fields in reversed(calls):
            for node in fields.values():
                if node.value == value:
                    return node
    return value


def _field_nodes(name: str, out: Node) -> dict[str, Node]:
    """One traced node per output field of a predictor call (`answer` of `out`)."""
    nodes: dict[str, Node] = {}
    for key, value in _plain(out.value).items():
        getter = Op(f"{name}.{key}", lambda p, key=key: _plain(p)[key],
                    doc=f"the {key!r} field of predictor {name!r}'s prediction")
        node = getter(out)
        if isinstance(node, Node) and isinstance(value, str):
            nodes[key] = node
    return nodes


def _plain(obj: Any) -> dict[str, Any]:
    """A DSPy Example/Prediction (or a mapping) as a plain dict of its fields."""
    if isinstance(obj, dict):
        return dict(obj)
    try:
        return dict(obj.items())
    except (AttributeError, TypeError):
        return {"value": obj}
