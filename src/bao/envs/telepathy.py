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
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property, lru_cache

from bao.core.types import Action, ActionKind, StepResult, Task
from bao.envs.base import Env, EnvSpec
from bao.envs.data import DataError, load_split, per_data_dir, prompt_of
from bao.users.accuracy import Probe, probes_from
from bao.users.knowledge import field, load_sheet, sheet_path, string_list
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
    )

    def __init__(self, max_steps: int | None = None, matcher: str = "lexical") -> None:
        super().__init__(max_steps)
        self.matcher = matcher_kind(matcher)

    def tasks(self, split: str) -> list[Task]:
        return list(_tasks(split))

    def _reset(self, task: Task, seed: int) -> None:
        self.kb = knowledge_base()
        self.target = self.kb.entity(task.hidden["title"])
        self.alive = list(self.kb.entities)
        self.asked: set[str] = set()

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
        if is_correct_guess(guess, self.target):
            return StepResult(f"Yes! I was thinking of {self.target.title}.", 1.0, True, {"success": True})
        named = {e.title for e in names_in(guess, self.kb)}
        gain = self._narrow(lambda e: e.title not in named)
        return StepResult("No, that's not it. Keep trying!", 0.0, False,
                          {"success": False, "info_gain_bits": gain, "revealed": []})

    def _question(self, question: str) -> StepResult:
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
