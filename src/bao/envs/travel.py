"""TravelGym (preference elicitation, search and recommendation) with an offline user.

The user needs one booking per travel aspect of a trip (2-4 of flight, hotel, apartment, rental car,
restaurant) and holds 2-4 hidden preferences per aspect; among the options that meet all of them they want
the cheapest. Tasks are generated (`bao.envs.travel_tasks`): UserRL's scenario files are not public.
The agent uses UserRL's three choices:
- `action`: a message to the user. The offline user matches it to an attribute of an aspect
  (`LexicalMatcher` over every attribute's question forms and keywords, plus each aspect's price). The aspect
  is the one the message names, else the one the agent last searched, answered or asked about, else one of
  the trip. A match on a still-hidden preference reveals it with an implicit-sounding sentence
  ("Connections wear me out, so I want at most 1 stop on the way.") and earns `preference_reward`; a match
  on an attribute without a preference, on the price, on a preference already told, on an aspect already
  decided or outside the trip gets a fixed reply; no match gets UserRL's "too vague" reply when the message
  is about preferences or names an aspect, else a neutral one.
- `search`: `hotel stars>=4 price<=900 breakfast` or `{"function_name": "hotel", "arguments": {...}}`
  (grammar in `parse_search`); returns the options that pass the filters as JSON lines. The first valid
  search of each aspect of the trip earns `search_reward`.
- `answer`: one option id (`H3`); the best option earns 1.0, another option meeting every preference 0.8,
  anything else 0; one recommendation per aspect; the episode ends once every aspect has one.
Kept from UserRL (commit cf55a30, `travelgym`): the answer rules and feedback classes (id format
`^[ACFHR]\\d+$`, one id per answer, one choice per aspect, the aspect's remaining preferences dropped once it
is answered, episode over when every aspect is chosen, as the sync `step` does), the fixed replies to
concrete-but-unknown and vague questions, `[finish]` ending with 0, the turn limit 16 of training and eval.
Rewards: `preference_reward` is 0.2 here (UserRL's config default); UserRL trains with 0.8 and evaluates with
0.6, and its search reward is 0.2 by default and in eval but 0.0 in training (bao's default). The reported
score follows UserRL's travel score: per aspect the best answer reward, averaged over the trip's aspects
(`info["score"]`); elicitation and search rewards are not part of it. Success = the best option for every
aspect.
Deviations: the search is a deterministic filter instead of an LLM judge of "correct arguments"; the user
never volunteers a preference (UserRL's sync path does after 3 off-topic turns, its async path, used in
training and eval, fails there with a canned apology); there are no simulated search outages; an answer
naming an aspect outside the trip is refused without using up a choice.
Information gain: the hypotheses of an aspect are its options that meet every preference revealed so far
(any of them could still be the best); the episode's space is their product and a reveal gains
log2(before / after) bits. A message that reveals nothing new is `redundant`.

`TravelEnv(user="llm", llm=LLMUserConfig(...))` is UserRL's mode for messages to the user (`bao.users.llm`):
a judge LLM classifies each message against the still-hidden preferences (the trip's request, the last 5
exchanges, each preference with its id `aspect.attribute`) as UserRL's four types: 1 small talk, 2 a concrete
question about a preference the user holds (with its id), 3 a concrete question about something the user has
no preference on, 4 too vague. Type 2 reveals that preference through an LLM reply guided by this user's
implicit sentence (`preference_sentence`), earning `preference_reward`; types 3 and 4 get the fixed replies;
type 1 a short neutral LLM reply that reveals nothing. An unparsable verdict counts as type 1 and an
unparsable reply as a canned apology revealing nothing (both UserRL's fallbacks). Search and answers stay
deterministic, and the user never volunteers a preference, as offline. `redundant`: nothing revealed; when
the judge gave no verdict, the conversation rule of `bao.users.redundancy` decides.
"""

from __future__ import annotations

import json
import math
import random
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from bao.core.types import Action, ActionKind, StepResult, Task
from bao.envs.base import Env, EnvSpec
from bao.envs.data import DataError
from bao.envs.travel_tasks import (
    Attribute,
    Catalogue,
    Preference,
    catalogue,
    preferences_of,
    task_pool,
)
from bao.users.accuracy import Accuracy
from bao.users.knowledge import field, load_sheet, sheet_path
from bao.users.llm import LLMUser, LLMUserConfig, backend_user, turn_seed
from bao.users.matcher import Entry, LexicalMatcher
from bao.users.redundancy import is_redundant

MATCH_THRESHOLD = 0.25
PREFERENCE_REWARD = 0.2
SEARCH_REWARD = 0.0
BEST_REWARD, CORRECT_REWARD = 1.0, 0.8
PRICE_FORMS = ("What is your budget?", "How much can you spend?", "Is the price important?")
PRICE_KEYWORDS = ("budget", "price", "cost", "spend", "cheap", "expensive", "afford", "money", "pay", "rent")
_VAGUE = re.compile(r"\b(prefer|preference|preferences|requirement|requirements|needs|wishes|anything else|"
                    r"anything specific|in mind|what do you want|what would you like|looking for)\b")
_ID = re.compile(r"^[ACFHR]\d+$")
_FILLER = re.compile(r"\b(want|wants|would|like|need|needs|looking|look|okay|ok|fine|prefer|preference|preferences|"
                     r"mind|general|important|matter|matters|care|trip|travel|traveling|travelling|stay|staying|"
                     r"check|let|often|usually|available|option|options|kind|sort|really)\b")
_OPS = (">=", "<=", "!=", "==", "=", ">", "<", ":")
_BARE = object()  # the value of a bare word in a text search ("breakfast", "suv")
_FILTER = re.compile(r"([A-Za-z_]+)\s*(>=|<=|!=|==|=|>|<|:)\s*(\"[^\"]*\"|'[^']*'|[^\s,]+(?:\s*,\s*[^\s,]+)*)")

NO_PREFERENCE = ("That's a good question, but I don't have a particular preference there (or I've already told "
                 "you). Feel free to ask me about other specific preferences.")
TOO_VAGUE = ("Your question is too vague and general for me to answer. Please ask about a specific aspect of "
             "my preferences, in a concrete way.")
CHIT_CHAT = "Sure. Let me know when you have a concrete question or a recommendation for my trip."
PRICE_REPLY = "As I said, I just want the cheapest option that still meets my preferences."


@dataclass(frozen=True)
class Filter:
    """One search condition: `attribute op values` (several values: any of them)."""

    attribute: str
    op: str  # >= <= > < = !=
    values: tuple

    def passes(self, value: Any) -> bool:
        if self.op == "=":
            return any(_same(value, v) for v in self.values)
        if self.op == "!=":
            return not any(_same(value, v) for v in self.values)
        bound = self.values[0]
        return {">=": value >= bound, "<=": value <= bound, ">": value > bound, "<": value < bound}[self.op]

    def __str__(self) -> str:
        return f"{self.attribute}{self.op}{','.join(_show(v) for v in self.values)}"


@dataclass(frozen=True)
class Search:
    aspect: str
    filters: tuple[Filter, ...]
    ignored: tuple[str, ...]  # fields the aspect does not have


def _same(value: Any, wanted: Any) -> bool:
    if isinstance(value, str):
        return value.lower().replace("_", " ") == str(wanted).lower().replace("_", " ")
    return value == wanted


def _show(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).lower() if isinstance(value, bool) else str(value)


@lru_cache(maxsize=1)
def _aspect_patterns() -> tuple[tuple[str, re.Pattern], ...]:
    patterns = []
    for aspect in catalogue().aspects.values():
        names = "|".join(re.escape(n.replace("_", " ")) for n in sorted(aspect.names, key=len, reverse=True))
        patterns.append((aspect.name, re.compile(rf"(?<![a-z])(?:{names})(?![a-z])")))
    return tuple(patterns)


def aspect_named(text: str) -> list[str]:
    """The aspects a text refers to by one of their names, the first mentioned first."""
    low = text.lower().replace("_", " ")
    found = [(m.start(), name) for name, pattern in _aspect_patterns() if (m := pattern.search(low))]
    return [name for _, name in sorted(found)]


_REFERENCE = re.compile(r"\b(?:from|near|to|around|next to|close to|walking distance of)\s+"
                        r"(?:the\s+|your\s+|my\s+|our\s+)?$")


def subject_aspects(text: str) -> list[str]:
    """The aspects a text names, those it only uses as a reference point last: in "How far from your hotel
    should the restaurant be?" the question is about the restaurant, measured from the hotel."""
    low = text.lower().replace("_", " ")
    referenced = {name for name, pattern in _aspect_patterns()
                  if (m := pattern.search(low)) and _REFERENCE.search(low[: m.start()])}
    return sorted(aspect_named(text), key=lambda name: name in referenced)


def attribute_words(text: str) -> str:
    """`text` without aspect names (they say which booking a question is about, not what about it) and
    without the filler of travel small talk ("want", "trip", "okay"), which would tie a question to whichever
    attribute's forms happen to use the same filler."""
    low = text.lower().replace("_", " ")
    for _, pattern in _aspect_patterns():
        low = pattern.sub(" ", low)
    return _FILLER.sub(" ", low)


def parse_search(text: str, cat: Catalogue) -> Search | str:
    """Parse a search; returns the query, or an error message saying what to fix.

    Text form: the aspect's name anywhere (`hotel`, `rental car`, `flight`...), then filters
    `field OP value` with OP in >= <= > < = != (`:` and `==` mean `=`); `field=a,b` or quotes for values with
    spaces (`departure="early morning"`); a bare flag field (`breakfast`) requires it. JSON form:
    `{"function_name": "<aspect>", "arguments": {field: value}}`, where a value is a number, a boolean, a
    string with an operator prefix (">=4"), or a list (any of). A bare number is a bound in the field's
    better direction (stars 4 = at least 4; price or distance 3 = at most 3). Unknown fields are ignored
    and reported.
    """
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            obj = json.loads(stripped)
        except json.JSONDecodeError as exc:
            return f"Your search is not valid JSON ({exc.msg})."
        if not isinstance(obj, dict):
            return "A JSON search must be an object with `function_name` and `arguments`."
        names = aspect_named(str(obj.get("function_name", obj.get("aspect", ""))))
        arguments = obj.get("arguments", {})
        if not isinstance(arguments, dict):
            return "`arguments` must be an object of field: value."
        clauses = list(arguments.items())
    else:
        names = aspect_named(_FILTER.sub(" ", stripped))
        clauses = [(m.group(1), f"{'=' if m.group(2) in (':', '==') else m.group(2)}{m.group(3)}")
                   for m in _FILTER.finditer(stripped)]
        rest = _FILTER.sub(" ", stripped).lower()
        clauses += [(w, _BARE) for w in re.findall(r"[a-z_]+", rest)]
    if not names:
        return f"Name one travel aspect to search: {', '.join(cat.aspects)}."
    aspect = cat.aspects[names[0]]
    filters, ignored = [], []
    for name, raw in clauses:
        key = name.lower()
        attribute = aspect.attributes.get(key)
        if raw is _BARE:
            if attribute is not None and attribute.kind == "flag":
                filters.append(Filter(key, "=", (True,)))
            else:
                filters += [Filter(a.name, "=", (key,)) for a in aspect.attributes.values()
                            if a.kind == "category" and any(_same(v, key) for v in a.values)]
        elif key == "price" or attribute is not None:
            parsed = _filter(key, raw, attribute)
            if isinstance(parsed, str):
                return parsed
            filters.append(parsed)
        else:
            ignored.append(name)
    return Search(aspect.name, tuple(filters), tuple(ignored))


def _filter(name: str, raw: Any, attribute: Attribute | None) -> Filter | str:
    """One filter from a raw value; `attribute` is None for the price."""
    kind = attribute.kind if attribute else "number"
    op, value = "", raw
    if isinstance(raw, str):
        text = raw.strip()
        op = next((o for o in _OPS if text.startswith(o)), "")
        value = text[len(op):].strip().strip("\"'")
    if kind == "number":
        try:
            number = float(value)
        except (TypeError, ValueError):
            return f"The field '{name}' needs a number, got {value!r}."
        if not op:  # a bare number bounds the field in its better direction
            return Filter(name, ">=" if attribute and attribute.better == "higher" else "<=", (number,))
        return Filter(name, "=" if op in (":", "==") else op, (number,))
    op = "=" if op in ("", ":", "==") else op
    if kind == "flag":
        truth = value if isinstance(value, bool) else str(value).lower() in ("true", "yes", "1", "y")
        return Filter(name, "!=" if op == "!=" else "=", (truth,))
    if op not in ("=", "!="):
        return f"The field '{name}' takes = or != with one of: {', '.join(attribute.values)}."
    values = value if isinstance(value, list) else [v.strip() for v in str(value).split(",")]
    if not all(any(_same(choice, v) for choice in attribute.values) for v in values):
        return f"The field '{name}' takes one of: {', '.join(attribute.values)}."
    return Filter(name, op, tuple(str(v) for v in values))


@dataclass(frozen=True)
class Understanding:
    """What the user made of a message: the (aspect, attribute) it asks about, or why none."""

    key: str | None  # "hotel.stars", "hotel.price", or None
    score: float
    vague: bool


@lru_cache(maxsize=1)
def attribute_matcher() -> LexicalMatcher:
    """Every attribute of every aspect, plus each aspect's price, keyed `aspect.attribute`."""
    entries = []
    for aspect in catalogue().aspects.values():
        for a in aspect.attributes.values():
            forms = (*a.forms, a.text)
            entries.append(Entry(f"{aspect.name}.{a.name}", tuple(attribute_words(f) for f in forms), a.keywords))
        entries.append(Entry(f"{aspect.name}.price", PRICE_FORMS, PRICE_KEYWORDS))
    return LexicalMatcher(entries, threshold=MATCH_THRESHOLD)


def understand(message: str, trip: list[str], context: str | None) -> Understanding:
    """Resolve a message to an (aspect, attribute): the best-matching attribute of an aspect the message
    names, else the best-matching attribute overall; then, among the aspects that have that attribute, the
    one the message names, else `context`, else one of the trip."""
    ranking = attribute_matcher().rank(attribute_words(message))
    named = subject_aspects(message)
    top_key, top = next(((k, s) for k, s in ranking if k.split(".", 1)[0] in named), ranking[0])
    if top < MATCH_THRESHOLD:
        return Understanding(None, top, bool(named or _VAGUE.search(message.lower())))
    attribute = top_key.split(".", 1)[1]
    holders = [key.split(".", 1)[0] for key, _ in ranking if key.split(".", 1)[1] == attribute]
    for wanted in (named, [context] if context else [], trip):
        chosen = next((a for a in wanted if a in holders), None)
        if chosen:
            return Understanding(f"{chosen}.{attribute}", top, False)
    return Understanding(top_key, top, False)


def _listed(aspects: list[str]) -> str:
    return ", ".join(a.replace("_", " ") for a in aspects)


def format_value(value: Any) -> str:
    """A preference level as people write it: `4` not `4.0`, `7.5`, `Thai`."""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.1f}"
    return str(value)


def preference_sentence(pref: Preference, task_id: str, seed: int) -> str:
    """How this user voices `pref`: one of the attribute's replies, fixed by (seed, task, preference)."""
    attribute = catalogue().aspects[pref.aspect].attributes[pref.attribute]
    replies = attribute.replies_by_value.get(format_value(pref.value), attribute.replies)
    return random.Random(f"{seed}:{task_id}:{pref.key}").choice(replies).format(value=format_value(pref.value))


class TravelEnv(Env):
    spec = EnvSpec(
        name="travel",
        description="Plan a trip: elicit hidden preferences, search the options, recommend one per aspect.",
        choices=("action", "search", "answer"),
        action_kind=ActionKind.ASK,
        max_steps=16,
        backends=("offline", "llm"),
    )

    def __init__(self, max_steps: int | None = None, preference_reward: float = PREFERENCE_REWARD,
                 search_reward: float = SEARCH_REWARD, user: str = "offline",
                 llm: LLMUserConfig | None = None) -> None:
        super().__init__(max_steps)
        self.preference_reward = preference_reward
        self.search_reward = search_reward
        self.llm: LLMUser | None = backend_user(self.spec.name, self.spec.backends, user, llm)

    def tasks(self, split: str) -> list[Task]:
        return list(task_pool(split))

    def _reset(self, task: Task, seed: int) -> None:
        cat = catalogue()
        self.trip: list[str] = list(task.hidden["aspects"])
        self.options = {a: {o["id"]: o for o in task.hidden["options"][a]} for a in self.trip}
        self.best, self.correct = dict(task.hidden["best"]), {a: set(ids) for a, ids in task.hidden["correct"].items()}
        self.hidden = {p.key: p for p in preferences_of(task)}
        self.told: dict[str, Preference] = {}
        self.alive = {a: set(self.options[a]) for a in self.trip}
        self.attributes = {a: cat.aspects[a].attributes for a in self.trip}
        self.searched: set[str] = set()
        self.choices: dict[str, float] = {}
        self.context: str | None = None
        self.exchanges: list[tuple[str, str]] = []  # (message, reply), shown to the llm user and judge

    def _step(self, action: Action) -> StepResult:
        if not action.valid:
            return self._result(f"Your response format is wrong and cannot be parsed ({action.error}). Call "
                                "interact_with_env with choice action, search or answer.", kind="invalid")
        if action.kind is ActionKind.FINISH:
            return self._result("Session ended. Thank you for planning with me.", kind="finish", done=True)
        if action.kind is ActionKind.SEARCH:
            return self._search(action.content)
        if action.kind is ActionKind.ANSWER:
            return self._answer(action.content)
        return self._message(action.content)

    def _message(self, message: str) -> StepResult:
        if self.llm is not None:
            return self._llm_message(message)
        seen = understand(message, self.trip, self.context)
        info = {"matched": seen.key, "match_score": round(seen.score, 4), "revealed": [], "redundant": True,
                "info_gain_bits": 0.0}
        if seen.key is None:
            return self._result(TOO_VAGUE if seen.vague else CHIT_CHAT, kind="ask", **info)
        aspect, attribute = seen.key.split(".", 1)
        self.context = aspect
        if aspect not in self.trip:
            return self._result(f"That's not part of this trip: I only need {_listed(self.trip)}.", kind="ask",
                                **info)
        if aspect in self.choices:
            return self._result(f"I've already settled the {_listed([aspect])}; let's talk about the rest of the "
                                "trip.", kind="ask", **info)
        if attribute == "price":
            return self._result(PRICE_REPLY, kind="ask", **info)
        if seen.key in self.told:
            text = "As I mentioned: " + preference_sentence(self.told[seen.key], self.task.id, self.seed)
            return self._result(text, kind="ask", **info)
        pref = self.hidden.pop(seen.key, None)
        if pref is None:
            return self._result(NO_PREFERENCE, kind="ask", **info)
        self.told[seen.key] = pref
        before = len(self.alive[aspect])
        rule, options = self.attributes[aspect][attribute], self.options[aspect]
        self.alive[aspect] = {i for i in self.alive[aspect] if rule.satisfies(options[i][attribute], pref.value)}
        info.update(revealed=[seen.key], redundant=False, info_gain_bits=math.log2(before / len(self.alive[aspect])))
        return self._result(preference_sentence(pref, self.task.id, self.seed), kind="ask",
                            reward=self.preference_reward, **info)

    def _llm_message(self, message: str) -> StepResult:
        seed = turn_seed(self.seed, self.steps)
        recent = self.exchanges[-HISTORY:]
        scenario = self.task.prompt[-1]["content"]
        verdict = classify_message(self.llm, scenario, recent, message, list(self.hidden.values()), seed)
        kind, key = verdict or ("1", None)
        pref = self.hidden.get(key) if kind == "2" else None
        if pref is None:
            kind = "1" if kind == "2" else kind
            text = {"3": NO_PREFERENCE, "4": TOO_VAGUE}.get(kind) or neutral_reply(self.llm, recent, message, seed)
            said = text or CHIT_CHAT
            redundant = True if verdict is not None else is_redundant(message, self.exchanges, said)
            self.exchanges.append((message, said))
            return self._result(said, kind="ask", matched=None, revealed=[], redundant=redundant,
                                info_gain_bits=0.0, message_type=int(kind), fallback=verdict is None or not text)
        sentence = preference_sentence(pref, self.task.id, self.seed)
        text = revealing_reply(self.llm, pref, sentence, recent, message, seed)
        self.exchanges.append((message, text or REPLY_FALLBACK))
        if text is None:
            return self._result(REPLY_FALLBACK, kind="ask", matched=key, revealed=[], redundant=True,
                                info_gain_bits=0.0, message_type=2, fallback=True)
        del self.hidden[key]
        self.told[key] = pref
        self.context = pref.aspect
        rule, options = self.attributes[pref.aspect][pref.attribute], self.options[pref.aspect]
        before = len(self.alive[pref.aspect])
        self.alive[pref.aspect] = {i for i in self.alive[pref.aspect] if rule.satisfies(options[i][pref.attribute],
                                                                                          pref.value)}
        return self._result(text, kind="ask", reward=self.preference_reward, matched=key, revealed=[key],
                            redundant=False, info_gain_bits=math.log2(before / len(self.alive[pref.aspect])),
                            message_type=2)

    def _search(self, content: str) -> StepResult:
        query = parse_search(content, catalogue())
        if isinstance(query, str):
            return self._result(query + " Example: hotel stars>=4 price<=900 breakfast", kind="search")
        if query.aspect not in self.trip:
            return self._result(f"Your search is not related to this trip, which needs: {_listed(self.trip)}.",
                                kind="search")
        self.context = query.aspect
        found = [o for o in self.options[query.aspect].values()
                 if all(f.passes(o[f.attribute]) for f in query.filters)]
        first = query.aspect not in self.searched
        self.searched.add(query.aspect)
        return self._result(search_text(query, found), kind="search", reward=self.search_reward if first else 0.0,
                            results=len(found))

    def _answer(self, content: str) -> StepResult:
        ids = [i.strip() for i in content.split(",") if i.strip()]
        if len(ids) != 1:
            return self._result("Please recommend exactly one option id at a time.", kind="answer")
        option_id = ids[0]
        if not _ID.match(option_id):
            return self._result(f"Invalid option ID format detected for '{option_id}'. Expected format: H1, F12, "
                                "C4, etc.", kind="answer")
        aspect = catalogue().aspect_of_id(option_id)
        if aspect not in self.trip:
            return self._result(f"There is no {_listed([aspect])} in this trip; it needs: {_listed(self.trip)}.",
                                kind="answer")
        if aspect in self.choices:
            return self._result(f"You have already recommended an option with the same initial '{option_id[0]}'. "
                                "You may recommend only one option per travel aspect; focus on the other "
                                "aspects now.", kind="answer")
        self.context = aspect
        if option_id == self.best[aspect]:
            reward, outcome, text = BEST_REWARD, "best", "Your chosen option is the best option!"
        elif option_id in self.correct[aspect]:
            reward, outcome = CORRECT_REWARD, "correct"
            text = "Your chosen option is a correct option, but not the best option."
        else:
            reward, outcome, text = 0.0, "wrong", "Your chosen option is neither the best nor a correct option."
        self.choices[aspect] = reward
        for key in [k for k, p in self.hidden.items() if p.aspect == aspect]:
            del self.hidden[key]
        done = len(self.choices) == len(self.trip)
        text += (" Your choice is recorded; do not recommend this travel aspect again." if not done
                 else " Every part of the trip now has a recommendation.")
        success = done and all(r == BEST_REWARD for r in self.choices.values())
        return self._result(text, kind="answer", reward=reward, done=done, success=success, choice=option_id,
                            outcome=outcome)

    def _result(self, text: str, kind: str, reward: float = 0.0, done: bool = False, **info) -> StepResult:
        info.update(kind=kind, success=info.get("success", False),
                    score=round(sum(self.choices.values()) / len(self.trip), 6),
                    hypotheses_left=math.prod(len(v) for a, v in self.alive.items() if a not in self.choices))
        return StepResult(text, round(reward, 6), done, info)


HISTORY = 5  # exchanges shown to the llm user and judge
REPLY_FALLBACK = "I'm sorry, I'm not sure how to answer that right now. Could you ask again?"

JUDGE_SYSTEM = """You read a travel agent's latest message to a traveller and decide what kind of message it is, \
so that the traveller can answer it the right way. The traveller holds the preferences listed below; the agent \
does not know them yet.

Types:
- "1": small talk or anything that does not ask about the traveller's preferences;
- "2": a concrete, specific question about one of the listed preferences (e.g. "How many stars should the \
hotel have?"); give that preference's id; if several fit, the one the conversation is about;
- "3": a concrete, specific question about a preference, but none of the listed ones;
- "4": a vague, general question about preferences instead of one specific point (e.g. "Any wishes for the \
car?").
A question must be concrete to be type "2" or "3".

Reply with one JSON object and nothing else:
{"thought": "<what the message asks>", "type": "1" or "2" or "3" or "4", "preference_id": "<id, for type 2>"}"""

JUDGE_PROMPT = """## The trip
{scenario}

## The conversation so far
{history}

## The agent's latest message
{message}

## The traveller's preferences not told yet
{preferences}"""

REVEAL_SYSTEM = """You are a traveller planning a trip with a travel agent. The agent has just asked about one \
of your preferences. Answer in one or two natural sentences that let the preference show through indirectly: \
give the reason behind it or the situation it comes from rather than a flat "my preference is". The \
suggested sentence shows what to convey; adapt its wording to the conversation, keep its facts (the numbers, \
names and limits must stay the same), and say nothing about other preferences.

Reply with one JSON object and nothing else:
{"thought": "<how to convey the preference>", "response": "<your reply to the agent>"}"""

REVEAL_PROMPT = """## Your preference
{preference}
Suggested sentence: {sentence}

## The conversation so far
{history}

## The agent's latest message
{message}"""

NEUTRAL_SYSTEM = """You are a traveller planning a trip with a travel agent. The agent's latest message does not \
ask about any preference of yours. Reply briefly and a little half-heartedly, staying neutral: reveal no \
preference (if asked for one, say you have none there or that anything is fine) and ask no questions.

Reply with one JSON object and nothing else:
{"thought": "<how to reply neutrally>", "response": "<your reply to the agent>"}"""

NEUTRAL_PROMPT = """## The conversation so far
{history}

## The agent's latest message
{message}"""


def _history(exchanges: list[tuple[str, str]]) -> str:
    lines = [f"Agent: {m}\nTraveller: {r}" for m, r in exchanges]
    return "\n".join(lines) if lines else "(this is the first message)"


def preference_text(pref: Preference) -> str:
    """A preference stated plainly for the judge: "hotel: hotel class in stars (1-5) at least 4"."""
    attribute = catalogue().aspects[pref.aspect].attributes[pref.attribute]
    if attribute.kind == "number":
        bound = "at least" if attribute.better == "higher" else "at most"
        wanted = f"{bound} {format_value(pref.value)}"
    else:
        wanted = "required" if attribute.kind == "flag" else format_value(pref.value)
    return f"{_listed([pref.aspect])}: {attribute.text} {wanted}"


def classify_message(user: LLMUser, scenario: str, recent: list[tuple[str, str]], message: str,
                     hidden: list[Preference], seed: int) -> tuple[str, str | None] | None:
    """The judge's type of a message ("1".."4") and, for type 2, the preference id; None without a verdict."""
    listed = "\n".join(f"- id {p.key}: {preference_text(p)}" for p in hidden) or "(none left)"
    prompt = JUDGE_PROMPT.format(scenario=scenario, history=_history(recent), message=message, preferences=listed)
    verdict = user.ask_json(JUDGE_SYSTEM, prompt, seed=seed) or {}
    kind = str(verdict.get("type", "")).strip().strip('"')
    if kind not in ("1", "2", "3", "4"):
        return None
    key = verdict.get("preference_id")
    return kind, str(key).strip() if key is not None else None


def revealing_reply(user: LLMUser, pref: Preference, sentence: str, recent: list[tuple[str, str]], message: str,
                    seed: int) -> str | None:
    """The LLM user's reply that voices `pref` indirectly, or None when its reply holds none."""
    prompt = REVEAL_PROMPT.format(preference=preference_text(pref), sentence=sentence, history=_history(recent),
                                  message=message)
    return _response(user.ask_json(REVEAL_SYSTEM, prompt, seed=seed))


def neutral_reply(user: LLMUser, recent: list[tuple[str, str]], message: str, seed: int) -> str | None:
    """The LLM user's neutral reply to small talk, or None when its reply holds none."""
    prompt = NEUTRAL_PROMPT.format(history=_history(recent), message=message)
    return _response(user.ask_json(NEUTRAL_SYSTEM, prompt, seed=seed))


def _response(reply: dict | None) -> str | None:
    response = (reply or {}).get("response")
    return response.strip() if isinstance(response, str) and response.strip() else None


def search_text(query: Search, found: list[dict]) -> str:
    """The database's reply: what was searched, the fields, and one JSON line per option found."""
    aspect = catalogue().aspects[query.aspect]
    conditions = " ".join(str(f) for f in query.filters) or "no filters"
    lines = [f"Found {len(found)} {query.aspect} option(s) for {conditions}."]
    if query.ignored:
        lines.append(f"Ignored unknown fields: {', '.join(query.ignored)}.")
    fields = "; ".join([f"price: {aspect.price_text}", *(f"{a.name}: {a.text}" for a in aspect.attributes.values())])
    lines.append(f"Fields: {fields}.")
    lines += [json.dumps(o) for o in found]
    return "\n".join(lines)


def paraphrase_accuracy(name: str = "paraphrases.json") -> Accuracy:
    """Matcher accuracy on `bao/data/travel/<name>`: questions about one attribute of one aspect (`aspect`,
    `attribute`; both null for chit-chat and vague questions).

    `paraphrases.json` is the set the matcher settings were tuned on, `paraphrases_heldout.json` one written
    afterwards and never tuned on. Each question is understood with no context in a four-aspect trip
    (flight, the question's lodging or a hotel, rental car, restaurant): aspect and attribute must both be
    right.
    """
    path = sheet_path("travel", name)
    raw = load_sheet(path)
    if not isinstance(raw, list):
        raise DataError(f"{path}: expected a list of questions")
    cat = catalogue()
    correct, misses = 0, []
    for i, case in enumerate(raw):
        where = f"{path} question {i}"
        question = field(case, "question", str, where)
        aspect = field(case, "aspect", (str, type(None)), where)
        attribute = field(case, "attribute", (str, type(None)), where)
        if aspect is not None and (aspect not in cat.aspects or
                                   (attribute != "price" and attribute not in cat.aspects[aspect].attributes)):
            raise DataError(f"{where}: field 'aspect'/'attribute' names no attribute of the catalogue")
        expected = f"{aspect}.{attribute}" if aspect else None
        lodging = "apartment" if aspect == "apartment" else "hotel"
        got = understand(question, ["flight", lodging, "rental_car", "restaurant"], None).key
        if got == expected:
            correct += 1
        else:
            misses.append((question, expected, got))
    return Accuracy(correct, len(raw), tuple(misses))
