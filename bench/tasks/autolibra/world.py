"""The catalog world of the `autolibra` task: items, their attributes, questions and the tool.

An item's attributes are a deterministic function of its name (a hash), so the question
text alone fixes the answer and the `lookup` tool needs no stored data. Questions ask for
one attribute in a named unit: "What is the weight of the Orion crate, in kilograms?".
"""

from __future__ import annotations

import hashlib
import random
import re

from undertow.bench.tasks.base import Example

NAMES = ("Orion", "Vega", "Lyra", "Draco", "Cetus", "Pavo", "Ara", "Hydra", "Norma", "Volans",
         "Pyxis", "Lupus", "Musca", "Tucana", "Indus", "Carina", "Fornax", "Sextans", "Aquila", "Corvus")
OBJECTS = ("crate", "lamp", "kettle", "drill", "tent", "bench", "ladder", "bucket", "mirror", "rucksack")
#: attribute -> (unit word asked for, unit symbol answered, low, high, decimals)
ATTRIBUTES = {
    "weight": ("kilograms", "kg", 1.0, 40.0, 1),
    "length": ("centimetres", "cm", 10.0, 250.0, 0),
    "price": ("euros", "EUR", 5.0, 400.0, 2),
    "capacity": ("litres", "L", 0.5, 80.0, 1),
}
UNIT_WORDS = {sym: word for word, sym, *_ in ATTRIBUTES.values()}

QUESTION = re.compile(
    r"What is the (weight|length|price|capacity) of the ([A-Z][a-z]+ [a-z]+), in "
    r"(kilograms|centimetres|euros|litres)\?")


def value_of(item: str, attribute: str) -> str:
    """The attribute's value for `item` as text (no unit)."""
    _, _, low, high, decimals = ATTRIBUTES[attribute]
    h = int.from_bytes(hashlib.sha256(f"{item}/{attribute}".encode()).digest()[:6], "big") / 2 ** 48
    v = low + (high - low) * h
    return f"{v:.{decimals}f}"


def lookup(item: str) -> str:
    """Look an item of the catalog up by name; returns its attributes."""
    name = " ".join(item.strip().strip("'\"").split())
    parts = name.split(" ")
    if len(parts) != 2 or parts[0] not in NAMES or parts[1] not in OBJECTS:
        raise KeyError(f"no catalog item named {name!r}")
    fields = "; ".join(f"{a} {value_of(name, a)} {sym}" for a, (_, sym, *_r) in ATTRIBUTES.items())
    return f"{name}: {fields}"


def parse_question(text: str) -> tuple[str, str, str] | None:
    """(item, attribute, unit symbol) of the last question in `text`, or None."""
    found = QUESTION.findall(text)
    if not found:
        return None
    attribute, item, _ = found[-1]
    return item, attribute, ATTRIBUTES[attribute][1]


def answer_of(question: str) -> str:
    """The right answer of a question: value and unit symbol ("12.5 kg")."""
    parsed = parse_question(question)
    if parsed is None:
        raise ValueError(f"not a catalog question: {question!r}")
    item, attribute, symbol = parsed
    return f"{value_of(item, attribute)} {symbol}"


def question(item: str, attribute: str) -> str:
    """The question text asking for `attribute` of `item`."""
    return f"What is the {attribute} of the {item}, in {ATTRIBUTES[attribute][0]}?"


def make_splits(seed: int, n_train: int, n_val: int, n_test: int) -> tuple[list[Example], list[Example], list[Example]]:
    """Seeded, disjoint train / val / test questions (at most 800 distinct ones)."""
    pool = [(f"{n} {o}", a) for n in NAMES for o in OBJECTS for a in ATTRIBUTES]
    random.Random(f"autolibra-catalog/{seed}").shuffle(pool)
    need = n_train + n_val + n_test
    if need > len(pool):
        raise ValueError(f"the catalog task has {len(pool)} distinct questions; asked for {need}")
    items = [Example(input=question(i, a), target=f"{value_of(i, a)} {ATTRIBUTES[a][1]}",
                     meta={"item": i, "attribute": a}) for i, a in pool[:need]]
    return items[:n_train], items[n_train:n_train + n_val], items[n_train + n_val:]
