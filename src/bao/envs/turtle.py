"""TurtleGym (lateral-thinking "turtle soup" puzzles) with an offline user that answers from fact sheets.

The agent reads a strange story surface, asks yes/no questions (`action`) and explains the hidden story
(`answer`). UserRL answers with an LLM and scores explanations with an LLM judge; bao uses hand-written
sheets (`bao/data/turtle/sheets_*.json`, for the 48 UserRL test stories and 100 training stories):
- 10-20 yes/no **facts** per story, each with the questions that reach it; a question is matched to a fact
  (`make_matcher` over the fact's questions, statement and keywords: lexical by default, `TurtleEnv(matcher=
  "embedding" | "hybrid")` for the sentence-embedding matchers) and answered "Yes." / "No."; below the
  threshold the user says the question does not matter to the story (a user turn that revealed nothing);
  a match resting on a single word shared with its fact must also clear a stricter bar (`ONE_WORD_CHECKS`),
  because questions the sheets do not cover still share one story word with some fact;
- **key points**, one per rubric criterion of UserRL's data: groups of interchangeable words; a criterion
  scores 1 when every group appears in the explanation, 0.5 when at least half do, else 0 — the same
  0 / 0.5 / 1 scale as UserRL's judge. The story score is sum(weight_i * s_i) with UserRL's weights.
Kept exactly from UserRL: the reward of an answer is the improvement over the best score so far (so the
episode's sum is the best score), questions score 0, the feedback lists the criteria the story fully covers,
the episode terminates when the score reaches `success_threshold` (1.0 in UserRL's pipeline) or on
`[finish]`, and the turn limit is 16. Success means reaching the threshold.
Information gain: each fact is one unknown yes/no bit, so a question that reveals a new fact gains 1 bit and
one that reveals nothing new (unmatched, or a fact already revealed) gains 0 and is `redundant`.

`TurtleEnv(user="llm", llm=LLMUserConfig(...))` is UserRL's mode: an LLM (`bao.users.llm`) answers each question
"Yes" / "No" / "Maybe" from the surface and the hidden bottom of UserRL's data (told to use "Maybe" rarely and
to say nothing more), and a judge LLM scores an explanation 0 / 0.5 / 1 per rubric criterion (shown without
the weights); the weighted sum, the delta reward, the feedback and the termination are computed in code as
above. A reply without the expected JSON gets a canned line and scores 0 (UserRL's fallback). There is no
sheet, so `info_gain_bits` is unknown (None) and `redundant` comes from the conversation
(`bao.users.redundancy`). The tasks are the same stories as the offline user's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from bao.core.types import Action, ActionKind, StepResult, Task
from bao.envs.base import Env, EnvSpec
from bao.envs.data import DataError, load_json, load_split, per_data_dir, prompt_of
from bao.envs.yes_no import answer_step, yes_no
from bao.users.accuracy import Probe, probes_from
from bao.users.knowledge import field, load_sheet, sheet_path, string_list
from bao.users.llm import LLMUser, LLMUserConfig, backend_user, turn_seed
from bao.users.matcher import Entry, Matcher, OneWordCheck, make_matcher, matcher_kind
from bao.users.text import tokens

DOES_NOT_MATTER = "That doesn't matter to the story (no clear yes or no)."
SUCCESS_THRESHOLD = 1.0
# Per matcher kind, chosen on the dev paraphrases plus leave-one-form-out probes of the *training* sheets
# (each question form matched against its sheet without that form; other stories' questions as nulls). On dev
# they raise the share of unanswerable questions answered "doesn't matter" from 0.6-0.7 to 0.83-0.92 at a
# cost of at most one fact paraphrase.
ONE_WORD_CHECKS = {
    "lexical": OneWordCheck(0.46, 0.04),
    "embedding": OneWordCheck(0.54, 0.04),
    "hybrid": OneWordCheck(0.52, 0.04),
}


@dataclass(frozen=True)
class Fact:
    id: str
    answer: str  # yes | no
    statement: str
    questions: tuple[str, ...]
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class KeyPoint:
    statement: str
    weight: float
    groups: tuple[tuple[tuple[str, ...], ...], ...]  # groups of alternatives, each a token sequence


@dataclass(frozen=True)
class Story:
    story_id: str
    title: str
    split: str
    facts: tuple[Fact, ...]
    key_points: tuple[KeyPoint, ...]

    def matcher(self, kind: str = "lexical") -> Matcher:
        return _matcher(self.story_id, kind)


def load_sheets(path, rubrics: dict) -> list[Story]:
    """Read and check one sheet file; `rubrics` is UserRL's story data (for the criteria and weights)."""
    raw = load_sheet(path)
    if not isinstance(raw, list):
        raise DataError(f"{path}: expected a list of stories")
    stories = []
    for i, rec in enumerate(raw):
        where = f"{path} story {i}"
        story_id = field(rec, "story_id", str, where)
        where = f"{path} story {i} (id {story_id})"
        if story_id not in rubrics:
            raise DataError(f"{where}: field 'story_id' is not a UserRL story")
        facts, seen = [], set()
        for j, f in enumerate(field(rec, "facts", list, where)):
            fw = f"{where} fact {j}"
            answer = field(f, "answer", str, fw).lower()
            if answer not in ("yes", "no"):
                raise DataError(f"{fw}: field 'answer' must be 'yes' or 'no'")
            fact = Fact(field(f, "id", str, fw), answer, field(f, "statement", str, fw),
                        string_list(f, "questions", fw, 1), string_list(f, "keywords", fw))
            if fact.id in seen:
                raise DataError(f"{fw}: field 'id' repeats '{fact.id}'")
            seen.add(fact.id)
            facts.append(fact)
        if not facts:
            raise DataError(f"{where}: field 'facts' is empty")
        criteria = rubrics[story_id]["evaluation"]
        points = field(rec, "key_points", list, where)
        if sorted(field(p, "criterion", int, f"{where} key point") for p in points) != list(range(len(criteria))):
            raise DataError(f"{where}: field 'key_points' must have one entry per rubric criterion "
                            f"(0..{len(criteria) - 1})")
        key_points = [None] * len(criteria)
        for p in points:
            pw = f"{where} key point {p['criterion']}"
            groups = field(p, "groups", list, pw)
            if not groups or not all(isinstance(g, list) and g and all(isinstance(w, str) for w in g) for g in groups):
                raise DataError(f"{pw}: field 'groups' must be a non-empty list of non-empty word lists")
            criterion = criteria[p["criterion"]]
            key_points[p["criterion"]] = KeyPoint(
                criterion["statement"], float(criterion["score"]),
                tuple(tuple(tokens(w) for w in g if tokens(w)) for g in groups),
            )
        stories.append(Story(story_id, field(rec, "title", str, where), field(rec, "split", str, where),
                             tuple(facts), tuple(key_points)))
    return stories


@per_data_dir
def _rubrics() -> dict:
    return load_json("gyms", "turtle", "all_stories_refined.json")


@per_data_dir
def stories() -> dict[str, Story]:
    out = {}
    for name in ("sheets_test.json", "sheets_train.json"):
        for story in load_sheets(sheet_path("turtle", name), _rubrics()):
            out[story.story_id] = story
    return out


def reply(fact: Fact | None) -> str:
    """What the user says to a question matched to `fact` (None: matched to no fact)."""
    return DOES_NOT_MATTER if fact is None else f"{fact.answer.capitalize()}."


@lru_cache(maxsize=1024)
def _matcher(story_id: str, kind: str = "lexical") -> Matcher:
    story = stories()[story_id]
    return make_matcher([Entry(f.id, (*f.questions, f.statement), f.keywords) for f in story.facts], kind,
                        check=ONE_WORD_CHECKS[kind])


def _contains(seq: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    return any(seq[i : i + n] == phrase for i in range(len(seq) - n + 1))


def criterion_score(explanation_tokens: tuple[str, ...], point: KeyPoint) -> float:
    """1.0 when every word group appears, 0.5 when at least half do, else 0 (UserRL's judge scale)."""
    hits = sum(any(_contains(explanation_tokens, alt) for alt in group) for group in point.groups)
    if hits == len(point.groups):
        return 1.0
    return 0.5 if hits * 2 >= len(point.groups) else 0.0


def story_score(explanation: str, story: Story) -> tuple[float, list[float]]:
    toks = tokens(explanation)
    scores = [criterion_score(toks, p) for p in story.key_points]
    return sum(p.weight * s for p, s in zip(story.key_points, scores)), scores


class TurtleEnv(Env):
    spec = EnvSpec(
        name="turtle",
        description="Lateral-thinking puzzles: ask yes/no questions, then explain the hidden story.",
        choices=("action", "answer"),
        action_kind=ActionKind.ASK,
        max_steps=16,
        backends=("offline", "llm"),
    )

    def __init__(self, max_steps: int | None = None, success_threshold: float = SUCCESS_THRESHOLD,
                 matcher: str = "lexical", user: str = "offline", llm: LLMUserConfig | None = None) -> None:
        super().__init__(max_steps)
        self.success_threshold = success_threshold
        self.matcher = matcher_kind(matcher)
        self.llm: LLMUser | None = backend_user(self.spec.name, self.spec.backends, user, llm)

    def tasks(self, split: str) -> list[Task]:
        return list(_tasks(split))

    def _reset(self, task: Task, seed: int) -> None:
        self.story = stories()[task.hidden["story_id"]]
        self.best = 0.0
        self.revealed: set[str] = set()
        self.exchanges: list[tuple[str, str]] = []  # (question, reply), for the llm user's redundancy rule

    def _step(self, action: Action) -> StepResult:
        if not action.valid:
            return StepResult(f"Invalid action format ({action.error}). Use interact_with_env with choice "
                              "'action' (a yes/no question) or 'answer' (your story).", 0.0, False,
                              {"success": False, "redundant": False, "info_gain_bits": 0.0, "revealed": []})
        if action.kind is ActionKind.FINISH:
            return StepResult("The game is over.", 0.0, True, {"success": False})
        if action.kind is ActionKind.ANSWER:
            return self._answer(action.content)
        if action.kind is ActionKind.SEARCH:
            return StepResult("Search is not available here: ask a yes/no question or tell your story.", 0.0,
                              False, {"success": False, "redundant": False, "revealed": []})
        return self._question(action.content)

    def _question(self, question: str) -> StepResult:
        if self.llm is not None:
            return self._llm_question(question)
        match = self.story.matcher(self.matcher).match(question)
        if match is None:
            info = {"matched": None, "match_score": 0.0, "revealed": [], "redundant": True, "info_gain_bits": 0.0}
            return StepResult(reply(None), 0.0, False, {"success": False, **info})
        fact = next(f for f in self.story.facts if f.id == match.key)
        new = fact.id not in self.revealed
        self.revealed.add(fact.id)
        info = {"matched": fact.id, "match_score": round(match.score, 4), "revealed": [fact.id] if new else [],
                "redundant": not new, "info_gain_bits": 1.0 if new else 0.0}
        return StepResult(reply(fact), 0.0, False, {"success": False, **info})

    def _answer(self, story_text: str) -> StepResult:
        if not story_text.strip():
            return StepResult("Your story is empty: tell me what really happened.", 0.0, False, {"success": False})
        if self.llm is None:
            score, per_criterion = story_score(story_text, self.story)
        else:
            judged = judge_story(self.llm, self.story.story_id, story_text, turn_seed(self.seed, self.steps))
            if judged is None:
                return StepResult(JUDGE_FALLBACK, 0.0, False, {"success": False, "fallback": True})
            score, per_criterion = judged
        reward = max(0.0, score - self.best)
        self.best = max(self.best, score)
        covered = [p.statement for p, s in zip(self.story.key_points, per_criterion) if s == 1.0]
        success = score >= self.success_threshold - 1e-9
        if covered:
            text = ("Here are the evaluation points your story effectively covers:\n"
                    + "\n".join(f"- {c}: Covered" for c in covered))
        else:
            text = "Your story does not yet cover any of the key points."
        if success:
            text = "You solved it!\n" + text
        return StepResult(text, round(reward, 6), success,
                          {"success": success, "story_score": round(score, 6), "criteria": per_criterion,
                           "reward_components": {"task": round(reward, 6)}})

    def _llm_question(self, question: str) -> StepResult:
        answer = ask_story(self.llm, self.story.story_id, question, turn_seed(self.seed, self.steps))
        return answer_step(answer, question, self.exchanges)


QUESTION_SYSTEM = """You host a lateral-thinking puzzle (a "turtle soup"). The player has read the puzzle and \
asks you yes/no questions to work out the hidden story behind it.

Judge each question against the hidden story:
- "Yes": what the question asks or states is true in the hidden story.
- "No": it is false there, contradicts it, or is far from it.
- "Maybe": the hidden story and the puzzle leave it open, or it has no bearing on them. Use "Maybe" rarely: \
give a clear "Yes" or "No" whenever the story allows one.
The player sees only that one word: never reveal anything else about the hidden story.

Reply with one JSON object and nothing else:
{"thought": "<how the question relates to the hidden story>", "response": "Yes" or "No" or "Maybe"}"""

QUESTION_PROMPT = """## Puzzle (what the player sees)
{surface}

## Hidden story (never reveal it)
{bottom}

## Player's question
{question}"""

JUDGE_SYSTEM = """You judge a player's explanation of a lateral-thinking puzzle (a "turtle soup") against the \
hidden story, one criterion at a time.

For each criterion give one score:
- 1: the explanation clearly states what the criterion asks for, in any wording;
- 0.5: it gets the criterion partly right, or only vaguely;
- 0: it misses the criterion or contradicts it.
Judge only what the explanation says; hedging between several possibilities earns no credit.

Reply with one JSON object and nothing else, one score per criterion in the order given:
{"scores": [{"criterion": 1, "thought": "<why>", "score": 0 or 0.5 or 1}, ...]}"""

JUDGE_PROMPT = """## Puzzle
{surface}

## Hidden story
{bottom}

## Criteria
{criteria}

## Player's explanation
{explanation}"""

JUDGE_FALLBACK = "I can't judge your story right now. Please tell it again."
CRITERION_SCORES = (0.0, 0.5, 1.0)


def ask_story(user: LLMUser, story_id: str, question: str, seed: int) -> str | None:
    """The LLM user's "Yes" / "No" / "Maybe" to a question about a story, or None when it gave none."""
    record = _rubrics()[story_id]
    prompt = QUESTION_PROMPT.format(surface=record["new_surface"], bottom=record["new_bottom"], question=question)
    return yes_no(user.ask_json(QUESTION_SYSTEM, prompt, seed=seed), "response")


def judge_story(user: LLMUser, story_id: str, explanation: str, seed: int) -> tuple[float, list[float]] | None:
    """The judge's weighted rubric score of an explanation and its per-criterion scores (each snapped to 0 /
    0.5 / 1), or None when the reply has no score per criterion."""
    record = _rubrics()[story_id]
    criteria = record["evaluation"]
    listed = "\n".join(f"{i}. {c['statement']}" for i, c in enumerate(criteria, 1))
    prompt = JUDGE_PROMPT.format(surface=record["new_surface"], bottom=record["new_bottom"], criteria=listed,
                                 explanation=explanation)
    scores = (user.ask_json(JUDGE_SYSTEM, prompt, seed=seed) or {}).get("scores")
    if not isinstance(scores, list) or len(scores) != len(criteria):
        return None
    values = []
    for item in scores:
        value = item.get("score") if isinstance(item, dict) else item
        try:
            value = float(value)
        except (TypeError, ValueError):
            return None
        values.append(min(CRITERION_SCORES, key=lambda allowed: abs(allowed - value)))
    return sum(float(c["score"]) * v for c, v in zip(criteria, values)), values


@per_data_dir
def _tasks(split: str) -> tuple[Task, ...]:
    by_title = {(s.title, s.split): s for s in stories().values()}
    tasks = []
    for row in load_split("turtle_multiturn", split):
        story = by_title.get((row["reward_model"]["title"], split))
        if story is None:
            continue
        prompt = prompt_of(row)
        hidden = {"story_id": story.story_id, "bottom": row["reward_model"]["bottom"]}
        tasks.append(Task(story.story_id, "turtle", split, prompt, hidden))
    if not tasks:
        raise DataError(f"no turtle {split} story has a fact sheet")
    return tuple(tasks)


def paraphrase_probes(split: str = "test", kind: str = "lexical") -> list[Probe]:
    """Held-out matcher probes of `bao/data/turtle/paraphrases_<split>.json` (dev, test or heldout)."""
    known = stories()
    records = [r for r in load_sheet(sheet_path("turtle", f"paraphrases_{split}.json")) if r["story_id"] in known]
    return probes_from(records, lambda r: _matcher(r["story_id"], kind), "fact",
                       reply_of=lambda r: _replier(r["story_id"]))


def _replier(story_id: str) -> Callable[[str | None], str]:
    facts = {f.id: f for f in stories()[story_id].facts}
    return lambda fact_id: reply(facts[fact_id] if fact_id is not None else None)
