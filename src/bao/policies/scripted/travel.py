"""Scripted agents for TravelGym.

- `oracle` reads the hidden best option of every aspect and recommends it: one turn per aspect, no search,
  no question.
- `heuristic` uses only what it is told plus public knowledge: the option schema (attribute kinds and
  better directions, as the search results print them) and how often training users hold a preference on
  each attribute, and at which levels (the *train* pool). It searches every aspect of the trip once, then
  each turn weighs, for every undecided aspect, the cheapest option that meets what the user said so far:
  the risk of an attribute is P(the user has a preference on it) x P(that cheapest option misses it). It
  asks about the riskiest attribute, or, when no risk reaches `RISK_TO_ASK` (or the turns left only cover
  the recommendations), recommends the cheapest surviving option of the most settled aspect.
- `answer-now` searches every aspect and recommends its cheapest option, never asking (the user did say they
  want the cheapest option).
- `random` searches, asks and recommends at random.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from functools import lru_cache
from typing import Any

from bao.agent.render import render_tool_call
from bao.envs.travel import CHIT_CHAT, NO_PREFERENCE, PRICE_REPLY, TOO_VAGUE, aspect_named
from bao.envs.travel_tasks import Attribute, catalogue, preferences_of, task_pool
from bao.policies.base import Context, Policy

BUDGET = 16
RISK_TO_ASK = 0.12
MAX_PREFERENCES = 4  # no training aspect holds more
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def trip_of(ctx: Context) -> list[str]:
    """The aspects the user's opening message asks for."""
    return aspect_named(ctx.task.prompt[-1]["content"])


def worded(aspect: str, form: str) -> str:
    """A catalogue question form as scripted agents ask it: naming the aspect, so the user knows which
    booking it is about."""
    return form if aspect in aspect_named(form) else f"About the {aspect.replace('_', ' ')}: {form}"


def question_for(aspect: str, attribute: str) -> str:
    """The heuristic's question about one attribute: its first catalogue form, naming the aspect."""
    return worded(aspect, catalogue().aspects[aspect].attributes[attribute].forms[0])


@lru_cache(maxsize=1)
def _question_index() -> dict[str, tuple[str, str]]:
    """Every catalogue form, as `worded` asks it, to the (aspect, attribute) it is about."""
    return {worded(a.name, form): (a.name, x.name)
            for a in catalogue().aspects.values() for x in a.attributes.values() for form in x.forms}


@lru_cache(maxsize=1)
def preference_prior() -> tuple[dict[tuple[str, str], float], dict[tuple[str, str], Counter]]:
    """From the train pool: P(a user holds a preference on aspect.attribute), and the values they want."""
    seen, held, values = Counter(), Counter(), {}
    for task in task_pool("train"):
        seen.update(task.hidden["aspects"])
        for pref in preferences_of(task):
            held[(pref.aspect, pref.attribute)] += 1
            values.setdefault((pref.aspect, pref.attribute), Counter())[pref.value] += 1
    return {key: n / seen[key[0]] for key, n in held.items()}, values


def miss_chance(attribute: Attribute, value: Any, wanted: Counter) -> float:
    """P(an option with `value` misses a preference on `attribute`), over the levels users want."""
    total = sum(wanted.values())
    if not total:
        return 0.0
    return sum(n for level, n in wanted.items() if not attribute.satisfies(value, level)) / total


def read_preference(attribute: Attribute, reply: str) -> Any | None:
    """The level a preference reply states: the number, the category named, or True for a flag."""
    if attribute.kind == "number":
        found = _NUMBER.search(reply)
        return float(found.group()) if found else None
    if attribute.kind == "category":
        low = reply.lower()
        return next((v for v in sorted(attribute.values, key=len, reverse=True) if v.lower() in low), None)
    return True


class Memory:
    """What the conversation so far established: options seen, questions asked, preferences, choices."""

    def __init__(self, ctx: Context) -> None:
        cat = catalogue()
        self.options: dict[str, dict[str, dict]] = {}
        self.asked: set[tuple[str, str]] = set()
        self.wants: dict[tuple[str, str], Any] = {}
        self.chosen: set[str] = set()
        self.searched: set[str] = set()
        for choice, content, reply in ctx.history:
            if choice == "search":
                self.searched.update(aspect_named(content)[:1])
                for line in reply.splitlines():
                    if line.startswith("{"):
                        option = json.loads(line)
                        aspect = cat.aspect_of_id(option["id"])
                        self.options.setdefault(aspect, {})[option["id"]] = option
            elif choice == "answer":
                aspect = cat.aspect_of_id(content.strip())
                if aspect:
                    self.chosen.add(aspect)
            elif choice == "action" and content in _question_index():
                aspect, name = _question_index()[content]
                self.asked.add((aspect, name))
                if reply not in (NO_PREFERENCE, TOO_VAGUE, CHIT_CHAT, PRICE_REPLY):
                    wanted = read_preference(cat.aspects[aspect].attributes[name], reply)
                    if wanted is not None:
                        self.wants[(aspect, name)] = wanted

    def survivors(self, aspect: str) -> list[dict]:
        """The aspect's options meeting every preference heard, cheapest first."""
        attributes = catalogue().aspects[aspect].attributes
        rules = [(attributes[x], v) for (a, x), v in self.wants.items() if a == aspect]
        options = self.options.get(aspect, {})
        return cheapest_first({i: o for i, o in options.items() if all(r.satisfies(o[r.name], v) for r, v in rules)})


def cheapest_first(options: dict[str, dict]) -> list[dict]:
    return sorted(options.values(), key=lambda o: o["price"])


def unsearched(trip: list[str], memory: Memory) -> str | None:
    """A search for the first aspect of the trip whose options are not known yet, if any."""
    aspect = next((a for a in trip if a not in memory.searched), None)
    if aspect is None:
        return None
    return render_tool_call("search", aspect.replace("_", " "), f"I need the {aspect} options first.")


class HeuristicAgent(Policy):
    name = "heuristic"

    def act(self, ctx: Context) -> str:
        trip, memory = trip_of(ctx), Memory(ctx)
        search = unsearched(trip, memory)
        if search:
            return search
        pending = [a for a in trip if a not in memory.chosen]
        turns_left = BUDGET - ctx.turn
        risks = {a: self._risks(a, memory) for a in pending}
        riskiest = max(((r, a, x) for a in pending for x, r in risks[a].items()), default=(0.0, "", ""))
        if riskiest[0] >= RISK_TO_ASK and turns_left > len(pending):
            _, aspect, name = riskiest
            return render_tool_call("action", question_for(aspect, name),
                                    f"The cheapest {aspect} option left may miss a preference on {name}.")
        aspect = min(pending, key=lambda a: max(risks[a].values(), default=0.0))
        survivors = memory.survivors(aspect) or cheapest_first(memory.options.get(aspect, {}))
        if not survivors:
            return render_tool_call("finish", "", "No options to recommend.")
        return render_tool_call("answer", survivors[0]["id"], f"Cheapest {aspect} option meeting what I heard.")

    @staticmethod
    def _risks(aspect: str, memory: Memory) -> dict[str, float]:
        """For each attribute not asked yet: P(preference) x P(the cheapest survivor misses it)."""
        survivors = memory.survivors(aspect)
        told = sum(1 for (a, _) in memory.wants if a == aspect)
        if not survivors or told >= MAX_PREFERENCES:
            return {}
        cheapest = survivors[0]
        prior, levels = preference_prior()
        attributes = catalogue().aspects[aspect].attributes
        return {name: prior.get((aspect, name), 0.0)
                * miss_chance(attr, cheapest[name], levels.get((aspect, name), Counter()))
                for name, attr in attributes.items() if (aspect, name) not in memory.asked}


class OracleAgent(Policy):
    name = "oracle"

    def act(self, ctx: Context) -> str:
        best = ctx.task.hidden["best"]
        aspects = ctx.task.hidden["aspects"]
        aspect = aspects[min(ctx.turn, len(aspects) - 1)]
        return render_tool_call("answer", best[aspect], f"The best {aspect} option is {best[aspect]}.")


class AnswerNowAgent(Policy):
    name = "answer-now"

    def act(self, ctx: Context) -> str:
        trip, memory = trip_of(ctx), Memory(ctx)
        search = unsearched(trip, memory)
        if search:
            return search
        aspect = next((a for a in trip if a not in memory.chosen), trip[0])
        options = cheapest_first(memory.options.get(aspect, {}))
        if not options:
            return render_tool_call("finish", "")
        return render_tool_call("answer", options[0]["id"], "The user wants the cheapest option.")


class RandomAgent(Policy):
    name = "random"

    def act(self, ctx: Context) -> str:
        cat = catalogue()
        aspect = ctx.rng.choice(trip_of(ctx) or list(cat.aspects))
        choice = ctx.rng.choice(("search", "action", "action", "answer"))
        if choice == "search":
            return render_tool_call("search", aspect.replace("_", " "))
        if choice == "action":
            attribute = ctx.rng.choice(list(cat.aspects[aspect].attributes))
            return render_tool_call("action", question_for(aspect, attribute))
        return render_tool_call("answer", f"{cat.aspects[aspect].prefix}{ctx.rng.randint(1, 15)}")


AGENTS: dict[str, type[Policy]] = {
    "random": RandomAgent,
    "answer-now": AnswerNowAgent,
    "heuristic": HeuristicAgent,
    "oracle": OracleAgent,
}
