"""OptoPrime: the subgraph each parameter received, shown to an LLM as a debugging report.

One step: merge the `SubgraphFeedback` of every parameter into one report
(`report.py`), ask the LLM for `{"reasoning": ..., "suggestion": {name: value}}`,
read the reply defensively (`parse.py`), and apply only the values that fit their
parameter's kind and constraints. Refused values are logged with the reason and shown
in the next step's report, so the model can correct itself. Options: a memory of
earlier (values, feedback) pairs, several candidates per step chosen by a
user-supplied `evaluate` on a validation batch, and masking report sections.

Large graphs: when the one report would have to leave something out to fit
`max_tokens`, the step is split into blocks of variables (`blocks.py`), each its own
request with its variables' subgraph, feedback and memory, sent concurrently; every
variable with feedback is offered every step. With `n_candidates > 1` each block
picks its candidate on its own (values of the other blocks held at the step's start).
Reports are measured with a real tokenizer when one is installed (`tokens.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from undertow.engine import Module, Parameter, SubgraphFeedback, no_trace
from undertow.optimizers.base import Optimizer, Proposal, jsonable
from undertow.optimizers.fanout import Fanout, as_fanout
from undertow.optimizers.opto.blocks import Block, fit_blocks, plan_blocks, reply_budget, variable_text
from undertow.optimizers.opto.graph import GraphView
from undertow.optimizers.opto.parse import (
    SuggestionError,
    coerce,
    match_name,
    parse_reply,
)
from undertow.optimizers.opto.report import Report, check_sections, cut, render_lossless, render_report
from undertow.optimizers.opto.tokens import TokenCounter, token_counter

#: The `parameter` field of log entries about a whole reply (not JSON, nothing to change).
REPLY_ENTRY = "(reply)"

SYSTEM_PROMPT = ("You are an expert programmer who debugs programs and improves their "
                 "trainable variables from the feedback their outputs received. You reply "
                 "in JSON only.")

Evaluate = Callable[[dict[str, Any]], float]

#: The `response_format` asked of providers with a JSON mode: an object holding the
#: reasoning and the map of new values.
REPLY_FORMAT: dict[str, Any] = {
    "type": "json_schema",
    "json_schema": {"name": "optoprime_reply", "schema": {
        "type": "object",
        "properties": {"reasoning": {"type": "string"}, "suggestion": {"type": "object"}},
        "required": ["reasoning", "suggestion"]}},
}


@dataclass
class Candidate:
    """One reply read: the valid new values, the refused ones with reasons, and notes."""

    index: int
    reply: str
    reasoning: str = ""
    values: dict[str, Any] = field(default_factory=dict)
    refused: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    score: float | None = None
    repair_reply: str | None = None  # the reply to the repair round, when there was one


class OptoPrime(Optimizer):
    """The OPTO optimizer: debugging report in, structured suggestion out, validated.

    Args:
        parameters: the parameters (or a `Module`) to optimize.
        llm: an `undertow.engine.llm.LLM` (anything with `complete(messages, ...)`
            returning an object with `.text`). Calls are booked under purpose "optimizer".
        sections: report sections to mask, e.g. `{"code": False}` (see `report.SECTIONS`).
        memory_size: how many earlier (values, feedback) pairs the report shows (0: none).
        n_candidates: replies asked per step; with more than one, `evaluate` picks.
        evaluate: `evaluate(values) -> float`, higher is better, called with every
            parameter's name -> value; while it runs, the parameters hold those values
            and tracing is off. Required when `n_candidates > 1`.
        temperature: sampling temperature (default 0 for one candidate, 0.7 for more).
        max_tokens: the report's size budget in estimated tokens.
        max_value_chars: longest value shown before shortening (variables never are).
        keep_current: with `evaluate`, keep the current values when no candidate beats them.
        json_mode: ask the provider for a JSON object matching the reply schema
            (`response_format`). None (default): when the client's backend says it
            supports it (`supports_json_mode`, e.g. OpenAI and OpenAI-compatible servers).
        repair: when a reply holds no readable JSON object, ask once more, showing the
            model its reply and what was wrong (one more call, booked against the
            budget like any other), before the step is given up.
        concurrency: most requests in flight at once when a step is split into blocks.
        fanout: how the step's requests (blocks x candidates) fan out: a width or a
            `Fanout` (`undertow.optimizers.fanout`); default `Fanout(concurrency)`.
            Replies come back in order whatever the width.
        tokenizer: a `TokenCounter` for the budget (default: the best installed, see
            `tokens.token_counter`; its name is logged with every proposal).
    """

    def __init__(self, parameters: Iterable[Parameter] | Module, llm: Any, *,
                 sections: Mapping[str, bool] | None = None, memory_size: int = 0,
                 n_candidates: int = 1, evaluate: Evaluate | None = None,
                 temperature: float | None = None, max_tokens: int = 6000,
                 max_value_chars: int = 500, keep_current: bool = True,
                 system_prompt: str = SYSTEM_PROMPT, json_mode: bool | None = None,
                 repair: bool = True, concurrency: int = 8, fanout: Fanout | int | None = None,
                 tokenizer: TokenCounter | None = None) -> None:
        super().__init__(parameters)
        if not hasattr(llm, "complete"):
            raise TypeError(f"llm must be an LLM client with .complete(), got {type(llm).__name__}; "
                            'build one with undertow.engine.llm.make_llm("sim") or a provider spec')
        if not isinstance(n_candidates, int) or n_candidates < 1:
            raise ValueError(f"n_candidates must be an int >= 1, got {n_candidates!r}")
        if n_candidates > 1 and evaluate is None:
            raise ValueError("n_candidates > 1 needs evaluate=callable(values) -> float to pick "
                             "among the candidates (e.g. accuracy on a validation batch)")
        if memory_size < 0:
            raise ValueError(f"memory_size must be >= 0, got {memory_size}")
        if not isinstance(concurrency, int) or concurrency < 1:
            raise ValueError(f"concurrency must be an int >= 1, got {concurrency!r}")
        self.llm = llm
        self.sections = check_sections(sections)
        self.memory_size = memory_size
        self.n_candidates = n_candidates
        self.evaluate = evaluate
        self.temperature = temperature if temperature is not None else (0.0 if n_candidates == 1 else 0.7)
        self.max_tokens = max_tokens
        self.max_value_chars = max_value_chars
        self.keep_current = keep_current
        self.system_prompt = system_prompt
        if json_mode is None:
            json_mode = bool(getattr(getattr(llm, "backend", None), "supports_json_mode", False))
        self.json_mode = json_mode
        self.repair = repair
        self.concurrency = concurrency
        self.fanout = as_fanout(fanout) or Fanout(concurrency)
        self.tokenizer = tokenizer or token_counter()
        self.memory: list[dict[str, Any]] = []
        self.last_rejections: list[dict[str, Any]] = []
        self.by_name = {self.names[id(p)]: p for p in self.parameters}

    # -- the report ------------------------------------------------------------
    def _by_name(self) -> dict[str, list[SubgraphFeedback]]:
        """The subgraph feedback received, by the name of the parameter it is about."""
        by_id: dict[int, list[SubgraphFeedback]] = {}
        for p in self.parameters:
            for fb in p.feedback:
                if not isinstance(fb, SubgraphFeedback):
                    raise TypeError(
                        f"parameter {self.names[id(p)]!r} received {type(fb).__name__}; OptoPrime "
                        "reads subgraph feedback: call backward(outputs, feedback) with the "
                        'default "subgraph" propagator')
                by_id.setdefault(id(fb.parameter), []).append(fb)
        return {n: by_id[id(p)] for n, p in self.by_name.items() if id(p) in by_id}

    def _render(self, names: list[str], received: dict[str, list[SubgraphFeedback]],
                lossless: bool = False, texts: dict[str, str] | None = None) -> Report | None:
        """The report offering only the variables `names`, with their own memory (with
        `lossless`, None when it cannot fit without leaving something out); `texts`:
        their `variable_text`s, when made already."""
        # (the names of all parameters: the view looks up only those it shows)
        view = GraphView.build([fb for n in names for fb in received[n]], self.names)
        wanted = set(names)
        memory = [{**m, "values": {k: v for k, v in m.get("values", {}).items() if k in wanted}}
                  for m in (self.memory[-self.memory_size:] if self.memory_size else [])]
        rejections = [r for r in self.last_rejections
                      if r.get("parameter") in wanted or r.get("parameter") not in self.by_name]
        render = render_lossless if lossless else render_report
        shown = {id(self.by_name[n]): texts[n] for n in names} if texts is not None else None
        return render(view, sections=self.sections, max_tokens=self.max_tokens,
                      max_value_chars=self.max_value_chars, memory=memory,
                      rejections=rejections, count=self.tokenizer, variable_texts=shown)

    def _block(self, names: list[str], received: dict[str, list[SubgraphFeedback]],
               texts: dict[str, str] | None = None) -> Report:
        report = self._render(names, received, texts=texts)
        assert report is not None
        return report

    def blocks(self) -> list[Block]:
        """The requests the next `step()` would send (empty when no feedback was received).

        One request with every variable when its report fits with nothing left out;
        else blocks of variables, each within the budget (see `blocks.py`).
        """
        received = self._by_name()
        names = list(received)
        if not names:
            return []
        if len(names) == 1:
            report = self._block(names, received)
            return [Block(names, report, reply_budget(report.variable_tokens, 1))]
        texts = {n: variable_text(n, self.by_name[n]) for n in names}
        rows = 1 + (min(self.memory_size, len(self.memory)) if self.memory_size else 0)
        # A token covers at least one byte: variables whose bytes fit the budget need no
        # count before the whole report is tried (it counts its #Variables section anyway).
        value_tokens: dict[str, int] | None = None
        if sum(len(t.encode()) for t in texts.values()) * rows > self.max_tokens:
            value_tokens = {n: self.tokenizer(t) for n, t in texts.items()}  # sizes to split by
        # when the variables alone exceed the budget, one report cannot hold them: skip it
        if value_tokens is None or sum(value_tokens.values()) * rows <= self.max_tokens:
            whole = self._render(names, received, lossless=True, texts=texts)
            if whole is not None and whole.tokens <= self.max_tokens and not whole.left_out:
                return [Block(names, whole, reply_budget(whole.variable_tokens, len(names)))]
        if value_tokens is None:
            value_tokens = {n: self.tokenizer(t) for n, t in texts.items()}
        planned = plan_blocks(names, {n: t * rows for n, t in value_tokens.items()}, self.max_tokens, received)
        fitted = fit_blocks(planned, lambda ns: self._block(ns, received, texts), self.max_tokens)
        return [Block(ns, rep, reply_budget(sum(value_tokens[n] for n in ns), len(ns))) for ns, rep in fitted]

    def report(self) -> Report | None:
        """The report the next `step()` would send first (None when no feedback was
        received); `blocks()` gives all of them when the step is split."""
        blocks = self.blocks()
        return blocks[0].report if blocks else None

    # -- one step --------------------------------------------------------------
    def _ask(self, blocks: list[Block], extra: dict[str, Any]) -> list[list[str]]:
        """Reply texts, per block then per candidate; concurrent when there are several."""
        jobs = [(b, i) for b in range(len(blocks)) for i in range(self.n_candidates)]

        def one(job: tuple[int, int]) -> str:
            b, i = job
            messages = [{"role": "system", "content": self.system_prompt},
                        {"role": "user", "content": blocks[b].report.text}]
            return self.llm.complete(messages, purpose="optimizer", temperature=self.temperature,
                                     sample_index=i, max_tokens=blocks[b].reply_tokens, **extra).text

        texts = self.fanout.map_sync(one, jobs)
        n = self.n_candidates
        return [texts[b * n:(b + 1) * n] for b in range(len(blocks))]

    def step(self) -> list[Proposal]:
        """Ask for suggestions from the received feedback and apply the valid ones."""
        blocks = self.blocks()
        if not blocks:
            self.steps += 1
            return []
        before = {n: p.value for n, p in self.by_name.items()}
        extra = {"response_format": REPLY_FORMAT} if self.json_mode else {}
        replies = self._ask(blocks, extra)
        proposals: list[Proposal] = []
        rejections: list[dict[str, Any]] = []
        for b, (block, texts) in enumerate(zip(blocks, replies)):
            report = block.report
            base_meta = {"prompt": report.text, "report_tokens": report.tokens,
                         "left_out": list(report.left_out), "tokenizer": self.tokenizer.name,
                         "reply_budget": block.reply_tokens}
            if len(blocks) > 1:
                base_meta.update(block=b, blocks=len(blocks), offered=len(block.names))
            messages = [{"role": "system", "content": self.system_prompt},
                        {"role": "user", "content": report.text}]
            candidates = []
            for i, text in enumerate(texts):
                cand = self._read(i, text)
                if cand.error is not None and self.repair:
                    cand = self._repair(i, messages, cand, extra)
                candidates.append(cand)
            chosen, scores = self._choose(candidates, before)
            proposals += self._apply(candidates, chosen, scores, base_meta)
            rejections += [r for c in candidates if chosen is None or c is chosen for r in c.refused]
        self.last_rejections = rejections
        self._remember(before, blocks[0].report)
        self.steps += 1
        return proposals

    def _read(self, index: int, text: str) -> Candidate:
        parsed = parse_reply(text)
        cand = Candidate(index, text, parsed.reasoning, error=parsed.error)
        by_name = self.by_name
        for key, raw in parsed.suggestion.items():
            try:
                name = key if key in by_name else match_name(key, by_name)
                value = coerce(by_name[name], raw)
            except SuggestionError as exc:
                where = key if str(exc).startswith("the key") else name
                cand.refused.append({"parameter": where, "value": jsonable(raw), "reason": str(exc)})
                continue
            if name in cand.values:
                cand.refused.append({"parameter": name, "value": jsonable(raw),
                                     "reason": f"the key {key!r} repeats a suggestion for {name}"})
            elif value != self.by_name[name].value:
                cand.values[name] = value
        return cand

    def _repair(self, index: int, messages: list[dict[str, str]], first: Candidate,
                extra: dict[str, Any]) -> Candidate:
        """One more call, showing the model its unreadable reply and what was wrong."""
        fix = messages + [
            {"role": "assistant", "content": first.reply},
            {"role": "user", "content": (
                f"Your reply could not be read: {first.error}. Reply again with only one JSON "
                'object, {"reasoning": "...", "suggestion": {"<variable name>": <new value>}}, '
                "with every string properly quoted and escaped.")}]
        reply = self.llm.complete(fix, purpose="optimizer", temperature=self.temperature,
                                  sample_index=index, **extra)
        second = self._read(index, reply.text)
        if second.error is not None:
            second.error = f"{first.error}; still after one repair round: {second.error}"
        second.reply, second.repair_reply = first.reply, reply.text
        return second

    def _choose(self, cands: list[Candidate], before: dict[str, Any]
                ) -> tuple[Candidate | None, dict[str, Any]]:
        """The candidate to apply (None: keep everything) and the scores seen."""
        if self.n_candidates == 1:
            return cands[0], {}
        assert self.evaluate is not None
        scores: dict[str, Any] = {"current": self._score(before)}
        best: Candidate | None = None
        for c in cands:
            if c.values:
                c.score = self._score({**before, **c.values})
                scores[f"candidate {c.index}"] = c.score
                if best is None or c.score > best.score:  # type: ignore[operator]
                    best = c
        if best is not None and self.keep_current and best.score <= scores["current"]:  # type: ignore[operator]
            return None, scores
        return best, scores

    def _score(self, values: dict[str, Any]) -> float:
        saved = {n: p.value for n, p in self.by_name.items()}
        try:
            for n, v in values.items():
                self.by_name[n].set(v)
            with no_trace():
                score = self.evaluate(dict(values))  # type: ignore[misc]
        finally:
            for n, v in saved.items():
                self.by_name[n].set(v)
        return float(score)

    def _apply(self, cands: list[Candidate], chosen: Candidate | None, scores: dict[str, Any],
               base_meta: dict[str, Any]) -> list[Proposal]:
        proposals: list[Proposal] = []
        for c in cands:
            meta = {**base_meta, "reply": c.reply, "reasoning": c.reasoning, "candidate": c.index}
            if c.repair_reply is not None:
                meta["repair_reply"] = c.repair_reply
            if scores:
                meta["scores"] = scores
            if c.error is not None:
                proposals.append(self._note(f"{c.error}; nothing changed", meta))
            elif not c.values and not c.refused:
                proposals.append(self._note("the reply suggests no change", meta))
            for r in c.refused:
                p = self.by_name.get(r["parameter"])
                proposals.append(self._log(Proposal(
                    step=self.steps, parameter=r["parameter"], old=p.value if p else None,
                    new=r["value"], accepted=False, reason=r["reason"], meta=meta)))
            for name, value in c.values.items():
                param = self.by_name[name]
                if c is chosen:
                    proposals.append(self.propose(param, value, reason=c.reasoning or "suggested",
                                                  meta=meta))
                else:
                    why = (f"not selected: scored {c.score}; candidate {chosen.index} scored {chosen.score}"
                           if chosen is not None else
                           f"not selected: score {c.score} does not beat the current {scores.get('current')}")
                    proposals.append(self._log(Proposal(
                        step=self.steps, parameter=name, old=param.value, new=jsonable(value),
                        accepted=False, reason=why, meta=meta)))
        return proposals

    def _note(self, reason: str, meta: dict[str, Any]) -> Proposal:
        return self._log(Proposal(step=self.steps, parameter=REPLY_ENTRY, old=None, new=None,
                                  accepted=False, reason=reason, meta=meta))

    def _log(self, proposal: Proposal) -> Proposal:
        return self.record(proposal)

    def _remember(self, before: dict[str, Any], report: Report) -> None:
        if not self.memory_size:  # no memory kept: nothing to gather
            self.memory = []
            return
        feedback: list[str] = []
        seen: set[int] = set()  # one feedback list reaches every parameter of its subgraph
        for p in self.parameters:
            for fb in p.feedback:
                if id(fb.feedback) in seen:
                    continue
                seen.add(id(fb.feedback))
                for f in fb.feedback:
                    text = cut(" ".join(str(f).split()), 200)[0]
                    if text not in feedback:
                        feedback.append(text)
        shown = {n: jsonable(v) for n, v in before.items() if self.by_name[n].feedback}
        self.memory.append({"step": self.steps, "values": shown, "feedback": feedback[:8]})
        self.memory = self.memory[-self.memory_size:]

    # -- resumable state -------------------------------------------------------
    def extra_state(self) -> dict[str, Any]:
        return {"memory": [dict(m) for m in self.memory],
                "last_rejections": [dict(r) for r in self.last_rejections],
                "config": {"sections": dict(self.sections), "memory_size": self.memory_size,
                           "n_candidates": self.n_candidates, "temperature": self.temperature,
                           "max_tokens": self.max_tokens, "max_value_chars": self.max_value_chars}}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        self.memory = [dict(m) for m in state.get("memory", [])]
        self.last_rejections = [dict(r) for r in state.get("last_rejections", [])]
