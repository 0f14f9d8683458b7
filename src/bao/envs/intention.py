"""IntentionGym (clarify a vague request) with an offline user, on UserRL's data.

The agent gets a vague task ("Find a recipe for homemade pizza.") that hides a few **missing details**
(description, importance "1"/"2"/"3", the inquiry that reaches it, the options). The offline user holds one
option per detail, drawn from (seed, task id, detail), and answers a question that targets a still-uncovered
detail with that option in a natural sentence.

Kept exactly from UserRL (commit cf55a30, `intention_env.py`):
- the reward of a question: 0 when it covers no detail; else the weight of the most important newly covered
  detail (3 -> 1.0, 2 -> 0.7, 1 -> 0.4) minus `multi_detail_penalty` (0.2) per extra covered detail, floored
  at 0, minus `step_penalty` (0 by default), clipped to [0, 1] (UserRL's `normalize_rewards=True`);
- covered details are removed; the episode terminates when every detail is covered; `[finish]` terminates
  with reward 0; the episode's return is not bounded by 1 (it grows with the number of details);
- `[answer] ...` is a question like `[action] ...` (the gym strips either prefix); turn limit 16, as UserRL's
  training and eval run it.
Deviations:
- coverage: UserRL asks an LLM judge which remaining details a question addresses; bao matches the question
  to the details with `LexicalMatcher` (one entry per detail: its description, inquiry and option words as
  forms, description and option words as keywords), after tagging both sides with the intents of
  `bao/data/intention/intents.json` (budget, format, audience...: "How much can you spend?" meets "User's
  budget for equipment"). Each clause of a question ("What's your budget, and how long is the trip?" has
  two) targets its best detail when the score reaches `MATCH_THRESHOLD`; a weak match (below
  `STRONG_MATCH`) must also share a word or intent with the detail beyond the words of the task sentence.
  The matcher sees covered details too: a question about a detail already answered gets that answer again
  and covers nothing, where UserRL's judge (shown only the remaining details) could credit a neighbour;
- replies: UserRL's user is an LLM that saw the whole task; bao's states the held option ("For the type of
  pizza, I'd go with Deep dish."), and redirects a question that covers nothing with a fixed sentence;
- `[search]` is refused with a format message (UserRL would hand the raw string to its judge).
Effort: every turn of this gym goes to the user, so questions count as user effort (`user_kinds`).
Information gain: each detail's options are its hypotheses, the episode's space is their product, and
covering a detail with k options gains log2(k) bits; a question that covers nothing is `redundant`.
Success means every detail is covered.

`IntentionEnv(user="llm", llm=LLMUserConfig(...))` is UserRL's mode, two LLM calls per question
(`bao.users.llm`), each shown the last 3 exchanges:
- the *user* answers as the person who made the request, naturally, saying only what was asked; it knows the
  task and, unlike UserRL's user (which saw every detail's options and made its wishes up), the option this
  user holds for each detail (`hidden_option`, as offline), so its answers stay consistent and follow the seed;
  a question off the task is steered back without listing what is still missing;
- the *judge* sees the still-uncovered details (index, importance, an example inquiry) and returns the ones the
  question addresses, none when it is not about the task. Its verdict sets the coverage and the reward with
  the rules above; an unparsable verdict covers nothing (UserRL's fallback), an unparsable reply gets a canned
  line. `redundant`: the judge's verdict decides (no new detail covered, as offline); when it gave none, the
  conversation rule of `bao.users.redundancy` does.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass
from functools import lru_cache

from bao.core.types import Action, ActionKind, StepResult, Task
from bao.envs.base import Env, EnvSpec
from bao.envs.data import DataError, load_json, load_split, per_data_dir, prompt_of
from bao.users.accuracy import Accuracy
from bao.users.knowledge import field, load_sheet, sheet_path, string_list
from bao.users.llm import LLMUser, LLMUserConfig, backend_user, turn_seed
from bao.users.matcher import Entry, LexicalMatcher
from bao.users.redundancy import is_redundant
from bao.users.text import tokens

IMPORTANCE_REWARD = {3: 1.0, 2: 0.7, 1: 0.4}
MULTI_DETAIL_PENALTY = 0.2
MATCH_THRESHOLD = 0.1
STRONG_MATCH = 0.3
# A new clause starts at a sentence end, or at "and"/"also" followed by a new question word.
_CLAUSE = re.compile(r"[?.!;]+|,?\s+(?:and|also)\s+(?=(?:what|which|how|when|where|who|do|does|are|is|will|would|"
                     r"should|could|can|any)\b)", re.IGNORECASE)
REDIRECT = ("I'm not sure that matters much to me. What I really need is help with the task itself: "
            "could you ask about what I want from it?")
ALREADY_SAID = "As I said: "  # opens the reply to a question about a detail already settled
NO_SEARCH = "IntentionGym has no search: ask me a clarifying question with `action`, or end with [finish]."
_REPLIES = (
    "For {topic}, I'd go with {option}.",
    "Good question. {option_cap}, please.",
    "I'm thinking {option} for {topic}.",
    "{option_cap} would suit me best.",
)
REPLY_VARIANTS = len(_REPLIES)


@dataclass(frozen=True)
class Detail:
    """One missing detail; `key` is its description (unique within a task)."""

    key: str
    importance: int
    inquiry: str
    options: tuple[str, ...]

    @property
    def topic(self) -> str:
        """The description as the user would say it ("User's budget" -> "my budget")."""
        text = self.key.strip().rstrip(".")
        for owner in ("The user's ", "the user's ", "User's ", "user's "):
            text = text.replace(owner, "my ")
        return text[0].lower() + text[1:] if text[:2] != text[:2].upper() else text


def hidden_option(task_id: str, seed: int, detail: Detail) -> str:
    """The option this user holds for `detail`: fixed by (seed, task id, detail), independent of play order."""
    return random.Random(f"{seed}:{task_id}:{detail.key}").choice(detail.options)


def question_reward(importances: list[int], multi_detail_penalty: float = MULTI_DETAIL_PENALTY,
                    step_penalty: float = 0.0) -> float:
    """UserRL's reward of one question that newly covers details of the given importances."""
    base = 0.0
    if importances:
        base = max(0.0, IMPORTANCE_REWARD[max(importances)] - multi_detail_penalty * (len(importances) - 1))
    return min(1.0, max(0.0, base - step_penalty))


@lru_cache(maxsize=1)
def _intent_patterns() -> tuple[tuple[str, re.Pattern], ...]:
    path = sheet_path("intention", "intents.json")
    raw = load_sheet(path)
    if not isinstance(raw, dict):
        raise DataError(f"{path}: expected an object of intent -> phrases")
    patterns = []
    for name in raw:
        if name.startswith("_"):
            continue
        if not name.isalpha():
            raise DataError(f"{path}: intent name '{name}' must be letters only")
        phrases = string_list(raw, name, str(path))
        alternatives = "|".join(re.escape(p.lower()) for p in sorted(phrases, key=len, reverse=True))
        patterns.append((f"intent{name}", re.compile(rf"(?<![a-z0-9])(?:{alternatives})(?:e?s)?(?![a-z0-9])")))
    return tuple(patterns)


def with_intents(text: str) -> str:
    """`text` followed by a token per intent it signals ("how much can you spend" -> ... intentbudget).

    The matcher is lexical; intents let a question and a detail meet on what they are about (budget, format,
    audience...) when they share no word ("How much money can you spend?" / "User's budget for equipment").
    """
    low = text.lower()
    found = [name for name, pattern in _intent_patterns() if pattern.search(low)]
    return f"{text} {' '.join(found)}" if found else text


@dataclass(frozen=True)
class DetailSheet:
    """What this user can be asked about: the details, a matcher over them, and the words of each detail.

    `words[key]` holds the tokens (intents included) of a detail's description, inquiry and options;
    `task_words` those of the task sentence, which every detail shares and which so identify none of them.
    """

    details: tuple[Detail, ...]
    matcher: LexicalMatcher
    words: dict[str, frozenset[str]]
    task_words: frozenset[str]


def detail_sheet(task_text: str, details: tuple[Detail, ...]) -> DetailSheet:
    """One matcher entry per detail: description, inquiry and option words as forms, description and options
    as keywords, each followed by its intents."""
    entries = [
        Entry(d.key, tuple(with_intents(f) for f in (d.key, d.inquiry, " ".join(d.options))),
              tuple(with_intents(k) for k in (d.key, *d.options)))
        for d in details
    ]
    words = {e.key: frozenset(t for text in e.forms for t in tokens(text)) for e in entries}
    return DetailSheet(details, LexicalMatcher(entries, threshold=MATCH_THRESHOLD), words,
                       frozenset(tokens(task_text)))


def clauses(question: str) -> list[str]:
    """The separate questions inside one utterance ("What's your budget, and how long is the trip?")."""
    return [c for c in (part.strip() for part in _CLAUSE.split(question)) if c] or [question]


def _has_evidence(clause: str, key: str, sheet: DetailSheet) -> bool:
    """Whether the clause shares a word or intent with the detail once the task's own words are set aside."""
    kept = " ".join(w for w in clause.split() if not set(tokens(w)) & sheet.task_words)
    return bool(set(tokens(with_intents(kept))) & sheet.words[key])


def targeted(sheet: DetailSheet, question: str) -> tuple[list[str], float]:
    """The details a question asks about (best first) and its best score.

    Each clause of the question targets its best-scoring detail when that score reaches the threshold, so a
    question covers several details only when it asks several things. A weak match (below `STRONG_MATCH`)
    also needs evidence beyond the task's own words: "How large is the text file?" shares "text file" with
    "Subject matter of the text file" only because both are about the task, so it targets nothing.
    """
    keys: dict[str, float] = {}
    best = 0.0
    for clause in clauses(question):
        key, score = sheet.matcher.rank(with_intents(clause))[0]
        best = max(best, score)
        if score >= STRONG_MATCH or (score >= sheet.matcher.threshold and _has_evidence(clause, key, sheet)):
            keys[key] = max(keys.get(key, 0.0), score)
    return sorted(keys, key=lambda k: -keys[k]), best


def reply(detail: Detail, option: str, variant: int) -> str:
    template = _REPLIES[variant % REPLY_VARIANTS]
    return template.format(topic=detail.topic, option=option, option_cap=option[:1].upper() + option[1:])


class IntentionEnv(Env):
    spec = EnvSpec(
        name="intention",
        description="Clarify a vague request: ask about its missing details, one question at a time.",
        choices=("action",),
        action_kind=ActionKind.ASK,
        user_kinds=frozenset({ActionKind.ASK, ActionKind.ANSWER}),
        max_steps=16,
        backends=("offline", "llm"),
    )

    def __init__(self, max_steps: int | None = None, multi_detail_penalty: float = MULTI_DETAIL_PENALTY,
                 step_penalty: float = 0.0, user: str = "offline", llm: LLMUserConfig | None = None) -> None:
        super().__init__(max_steps)
        self.multi_detail_penalty = multi_detail_penalty
        self.step_penalty = step_penalty
        self.llm: LLMUser | None = backend_user(self.spec.name, self.spec.backends, user, llm)

    def tasks(self, split: str) -> list[Task]:
        return list(_tasks(split))

    def _reset(self, task: Task, seed: int) -> None:
        self.details = {d.key: d for d in task_details(task)}
        self.sheet = _sheet(task.id, task.hidden["task"], tuple(self.details.values()))
        self.held = {key: hidden_option(task.id, seed, d) for key, d in self.details.items()}
        self.remaining = list(self.details)
        self.exchanges: list[tuple[str, str]] = []  # (question, reply), shown to the llm user and judge

    def _step(self, action: Action) -> StepResult:
        if not action.valid:
            return self._result(f"Invalid action format ({action.error}). Ask a clarifying question with "
                                "interact_with_env(choice='action', content=...).", kind="invalid")
        if action.kind is ActionKind.FINISH:
            covered = len(self.details) - len(self.remaining)
            return self._result(f"Session ended. You covered {covered}/{len(self.details)} missing details.",
                                kind="finish", done=True)
        if action.kind is ActionKind.SEARCH:
            return self._result(NO_SEARCH, kind="search")
        return self._question(action.content)

    def _question(self, question: str) -> StepResult:
        if self.llm is not None:
            return self._llm_question(question)
        keys, score = targeted(self.sheet, question)
        new = [k for k in keys if k in self.remaining]
        info = {"matched": keys[0] if keys else None, "match_score": round(score, 4), "revealed": new,
                "redundant": not new, "info_gain_bits": sum(math.log2(len(self.details[k].options)) for k in new)}
        if not keys:
            return self._result(REDIRECT, kind="ask", **info)
        told = new or keys[:1]
        text = " ".join(reply(self.details[k], self.held[k], self.steps + i) for i, k in enumerate(told))
        if not new:
            text = ALREADY_SAID + text
        reward, done = self._cover(new)
        if done:
            text += " I think that covers everything I had in mind."
        return self._result(text, kind="ask", reward=reward, done=done, success=done, **info)

    def _llm_question(self, question: str) -> StepResult:
        seed = turn_seed(self.seed, self.steps)
        recent = self.exchanges[-HISTORY:]
        wishes = [(self.details[k], self.held[k]) for k in self.details]
        text = user_reply(self.llm, self.task.hidden, wishes, recent, question, seed)
        pending = [self.details[k] for k in self.remaining]
        covered = judged_coverage(self.llm, self.task.hidden, pending, recent, question, seed)
        new = [pending[i].key for i in covered or []]
        said = text or REPLY_FALLBACK
        redundant = not new if covered is not None else text is None or is_redundant(question, self.exchanges, said)
        self.exchanges.append((question, said))
        reward, done = self._cover(new)
        return self._result(said, kind="ask", reward=reward, done=done, success=done, revealed=new,
                            redundant=redundant, info_gain_bits=sum(math.log2(len(self.details[k].options))
                                                                    for k in new),
                            fallback=text is None or covered is None)

    def _cover(self, new: list[str]) -> tuple[float, bool]:
        """Mark the details a question revealed as told: UserRL's reward for them, and whether none is left."""
        self.remaining = [k for k in self.remaining if k not in new]
        reward = question_reward([self.details[k].importance for k in new], self.multi_detail_penalty,
                                 self.step_penalty) if new else 0.0
        return reward, not self.remaining

    def _result(self, text: str, kind: str, reward: float = 0.0, done: bool = False, **info) -> StepResult:
        info.update(kind=kind, success=info.get("success", False), remaining=len(self.remaining),
                    hypotheses_left=math.prod(len(self.details[k].options) for k in self.remaining))
        return StepResult(text, round(reward, 6), done, info)


HISTORY = 3  # exchanges shown to the llm user and judge, as in UserRL
REPLY_FALLBACK = "Sorry, I lost my train of thought. Could you ask me that again?"
IMPORTANCE_LABEL = {1: "low", 2: "medium", 3: "high"}

REPLY_SYSTEM = """You asked for help with a task, but your request was vague. A helper now asks you questions \
to find out what exactly you want. Answer as the person who made the request.

- If the question asks about something you want for this task, answer naturally in one or two sentences, \
following "What you want" below. Say only what the question asks about; do not volunteer the rest.
- If it asks about a part of the task that "What you want" does not mention, say briefly that you have no \
particular wish there.
- If it is not about your needs (small talk, something off the task, a request that you do the work), \
steer back politely to what you need, without listing what you still have in mind and without examples.
- You are the one seeking help: never solve the task yourself.

Reply with one JSON object and nothing else:
{"thought": "<what the question asks and what you will say>", "response": "<your reply to the helper>"}"""

REPLY_PROMPT = """## Your request
{task}
(category: {category})

## What you want
{wishes}

## The conversation so far
{history}

## The helper's question
{question}"""

JUDGE_SYSTEM = """You check which missing details of a vague request a helper's latest question asks about.

- A question addresses a detail when the answer to it would give the information that detail needs; the \
example inquiry shows one way to ask, other wordings count too.
- A question that is not about clarifying the request (small talk, off-topic, doing the task) addresses none.
- List only the details the latest question itself asks about, by their index.

Reply with one JSON object and nothing else:
{"analysis": "<which details the question asks about>", "task_related": true or false, "covered": [<indices>]}"""

JUDGE_PROMPT = """## The request
{task}
(category: {category})

## Missing details still to clarify
{details}

## The conversation so far
{history}

## The helper's latest question
{question}"""


def _history(exchanges: list[tuple[str, str]]) -> str:
    lines = [f"Helper: {q}\nUser: {r}" for q, r in exchanges]
    return "\n".join(lines) if lines else "(this is the first question)"


def user_reply(user: LLMUser, task: dict, wishes: list[tuple[Detail, str]], recent: list[tuple[str, str]],
               question: str, seed: int) -> str | None:
    """The LLM user's reply to a clarifying question, or None when its reply holds none."""
    prompt = REPLY_PROMPT.format(task=task["task"], category=task.get("category") or "general",
                                 wishes="\n".join(f"- {d.key}: {option}" for d, option in wishes),
                                 history=_history(recent), question=question)
    response = (user.ask_json(REPLY_SYSTEM, prompt, seed=seed) or {}).get("response")
    return response.strip() if isinstance(response, str) and response.strip() else None


def judged_coverage(user: LLMUser, task: dict, pending: list[Detail], recent: list[tuple[str, str]],
                    question: str, seed: int) -> list[int] | None:
    """Indices into `pending` of the details the judge says the question addresses ([] when it is off the
    task), or None when its reply holds no verdict."""
    details = "\n".join(f"{i}. [{IMPORTANCE_LABEL[d.importance]}] {d.key} (e.g. \"{d.inquiry}\")"
                         for i, d in enumerate(pending))
    prompt = JUDGE_PROMPT.format(task=task["task"], category=task.get("category") or "general", details=details,
                                 history=_history(recent), question=question)
    verdict = user.ask_json(JUDGE_SYSTEM, prompt, seed=seed)
    if verdict is None or not isinstance(verdict.get("covered"), list):
        return None
    if str(verdict.get("task_related")).strip().lower() == "false":
        return []
    indices = []
    for item in verdict["covered"]:
        try:
            index = int(item)
        except (TypeError, ValueError):
            continue
        if 0 <= index < len(pending) and index not in indices:
            indices.append(index)
    return indices


def task_details(task: Task) -> tuple[Detail, ...]:
    return tuple(Detail(d["description"], d["importance"], d["inquiry"], tuple(d["options"]))
                 for d in task.hidden["details"])


@lru_cache(maxsize=2048)
def _sheet(task_id: str, task_text: str, details: tuple[Detail, ...]) -> DetailSheet:
    return detail_sheet(task_text, details)


def parse_intentions(raw: object, where: str) -> dict[str, dict]:
    """Check UserRL's intention records and return them by id; errors name the file, record and field."""
    if not isinstance(raw, list):
        raise DataError(f"{where}: expected a list of tasks")
    by_id = {}
    for i, rec in enumerate(raw):
        at = f"{where} task {i}"
        task_id = field(rec, "id", str, at)
        at = f"{where} task {i} (id {task_id})"
        field(rec, "task", str, at)
        details = field(rec, "missing_details", list, at)
        if not details:
            raise DataError(f"{at}: field 'missing_details' is empty")
        seen = set()
        for j, d in enumerate(details):
            dw = f"{at} detail {j}"
            description = field(d, "description", str, dw)
            if description in seen:
                raise DataError(f"{dw}: field 'description' repeats '{description}'")
            seen.add(description)
            if str(field(d, "importance", (str, int), dw)) not in ("1", "2", "3"):
                raise DataError(f"{dw}: field 'importance' must be \"1\", \"2\" or \"3\"")
            field(d, "inquiry", str, dw)
            string_list(d, "options", dw, 1)
        by_id[task_id] = rec
    return by_id


@per_data_dir
def _intentions(split: str) -> dict[str, dict]:
    name = f"all_intentions_{split}.json"
    return parse_intentions(load_json("gyms", "intention", name), f"gyms/intention/{name}")


@per_data_dir
def _tasks(split: str) -> tuple[Task, ...]:
    records = _intentions(split)
    tasks = []
    for row in load_split("intention_multiturn", split):
        task_id = row["reward_model"]["id"]
        if task_id not in records:
            raise DataError(f"splits/intention_multiturn/{split}.parquet names unknown task '{task_id}'")
        rec = records[task_id]
        details = [{"description": d["description"], "importance": int(d["importance"]),
                    "inquiry": d["inquiry"], "options": list(d["options"])} for d in rec["missing_details"]]
        hidden = {"category": rec.get("category", ""), "task": rec["task"], "details": details}
        prompt = prompt_of(row)
        tasks.append(Task(task_id, "intention", split, prompt, hidden))
    return tuple(tasks)


def paraphrase_accuracy(split: str = "test") -> Accuracy:
    """Matcher accuracy on `bao/data/intention/paraphrases_<split>.json`.

    Each case is a clarifying question about one detail of a task, or about none (`detail` null). It is
    right when the details the env would cover at the start of an episode are exactly that one (or none):
    a spurious second detail counts as a miss.
    """
    path = sheet_path("intention", f"paraphrases_{split}.json")
    raw = load_sheet(path)
    if not isinstance(raw, list):
        raise DataError(f"{path}: expected a list of questions")
    tasks = {t.id: t for t in _tasks(split)}
    correct, misses = 0, []
    for i, case in enumerate(raw):
        where = f"{path} question {i}"
        task = tasks.get(field(case, "task_id", str, where))
        if task is None:
            raise DataError(f"{where}: field 'task_id' is not a task of the {split} split")
        details = task_details(task)
        expected = field(case, "detail", (str, type(None)), where)
        if expected is not None and expected not in {d.key for d in details}:
            raise DataError(f"{where}: field 'detail' is not a missing detail of task {task.id}")
        question = field(case, "question", str, where)
        keys, _ = targeted(_sheet(task.id, task.hidden["task"], details), question)
        if keys == ([expected] if expected else []):
            correct += 1
        else:
            misses.append((question, expected, " + ".join(keys) or None))
    return Accuracy(correct, len(raw), tuple(misses))
