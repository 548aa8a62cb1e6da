"""The sim's AutoLibra roles read requests by meaning: fuzzed rewordings of our requests
(labels renamed, sections reordered, instruction reworded or moved to the system message,
other step/list layouts) get the same reading; better evidence gives better answers."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st
from undertow.optimizers.metrics import (
    Behaviour,
    Metric,
    Step,
    Trajectory,
    parse_clusters,
    parse_grounding,
    parse_ratings,
)
from undertow.optimizers.metrics.prompts import clustering_request, grounding_request, rating_request

from .conftest import role_reply

TRAJ = Trajectory(id="t", task="catalog", feedback="", steps=[
    Step(index=0, kind="thought", text="I should look the Vega lamp up."),
    Step(index=1, kind="tool_call", tool="lookup", text="lookup[Vega lamp]"),
    Step(index=2, kind="observation", text="Vega lamp: weight 3.2 kg; length 40 cm"),
    Step(index=3, kind="tool_call", tool="lookup", text="lookup[Vega lamp]"),
    Step(index=4, kind="observation", text="Vega lamp: weight 3.2 kg; length 40 cm"),
    Step(index=5, kind="output", text="3.2")])
FEEDBACK = ("It looked up the Vega lamp twice with the exact same query. The answer 3.2 has no unit; "
            "I asked for kilograms. Good that it checked the catalog for the Vega lamp first.")

STEP_FORMATS = ["[step {i}] {kind}: {text}", "Step {i} - {kind}: {text}", "(step {i}) {kind}: {text}",
                "step #{i}: {kind}: {text}"]
RUN_LABELS = ["Agent run:", "Trajectory:", "## Transcript of the run", "RUN"]
FEEDBACK_LAYOUTS = ["Reviewer's feedback:\n{fb}", "User comments: {fb}", "<feedback>{fb}</feedback>",
                    "## Review\n{fb}", '{{"feedback": "{fb}"}}']
GROUND_ASKS = [
    "For each sentence of the feedback, say which step it is about, whether it is positive or negative, "
    "and describe the behaviour. Reply in JSON with a list under \"behaviours\" of objects with keys "
    "\"sentence\", \"step\", \"polarity\", \"behaviour\".",
    "Map every remark in the review to the step of the run it refers to. Use JSON: {\"items\": "
    "[{\"quote\": ..., \"step_index\": ..., \"sentiment\": ..., \"description\": ...}]}",
]


def _run_text(fmt: str, label: str) -> str:
    lines = [fmt.format(i=s.index, kind=s.kind, text=s.text) for s in TRAJ.steps]
    return label + "\n" + "\n".join(lines)


def _reading_grounding(reply: str) -> list[tuple[int | None, str]]:
    found, _ = parse_grounding(reply, "t")
    return [(b.step, b.polarity) for b in found]


def test_our_grounding_request() -> None:
    role, reply = role_reply(grounding_request(TRAJ.model_copy(update={"feedback": FEEDBACK})))
    assert role == "feedback_grounding"
    assert _reading_grounding(reply) == [(1, "negative"), (5, "negative"), (1, "positive")]


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(STEP_FORMATS), st.sampled_from(RUN_LABELS), st.sampled_from(FEEDBACK_LAYOUTS),
       st.sampled_from(GROUND_ASKS), st.booleans(), st.booleans())
def test_grounding_rewordings_read_alike(step_fmt, run_label, fb_layout, ask, feedback_first, ask_in_system) -> None:
    run = _run_text(step_fmt, run_label)
    fb = fb_layout.format(fb=FEEDBACK)
    body = f"{fb}\n\n{run}" if feedback_first else f"{run}\n\n{fb}"
    messages = ([{"role": "system", "content": ask}, {"role": "user", "content": body}] if ask_in_system
                else [{"role": "user", "content": f"{body}\n\n{ask}"}])
    role, reply = role_reply(messages)
    assert role == "feedback_grounding"
    assert _reading_grounding(reply) == [(1, "negative"), (5, "negative"), (1, "positive")]


BEHAVIOURS = [Behaviour(trajectory="a", polarity="negative", text=t) for t in (
    "It looked up the lamp twice with the exact same query.", "The lookup of the crate was repeated for no reason.",
    "The answer has no unit; I asked for euros.", "It gave a bare number without saying kilograms.",
    "The final answer was far too long and rambling.", "Way too wordy: a short answer would have done.")]
ITEM_FORMATS = ["B{i} ({pol}): {text}", "#{i} [{pol}] {text}", "{i}. ({pol}) {text}", "- B{i} ({pol}) - {text}"]
CLUSTER_ASKS = ["Group these behaviours into metrics. Reply in JSON with \"metrics\": a list of objects with "
                "\"name\", \"definition\", \"positive_examples\", \"negative_examples\", \"behaviours\" (ids).",
                "Cluster the observations into evaluation criteria; for each criterion give a title, a "
                "description and the ids of its members, as JSON {\"criteria\": [...]}"]


def _reading_clusters(reply: str) -> list[list[str]]:
    found, _ = parse_clusters(reply)
    return sorted(sorted(ids) for _, ids in found)


def test_our_clustering_request() -> None:
    role, reply = role_reply(clustering_request(BEHAVIOURS))
    assert role == "behaviour_clustering"
    assert _reading_clusters(reply) == [["B1", "B2"], ["B3", "B4"], ["B5", "B6"]]


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(ITEM_FORMATS), st.sampled_from(CLUSTER_ASKS), st.booleans(), st.booleans())
def test_clustering_rewordings_read_alike(item_fmt, ask, ask_first, ask_in_system) -> None:
    listing = "\n".join(item_fmt.format(i=i + 1, pol=b.polarity, text=b.text) for i, b in enumerate(BEHAVIOURS))
    body = "Observed behaviours:\n" + listing
    if ask_in_system:
        messages = [{"role": "system", "content": ask}, {"role": "user", "content": body}]
    else:
        messages = [{"role": "user", "content": f"{ask}\n\n{body}" if ask_first else f"{body}\n\n{ask}"}]
    role, reply = role_reply(messages)
    assert role == "behaviour_clustering"
    assert _reading_clusters(reply) == [["B1", "B2"], ["B3", "B4"], ["B5", "B6"]]


METRICS = [Metric(name="repetition", definition="Whether the agent avoids repeating the same tool call."),
           Metric(name="units", definition="Whether the answer states its unit of measurement."),
           Metric(name="brevity", definition="Whether the final answer is short and concise.")]
WANT = {"repetition": "negative", "units": "negative", "brevity": "positive"}
METRIC_LAYOUTS = ["{i}. {name}: {definition}", "- {name} — {definition}", "* **{name}**: {definition}", "json"]
RATE_ASKS = ["Rate the run on each metric as positive, negative or n/a. JSON: {\"ratings\": [{\"metric\": ..., "
             "\"rating\": ..., \"reason\": ...}]}",
             "Grade this trajectory against every criterion below (positive / negative / n/a). Answer as JSON "
             "{\"verdicts\": [{\"name\": ..., \"verdict\": ..., \"why\": ...}]}"]


def test_our_rating_request() -> None:
    role, reply = role_reply(rating_request(TRAJ, METRICS))
    assert role == "metric_rating"
    assert {k: v for k, (v, _) in parse_ratings(reply, list(WANT))[0].items()} == WANT


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(STEP_FORMATS), st.sampled_from(METRIC_LAYOUTS), st.sampled_from(RATE_ASKS),
       st.booleans(), st.booleans())
def test_rating_rewordings_read_alike(step_fmt, layout, ask, metrics_first, ask_in_system) -> None:
    run = _run_text(step_fmt, "The run:")
    if layout == "json":
        listing = json.dumps([m.model_dump() for m in METRICS])
    else:
        listing = "\n".join(layout.format(i=i + 1, name=m.name, definition=m.definition)
                            for i, m in enumerate(METRICS))
    listing = "Metrics:\n" + listing
    body = f"{listing}\n\n{run}" if metrics_first else f"{run}\n\n{listing}"
    messages = ([{"role": "system", "content": ask}, {"role": "user", "content": body}] if ask_in_system
                else [{"role": "user", "content": f"{body}\n\n{ask}"}])
    role, reply = role_reply(messages)
    assert role == "metric_rating"
    assert {k: v for k, (v, _) in parse_ratings(reply, list(WANT))[0].items()} == WANT


def test_rating_depends_on_the_run() -> None:
    clean = TRAJ.model_copy(update={"steps": [*TRAJ.steps[:3], Step(index=3, kind="output", text="3.2 kg")]})
    _, reply = role_reply(rating_request(clean, METRICS))
    assert {k: v for k, (v, _) in parse_ratings(reply, list(WANT))[0].items()} == {
        "repetition": "positive", "units": "positive", "brevity": "positive"}


def test_grounding_without_overlap_is_worse() -> None:
    """Feedback that names nothing in the run cannot be tied to the right steps."""
    vague = TRAJ.model_copy(update={"feedback": "Meh. Not great. Could be better."})
    _, reply = role_reply(grounding_request(vague))
    assert all(step in (0, 5) for step, _ in _reading_grounding(reply))


def test_tool_agent_follows_what_the_prompt_teaches(sim_runs) -> None:
    from undertow.bench.tasks.autolibra import world, writer
    from undertow.bench.tasks.autolibra.agent import INITIAL_PROMPT, CatalogAgent
    from undertow.bench.tasks.autolibra.profile import SKILLS
    from undertow.engine.llm import make_llm

    taught = INITIAL_PROMPT + "\n" + " ".join(s.fix for s in SKILLS)
    agent = CatalogAgent(make_llm("sim", cache_dir=False, seed=0), taught)
    items, _, _ = world.make_splits(0, 40, 0, 0)
    good = [writer.modes_of(agent.run(ex.input, f"g{i}")[1], ex.input) for i, ex in enumerate(items)]
    bad = [writer.modes_of(t, q) for t, q in sim_runs]
    assert 3 * sum(map(len, good)) < sum(map(len, bad))


@settings(max_examples=80, deadline=None)
@given(st.text(max_size=300))
def test_readers_never_crash_on_any_text(text) -> None:
    from undertow.bench.sim.roles._agent_reading import read_feedback, read_steps
    from undertow.bench.sim.roles.behaviour_clustering import read_behaviours
    from undertow.bench.sim.roles.metric_rating import read_metrics

    assert isinstance(read_steps(text), list) and isinstance(read_feedback(text), str)
    assert isinstance(read_behaviours(text), list) and isinstance(read_metrics(text), list)
    role, _ = role_reply([{"role": "user", "content": text}])
    assert isinstance(role, str)
