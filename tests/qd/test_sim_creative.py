"""The sim's creative roles read requests from generic cues: fuzzed rewordings (labels
renamed, sections reordered, layouts changed, the instruction moved to the system
message) get the same reading; answers are noisy but right more often than not."""

from __future__ import annotations

import json
import random
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from undertow.bench.sim.creative import asks, judging
from undertow.bench.sim.creative import reading as R
from undertow.bench.sim.creative.writing import Ask, Attributes, choose, compose, read_ask
from undertow.bench.tasks.stories import task as stories
from undertow.engine.llm import make_llm
from undertow.optimizers.qd import prompts as P

TEXT = ("The pocket watch ticked near the dragon in the tower at dawn, and it all felt cheerful. "
        "Mara walked through the garden to find the wizard, and it all felt bright.")

LAYOUTS = ("tag", "label", "json", "markdown")
NAMES = ("text", "story", "passage", "piece", "draft", "candidate")


def _wrap(layout: str, name: str, body: str) -> str:
    if layout == "tag":
        return f"<{name}>\n{body}\n</{name}>"
    if layout == "label":
        return f"{name.capitalize()}: {body}"
    if layout == "json":
        return json.dumps({name: body})
    return f"## {name.capitalize()}\n{body}"


def _messages(instruction: str, data: str, where: str, order: str) -> list[dict[str, str]]:
    if where == "system":
        return [{"role": "system", "content": instruction}, {"role": "user", "content": data}]
    body = f"{instruction}\n\n{data}" if order == "first" else f"{data}\n\n{instruction}"
    return [{"role": "user", "content": body}]


def _joined(msgs: list[dict[str, str]]) -> str:
    return "\n".join(m["content"] for m in msgs)


# -- the axis judge -------------------------------------------------------------------------
AXIS_ASKS = ("Classify the {noun} on the axis {axis}. Options: {opts}. Pick exactly one.",
             "Which category fits the {noun} best for {axis}? Choose from: {opts}",
             "Assign the {noun} a label for {axis}; the possible labels are {opts}. Answer with the label only.",
             "Place the {noun} in one bin of {axis}.\nBins:\n{bullets}")


@given(st.sampled_from(AXIS_ASKS), st.sampled_from(LAYOUTS), st.sampled_from(NAMES),
       st.sampled_from(["system", "user"]), st.sampled_from(["first", "last"]), st.sampled_from(range(3)))
@settings(max_examples=80, deadline=None)
def test_axis_judge_reads_the_options_and_the_text_in_any_layout(template, layout, name, where, order, k):
    axis = stories.AXES[k]
    sep = " | " if "Options" in template else ", "
    instruction = template.format(noun=name, axis=axis.name, opts=sep.join(axis.bins),
                                  bullets="\n".join(f"- {b}" for b in axis.bins))
    msgs = _messages(instruction, _wrap(layout, name, TEXT), where, order)
    text = _joined(msgs)
    assert asks.asks_axis(text) and not asks.asks_writing(text) and not asks.asks_quality(text)
    assert judging.options(R.instructions(text)) == list(axis.bins)
    assert R.passages(text)[-1].body == TEXT
    reply = make_llm("sim", cache_dir=False).complete(msgs, temperature=0).text
    assert P.parse_label(reply, axis.bins) is not None


def test_axis_judge_is_mostly_right_on_clear_texts():
    llm = make_llm("sim", cache_dir=False)
    rng = random.Random(0)
    right = Counter()
    for i in range(60):
        attrs = Attributes(tone=rng.choice([-2, -1, 0, 1, 2]), genre=rng.choice(list(judging.L.GENRES)),
                           length=rng.choice(["short", "medium", "long"]))
        text = compose(Ask("red umbrella", True, 120, True, True), attrs, random.Random(i))
        want = (attrs.tone + 2, list(judging.L.GENRES).index(attrs.genre), ["short", "medium", "long"].index(attrs.length))
        for k, axis in enumerate(stories.AXES):
            got = P.parse_label(llm.complete(P.rate_axis(axis, text), seed=i).text, axis.bins)
            right[k] += got == want[k]
    assert all(right[k] / 60 >= 0.75 for k in range(3)), right
    assert any(right[k] < 60 for k in range(3))        # and it is not perfect


# -- the quality judge -----------------------------------------------------------------------
QUALITY_ASKS = ("Score the quality of the {noun} against these rules: {rule} Use a scale from 0 to 10.",
                "How well does the {noun} follow the requirements? {rule} Give a score out of 10.",
                "Rate this {noun} from 0 to 10 on quality. Criteria: {rule}")


@given(st.sampled_from(QUALITY_ASKS), st.sampled_from(LAYOUTS), st.sampled_from(NAMES),
       st.sampled_from(["system", "user"]), st.sampled_from(["first", "last"]), st.booleans())
@settings(max_examples=60, deadline=None)
def test_quality_judge_checks_the_stated_rules(template, layout, name, where, order, broken):
    rule = stories.problem(1).rule
    body = TEXT.replace("pocket watch", "thing") if broken else TEXT      # breaks "mention the watch"
    msgs = _messages(template.format(noun=name, rule=rule), _wrap(layout, name, body), where, order)
    text = _joined(msgs)
    assert asks.asks_quality(text) and not asks.asks_axis(text) and not asks.asks_writing(text)
    instr = R.instructions(text)
    assert R.object_phrase(instr)[0].split()[-1] == "watch" and R.word_cap(instr) == 120
    scores = [judging.rate_quality(body, instr, random.Random(i))[0] for i in range(20)]
    assert (sum(scores) / 20 < 8.5) if broken else (sum(scores) / 20 > 8.5)


# -- the writer ---------------------------------------------------------------------------------
WRITE_ASKS = ("Write a story in which a {obj} plays a part. It must mention the {head}, stay under {cap} words, "
              "end with a complete sentence and never repeat a sentence. Make it {tone} {genre}, {length}.",
              "Compose a {length} {tone} {genre} tale featuring a {obj}. Rules: include the {head}; "
              "at most {cap} words; finish with a full sentence; no repeated sentences.",
              "Task: a {genre} story.\nTone: {tone}\nLength: {length}\nObject: {obj}\nWord limit: {cap}")


@given(st.sampled_from(WRITE_ASKS), st.sampled_from(["system", "user"]), st.sampled_from(list(stories.OBJECTS)),
       st.sampled_from(["very gloomy", "gloomy", "neutral", "cheerful", "very cheerful"]),
       st.sampled_from(["science fiction", "mystery", "romance", "fantasy", "horror"]),
       st.sampled_from(["short", "medium", "long"]))
@settings(max_examples=60, deadline=None)
def test_writer_reads_object_cap_and_target_in_any_wording(template, where, obj, tone, genre, length):
    instruction = template.format(obj=obj, head=obj.split()[-1], cap=110, tone=tone, genre=genre, length=length)
    msgs = [{"role": "system", "content": instruction}, {"role": "user", "content": "Go ahead."}] \
        if where == "system" else [{"role": "user", "content": instruction}]
    text = _joined(msgs)
    assert asks.asks_writing(text)
    ask = read_ask(text)
    assert ask.obj is not None and ask.obj.split()[-1] == obj.split()[-1]
    assert ask.cap == 110
    assert ask.tone == ["very gloomy", "gloomy", "neutral", "cheerful", "very cheerful"].index(tone) - 2
    assert ask.genre == genre and ask.length == length


def test_writer_follows_targets_often_but_not_always_and_rules_help():
    ask = read_ask(_joined(P.mutate(stories.problem(2), TEXT, "tone: very gloomy; genre: horror; length: long")))
    assert (ask.tone, ask.genre, ask.length) == (-2, "horror", "long") and ask.sources == [TEXT]
    picks = [choose(ask, random.Random(i)) for i in range(200)]
    hit = sum(p.genre == "horror" for p in picks) / 200
    assert 0.7 < hit < 0.95
    bare = Ask("paper kite", False, None, False, False)
    told = Ask("paper kite", True, 120, True, True)
    def quality(a):
        return sum(stories.check(compose(a, Attributes(), random.Random(i)), "paper kite") for i in range(200)) / 200
    assert quality(told) > quality(bare) + 0.1


def test_writer_without_targets_shows_mode_collapse_and_variation_moves_away():
    llm = make_llm("sim", cache_dir=False)
    prob = stories.problem(0)
    texts = [llm.complete(P.generate(prob), temperature=1.0, sample_index=i).text for i in range(40)]
    genres = Counter(max(judging.genre_scores(t).items(), key=lambda kv: kv[1])[0] for t in texts)
    assert genres.most_common(1)[0][1] >= 15                   # one favourite genre
    varied = [llm.complete(P.mutate(prob, texts[0], None), temperature=1.0, sample_index=i).text for i in range(20)]
    assert sum(t != texts[0] for t in varied) == 20


# -- the similarity judge --------------------------------------------------------------------------
TRIPLET_ASKS = ("Which of the texts B and C is more similar to text A?",
                "Is candidate B or candidate C closer to the anchor? Answer B or C.",
                "Pick the option (B or C) that more closely resembles A.")


@given(st.sampled_from(TRIPLET_ASKS), st.sampled_from(["tag", "label"]), st.sampled_from(["system", "user"]),
       st.sampled_from(["text", "story", "passage"]))
@settings(max_examples=40, deadline=None)
def test_similarity_judge_picks_the_closer_text(template, layout, where, name):
    a = "The violin hummed near the starship and the robot in orbit around the planet."
    near = "A robot tuned the violin on the starship while the planet turned in orbit."
    far = "Lena wept beside the wedding bouquet, her beloved gone, grief and sorrow everywhere."
    votes = Counter()
    for seed in range(10):
        for swap in (False, True):
            b, c = (far, near) if swap else (near, far)
            data = "\n\n".join(_wrap(layout, f"{name} {x}", t) if layout == "label" else _wrap(layout, f"{name}_{x}", t)
                               for x, t in (("a", a), ("b", b), ("c", c)))
            msgs = _messages(template, data, where, "first")
            assert asks.asks_similarity(_joined(msgs))
            choice = P.parse_choice(make_llm("sim", cache_dir=False, seed=seed).complete(msgs).text)
            votes[choice == ("C" if swap else "B")] += 1
    assert votes[True] >= 14                      # 10% flips: about 18 of 20; chance: 10


# -- parsers (hypothesis) ---------------------------------------------------------------------
_word = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=9)
_body = st.lists(_word, min_size=3, max_size=25).map(lambda ws: " ".join(ws).capitalize() + ".")


@given(st.lists(_word, min_size=2, max_size=6, unique=True), st.sampled_from([" | ", ", ", "; ", " / "]),
       st.sampled_from(["Options: {}", "Choose from: {}", "The categories are {}.", "Pick one of {}"]))
def test_options_round_trip(opts, sep, template):
    assert judging.options(template.format(sep.join(opts)) + "\nReply with one.") == opts


@given(_body, st.sampled_from(LAYOUTS), st.sampled_from(NAMES), st.sampled_from(["before", "after"]))
@settings(max_examples=80)
def test_passages_round_trip(body, layout, name, where):
    instruction = "Rewrite the text so that it fits: tone: cheerful."
    wrapped = _wrap(layout, name, body)
    text = f"{instruction}\n\n{wrapped}" if where == "after" else f"{wrapped}\n\n{instruction}"
    found = R.passages(text)
    assert [p.body for p in found] == [body]
    assert "tone: cheerful" in R.instructions(text) and body not in R.instructions(text)


@given(st.integers(5, 999), st.sampled_from(["at most {} words", "no more than {} words", "under {} words",
                                             "a {}-word limit", "word limit: {}", "up to {} words"]))
def test_word_cap_round_trip(n, phrase):
    assert R.word_cap(f"Write a story; keep it {phrase.format(n)}.") == n


@given(_body, st.sampled_from(LAYOUTS), st.sampled_from(NAMES),
       st.sampled_from(["very gloomy", "gloomy", "neutral", "cheerful", "very cheerful"]),
       st.sampled_from(["science fiction", "mystery", "romance", "fantasy", "horror"]))
@settings(max_examples=60, deadline=None)
def test_writer_reads_the_source_and_target_of_a_rewrite_in_any_layout(body, layout, name, tone, genre):
    msgs = [{"role": "system", "content": f"Rewrite the {name} below so it reads as {tone} {genre}. "
                                          "Mention the kite and stay under 100 words."},
            {"role": "user", "content": _wrap(layout, name, body)}]
    ask = read_ask(_joined(msgs))
    assert asks.asks_writing(_joined(msgs))
    assert ask.sources == [body] and ask.genre == genre and ask.cap == 100
    assert ask.tone == ["very gloomy", "gloomy", "neutral", "cheerful", "very cheerful"].index(tone) - 2
