"""The TravelGym teacher: per aspect of the trip, search, ask what rules out the cheapest option, recommend.

The user wants the cheapest option that meets every one of their hidden preferences. The teacher takes the
aspects in the order the request names them, searches each once (every option, no filter), then asks about
the preferences that matter: it reads the hidden preferences to ask, each turn, about one that the cheapest
option still alive misses (among those, the one that rules out the most options alive), and recommends once
the cheapest option alive meets them all, which makes it the best option. It asks with the first catalogue
wording of the attribute, as the heuristic does. It keeps turns for the searches and recommendations still due;
when the budget cannot cover another question it recommends the hidden best if it is still alive (as the
function teacher answers the true value when its budget runs out), else the cheapest option alive.

Its behavior states what the conversation showed: the preferences the user stated (in the search filter
syntax, `hotel stars>=4`), the recommendations made and how the user judged them, and how many options of
each searched aspect meet the stated preferences. It never writes a preference before the user states it,
nor how many preferences an aspect holds.
"""

from __future__ import annotations

from typing import Any

from bao.agent.behaviors import Behavior
from bao.core.types import Task, Trajectory
from bao.envs.travel import format_value
from bao.envs.travel_tasks import Preference, catalogue, preferences_of
from bao.policies.base import Context
from bao.policies.scripted.travel import Memory, question_for, trip_of
from bao.policies.teachers.base import Move, Teacher

_VERDICTS = (("is the best option", "the best option"), ("is a correct option", "correct, not the best"))


def _name(aspect: str) -> str:
    return aspect.replace("_", " ")


def preference_item(aspect: str, attribute: str, value: Any) -> str:
    """A stated preference as the behavior writes it, in the search filter syntax (`hotel stars>=4`)."""
    rule = catalogue().aspects[aspect].attributes[attribute]
    if rule.kind == "number":
        return f"{_name(aspect)} {attribute}{'>=' if rule.better == 'higher' else '<='}{format_value(value)}"
    if rule.kind == "category":
        return f"{_name(aspect)} {attribute}={value}"
    return f"{_name(aspect)} {attribute} required"


def _known(ctx: Context, trip: list[str], memory: Memory) -> tuple[str, ...]:
    """Per aspect of the trip: the preferences the user stated, then the recommendation and its verdict."""
    verdicts = {}
    for choice, content, reply in ctx.history:
        if choice == "answer":
            verdict = next((v for k, v in _VERDICTS if k in reply), "not a correct option")
            verdicts[catalogue().aspect_of_id(content)] = f"{content} recommended, {verdict}"
    known = []
    for aspect in trip:
        known += [preference_item(aspect, x, v) for (a, x), v in memory.wants.items() if a == aspect]
        known += [f"{_name(aspect)} {verdicts[aspect]}"] if aspect in verdicts else []
    return tuple(known)


def _options_left(trip: list[str], memory: Memory) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(alive, ruled out): per searched, undecided aspect, how many options meet the stated preferences."""
    alive, ruled_out = [], []
    for aspect in trip:
        if aspect in memory.searched and aspect not in memory.chosen:
            left, total = len(memory.survivors(aspect)), len(memory.options.get(aspect, {}))
            alive.append(f"{left} {_name(aspect)} options")
            if left < total:
                ruled_out.append(f"{total - left} {_name(aspect)} options missing a stated preference")
    return tuple(alive), tuple(ruled_out)


def missed_preference(task: Task, aspect: str, memory: Memory, options: list[dict]) -> Preference | None:
    """The hidden preference, not asked yet, that the cheapest option alive misses (the one that rules out
    the most options alive), or None when that option meets every preference, i.e. it is the best."""
    attributes = catalogue().aspects[aspect].attributes

    def misses(pref: Preference, option: dict) -> bool:
        return not attributes[pref.attribute].satisfies(option[pref.attribute], pref.value)

    open_ = [p for p in preferences_of(task)
             if p.aspect == aspect and (aspect, p.attribute) not in memory.asked and misses(p, options[0])]
    return max(open_, key=lambda p: sum(misses(p, o) for o in options), default=None)


class TravelTeacher(Teacher):
    env = "travel"

    def move(self, ctx: Context) -> Move:
        trip, memory, budget = trip_of(ctx), Memory(ctx), self.budget(ctx)
        known = _known(ctx, trip, memory)
        alive, ruled_out = _options_left(trip, memory)
        aspect = next(a for a in trip if a not in memory.chosen)
        name = _name(aspect)
        if aspect not in memory.searched:
            return Move("search", name, Behavior(known, alive, ruled_out,
                                                 f"search the {name} options before asking about them", budget))
        options = memory.survivors(aspect)
        due = sum(a not in memory.searched for a in trip) + sum(a not in memory.chosen for a in trip)
        pref = missed_preference(ctx.task, aspect, memory, options) if budget > due else None
        cheapest = options[0]["id"]
        if pref is not None:
            plan = f"ask about the {name} {pref.attribute}: {cheapest} is the cheapest of {len(options)} options left"
            return Move("action", question_for(aspect, pref.attribute),
                        Behavior(known, alive, ruled_out, plan, budget))
        best = ctx.task.hidden["best"][aspect]
        pick = best if any(o["id"] == best for o in options) else cheapest
        plan = (f"recommend {pick}, the cheapest {name} option meeting every stated preference" if pick == cheapest
                else f"turns nearly spent: recommend {pick}, one of {len(options)} {name} options meeting the "
                     "stated preferences")
        return Move("answer", pick, Behavior(known, alive, ruled_out, plan, budget))

    @staticmethod
    def secrets(task: Task, traj: Trajectory, turn: int) -> list[str]:
        """Preferences not stated before `turn`, as the behavior would write them, and each aspect's best
        option id (the audit allows an id once a search has listed it)."""
        told = {key for t in traj.turns[:turn] for key in t.info.get("revealed", [])}
        return [*(preference_item(p.aspect, p.attribute, p.value) for p in preferences_of(task) if p.key not in told),
                *task.hidden["best"].values()]


TEACHER = TravelTeacher
