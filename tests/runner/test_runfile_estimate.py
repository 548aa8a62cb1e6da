"""Property tests: the --config TOML parser round-trips every option; dry-run estimates
respect the budget."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st
from undertow.bench.runner import make_config
from undertow.bench.runner.estimate import estimate, totals
from undertow.bench.runner.runfile import RunFile, load_run_file

NAMES = st.lists(st.sampled_from(["word_sorting", "numeric_dag", "object_counting"]), min_size=1, max_size=3)
OPTIONS = st.fixed_dictionaries({}, optional={
    "task": NAMES, "optimizer": NAMES, "llm": st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=30),
    "seeds": st.integers(1, 50), "budget": st.sampled_from(["calls=10", "tokens=500,usd=2"]),
    "steps": st.integers(1, 99), "out": st.sampled_from(["runs/a", "bench-runs/sweep 1"]),
    "workers": st.integers(1, 16), "n_train": st.integers(1, 500), "n_val": st.integers(1, 500),
    "n_test": st.integers(1, 500), "batch_size": st.integers(1, 64), "otel": st.sampled_from(["console", "otlp"])})


@settings(max_examples=60, deadline=None)
@given(OPTIONS, st.booleans())
def test_every_option_round_trips_through_toml(tmp_path_factory, options, dashes):
    lines = []
    for key, value in options.items():
        name = key.replace("_", "-") if dashes else key
        # JSON text of strings (no control characters), ints and arrays is TOML
        lines.append(f"{name} = {json.dumps(value, ensure_ascii=False)}")
    path = tmp_path_factory.mktemp("toml") / "run.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    loaded = load_run_file(path)
    expected = RunFile.model_validate(options).model_dump(exclude_none=True)
    assert loaded == expected and set(loaded) == set(options)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 300), st.integers(1, 20), st.integers(1, 16), st.sampled_from(["sim", "openai:gpt-4o-mini"]),
       st.one_of(st.none(), st.integers(1000, 200000)))
def test_estimates_never_pass_the_budget(max_calls, steps, batch, llm, max_tokens):
    budget = f"calls={max_calls}" + (f",tokens={max_tokens}" if max_tokens else "")
    config = make_config(["word_sorting", "numeric_dag"], ["textgrad", "mcts", "adam", "none"], llm=llm, seeds=2,
                         budget=budget, steps=steps, batch_size=batch, check_key=False)
    rows = estimate(config)
    assert len(rows) == len(config.runs)
    for r in rows:
        assert 0 <= r.calls <= max_calls
        if max_tokens:
            assert r.tokens <= max_tokens + 1  # rounding
        if r.capped_by == "no LLM":
            assert (r.calls, r.tokens, r.usd) == (0, 0, 0.0)
        assert r.usd == 0.0 if llm == "sim" else r.usd is not None and r.usd >= 0
    t = totals(rows)
    assert t["calls"] == sum(r.calls for r in rows) and t["runs"] == len(rows)
