"""TravelGym tasks, generated from a seed because UserRL's scenario files are not public.

The catalogue (`bao/data/travel/catalogue.json`) lists the travel aspects (flight, hotel, apartment, rental
car, restaurant), the typed attributes of their options (number / category / flag) and how a user talks
about each one. A task is drawn from `random.Random("travel:<split>:<index>")`:
- a preference-count pattern with UserRL's split weights ("22", "33", "44", "233", "333", "334", "444",
  "2222": one digit per aspect, the number of hidden preferences of that aspect), then that many aspects,
  at most one lodging (hotel or apartment);
- per aspect, 2-4 hidden **preferences**, each a hard constraint on one attribute: a threshold in the
  attribute's better direction (stars >= 4, stops <= 0), one category (cuisine = Thai), or a required flag
  (breakfast included);
- per aspect, 8-15 **options** with ids like UserRL's (F1, H7, C12): the *best* one (satisfies every
  preference), 1-2 other *correct* ones (satisfy every preference, cost more), for every preference 1-2
  *decoys* that violate only it and cost less than the best (so each preference matters), and *noise* that
  violates at least one preference. The user wants the cheapest option that meets all preferences, so the
  best option is the cheapest correct one and prices are distinct.
Pools have a fixed size (`POOL_SIZE`), so `tasks(split)` is stable.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from bao.core.types import Task
from bao.envs.data import DataError
from bao.users.knowledge import field as checked
from bao.users.knowledge import load_sheet, sheet_path, string_list

POOL_SIZE = {"train": 300, "test": 60}
# UserRL's travel splits and their test row counts (the weights of the patterns).
PATTERNS = {"22": 101, "33": 87, "44": 67, "233": 61, "333": 53, "334": 47, "444": 38, "2222": 17}
MIN_OPTIONS, MAX_OPTIONS = 8, 15
KINDS = ("number", "category", "flag")
ALL_MET, NOISE = -1, -2


@dataclass(frozen=True)
class Attribute:
    """One attribute of an aspect's options, and how the user talks about it."""

    name: str
    kind: str  # number | category | flag
    text: str
    better: str = ""  # number: higher | lower
    values: tuple = ()  # number: every value an option can take; category: the choices
    thresholds: tuple = ()  # number: the levels a preference can set
    forms: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    replies: tuple[str, ...] = ()
    replies_by_value: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False)

    def satisfies(self, value: Any, wanted: Any) -> bool:
        """Whether an option's `value` meets a preference for `wanted` on this attribute."""
        if self.kind == "number":
            return value >= wanted if self.better == "higher" else value <= wanted
        if self.kind == "category":
            return str(value).lower() == str(wanted).lower()
        return value is True

    def domain(self) -> tuple:
        return (True, False) if self.kind == "flag" else self.values


@dataclass(frozen=True)
class Aspect:
    name: str
    prefix: str
    names: tuple[str, ...]  # how people refer to it ("rental car", "car", ...)
    request: str
    price_range: tuple[int, int]
    price_text: str
    attributes: dict[str, Attribute] = field(compare=False)


@dataclass(frozen=True)
class Catalogue:
    aspects: dict[str, Aspect]
    groups: tuple[tuple[str, ...], ...]  # aspects a trip holds at most one of (hotel or apartment)
    cities: tuple[str, ...]
    months: tuple[str, ...]

    def aspect_of_id(self, option_id: str) -> str | None:
        prefix = option_id[:1]
        return next((a.name for a in self.aspects.values() if a.prefix == prefix), None)


@dataclass(frozen=True)
class Preference:
    """A hidden hard constraint: `attribute` of `aspect` options must meet `value`."""

    aspect: str
    attribute: str
    value: Any

    @property
    def key(self) -> str:
        return f"{self.aspect}.{self.attribute}"


def _grid(spec: Any, where: str) -> tuple:
    if not (isinstance(spec, list) and len(spec) == 3 and all(isinstance(x, (int, float)) for x in spec)):
        raise DataError(f"{where}: field 'values' must be [min, max, step] for a number attribute")
    low, high, step = spec
    if step <= 0 or high < low:
        raise DataError(f"{where}: field 'values' must have min <= max and a positive step")
    count = round((high - low) / step)
    integral = all(float(x).is_integer() for x in spec)
    return tuple(int(low + i * step) if integral else round(low + i * step, 1) for i in range(count + 1))


def _attribute(name: str, raw: Any, where: str) -> Attribute:
    kind = checked(raw, "kind", str, where)
    if kind not in KINDS:
        raise DataError(f"{where}: field 'kind' must be one of {', '.join(KINDS)}")
    common = dict(name=name, kind=kind, text=checked(raw, "text", str, where),
                  forms=string_list(raw, "forms", where, 1), keywords=string_list(raw, "keywords", where, 1),
                  replies=string_list(raw, "replies", where, 1))
    by_value = checked(raw, "replies_by_value", dict, where) if "replies_by_value" in raw else {}
    common["replies_by_value"] = {k: string_list(by_value, k, f"{where} replies_by_value") for k in by_value}
    if kind == "number":
        better = checked(raw, "better", str, where)
        if better not in ("higher", "lower"):
            raise DataError(f"{where}: field 'better' must be 'higher' or 'lower'")
        values = _grid(raw.get("values"), where)
        thresholds = tuple(checked(raw, "thresholds", list, where))
        attribute = Attribute(better=better, values=values, thresholds=thresholds, **common)
        for t in thresholds:
            fits = [attribute.satisfies(v, t) for v in values]
            if not isinstance(t, (int, float)) or all(fits) or not any(fits):
                raise DataError(f"{where}: field 'thresholds' holds {t!r}, which every value or no value meets")
        return attribute
    if kind == "category":
        return Attribute(values=string_list(raw, "values", where, 2), **common)
    return Attribute(**common)


def load_catalogue(path: Path) -> Catalogue:
    """Read and check the catalogue; errors name the file, the aspect or attribute, and the field."""
    raw = load_sheet(path)
    aspects = {}
    for name, spec in checked(raw, "aspects", dict, str(path)).items():
        where = f"{path} aspect '{name}'"
        price = checked(spec, "price", dict, where)
        low, high = checked(price, "min", int, f"{where} price"), checked(price, "max", int, f"{where} price")
        if high - low < 4 * MAX_OPTIONS:
            raise DataError(f"{where}: field 'price' needs a range of at least {4 * MAX_OPTIONS}")
        attributes = {a: _attribute(a, s, f"{where} attribute '{a}'")
                      for a, s in checked(spec, "attributes", dict, where).items()}
        if len(attributes) < 4:
            raise DataError(f"{where}: field 'attributes' needs at least 4 attributes")
        prefix = checked(spec, "prefix", str, where)
        if len(prefix) != 1 or prefix not in "ACFHR":
            raise DataError(f"{where}: field 'prefix' must be one of A C F H R")
        aspects[name] = Aspect(name, prefix, string_list(spec, "names", where, 1), checked(spec, "request", str, where),
                               (low, high), checked(price, "text", str, f"{where} price"), attributes)
    groups = tuple(tuple(g) for g in checked(raw, "groups", list, str(path)))
    if sorted(a for g in groups for a in g) != sorted(aspects):
        raise DataError(f"{path}: field 'groups' must hold every aspect exactly once")
    where = str(path)
    return Catalogue(aspects, groups, string_list(raw, "cities", where, 2), string_list(raw, "months", where, 1))


@lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    return load_catalogue(sheet_path("travel", "catalogue.json"))


def _value(attribute: Attribute, wanted: Any, meet: bool, rng: random.Random) -> Any:
    """A random value of `attribute` that meets (or, with `meet` False, misses) the preference `wanted`."""
    pool = [v for v in attribute.domain() if attribute.satisfies(v, wanted) == meet]
    return rng.choice(pool)


def _options(aspect: Aspect, prefs: list[Preference], rng: random.Random) -> list[dict]:
    """8-15 options: best, correct, decoys (cheaper than the best, each missing exactly one preference), noise."""
    decoys = [rng.randint(1, 2) for _ in prefs]
    n_correct = rng.randint(1, 2)
    n = rng.randint(max(MIN_OPTIONS, 2 + n_correct + sum(decoys)), MAX_OPTIONS)
    prices = sorted(rng.sample(range(aspect.price_range[0], aspect.price_range[1] + 1), n))
    best = rng.randint(sum(decoys), n - 1 - n_correct)
    below, above = prices[:best], prices[best + 1 :]
    rng.shuffle(below)
    rng.shuffle(above)
    # (price, which preference the option misses: ALL_MET, the index of one preference, or NOISE)
    roles = [(prices[best], ALL_MET)] + [(above.pop(), ALL_MET) for _ in range(n_correct)]
    for j, count in enumerate(decoys):
        roles += [(below.pop(), j) for _ in range(count)]
    roles += [(p, NOISE) for p in below + above]
    options = []
    for price, miss in roles:
        option = {a.name: rng.choice(a.domain()) for a in aspect.attributes.values()}
        if miss == NOISE:
            missed = set(rng.sample(range(len(prefs)), rng.randint(1, len(prefs))))
            settled = missed
        else:
            missed = set() if miss == ALL_MET else {miss}
            settled = set(range(len(prefs)))
        for j in settled:
            attribute = aspect.attributes[prefs[j].attribute]
            option[attribute.name] = _value(attribute, prefs[j].value, j not in missed, rng)
        option["price"] = price
        options.append(option)
    rng.shuffle(options)
    return [{"id": f"{aspect.prefix}{i + 1}", **o} for i, o in enumerate(options)]


def _trip(rng: random.Random, cat: Catalogue) -> list[tuple[str, int]]:
    """(aspect, number of preferences) for each aspect of a trip, in catalogue order."""
    pattern = rng.choices(list(PATTERNS), weights=list(PATTERNS.values()))[0]
    groups = rng.sample(cat.groups, len(pattern))
    chosen = [rng.choice(g) for g in groups]
    order = list(cat.aspects)
    chosen.sort(key=order.index)
    return list(zip(chosen, (int(c) for c in pattern)))


def generate(split: str, index: int) -> Task:
    """Task `index` of `split`: the same arguments always give the same task."""
    cat = catalogue()
    rng = random.Random(f"travel:{split}:{index}")
    trip = _trip(rng, cat)
    city, origin = rng.sample(cat.cities, 2)
    month, day, nights = rng.choice(cat.months), rng.randint(1, 18), rng.randint(2, 10)
    dates = {"city": city, "origin": origin, "start": f"{month} {day}", "end": f"{month} {day + nights}"}
    options, preferences, best, correct = {}, [], {}, {}
    for name, count in trip:
        aspect = cat.aspects[name]
        prefs = []
        for attr in rng.sample(sorted(aspect.attributes), count):
            attribute = aspect.attributes[attr]
            wanted = {"number": lambda a: rng.choice(a.thresholds),
                      "category": lambda a: rng.choice(a.values), "flag": lambda a: True}[attribute.kind](attribute)
            prefs.append(Preference(name, attr, wanted))
        options[name] = _options(aspect, prefs, rng)
        fits = [o for o in options[name] if all(aspect.attributes[p.attribute].satisfies(o[p.attribute], p.value)
                                                for p in prefs)]
        correct[name] = [o["id"] for o in fits]
        best[name] = min(fits, key=lambda o: o["price"])["id"]
        preferences += prefs
    task_id = f"{split}-{index:03d}|" + "|".join(f"{name}:{count}" for name, count in trip)
    hidden = {
        "aspects": [name for name, _ in trip],
        "options": options,
        "preferences": [{"aspect": p.aspect, "attribute": p.attribute, "value": p.value} for p in preferences],
        "best": best,
        "correct": correct,
        **dates,
    }
    return Task(task_id, "travel", split, [{"role": "system", "content": SYSTEM_PROMPT},
                                          {"role": "user", "content": request_text(trip, dates, cat)}], hidden)


def request_text(trip: list[tuple[str, int]], dates: dict[str, str], cat: Catalogue) -> str:
    """The user's opening message, UserRL style: what to book, and the cheapest-that-fits rule."""
    parts = [cat.aspects[name].request.format(**dates) for name, _ in trip]
    needs = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return (f"I'm planning a trip to {dates['city']} from {dates['start']} to {dates['end']}. I need {needs}.\n"
            "My budget is limited, so as long as my preferences are satisfied, I would like the cheapest option "
            "for each.")


def preferences_of(task: Task) -> list[Preference]:
    return [Preference(p["aspect"], p["attribute"], p["value"]) for p in task.hidden["preferences"]]


@lru_cache(maxsize=4)
def task_pool(split: str) -> tuple[Task, ...]:
    if split not in POOL_SIZE:
        raise DataError(f"travel has no split {split!r}: choose one of {', '.join(POOL_SIZE)}")
    return tuple(generate(split, i) for i in range(POOL_SIZE[split]))


SYSTEM_PROMPT = """You are an agent that interacts with an environment. Here is the environment and what you can do \
in it.

- Environment: TravelGym. A user is planning a trip and needs one booking for each travel aspect they mention \
(flight, hotel, apartment, rental car, restaurant). Their request leaves out preferences: ask them, search the \
travel database, and recommend the option that fits.

- Action space: call the tool `interact_with_env` with one of the choices `action`, `search` or `answer`.
  * `action`: a message to the user in `content`. Ask about one concrete preference at a time (for example how many \
stars the hotel should have, or whether the flight must be direct); vague questions get vague replies.
  * `search`: a query to the database in `content`, for one aspect at a time. Write the aspect, then optional \
filters, e.g. `hotel stars>=4 price<=900 breakfast`, or JSON: {"function_name": "hotel", "arguments": {"stars": \
">=4", "breakfast": true}}. Aspects: flight, hotel, apartment, rental_car, restaurant. Filters compare a field with \
>=, <=, >, <, = or != ; `field=a,b` accepts any listed value; a bare field name requires that feature; a bare number \
is a bound in the better direction (stars 4 = at least 4, price 300 = at most 300). The results list the fields of \
each option.
  * `answer`: recommend exactly one option id in `content` (e.g. `H3`). You may recommend only one option per \
aspect, and a recommendation cannot be changed.

- Important notes:
  * In each turn, first write your reasoning between `<think>` and `</think>`, then call `interact_with_env`.
  * The number of turns is limited: balance searching, asking and recommending so that every aspect gets a \
recommendation in time.
  * Each aspect may hide several preferences, and the user often states them implicitly: read the replies carefully.
  * Be bold, creative and smart in your interaction with the environment! Let's begin!"""
