"""Nouns for object counting, by category, as (singular, plural) pairs.

This is world knowledge (a flute is a musical instrument), shared by the generator
and the solver the way a person's vocabulary is; the solver shares no other state.
"""

from __future__ import annotations

CATEGORIES: dict[str, tuple[tuple[str, str], ...]] = {
    "musical instruments": (
        ("flute", "flutes"), ("piano", "pianos"), ("trombone", "trombones"),
        ("violin", "violins"), ("accordion", "accordions"), ("clarinet", "clarinets"),
        ("drum", "drums"), ("trumpet", "trumpets"), ("cello", "cellos"),
        ("harp", "harps"), ("oboe", "oboes"), ("banjo", "banjos"),
    ),
    "fruits": (
        ("apple", "apples"), ("banana", "bananas"), ("strawberry", "strawberries"),
        ("peach", "peaches"), ("orange", "oranges"), ("plum", "plums"),
        ("raspberry", "raspberries"), ("grape", "grapes"), ("nectarine", "nectarines"),
        ("blackberry", "blackberries"), ("mango", "mangoes"), ("apricot", "apricots"),
    ),
    "vegetables": (
        ("carrot", "carrots"), ("onion", "onions"), ("potato", "potatoes"),
        ("yam", "yams"), ("cauliflower", "cauliflowers"), ("garlic", "garlics"),
        ("head of broccoli", "heads of broccoli"), ("stalk of celery", "stalks of celery"),
        ("lettuce head", "lettuce heads"), ("cabbage", "cabbages"),
        ("eggplant", "eggplants"), ("zucchini", "zucchinis"),
    ),
    "animals": (
        ("goat", "goats"), ("cow", "cows"), ("rabbit", "rabbits"), ("snail", "snails"),
        ("duck", "ducks"), ("fish", "fish"), ("mouse", "mice"), ("pig", "pigs"),
        ("donkey", "donkeys"), ("frog", "frogs"), ("snake", "snakes"), ("cat", "cats"),
        ("dog", "dogs"), ("bear", "bears"), ("chicken", "chickens"),
    ),
    "objects": (
        ("fridge", "fridges"), ("chair", "chairs"), ("microwave", "microwaves"),
        ("stove", "stoves"), ("lamp", "lamps"), ("table", "tables"), ("bed", "beds"),
        ("couch", "couches"), ("toaster", "toasters"), ("oven", "ovens"),
        ("car", "cars"), ("television", "televisions"),
    ),
}

#: Every singular or plural form -> its category.
CATEGORY_OF: dict[str, str] = {
    form: category
    for category, pairs in CATEGORIES.items()
    for pair in pairs
    for form in pair
}
