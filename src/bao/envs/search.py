"""SearchGym (multi-hop question answering with search) on the 125 Bamboogle questions.

The agent gets a two-hop question ("Who was president of the United States in the year that Citibank was
founded?"), searches (`[search] query`), and answers (`[answer] text`); `[finish]` gives up and reveals the
answer. Data: `gyms/search/questions.json` (id, question, gold answer) and the official split
`splits/bamboogle_multiturn/test.parquet`. Bamboogle is test-only: **there is no train split** (UserRL
evaluates on it and never trains on it), so `tasks("train")` raises `DataError`.

Kept from UserRL (commit cf55a30, SearchGym, as described in USERRL_NOTES 1.8):
- at most `max_search_steps` = 5 searches, with up to 5 results each; later searches are refused with a
  request to answer; a search scores 0;
- an answer is first checked by normalised exact match (lowercase, alphanumerics only); correct scores
  1.0 and ends the episode, a wrong answer scores 0 and the episode goes on (the agent may answer again);
- `[finish]` ends the episode with 0 and reveals the correct answer; turn limit 16 (UserRL's training and
  eval setting).
Deviations:
- search: UserRL queried the live web through the Serper API (google.serper.dev, answer box plus organic
  title/snippet). bao's env takes any `SearchBackend` (`bao.envs.search_index`); the default is BM25 over a
  small corpus written for bao from the task data (the facts each question's two hops need, plus
  distractors). Retrieval is therefore far easier than the web: the corpus holds little besides the answers;
- judge: after the exact match UserRL asks an LLM judge (`{reasoning, judgment: Yes|No, feedback}`). With
  `user="offline"` (default) bao's judge accepts instead, in order: an alias from `bao/data/search/
  aliases.json` (a typo in a gold answer, an acronym, a unit spelled out), a token F1 >= `F1_THRESHOLD` over
  accent-folded words (so "Madison" for "James Madison", "June 20, 1837" for "20 June 1837"), or the gold's
  words inside an answer at most `CONTAINS_SLACK` words longer ("the letter l"); the F1 and containment
  rules also require the same numbers on both sides ("April 30, 1790" is not "April 30, 1789").
  `user="llm"` (with `llm=LLMUserConfig(model=...)`) asks an LLM judge (`bao.users.llm`, bao's own prompt
  returning UserRL's `{reasoning, judgment, feedback}`) after the exact match, as UserRL does; a reply
  without that JSON counts as wrong;
- `[action]` is refused with a format message (the gym exposes only `search` and `answer`).
Effort: answers count as user effort (the user checks them); searches do not. `info` records the passages a
search revealed and marks `redundant` a search that showed nothing new or an answer already given.
"""

from __future__ import annotations

import re
from functools import lru_cache

from bao.core.types import Action, ActionKind, StepResult, Task
from bao.envs.base import PAPER_EFFORT, Env, EnvSpec
from bao.envs.data import DataError, load_json, load_split, per_data_dir, prompt_of
from bao.envs.search_index import Passage, SearchBackend, default_index
from bao.users.knowledge import load_sheet, sheet_path
from bao.users.llm import LLMUser, LLMUserConfig, backend_user, turn_seed
from bao.users.text import normalize_name

MAX_SEARCH_STEPS = 5
MAX_RESULTS = 5
F1_THRESHOLD = 0.6
CONTAINS_SLACK = 3
SEARCH_LIMIT = "You have used all {n} searches. Please provide an answer now."
WRONG = "Incorrect answer. You may search for more information or try another answer."
NO_ACTION = "SearchGym has no `action`: use `search` with a query, or `answer` with your answer."
_DIGIT_COMMA = re.compile(r"(?<=\d),(?=\d{3})")


def exact_key(text: str) -> str:
    """UserRL's exact-match normalisation: lowercase, alphanumerics only."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


def answer_words(text: str) -> list[str]:
    """Accent-folded lowercase words without articles; thousands separators dropped ("4,884" -> "4884")."""
    return normalize_name(_DIGIT_COMMA.sub("", text)).split()


def token_f1(answer: list[str], gold: list[str]) -> float:
    common = sum(min(answer.count(w), gold.count(w)) for w in set(answer))
    if not common:
        return 0.0
    precision, recall = common / len(answer), common / len(gold)
    return 2 * precision * recall / (precision + recall)


def _numbers(words: list[str]) -> set[str]:
    return {w for w in words if w.isdigit()}


def judge_offline(answer: str, gold: str, aliases: tuple[str, ...] = ()) -> str | None:
    """How `answer` matches the gold (`exact`, `alias`, `f1`, `contains`), or None when it does not."""
    if exact_key(answer) and exact_key(answer) == exact_key(gold):
        return "exact"
    if any(exact_key(answer) == exact_key(alias) for alias in aliases):
        return "alias"
    words, gold_words = answer_words(answer), answer_words(gold)
    if not words or not gold_words or _numbers(words) != _numbers(gold_words):
        return None
    if token_f1(words, gold_words) >= F1_THRESHOLD:
        return "f1"
    padded, phrase = f" {' '.join(words)} ", f" {' '.join(gold_words)} "
    if phrase in padded and len(words) <= len(gold_words) + CONTAINS_SLACK:
        return "contains"
    return None


JUDGE_SYSTEM = """You check answers to trivia questions. Given the question, the gold answer and a candidate
answer, decide whether the candidate gives the same answer as the gold: accept other spellings, aliases,
formats of dates and numbers, and extra detail that does not contradict the gold; reject a different or
vaguer answer. Reply with one JSON object only: {"reasoning": "...", "judgment": "Yes" or "No",
"feedback": "one sentence for the person who answered"}."""


def llm_judge(user: LLMUser, question: str, gold: str, answer: str, seed: int) -> bool:
    """UserRL's judge step, played by an LLM: True when it says "Yes"; a reply without the JSON counts as "No"
    (as in UserRL)."""
    prompt = (f"Question: {question}\nGold answer: {gold}\nCandidate answer: {answer}\n\n"
              "Respond with the JSON object.")
    reply = user.ask_json(JUDGE_SYSTEM, prompt, seed=seed)
    return isinstance(reply, dict) and str(reply.get("judgment", "")).strip().lower() == "yes"


def format_results(query: str, passages: list[Passage]) -> str:
    if not passages:
        return f'No results found for "{query}". Try other words.'
    lines = [f'Search results for "{query}":']
    lines += [f"{i}. {p.title}: {p.text}" for i, p in enumerate(passages, 1)]
    return "\n".join(lines)


class SearchEnv(Env):
    spec = EnvSpec(
        name="search",
        description="Multi-hop QA (Bamboogle): search a corpus (offline BM25; UserRL: web search), then answer.",
        choices=("search", "answer"),
        action_kind=ActionKind.ACT,
        user_kinds=PAPER_EFFORT,
        max_steps=16,
        backends=("offline", "llm"),
        splits=("test",),
    )

    def __init__(self, max_steps: int | None = None, user: str = "offline", llm: LLMUserConfig | None = None,
                 search: SearchBackend | None = None, max_search_steps: int = MAX_SEARCH_STEPS,
                 max_results: int = MAX_RESULTS) -> None:
        super().__init__(max_steps)
        self.llm: LLMUser | None = backend_user(self.spec.name, self.spec.backends, user, llm)
        self.backend = search
        self.max_search_steps = max_search_steps
        self.max_results = max_results

    def tasks(self, split: str) -> list[Task]:
        return list(_tasks(split))

    def _reset(self, task: Task, seed: int) -> None:
        self.searches = 0
        self.shown: set[str] = set()
        self.answers: set[str] = set()

    def _step(self, action: Action) -> StepResult:
        if not action.valid:
            return self._result(f"Invalid action format ({action.error}). Use interact_with_env with choice "
                                "'search' (a query) or 'answer' (your answer).")
        if action.kind is ActionKind.FINISH:
            return self._result(f"The correct answer is: {self.task.hidden['answer']}.", done=True)
        if action.kind is ActionKind.SEARCH:
            return self._search(action.content.strip())
        if action.kind is ActionKind.ANSWER:
            return self._answer(action.content.strip())
        return self._result(NO_ACTION)

    def _search(self, query: str) -> StepResult:
        if not query:
            return self._result("Your search query is empty: write what to look up.")
        if self.searches >= self.max_search_steps:
            return self._result(SEARCH_LIMIT.format(n=self.max_search_steps), redundant=True)
        self.searches += 1
        passages = (self.backend or default_index()).search(query, self.max_results)
        new = [p.id for p in passages if p.id not in self.shown]
        self.shown.update(new)
        return self._result(format_results(query, passages), revealed=new, redundant=not new,
                            results=[p.id for p in passages])

    def _answer(self, answer: str) -> StepResult:
        if not answer:
            return self._result("Your answer is empty: write the answer to the question.")
        hidden = self.task.hidden
        if self.llm is not None:  # UserRL: the exact match, then the LLM judge decides
            how = "exact" if exact_key(answer) == exact_key(hidden["answer"]) else self._llm_judge(answer)
        else:
            how = judge_offline(answer, hidden["answer"], hidden["aliases"])
        repeated = exact_key(answer) in self.answers
        self.answers.add(exact_key(answer))
        if how is None:
            return self._result(WRONG, redundant=repeated, judged_by=None)
        return StepResult(f"Correct! The answer is {hidden['answer']}.", 1.0, True,
                          {"success": True, "redundant": repeated, "revealed": [], "judged_by": how})

    def _llm_judge(self, answer: str) -> str | None:
        hidden = self.task.hidden
        correct = llm_judge(self.llm, hidden["question"], hidden["answer"], answer, turn_seed(self.seed, self.steps))
        return "llm" if correct else None

    def _result(self, text: str, done: bool = False, redundant: bool = False, revealed: list[str] | None = None,
                **extra: object) -> StepResult:
        info = {"success": False, "redundant": redundant, "revealed": revealed or [], **extra}
        return StepResult(text, 0.0, done, info)


@lru_cache(maxsize=1)
def aliases() -> dict[str, tuple[str, ...]]:
    """Accepted alternative answers per question id (`bao/data/search/aliases.json`)."""
    path = sheet_path("search", "aliases.json")
    raw = load_sheet(path)
    if not isinstance(raw, dict) or not all(isinstance(v, list) for v in raw.values()):
        raise DataError(f"{path}: expected an object mapping question ids to lists of answers")
    return {key: tuple(map(str, value)) for key, value in raw.items()}


@per_data_dir
def _tasks(split: str) -> tuple[Task, ...]:
    if split != "test":
        raise DataError(f"search has no {split!r} split: Bamboogle is test-only (UserRL never trains on it)")
    questions = {q["id"]: q for q in load_json("gyms", "search", "questions.json")}
    tasks = []
    for i, row in enumerate(load_split("bamboogle_multiturn", split)):
        task_id = (row.get("reward_model") or {}).get("id")
        if task_id not in questions:
            raise DataError(f"splits/bamboogle_multiturn/{split}.parquet row {i}: id {task_id!r} is not in "
                            "gyms/search/questions.json")
        q = questions[task_id]
        tasks.append(Task(task_id, "search", split, prompt_of(row),
                          {"question": q["question"], "answer": q["answer"], "aliases": aliases().get(task_id, ())}))
    return tuple(tasks)
