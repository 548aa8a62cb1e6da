"""LLAMBO's reply parsers: never raise, always return values inside the space."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st
from undertow.optimizers.llambo.parse import coerce_value, parse_configs, parse_scores

from tests.hpo._helpers import MIXED


def _inside(config):
    for d in MIXED.dims:
        v = config[d.name]
        if d.kind == "choice":
            assert v in d.choices
        else:
            assert d.low <= v <= d.high
            assert isinstance(v, int) if d.kind == "int" else isinstance(v, float)


@given(st.text(max_size=400))
def test_parse_configs_never_raises(text):
    configs, bad = parse_configs(text, MIXED)
    assert bad >= 0
    for c in configs:
        _inside(c)


anything = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                     st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8),
                     st.sampled_from(["A", "b ", "'c'", "1e-3", "7", "nan"]))


@given(st.lists(st.fixed_dictionaries({"lr": anything, "depth": anything, "kind": anything}), max_size=6),
       st.sampled_from(["bare", "wrapped", "fenced", "prose"]))
@settings(max_examples=200)
def test_configs_are_clipped_or_counted(raws, layout):
    body = json.dumps(raws)
    text = {"bare": body, "wrapped": json.dumps({"configurations": raws}),
            "fenced": f"Here you go:\n```json\n{body}\n```", "prose": f"I suggest {body}. Good luck."}[layout]
    configs, bad = parse_configs(text, MIXED)
    assert len(configs) + bad == len(raws)
    for c in configs:
        _inside(c)


@given(st.floats(-1e6, 1e6), st.integers(-100, 100), st.sampled_from(["A", "b", "c", " C "]))
def test_in_range_values_survive_and_out_of_range_clip(lr, depth, kind):
    configs, bad = parse_configs(json.dumps([{"LR": lr, "depth": depth, "kind": kind}]), MIXED)
    assert bad == 0 and len(configs) == 1
    c = configs[0]
    assert c["lr"] == min(1.0, max(1e-4, lr)) and c["depth"] == min(10, max(1, depth))
    assert c["kind"] == kind.strip().lower()


def test_line_layout_and_missing_keys():
    configs, bad = parse_configs("1) lr = 0.1, depth = 4, kind = b\n2) lr: 2, depth: 0, kind: c\n3) lr=0.1",
                                 MIXED)
    assert configs == [{"lr": 0.1, "depth": 4, "kind": "b"}, {"lr": 1.0, "depth": 1, "kind": "c"}]
    assert bad == 1


@given(st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=8),
       st.sampled_from(["list", "objects", "wrapped", "lines", "arrows"]))
def test_parse_scores_reads_every_layout(scores, layout):
    n = len(scores)
    text = {"list": json.dumps(scores),
            "objects": json.dumps([{"candidate": i + 1, "predicted_score": s} for i, s in enumerate(scores)]),
            "wrapped": "Predictions: " + json.dumps({"predictions": scores}),
            "lines": "\n".join(f"{i + 1}. {s!r}" for i, s in enumerate(scores)),
            "arrows": "\n".join(f"candidate {i + 1} -> {s!r}" for i, s in enumerate(scores))}[layout]
    got = parse_scores(text, n)
    assert got is not None and [round(x, 6) for x in got] == [round(s, 6) for s in scores]


@given(st.text(max_size=300), st.integers(1, 6))
def test_parse_scores_never_raises_and_has_length_n(text, n):
    got = parse_scores(text, n)
    assert got is None or len(got) == n


def test_coerce_rejects_what_cannot_be_read():
    for raw in (None, True, "fast", float("nan"), float("inf"), [1]):
        try:
            coerce_value(MIXED.dims[0], raw)
        except ValueError:
            continue
        raise AssertionError(f"{raw!r} was accepted")
