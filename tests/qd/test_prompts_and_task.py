"""Reply parsers (hypothesis) and the stories task's checkable rule."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from undertow.bench.tasks.stories import task as stories
from undertow.optimizers.qd import prompts as P

BINS = stories.AXES[0].bins + stories.AXES[2].bins
WRAPS = (lambda v: v, lambda v: json.dumps({"label": v}), lambda v: f"Answer: {v}", lambda v: f"<label>{v}</label>",
         lambda v: f"The text is best described as {v}.", lambda v: json.dumps({"reasoning": "x", "label": v}))


@given(st.sampled_from(stories.AXES), st.data(), st.sampled_from(WRAPS))
@settings(max_examples=80, deadline=None)
def test_parse_label_finds_the_bin_in_any_wrapper(axis, data, wrap):
    i = data.draw(st.integers(0, len(axis.bins) - 1))
    assert P.parse_label(wrap(axis.bins[i]), axis.bins) == i
    assert P.parse_label(wrap(axis.bins[i].upper()), axis.bins) == i


def test_parse_label_prefers_the_longest_bin_and_refuses_none():
    bins = stories.AXES[0].bins
    assert P.parse_label("very gloomy", bins) == 0 and P.parse_label("gloomy", bins) == 1
    assert P.parse_label("purple", bins) is None


@given(st.integers(0, 10), st.sampled_from(["{}", '{{"score": {}}}', "Score: {}/10", "I give it {} out of 10",
                                             '```json\n{{"rating": {}}}\n```']))
def test_parse_score(value, template):
    assert P.parse_score(template.format(value)) == value / 10


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=200).filter(str.strip),
       st.sampled_from(["plain", "json", "tag", "fence"]))
@settings(max_examples=80)
def test_parse_text_round_trips(text, wrap):
    body = text.strip()
    if wrap == "json":
        reply = json.dumps({"story": body})
    elif wrap == "tag":
        reply = f"<story>{body}</story>"
    elif wrap == "fence":
        reply = f"```\n{body}\n```"
    else:
        reply = body
    got = P.parse_text(reply)
    if wrap in ("json", "tag", "fence") and "```" not in body and "<" not in body:
        assert got == body.strip()
    assert got is None or isinstance(got, str)


def test_parse_choice():
    assert P.parse_choice('{"choice": "C"}') == "C" and P.parse_choice("Text B is closer.") == "B"
    assert P.parse_choice("neither") is None


def test_rule_check():
    ok = "The glass jar sat on the shelf. Nobody moved it."
    assert stories.check(ok, "glass jar") == 1.0
    report = stories.rule_report("The box sat. The box sat. and then", "glass jar")
    assert report == {"mentions": False, "word_cap": True, "complete": False, "no_repeat": False}
    assert stories.check(" ".join(f"Word{i} jar." for i in range(70)), "glass jar") == 0.75   # over the cap
    assert stories.check("", "glass jar") == 0.25


@given(st.integers(0, 50))
def test_every_seed_has_a_problem_with_the_75_cells(seed):
    p = stories.problem(seed)
    assert p.shape == (5, 5, 3)
    head = stories.object_for(seed).split()[-1]
    assert head in p.rule and stories.object_for(seed) in p.brief
