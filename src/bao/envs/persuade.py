"""PersuadeGym (change a persona's stance), on the statements of UserRL's persuasion split.

The user holds a claim (and the argument that backs it) at "Strongly Agree" on a 7-point scale; the agent
argues against it with `answer` (UserRL's prompt exposes only `answer`; `[action] ...` behaves the same).
The gym's statement file is not public: each row of `splits/persuasion_multiturn/{train,test}.parquet`
carries its claim and argument, which is all the persona needs (378 train / 42 test rows; the 27 test
claims all appear in train with other arguments).

Kept exactly from UserRL (commit cf55a30, `persuadegym/prompts.py`):
- the scale `STANCES`, the start at "Strongly Agree", and the reward of a step: the levels moved toward
  disagreement *since the previous stance*, 0 when it did not move forward, levels/6 (rounded to 6
  places), 1.0 at 6 levels or more. Backsliding then re-advancing is paid again, so the return can exceed 1
  (only the LLM persona can backslide);
- the episode terminates at "Strongly Disagree" or on `[finish]` ("Conversation ended.", reward 0); turn
  limit 16, as UserRL's training and eval run it.
Backends (`PersuadeEnv(user=...)`):
- `offline` (default): `HeuristicPersona`, deterministic and NOT faithful: UserRL's persuadee is an LLM
  whose stance is its own judgement. The offline persona moves at most one level per turn, and only when
  the argument engages the debate: it shares at least two content words with the claim or rebuts one of
  the persona's reasons (the sentences of its stored argument), carries a counter-evidence cue
  ("however", "evidence", "risk"...), has at least `MIN_CONTENT_WORDS` content words, and is not a
  near-repeat of an earlier argument. From "Neutral" on, each further level also needs the rebuttal of a
  reason not rebutted before. Unmoved, it says why and, past the first half of the scale, voices the reason
  it still holds. Its replies are short templates that state the stance ("My stance is now: Neutral.").
- `llm` (`PersuadeEnv(user="llm", llm=LLMUserConfig(model=...))`): `LLMPersona`, an LLM plays the persuadee
  through `bao.users.llm`, with bao's own prompt following UserRL's rules: it sees the claim, its initial
  argument, its previous stance, the history and the latest argument, and returns JSON `{thought, response,
  stance}`; the reply is `response`. A reply without that JSON gets UserRL's fallback line, the stance kept
  and reward 0 (an endpoint that stays down raises and stops the run, see `bao.users.llm`); a stance off the
  scale is read case-insensitively, else the previous stance is kept (UserRL would store the stray string
  and pay 0 from then on).
`redundant` marks an argument that near-repeats an earlier one (content-word Jaccard >= `REPEAT_JACCARD`,
`bao.users.redundancy.overlap`); with the LLM persona also a fallback reply and what `bao.users.redundancy.
is_redundant` flags from the conversation (a non-answer reply, a rephrasing that got the same reply).
Every argument reaches the user, so both questions and answers count as user effort. Success means the
persona reached "Strongly Disagree".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Protocol

from bao.core.types import Action, ActionKind, StepResult, Task
from bao.envs.base import Env, EnvSpec
from bao.envs.data import DataError, load_split, per_data_dir, prompt_of
from bao.users.llm import LLMUser, LLMUserConfig, backend_user, turn_seed
from bao.users.redundancy import is_redundant, overlap
from bao.users.text import tokens

STANCES = ("Strongly Agree", "Agree", "Partly Agree", "Neutral", "Partly Disagree", "Disagree", "Strongly Disagree")
NEUTRAL = STANCES.index("Neutral")
LAST = len(STANCES) - 1
REPEAT_JACCARD = 0.6
MIN_CONTENT_WORDS = 8
MIN_CLAIM_OVERLAP = 2
REASON_MIN_WORDS = 5  # content words beyond the claim's that a sentence of the stored argument needs to be a reason
REBUT_SHARE = 0.3  # share of a reason's specific words (not the claim's) an argument must use to rebut it
CUES = frozenset(
    """however but although though yet instead contrary evidence studies study research data statistics shows
    show showed proven risk risks harm harms harmful cost costs costly expensive unfair inequality fails fail
    failure ignores ignore overlooks overlook problem problems downside downsides consequence consequences
    undermines undermine flawed example examples unintended burden danger dangerous""".split()
)
_WORD = re.compile(r"[a-z']+")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
ENDED = "Conversation ended."
LLM_FALLBACK = "I'm having trouble understanding your argument right now."
_ACKS = ("That's a fair point, and it gives me pause.", "You raise something I hadn't weighed enough.",
         "I have to admit that point lands.")


def stance_reward(previous: int, current: int) -> float:
    """UserRL's `calculate_persuasion_reward` on stance indices: forward levels / 6, clipped to [0, 1]."""
    levels = current - previous
    if levels <= 0:
        return 0.0
    return 1.0 if levels >= LAST else round(levels / LAST, 6)


def stance_index(label: str) -> int | None:
    """The index of a stance label on the scale, read case- and space-insensitively; None off the scale."""
    norm = " ".join(str(label).lower().split())
    for i, stance in enumerate(STANCES):
        if stance.lower() == norm:
            return i
    return None


def content_words(text: str) -> frozenset[str]:
    return frozenset(tokens(text))


def near_repeat(argument: str, earlier: list[str]) -> bool:
    """True when `argument` and an earlier argument share at least `REPEAT_JACCARD` of their content words."""
    return any(overlap(argument, old) >= REPEAT_JACCARD for old in earlier)


def reasons_of(claim: str, argument: str) -> tuple[str, ...]:
    """The persona's reasons: the sentences of its stored argument with at least `REASON_MIN_WORDS` content
    words beyond the claim's, in order (the first is the one it holds most strongly)."""
    claim_words = content_words(claim)
    sentences = [s.strip() for s in _SENTENCE.split(argument.strip()) if s.strip()]
    return tuple(s for s in sentences if len(content_words(s) - claim_words) >= REASON_MIN_WORDS)


@dataclass
class Debate:
    """The debate so far, as a persona sees it: `stance` indexes `STANCES`; `history` holds (argument, reply)."""

    claim: str
    argument: str
    stance: int = 0
    history: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Reply:
    """A persona's answer to one argument: what it says, its new stance, and why (`note`, for `info`)."""

    text: str
    stance: int
    note: str


class Persona(Protocol):
    def respond(self, debate: Debate, argument: str, redundant: bool, seed: int) -> Reply: ...


def stance_sentence(stance: int) -> str:
    return f"My stance is now: {STANCES[stance]}."


class HeuristicPersona:
    """The offline persona (see the module docstring); not faithful to UserRL's LLM persuadee."""

    def __init__(self, claim: str, argument: str) -> None:
        self.claim_words = content_words(claim)
        self.reasons = reasons_of(claim, argument)
        self.specific = [content_words(r) - self.claim_words for r in self.reasons]
        self.rebutted: set[int] = set()

    def rebuttal(self, words: frozenset[str]) -> int | None:
        """The not-yet-rebutted reason the argument engages most, if it uses enough of that reason's words."""
        best, best_share = None, 0.0
        for i, specific in enumerate(self.specific):
            if i in self.rebutted:
                continue
            shared = len(words & specific)
            share = shared / len(specific)
            if shared >= 2 and share >= REBUT_SHARE and share > best_share:
                best, best_share = i, share
        return best

    def held_reason(self) -> str | None:
        for i, reason in enumerate(self.reasons):
            if i not in self.rebutted:
                return reason
        return None

    def respond(self, debate: Debate, argument: str, redundant: bool, seed: int) -> Reply:
        words = content_words(argument)
        stance = debate.stance
        rebuts = self.rebuttal(words)
        if redundant:
            return self._hold(stance, "repeat", "You've already made that point, and it hasn't changed my view.")
        if len(words) < MIN_CONTENT_WORDS:
            return self._hold(stance, "too-short", "That's too brief to change my mind: make a full argument.")
        if len(words & self.claim_words) < MIN_CLAIM_OVERLAP and rebuts is None:
            return self._hold(stance, "off-topic", "I don't see how that bears on the claim we're discussing.")
        if not CUES & set(_WORD.findall(argument.lower())):
            return self._hold(stance, "no-evidence", "That's an assertion, not evidence or a real objection.")
        if stance >= NEUTRAL and rebuts is None:
            return self._hold(stance, "reason-unanswered", "I hear you, but you haven't addressed my reasoning.")
        if rebuts is not None:
            self.rebutted.add(rebuts)
        new = stance + 1
        ack = _ACKS[(seed + len(debate.history)) % len(_ACKS)]
        if new == LAST:
            return Reply(f"{ack} You've changed my mind. {stance_sentence(new)}", new, "moved")
        return Reply(f"{ack} {stance_sentence(new)}", new, "moved")

    def _hold(self, stance: int, note: str, opener: str) -> Reply:
        reason = self.held_reason() if stance >= NEUTRAL else None
        held = f" I still hold that {reason[0].lower()}{reason[1:]}" if reason else ""
        return Reply(f"{opener}{held} My stance remains: {STANCES[stance]}.", stance, note)


PERSONA_SYSTEM = """You are role-playing a person in a debate. You believe a statement and explained why in your
initial argument. Someone (the persuader) is trying to change your mind. For each new argument:
- read it critically and honestly; point out flaws, fallacies or missing evidence when you see them;
- change your stance only as far as the arguments so far genuinely warrant, and never for mere repetition;
- answer the persuader directly in the second person ("you", "your"), naturally, in at most 150 words.
Possible stances: Strongly Agree, Agree, Partly Agree, Neutral, Partly Disagree, Disagree, Strongly Disagree.
Reply with one JSON object only: {"thought": "your private reasoning", "response": "what you say to the
persuader", "stance": "one of the seven stances"}."""


def llm_prompt(debate: Debate, argument: str) -> str:
    """The persuadee's user message: claim, initial argument, previous stance, history, latest argument."""
    turns = "\n\n".join(f"Turn {i}:\nPersuader: {arg}\nYou: {reply}"
                        for i, (arg, reply) in enumerate(debate.history, 1)) or "None yet: this is the first argument."
    return (f"Statement: {debate.claim}\n\nYour initial argument:\n{debate.argument}\n\n"
            f"Your stance before this argument: {STANCES[debate.stance]}\n\nConversation so far:\n{turns}\n\n"
            f"The persuader's latest argument:\n{argument}\n\nRespond with the JSON object.")


class LLMPersona:
    """The persuadee played by an LLM (`bao.users.llm`)."""

    def __init__(self, user: LLMUser) -> None:
        self.user = user

    def respond(self, debate: Debate, argument: str, redundant: bool, seed: int) -> Reply:
        reply = self.user.ask_json(PERSONA_SYSTEM, llm_prompt(debate, argument), seed=seed)
        if not isinstance(reply, dict) or not isinstance(reply.get("response"), str):
            return Reply(LLM_FALLBACK, debate.stance, "llm-fallback")
        stance = stance_index(reply.get("stance", ""))
        if stance is None:
            return Reply(reply["response"], debate.stance, "llm-stance-off-scale")
        return Reply(reply["response"], stance, "llm")


class PersuadeEnv(Env):
    spec = EnvSpec(
        name="persuade",
        description="Persuasion: argue until the user drops its stance on a claim (reward = stance change).",
        choices=("answer",),
        action_kind=ActionKind.ASK,
        user_kinds=frozenset({ActionKind.ASK, ActionKind.ANSWER}),
        max_steps=16,
        backends=("offline", "llm"),
    )

    def __init__(self, max_steps: int | None = None, user: str = "offline", llm: LLMUserConfig | None = None) -> None:
        super().__init__(max_steps)
        self.llm: LLMUser | None = backend_user(self.spec.name, self.spec.backends, user, llm)

    def tasks(self, split: str) -> list[Task]:
        return list(_tasks(split))

    def _reset(self, task: Task, seed: int) -> None:
        claim, argument = task.hidden["claim"], task.hidden["argument"]
        self.debate = Debate(claim, argument)
        self.persona: Persona = LLMPersona(self.llm) if self.llm else HeuristicPersona(claim, argument)

    def _step(self, action: Action) -> StepResult:
        stance = self.debate.stance
        if not action.valid:
            return self._result(f"Invalid action format ({action.error}). Use interact_with_env with choice "
                                "'answer' and your argument as the content.", stance, redundant=False)
        if action.kind is ActionKind.FINISH:
            return self._result(ENDED, stance, redundant=False, done=True)
        if action.kind is ActionKind.SEARCH:
            return self._result("There is nothing to search here: make your argument with `answer`.", stance,
                                redundant=False)
        argument = action.content.strip()
        if not argument:
            return self._result("You didn't say anything. Make your argument.", stance, redundant=False)
        earlier = list(self.debate.history)
        redundant = near_repeat(argument, [arg for arg, _ in earlier])
        reply = self.persona.respond(self.debate, argument, redundant, turn_seed(self.seed, self.steps))
        if self.llm is not None:  # with an LLM persona, the conversation rules of bao.users.redundancy too
            redundant = redundant or reply.note == "llm-fallback" or is_redundant(argument, earlier, reply.text)
        self.debate.history.append((argument, reply.text))
        self.debate.stance = reply.stance
        return self._result(reply.text, stance, redundant=redundant, done=reply.stance == LAST, note=reply.note)

    def _result(self, text: str, before: int, redundant: bool, done: bool = False, note: str = "") -> StepResult:
        after = self.debate.stance
        info = {"success": after == LAST, "stance": STANCES[after], "stance_before": STANCES[before],
                "redundant": redundant, "revealed": [], "persona": note}
        return StepResult(text, stance_reward(before, after), done or after == LAST, info)


@per_data_dir
def _tasks(split: str) -> tuple[Task, ...]:
    tasks = []
    for i, row in enumerate(load_split("persuasion_multiturn", split)):
        model = row.get("reward_model") or {}
        if not all(isinstance(model.get(k), str) and model.get(k) for k in ("id", "claim", "argument")):
            raise DataError(f"splits/persuasion_multiturn/{split}.parquet row {i}: reward_model lacks id, claim "
                            "or argument")
        tasks.append(Task(model["id"], "persuade", split, prompt_of(row),
                          {"claim": model["claim"], "argument": model["argument"]}))
    return tuple(tasks)
