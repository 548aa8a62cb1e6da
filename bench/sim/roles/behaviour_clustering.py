"""The sim groups behaviours into metrics (AutoLibra's clustering step).

Claims a request that lists behaviours (lines with an id such as `B3`, `#3` or `3.`) and
asks to group or cluster them into metrics, criteria or aspects. Each behaviour becomes a
bag of its content words plus the concepts it names (weighted x3); groups are made by
average-linkage agglomeration on cosine similarity (threshold 0.3, jittered by the seeded
rng). Each behaviour lands in a random group 8% of the time (a misreading). A group is
named by its most common concept that no metric the request lists as existing covers
(else its most salient words) and defined by that concept's gloss; a group whose name is
an existing metric's is dropped.
Evidence: True when at least two behaviours were read.
"""

from __future__ import annotations

import json
import math
import random
import re
from collections import Counter

from undertow.bench.sim.profile import cue_in
from undertow.bench.sim.roles import RoleRequest
from undertow.bench.sim.roles._agent_reading import (
    CONCEPTS,
    concepts_in,
    content_words,
    json_keys,
    read_steps,
    stem,
)

THRESHOLD, JITTER, MISPLACE = 0.3, 0.04, 0.08
_ITEM = re.compile(r"^[ \t*-]*\(?\s*(B\s*\d+|#\s*\d+|\d+)\s*[).:\]]?\s*(?:[(\[]\s*(positive|negative|good|bad|"
                   r"praised|criticized|criticised|\+|-)\s*[)\]])?\s*[:\-]?\s*(.+)$", re.IGNORECASE | re.MULTILINE)
_EXISTING = re.compile(r"^[ \t]*[-*][ \t]*([a-z][a-z0-9_]*)[ \t]*:[ \t]*(.+)$", re.MULTILINE)


def _vector(text: str) -> Counter[str]:
    v: Counter[str] = Counter(content_words(text))
    for c in concepts_in(text):
        v["@" + c] += 3
    return v


def _cos(a: Counter[str], b: Counter[str]) -> float:
    dot = sum(a[k] * b[k] for k in a if k in b)
    na = math.sqrt(sum(x * x for x in a.values()))
    nb = math.sqrt(sum(x * x for x in b.values()))
    return dot / (na * nb) if na and nb else 0.0


def read_behaviours(text: str) -> list[tuple[str, str, str]]:
    """(id, polarity, text) of each listed behaviour."""
    out = []
    for m in _ITEM.finditer(text):
        ident = re.sub(r"\s+", "", m.group(1)).upper().lstrip("#")
        ident = ident if ident.startswith("B") else f"B{ident}"
        pol = (m.group(2) or "").lower()
        body = m.group(3).strip()
        if not pol:
            lead = re.match(r"\(?\s*(positive|negative)\s*\)?\s*[:\-]?\s*", body, re.IGNORECASE)
            if lead:
                pol, body = lead.group(1).lower(), body[lead.end():]
        polarity = "positive" if pol in ("positive", "good", "praised", "+") else "negative"
        if len(body.split()) >= 2:
            out.append((ident, polarity, body))
    return out


def _group(vectors: list[Counter[str]], threshold: float) -> list[list[int]]:
    groups = [[i] for i in range(len(vectors))]
    sims = {(i, j): _cos(vectors[i], vectors[j]) for i in range(len(vectors)) for j in range(i + 1, len(vectors))}

    def link(a: list[int], b: list[int]) -> float:
        return sum(sims[min(i, j), max(i, j)] for i in a for j in b) / (len(a) * len(b))

    while len(groups) > 1:
        best, pair = threshold, None
        for x in range(len(groups)):
            for y in range(x + 1, len(groups)):
                s = link(groups[x], groups[y])
                if s > best:
                    best, pair = s, (x, y)
        if pair is None:
            break
        x, y = pair
        groups[x] = groups[x] + groups[y]
        del groups[y]
    return groups


def _name_and_definition(members: list[tuple[str, str, str]], others: Counter[str],
                         taken: set[str]) -> tuple[str, str]:
    """A name and definition for a group: its most common concept that no existing metric
    covers (else its most salient words)."""
    concepts = Counter(c for _, _, t in members for c in concepts_in(t) if c not in taken)
    negative = sum(p == "negative" for _, p, _ in members) >= len(members) / 2
    if concepts:
        top = max(sorted(concepts), key=lambda c: concepts[c])
        bad, good, _ = CONCEPTS[top]
        definition = (f"Whether the agent avoids {bad}." if negative else f"Whether the agent {good}.")
        return top, definition
    words = Counter(w for _, _, t in members for w in content_words(t))
    surface = {stem(w): w.lower() for _, _, t in members for w in re.findall(r"[A-Za-z][A-Za-z']+", t)}
    salient = [surface.get(w, w) for w in sorted(words, key=lambda w: (-words[w] / (1 + others[w]), w))[:2]]
    name = "_".join(salient) or "other"
    example = members[0][2]
    return name, f"Whether the agent does well on {' and '.join(salient) or 'this'} (as in: {example})."


class BehaviourClusteringRole:
    name = "behaviour_clustering"
    priority = 41

    def claims(self, request: RoleRequest) -> bool:
        asked = request.instructions
        groups = any(cue_in(c, asked) for c in ("group", "cluster", "categorize", "categorise", "sort ... into"))
        into = any(cue_in(c, asked) for c in ("metric", "metrics", "criteria", "criterion", "aspect", "aspects",
                                              "dimension", "dimensions"))
        return groups and into and not read_steps(request.text) and len(read_behaviours(request.text)) >= 1

    def reply(self, request: RoleRequest, rng: random.Random) -> tuple[str, bool | None]:
        items = read_behaviours(request.text)
        listed = {i for i, _, _ in items}
        existing = [(n, d) for n, d in _EXISTING.findall(request.text) if n.upper() not in listed]
        taken = {c for n, d in existing for c in concepts_in(f"{n.replace('_', ' ')} {d}")}
        vectors = [_vector(t) for _, _, t in items]
        groups = _group(vectors, THRESHOLD + rng.uniform(-JITTER, JITTER))
        if len(groups) > 1:
            for g in list(groups):
                for i in list(g):
                    if len(g) > 1 and rng.random() < MISPLACE:
                        g.remove(i)
                        rng.choice([h for h in groups if h is not g]).append(i)
        keys = json_keys(list(request.fmt.keys),
                         {"list": ("metrics", "clusters", "groups", "criteria"), "name": ("name", "title"),
                          "definition": ("defin", "descr", "explan"),
                          "positive": ("positive", "good"), "negative": ("negative", "bad"),
                          "members": ("behav", "member", "ids")},
                         {"list": "metrics", "name": "name", "definition": "definition",
                          "positive": "positive_examples", "negative": "negative_examples", "members": "behaviours"})
        all_words: Counter[str] = Counter(w for _, _, t in items for w in content_words(t))
        out, names = [], set()
        for g in sorted(groups, key=lambda g: min(g)):
            members = [items[i] for i in sorted(g)]
            name, definition = _name_and_definition(members, all_words, taken)
            if any(n == name for n, _ in existing):
                continue
            base, k = name, 2
            while name in names:
                name, k = f"{base}_{k}", k + 1
            names.add(name)
            out.append({keys["name"]: name, keys["definition"]: definition,
                        keys["positive"]: [t for _, p, t in members if p == "positive"][:3],
                        keys["negative"]: [t for _, p, t in members if p == "negative"][:3],
                        keys["members"]: [i for i, _, _ in members]})
        return json.dumps({keys["list"]: out}, indent=1), len(items) >= 2


ROLE = BehaviourClusteringRole()
