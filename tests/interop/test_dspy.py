"""The DSPy bridge against the sim-server (llm=sim): a two-predictor DSPy program,
optimized with OptoPrime through `undertow.interop.dspy`, gets better instructions
written back into the program, and scores better when DSPy runs it on its own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

dspy = pytest.importorskip("dspy", reason="DSPy not installed: pip install 'undertow[dspy]'")

from undertow.bench.sim import SimLLM  # noqa: E402
from undertow.bench.sim.server import ServerHandle, running_server  # noqa: E402
from undertow.bench.tasks.reasoning import make_splits  # noqa: E402
from undertow.engine import ErrorNode, Parameter, TextualPropagator, backward  # noqa: E402
from undertow.engine.llm import make_llm  # noqa: E402
from undertow.interop.dspy import DSPyBridge  # noqa: E402
from undertow.optimizers import OptoPrime, TextGrad  # noqa: E402


class SolveThenExplain(dspy.Module):
    """Two predictors: one answers, the other explains the answer."""

    def __init__(self) -> None:
        super().__init__()
        self.solve = dspy.Predict("question -> answer")
        self.explain = dspy.Predict("question, answer -> rationale")

    def forward(self, question: str):
        solved = self.solve(question=question)
        explained = self.explain(question=question, answer=solved.answer)
        return dspy.Prediction(answer=solved.answer, rationale=explained.rationale)


def exact(example, prediction, trace=None) -> float:
    return float(str(prediction.answer).strip() == example.answer)


def _examples(items):
    return [dspy.Example(question=it.input, answer=str(it.target)).with_inputs("question")
            for it in items]


@pytest.fixture(scope="module")
def server() -> Iterator[ServerHandle]:
    with running_server(SimLLM()) as handle:
        yield handle


@pytest.fixture
def lm(server: ServerHandle):
    model = dspy.LM("openai/sim", api_base=server.openai_base_url, api_key="unused",
                    cache=False, num_retries=0)
    with dspy.context(lm=model):
        yield model


@pytest.fixture(scope="module")
def data():
    splits = make_splits("boolean_expressions", seed=0, n_train=24, n_val=16, n_test=40)
    return _examples(splits.train), _examples(splits.val), _examples(splits.test)


def _accuracy(program, examples) -> float:
    return sum(exact(ex, program(**ex.inputs())) for ex in examples) / len(examples)


def test_optoprime_improves_a_two_predictor_program_and_writes_back(
        lm, data, server, monkeypatch) -> None:
    train, val, test = data
    program = SolveThenExplain()
    start = {name: p.signature.instructions for name, p in program.named_predictors()}
    before_test = _accuracy(program, test)

    bridge = DSPyBridge(program, exact)
    assert [p.label for p in bridge.parameters()] == [
        "solve.instructions", "explain.instructions", "solve.demos", "explain.demos"]
    monkeypatch.setenv("OPENAI_BASE_URL", server.openai_base_url)
    optimizer = OptoPrime(bridge.parameters(), make_llm("openai/sim", cache_dir=False))
    result = bridge.optimize(optimizer, train, steps=3, batch_size=8, valset=val)

    assert result.after > result.before
    solve = program.solve.signature.instructions
    assert solve != start["solve"] and solve == result.values["solve.instructions"]
    assert len(solve) > len(start["solve"])           # rules were added, not just reworded
    assert program.explain.signature.instructions == start["explain"]  # it got no feedback
    assert "forward" not in vars(program.solve)       # the tracing hooks are gone
    after_test = _accuracy(program, test)             # DSPy on its own, bridge unused
    assert after_test > before_test + 0.1, (before_test, after_test, solve)
    assert optimizer.llm.accounting.summary()["by_purpose"]["optimizer"]["calls"] == 3


def test_predictor_calls_are_linked_in_the_graph(lm, data) -> None:
    bridge = DSPyBridge(SolveThenExplain(), exact)
    example = data[0][0]
    node, prediction = bridge.forward(example)
    assert node.value == prediction.answer            # the field that became the answer
    (solve_call,) = node.parents
    assert solve_call.op.name == "dspy:solve"
    assert bridge.instructions["solve"] in solve_call.parents
    question = [p for p in solve_call.parents if p.name == "question"]
    assert question and question[0].value == example.question
    # the explain call read the solve call's answer field: an edge, not a copy
    backward([node], ["Wrong"])
    assert bridge.instructions["solve"].feedback and not bridge.instructions["explain"].feedback


def test_textgrad_and_gepa_style_metric_feedback(lm, data) -> None:
    train = data[0]

    def metric(example, prediction, trace=None):
        ok = exact(example, prediction)
        return dspy.Prediction(score=ok, feedback="" if ok else "apply the not operators first")

    bridge = DSPyBridge(SolveThenExplain(), metric, demos=False)
    text = bridge.feedback(train[0], dspy.Prediction(answer="maybe"))
    assert "apply the not operators first" in text and "expected answer=" in text
    llm = make_llm("sim", cache_dir=False)
    optimizer = TextGrad(bridge.parameters(), llm)
    score, _ = bridge.step(optimizer, train[:4], TextualPropagator(llm))
    assert 0.0 <= score <= 1.0 and optimizer.steps == 1


def test_bad_inputs_are_clear_errors(lm) -> None:
    with pytest.raises(TypeError, match="dspy.Module"):
        DSPyBridge(object(), exact)
    bridge = DSPyBridge(SolveThenExplain(), exact)
    other = OptoPrime([Parameter("x", name="x")], make_llm("sim", cache_dir=False))
    with pytest.raises(ValueError, match="bridge.parameters"):
        bridge.optimize(other, [dspy.Example(question="q", answer="a").with_inputs("question")])


def test_a_failing_predictor_is_feedback_and_no_lm_is_a_clear_error(lm, data) -> None:
    train = data[0]
    bridge = DSPyBridge(SolveThenExplain(), exact)
    with dspy.context(lm=None):                     # every predictor call raises
        node, prediction = bridge.forward(train[0])
        assert prediction is None and isinstance(node, ErrorNode)   # the error is an output
        assert bridge.score(train[0], prediction)[0] == 0.0
        with pytest.raises(RuntimeError, match="failed on every example"):
            bridge.evaluate(train[:2])
