"""The sim's hyperparameter role: it reads space, history, candidates, count and target
from any layout (fuzzed rewordings read the same), and its answers follow the evidence."""

from __future__ import annotations

import json
import math
import random

from hypothesis import given, settings
from hypothesis import strategies as st
from undertow.bench.sim.hpo_read import read_request
from undertow.bench.sim.llm import SimLLM
from undertow.engine.llm import make_llm
from undertow.optimizers.llambo import parse_configs, parse_scores, prompts

from tests.hpo._helpers import MIXED
from tests.hpo.test_llambo import objective

RNG = random.Random(0)
HISTORY = [({d.name: d.sample(RNG) for d in MIXED.dims}) for _ in range(6)]
HISTORY = [(c, round(objective(c), 4)) for c in HISTORY]
CANDIDATES = [{d.name: d.sample(RNG) for d in MIXED.dims} for _ in range(3)]


# -- layouts a caller might use ---------------------------------------------------------------
def space_text(layout: str, label: str) -> str:
    if layout == "json":
        return f"{label}:\n" + json.dumps({"lr": {"type": "float", "low": 0.0001, "high": 1.0, "log": True},
                                           "depth": {"type": "int", "min": 1, "max": 10},
                                           "kind": {"choices": ["a", "b", "c"]}})
    if layout == "table":
        return (f"{label}:\n| name | type | range | scale |\n|---|---|---|---|\n| lr | float | 0.0001 to 1 | log |\n"
                "| depth | int | 1 to 10 | linear |\n| kind | categorical | a / b / c | |")
    if layout == "prose":
        return (f"{label}:\n* `lr` (float, log-scale): between 0.0001 and 1\n* `depth` (integer): from 1 to 10\n"
                "* `kind`: one of a, b, c")
    return f"{label}:\n- lr: float in [0.0001, 1], log scale\n- depth: int in [1, 10]\n- kind: choice, one of [a, b, c]"


def _kv(c: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in c.items())


def history_text(layout: str, label: str, word: str) -> str:
    rows = HISTORY
    if layout == "json":
        return f"{label}:\n" + json.dumps([{"config": c, word: s} for c, s in rows], indent=1)
    if layout == "flat":
        return f"{label}:\n" + "\n".join(json.dumps({**c, word: s}) for c, s in rows)
    if layout == "arrows":
        return f"{label}:\n" + "\n".join(f"{json.dumps(c)} -> {word} {s}" for c, s in rows)
    if layout == "kv":
        return f"{label}:\n" + "\n".join(f"- {_kv(c)} | {word}: {s}" for c, s in rows)
    header = "| lr | depth | kind | " + word + " |\n|---|---|---|---|\n"
    return f"{label}:\n" + header + "\n".join(f"| {c['lr']} | {c['depth']} | {c['kind']} | {s} |" for c, s in rows)


def candidates_text(layout: str, label: str) -> str:
    if layout == "json":
        return f"{label}:\n" + json.dumps({"candidates": CANDIDATES})
    if layout == "kv":
        return f"{label}:\n" + "\n".join(f"({i + 1}) {_kv(c)}" for i, c in enumerate(CANDIDATES))
    return f"{label}:\n" + "\n".join(f"{i + 1}. {json.dumps(c)}" for i, c in enumerate(CANDIDATES))


PREDICT = ["Predict the score each candidate configuration will get.",
           "Estimate the accuracy that every one of these candidate settings would reach.",
           "For each candidate below, forecast its validation performance."]
PROPOSE = ["Propose 4 new configurations that you expect to reach a score of 0.97.",
           "Suggest four hyperparameter settings likely to achieve 0.97.",
           "Give 4 fresh candidate combinations aiming for a target of 0.97."]


@st.composite
def requests(draw, job: str):
    space = space_text(draw(st.sampled_from(["lines", "json", "table", "prose"])),
                       draw(st.sampled_from(["Search space", "Hyperparameters to tune", "Tunable knobs",
                                             "Domain"])))
    history = history_text(draw(st.sampled_from(["json", "flat", "arrows", "kv", "table"])),
                           draw(st.sampled_from(["Evaluated so far", "Past trials", "Observations",
                                                 "History"])),
                           draw(st.sampled_from(["score", "accuracy", "val_score"])))
    sections = [space, history]
    if job == "predict":
        sections.append(candidates_text(draw(st.sampled_from(["json", "kv", "numbered"])),
                                        draw(st.sampled_from(["Candidates", "Configurations to rate",
                                                              "Unevaluated settings"]))))
    sections = draw(st.permutations(sections))
    instruction = draw(st.sampled_from(PREDICT if job == "predict" else PROPOSE))
    where = draw(st.sampled_from(["system", "first", "last"]))
    body = "\n\n".join(sections)
    if where == "system":
        return [{"role": "system", "content": instruction}, {"role": "user", "content": body}]
    user = f"{instruction}\n\n{body}" if where == "first" else f"{body}\n\n{instruction}"
    return [{"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "content": user}]


def _joined(messages):
    return "\n".join(m["content"] for m in messages)


def _check_reading(messages, job):
    read = read_request(_joined(messages))
    assert [(d.name, d.kind) for d in read.dims] == [("lr", "float"), ("depth", "int"), ("kind", "choice")]
    lr, depth, kind = read.dims
    assert (lr.low, lr.high, lr.log) == (0.0001, 1.0, True) and (depth.low, depth.high) == (1, 10)
    assert [str(c) for c in kind.choices] == ["a", "b", "c"]
    got = [({k: str(v) for k, v in c.items()}, s) for c, s in read.history]
    assert got == [({k: str(v) for k, v in c.items()}, s) for c, s in HISTORY]
    if job == "predict":
        assert [{k: str(v) for k, v in c.items()} for c in read.candidates] == \
               [{k: str(v) for k, v in c.items()} for c in CANDIDATES]
    else:
        assert read.candidates == [] and read.n_wanted == 4 and read.target == 0.97


@given(requests("predict"))
@settings(max_examples=25, deadline=None)
def test_predict_requests_read_the_same_in_any_layout(messages):
    _check_reading(messages, "predict")
    sim = SimLLM([])
    assert sim.diagnose(messages).role == "hpo"
    reply = sim.complete(messages, temperature=0.7).text
    assert parse_scores(reply, len(CANDIDATES)) is not None, reply


@given(requests("propose"))
@settings(max_examples=25, deadline=None)
def test_propose_requests_read_the_same_in_any_layout(messages):
    _check_reading(messages, "propose")
    sim = SimLLM([])
    assert sim.diagnose(messages).role == "hpo"
    configs, bad = parse_configs(sim.complete(messages, temperature=0.7).text, MIXED)
    assert len(configs) == 4 and bad == 0


def test_other_requests_are_not_claimed():
    sim = SimLLM([])
    for text in ("Sort these words alphabetically: pear apple fig",
                 "What is 3 + 4 * 2? Answer with a number.",
                 "Suggest a better system prompt for this task. Current prompt: 'Answer briefly.'",
                 "Propose new values for the variables.\n#Variables\n(int) x=3\n#Feedback\nthe output is too small"):
        assert sim.diagnose([{"role": "user", "content": text}]).role != "hpo", text


# -- the answers follow the evidence ----------------------------------------------------------
def _spearman(a, b):
    def ranks(xs):
        order = sorted(range(len(xs)), key=lambda i: xs[i])
        r = [0.0] * len(xs)
        for rank, i in enumerate(order):
            r[i] = float(rank)
        return r
    ra, rb = ranks(a), ranks(b)
    ma, mb = sum(ra) / len(ra), sum(rb) / len(rb)
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb, strict=True))
    return cov / math.sqrt(sum((x - ma) ** 2 for x in ra) * sum((y - mb) ** 2 for y in rb))


def _surrogate(n_history: int, seed: int) -> tuple[list[float], list[float]]:
    rng = random.Random(seed)
    history = [{"values": c, "score": objective(c)}
               for c in ({d.name: d.sample(rng) for d in MIXED.dims} for _ in range(n_history))]
    candidates = [{d.name: d.sample(rng) for d in MIXED.dims} for _ in range(15)]
    llm = make_llm("sim", cache_dir=False, seed=seed)
    replies = llm.sample(prompts.surrogate("a synthetic task", MIXED, history, candidates), 3, temperature=0.8)
    preds = [parse_scores(r.text, len(candidates)) for r in replies]
    assert all(p is not None for p in preds)
    mean = [sum(p[i] for p in preds) / len(preds) for i in range(len(candidates))]
    return mean, [objective(c) for c in candidates]


def test_surrogate_predictions_track_the_true_scores():
    corrs = [_spearman(*_surrogate(30, seed)) for seed in range(3)]
    assert min(corrs) > 0.4 and sum(corrs) / 3 > 0.6, corrs


def test_more_history_gives_better_predictions():
    def error(n):
        total = 0.0
        for seed in range(3):
            pred, true = _surrogate(n, seed)
            total += sum(abs(p - t) for p, t in zip(pred, true, strict=True)) / len(true)
        return total / 3
    assert error(40) < error(4)


def test_conditional_proposals_beat_the_warm_start():
    rng = random.Random(3)
    history = [{"values": c, "score": objective(c)}
               for c in ({d.name: d.sample(rng) for d in MIXED.dims} for _ in range(20))]
    llm = make_llm("sim", cache_dir=False)
    best = max(h["score"] for h in history)
    cond = llm.complete(prompts.sample("a synthetic task", MIXED, history, best + 0.05, 12), temperature=0.8)
    warm = llm.complete(prompts.warm_start("a synthetic task", MIXED, 12), temperature=0.8)
    c_configs, _ = parse_configs(cond.text, MIXED)
    w_configs, _ = parse_configs(warm.text, MIXED)
    assert len(c_configs) == len(w_configs) == 12
    mean = lambda cs: sum(objective(c) for c in cs) / len(cs)  # noqa: E731
    assert mean(c_configs) > mean(w_configs)


def test_without_a_written_space_it_infers_one_from_the_history():
    text = ("Here are past trials of my model:\n"
            + "\n".join(json.dumps({"lr": c["lr"], "depth": c["depth"], "kind": c["kind"], "score": s})
                        for c, s in HISTORY)
            + "\n\nSuggest 3 new configurations that should do better. Answer in JSON.")
    read = read_request(text)
    assert {d.name for d in read.dims} == {"lr", "depth", "kind"} and len(read.history) == len(HISTORY)
    reply = SimLLM([]).complete([{"role": "user", "content": text}], temperature=0.5).text
    configs = [c for c in json.loads(reply) if set(c) == {"lr", "depth", "kind"}]
    assert len(configs) == 3 and all(c["depth"] >= 0 and c["lr"] >= 0 for c in configs)
