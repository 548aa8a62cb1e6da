"""The catalog task: the writer detects the planted modes exactly, scores, and reads any run alike."""

from __future__ import annotations

from undertow.bench.tasks.autolibra import world, writer
from undertow.bench.tasks.autolibra.run import score
from undertow.optimizers.metrics import Step, Trajectory

Q = world.question("Vega lamp", "weight")
V = world.value_of("Vega lamp", "weight")


def run(*steps: tuple[str, str]) -> Trajectory:
    return Trajectory(id="r", task="t", steps=[Step(index=i, kind=k, text=x) for i, (k, x) in enumerate(steps)])


def test_modes_exact() -> None:
    call = ("tool_call", "lookup[Vega lamp]")
    assert writer.modes_of(run(call, ("output", f"{V} kg")), Q) == []
    assert writer.modes_of(run(call, call, ("output", V)), Q) == ["repeated_call", "missing_unit"]
    assert writer.modes_of(run(("output", "Sorry, I don't know.")), Q) == ["gave_up"]
    assert writer.modes_of(run(("output", "Which lamp do you mean?")), Q) == ["asked_user"]
    assert writer.modes_of(run(call, ("output", f"{V} kg " + "and so on " * 12)), Q) == ["verbose"]


def test_scores() -> None:
    call = ("tool_call", "lookup[Vega lamp]")
    assert writer.score_trajectory(run(call, ("output", f"{V} kg")), Q) == 1.0
    assert writer.score_trajectory(run(call, call, ("output", V)), Q) == 0.25
    assert writer.score_trajectory(run(("output", "no idea")), Q) == 0.0
    assert score(f"{V} kilograms", f"{V} kg") == 1.0 and score(V, f"{V} kg") == 0.5 and score("1", f"{V} kg") == 0.0


def test_feedback_is_deterministic_and_names_each_mode() -> None:
    call = ("tool_call", "lookup[Vega lamp]")
    t = run(call, call, ("output", V))
    text = writer.write_feedback(t, Q, seed=3)
    assert text == writer.write_feedback(t, Q, seed=3)
    assert len([s for s in text.split(". ") if s]) >= 2
    assert writer.write_feedback(run(call, ("output", f"{V} kg")), Q) != ""


def test_lookup_tool_and_splits() -> None:
    assert f"weight {V} kg" in world.lookup("Vega lamp")
    tr, va, te = world.make_splits(1, 5, 5, 5)
    assert len({e.input for e in tr + va + te}) == 15
    assert all(world.answer_of(e.input) == e.target for e in tr)
    assert world.make_splits(1, 5, 5, 5) == (tr, va, te)


def test_agent_requests_do_not_depend_on_the_process() -> None:
    """The tool table's repr reaches optimizer requests; it must not show memory addresses."""
    from undertow.bench.tasks.autolibra.agent import CatalogAgent

    assert "0x" not in repr(CatalogAgent(None).tools)


def test_heldout_complaints_reach_none_of_the_sims_concepts() -> None:
    """The held-out wording measures how much the sim's concept lexicon flatters
    recovery, so none of it may be within the lexicon's reach; the standard wording is."""
    import pytest

    from undertow.bench.sim.roles._agent_reading import concepts_in

    fill = {"item": "Vega lamp", "attribute": "weight", "unit": "kilograms", "value": V}
    for mode in writer.MODES:
        assert writer.HELDOUT_COMPLAINTS[mode] != writer.COMPLAINTS[mode]
        for phrase in writer.HELDOUT_COMPLAINTS[mode]:
            assert concepts_in(phrase.format(**fill)) == [], phrase
        assert all(concepts_in(p.format(**fill)) for p in writer.COMPLAINTS[mode])
    call = ("tool_call", "lookup[Vega lamp]")
    t = run(call, call, ("output", V))
    held = writer.write_feedback(t, Q, seed=3, phrasings="heldout")
    assert held != writer.write_feedback(t, Q, seed=3) and held == writer.write_feedback(t, Q, 3, "heldout")
    with pytest.raises(ValueError, match="phrasings must be one of"):
        writer.write_feedback(t, Q, phrasings="other")
