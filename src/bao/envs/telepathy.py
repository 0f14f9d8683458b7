"""TelepathyGym ("twenty questions") with an offline user that answers from bao's knowledge base.

The user thinks of an entity; the agent asks yes/no questions (`action`) and guesses (`answer`).
UserRL answers questions and judges guesses with an LLM; bao answers from a hand-written knowledge base
(`bao/data/telepathy/`): 59 yes/no attributes, and for each entity (the UserRL test split and 155 training
entities) its value on every attribute (yes / no / maybe) and its aliases.

- A question naming an entity of the pool ("Is it a kiwi?") is answered Yes/No about that entity.
- Any other question is matched to an attribute (`make_matcher` over the attribute's question forms: lexical
  by default, `TelepathyEnv(matcher="embedding" | "hybrid")` for the sentence-embedding matchers);
  the reply is the target's value ("Yes." / "No." / "Maybe."), or, below the matcher's threshold, "I can't
  answer that with yes or no." (a user turn that revealed nothing).
- A guess is correct when, normalised (case, accents, punctuation, articles), it is the title or an alias,
  or a short phrase containing one ("the kiwi fruit"). Reward 1.0 for the first correct guess, which ends the
  episode (UserRL: delta over the best score, so 1.0 once); a wrong guess scores 0 and the episode goes on;
  `[finish]` ends it with 0; turn limit 16 (UserRL's training and eval setting).
Information gain is exact: the hypothesis space is the whole entity pool; an answer keeps the entities whose
value agrees (a `maybe` entity agrees with anything), and `info_gain_bits = log2(before / after)`. A
question whose answer removes no hypothesis is `redundant`. Deviations from UserRL: the answers come from the
knowledge base, not an LLM's world knowledge, and the judge is a name match, not an LLM.

`TelepathyEnv(user="llm", llm=LLMUserConfig(...))` is UserRL's mode: an LLM (`bao.users.llm`) thinks of the
`target_entity` of UserRL's data and answers each question "Yes" / "No" / "Maybe" (told to answer honestly and
to use "Maybe" sparingly; like UserRL, it is not shown the earlier questions), and a judge LLM rules a guess
"Yes" (exactly right, or a clear synonym) or "No" (no partial credit): 1.0 for the first correct guess. The
feedback is bao's fixed text, so a wrong guess never leaks the answer. A reply without the expected JSON gets a
canned line and scores 0 (UserRL's fallback). The hypothesis space needs the knowledge base, so
`info_gain_bits` is unknown (None) and `redundant` comes from the conversation (`bao.users.redundancy`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property, lru_cache

from bao.core.types import Action, ActionKind, StepResult, Task
from bao.envs.base import Env, EnvSpec
from bao.envs.data import DataError, load_json, load_split, per_data_dir, prompt_of
from bao.envs.yes_no import answer_step, yes_no
from bao.users.accuracy import Probe, probes_from
from bao.users.knowledge import field, load_sheet, sheet_path, string_list
from bao.users.llm import LLMUser, LLMUserConfig, backend_user, turn_seed
from bao.users.matcher import Entry, Matcher, make_matcher, matcher_kind
from bao.users.text import normalize_name

VALUES = ("yes", "no", "maybe")
CANNOT_ANSWER = "I can't answer that with yes or no."


@dataclass(frozen=True)
class Attribute:
    id: str
    question: str
    forms: tuple[str, ...]
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class Entity:
    title: str
    split: str
    category: str
    aliases: tuple[str, ...]
    values: dict[str, str]  # attribute id -> yes | no | maybe

    @cached_property
    def names(self) -> tuple[str, ...]:
        return tuple(normalize_name(n) for n in (self.title, *self.aliases) if normalize_name(n))


@dataclass(frozen=True)
class KnowledgeBase:
    attributes: tuple[Attribute, ...]
    entities: tuple[Entity, ...]

    def entity(self, title: str) -> Entity:
        for entity in self.entities:
            if entity.title == title:
                return entity
        raise KeyError(title)


def load_knowledge_base(folder=None) -> KnowledgeBase:
    """Read and check `attributes.json` and every `entities_*.json`; errors name the file and field."""
    folder = folder or sheet_path("telepathy", "")
    path = folder / "attributes.json"
    raw = load_sheet(path)
    if not isinstance(raw, list) or not raw:
        raise DataError(f"{path}: expected a non-empty list of attributes")
    attributes = []
    for i, rec in enumerate(raw):
        where = f"{path} attribute {i}"
        attributes.append(Attribute(
            field(rec, "id", str, where), field(rec, "question", str, where),
            string_list(rec, "forms", where, 1), string_list(rec, "keywords", where),
        ))
    ids = {a.id for a in attributes}
    entities, titles = [], set()
    for path in sorted(folder.glob("entities_*.json")):
        raw = load_sheet(path)
        if not isinstance(raw, list):
            raise DataError(f"{path}: expected a list of entities")
        for i, rec in enumerate(raw):
            where = f"{path} entity {i}"
            title = field(rec, "title", str, where)
            where = f"{path} entity {i} ({title})"
            yes, maybe = set(string_list(rec, "yes", where)), set(string_list(rec, "maybe", where))
            unknown = (yes | maybe) - ids
            if unknown:
                raise DataError(f"{where}: field 'yes'/'maybe' names unknown attributes {sorted(unknown)}")
            if title in titles:
                raise DataError(f"{where}: field 'title' repeats an earlier entity")
            titles.add(title)
            split = field(rec, "split", str, where)
            if split not in ("train", "test"):
                raise DataError(f"{where}: field 'split' must be 'train' or 'test'")
            values = {a: "yes" if a in yes else "maybe" if a in maybe else "no" for a in ids}
            entities.append(Entity(title, split, field(rec, "category", str, where),
                                   string_list(rec, "aliases", where), values))
    if not entities:
        raise DataError(f"no entities_*.json files in {folder}")
    return KnowledgeBase(tuple(attributes), tuple(entities))


@lru_cache(maxsize=1)
def knowledge_base() -> KnowledgeBase:
    return load_knowledge_base()


@lru_cache(maxsize=4)
def attribute_matcher(kind: str = "lexical") -> Matcher:
    kb = knowledge_base()
    return make_matcher([Entry(a.id, (a.question, *a.forms), a.keywords) for a in kb.attributes], kind)


def names_in(text: str, kb: KnowledgeBase) -> list[Entity]:
    """Entities whose title or an alias appears as a whole phrase in `text` (longest names first)."""
    norm = f" {normalize_name(text)} "
    found = []
    for entity in kb.entities:
        if any(f" {name} " in norm for name in entity.names):
            found.append(entity)
    return found


def is_correct_guess(guess: str, target: Entity) -> bool:
    """Exact name or alias, or a short phrase (at most 3 extra words) that contains one."""
    norm = normalize_name(guess)
    if norm in target.names:
        return True
    padded = f" {norm} "
    return any(f" {name} " in padded and len(norm.split()) <= len(name.split()) + 3 for name in target.names)


def consistent(entity: Entity, attribute: str, answer: str) -> bool:
    value = entity.values[attribute]
    return answer == "maybe" or value == "maybe" or value == answer


class TelepathyEnv(Env):
    spec = EnvSpec(
        name="telepathy",
        description="Twenty questions: guess the entity the user thinks of by asking yes/no questions.",
        choices=("action", "answer"),
        action_kind=ActionKind.ASK,
        max_steps=16,
        backends=("offline", "llm"),
    )

    def __init__(self, max_steps: int | None = None, matcher: str = "lexical", user: str = "offline",
                 llm: LLMUserConfig | None = None) -> None:
        super().__init__(max_steps)
        self.matcher = matcher_kind(matcher)
        self.llm: LLMUser | None = backend_user(self.spec.name, self.spec.backends, user, llm)

    def tasks(self, split: str) -> list[Task]:
        return list(_tasks(split))

    def _reset(self, task: Task, seed: int) -> None:
        self.kb = knowledge_base()
        self.target = self.kb.entity(task.hidden["title"])
        self.alive = list(self.kb.entities)
        self.asked: set[str] = set()
        self.exchanges: list[tuple[str, str]] = []  # (question, reply), for the llm user's redundancy rule

    def _narrow(self, keep) -> float:
        before = len(self.alive)
        self.alive = [e for e in self.alive if keep(e)]
        return math.log2(before / max(len(self.alive), 1))

    def _step(self, action: Action) -> StepResult:
        if not action.valid:
            return StepResult(f"Invalid action format ({action.error}). Use interact_with_env with choice "
                              "'action' (a yes/no question) or 'answer' (your guess).", 0.0, False,
                              {"success": False, "redundant": False, "info_gain_bits": 0.0, "revealed": []})
        if action.kind is ActionKind.FINISH:
            return StepResult(f"Game over. I was thinking of {self.target.title}.", 0.0, True, {"success": False})
        if action.kind is ActionKind.ANSWER:
            return self._guess(action.content)
        if action.kind is ActionKind.SEARCH:
            return StepResult("Search is not available here: ask a yes/no question or give your answer.", 0.0,
                              False, {"success": False, "redundant": False, "revealed": []})
        return self._question(action.content)

    def _guess(self, guess: str) -> StepResult:
        if not guess.strip():
            return StepResult("Your answer is empty: name the entity you think of.", 0.0, False, {"success": False})
        if self.llm is not None:
            return self._llm_guess(guess)
        if is_correct_guess(guess, self.target):
            return StepResult(f"Yes! I was thinking of {self.target.title}.", 1.0, True, {"success": True})
        named = {e.title for e in names_in(guess, self.kb)}
        gain = self._narrow(lambda e: e.title not in named)
        return StepResult("No, that's not it. Keep trying!", 0.0, False,
                          {"success": False, "info_gain_bits": gain, "revealed": []})

    def _question(self, question: str) -> StepResult:
        if self.llm is not None:
            return self._llm_question(question)
        named = names_in(question, self.kb)
        if named:
            hit = self.target in named
            titles = {e.title for e in named}
            gain = self._narrow((lambda e: e.title in titles) if hit else (lambda e: e.title not in titles))
            return self._reply("Yes." if hit else "No.", None, 0.0, gain, revealed=[])
        match = attribute_matcher(self.matcher).match(question)
        if match is None:
            return self._reply(CANNOT_ANSWER, None, 0.0, 0.0, revealed=[])
        answer = self.target.values[match.key]
        new = match.key not in self.asked
        self.asked.add(match.key)
        gain = self._narrow(lambda e: consistent(e, match.key, answer))
        return self._reply(f"{answer.capitalize()}.", match.key, match.score, gain, revealed=[match.key] if new else [])

    def _reply(self, text: str, matched: str | None, score: float, gain: float, revealed: list[str]) -> StepResult:
        info = {"success": False, "matched": matched, "match_score": round(score, 4), "revealed": revealed,
                "info_gain_bits": gain, "redundant": gain == 0.0, "hypotheses_left": len(self.alive)}
        return StepResult(text, 0.0, False, info)

    def _llm_question(self, question: str) -> StepResult:
        answer = ask_entity(self.llm, self.target.title, question, turn_seed(self.seed, self.steps))
        return answer_step(answer, question, self.exchanges)

    def _llm_guess(self, guess: str) -> StepResult:
        verdict = judge_guess(self.llm, self.target.title, guess, turn_seed(self.seed, self.steps))
        if verdict is None:
            return StepResult(JUDGE_FALLBACK, 0.0, False, {"success": False, "fallback": True})
        if verdict:
            return StepResult(f"Yes! I was thinking of {self.target.title}.", 1.0, True, {"success": True})
        return StepResult("No, that's not it. Keep trying!", 0.0, False, {"success": False, "revealed": []})


QUESTION_SYSTEM = """You are the mind in a mind-reading game. You have one entity in mind (a person, an animal, \
an object, a place, a concept...). The player tries to find it by asking yes/no questions.

Answer each question truthfully about your entity:
- "Yes" when it is true of the entity;
- "No" when it is false of it;
- "Maybe" only when the question is ambiguous or has no clear answer for this entity. Use it sparingly.
The player sees only that one word: never name the entity or add hints.

Reply with one JSON object and nothing else:
{"thought": "<how the question applies to your entity>", "response": "Yes" or "No" or "Maybe"}"""

QUESTION_PROMPT = """## The entity you have in mind
{entity}

## The player's question
{question}"""

JUDGE_SYSTEM = """You are the mind in a mind-reading game, and the player now names the entity they think you \
have in mind. Rule whether the guess is right.

- "Yes": the guess names exactly your entity, or a clearly equivalent name for it (a synonym, a common \
alternative name, a fuller or shorter form of the same name).
- "No": anything else: a different entity, a broader or narrower category, something related, or a partly \
right guess. There is no partial credit.

Reply with one JSON object and nothing else:
{"thought": "<does the guess identify your entity?>", "judgment": "Yes" or "No"}"""

JUDGE_PROMPT = """## The entity you have in mind
{entity}

## The player's guess
{guess}"""

JUDGE_FALLBACK = "I can't check your guess right now. Please try again."


@per_data_dir
def target_descriptions() -> dict[str, str]:
    """UserRL's `target_entity` text of every entity, by title ("Albert Einstein - the famous physicist...")."""
    return {rec["title"]: rec["target_entity"]
            for rec in load_json("gyms", "telepathy", "all_entities_refined.json")}


def _described(title: str) -> str:
    return target_descriptions().get(title, title)


def ask_entity(user: LLMUser, title: str, question: str, seed: int) -> str | None:
    """The LLM user's "Yes" / "No" / "Maybe" to a question about the entity, or None when it gave none."""
    reply = user.ask_json(QUESTION_SYSTEM, QUESTION_PROMPT.format(entity=_described(title), question=question),
                          seed=seed)
    return yes_no(reply, "response")


def judge_guess(user: LLMUser, title: str, guess: str, seed: int) -> bool | None:
    """The judge's verdict on a guess (True: right), or None when its reply holds none."""
    reply = user.ask_json(JUDGE_SYSTEM, JUDGE_PROMPT.format(entity=_described(title), guess=guess), seed=seed)
    verdict = yes_no(reply, "judgment")
    return None if verdict in (None, "Maybe") else verdict == "Yes"


@per_data_dir
def _tasks(split: str) -> tuple[Task, ...]:
    kb = knowledge_base()
    known = {e.title: e for e in kb.entities}
    tasks = []
    for row in load_split("telepathy_multiturn", split):
        title = row["reward_model"]["title"]
        entity = known.get(title)
        if entity is None or entity.split != split:
            continue
        prompt = prompt_of(row)
        task_id = normalize_name(title).replace(" ", "-")
        tasks.append(Task(task_id, "telepathy", split, prompt,
                          {"title": title, "category": entity.category}))
    if not tasks:
        raise DataError(f"no telepathy {split} task has an entry in the knowledge base")
    return tuple(tasks)


def paraphrase_probes(split: str = "test", kind: str = "lexical") -> list[Probe]:
    """Held-out matcher probes of `bao/data/telepathy/paraphrases_<split>.json` (dev or test)."""
    records = load_sheet(sheet_path("telepathy", f"paraphrases_{split}.json"))
    return probes_from(records, lambda r: attribute_matcher(kind), "attribute")
