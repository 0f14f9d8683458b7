"""The TelepathyGym teacher: twenty questions by information gain, written as BAO behaviors.

World knowledge is the knowledge base (as for the scripted heuristic): the teacher keeps the entities
consistent with every answer and asks the attribute question with the largest expected information gain. It
reads the hidden entity for one choice only: among questions within `NEAR_BEST` of the best gain it takes the
one whose true answer leaves the fewest candidates. Once at most `GUESS_AT` candidates remain (or no question
splits them, or the budget runs out) it guesses one of them at random, so the data also shows what to do after
a wrong guess; its plan says `answer X`, the tool's own choice (plans that said `guess X` taught the model to
call a `guess` choice that does not exist). Its behavior names attributes by their knowledge-base id, grouped
by the user's answer (`yes: is_animal, europe; no: is_alive`), a Known list of at most four items (with the
category the user gave) however many questions were asked (a list that grows by one item a turn taught the
model to loop on it), and counts candidates instead of listing them, naming one only when it is the last: a
list that happens to contain the target would tell more than the agent knows.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from bao.agent.behaviors import Behavior
from bao.core.types import Task, Trajectory
from bao.envs.telepathy import Entity, consistent, knowledge_base
from bao.policies.base import Context
from bao.policies.teachers.base import Move, Teacher

NEAR_BEST = 0.9
GUESS_AT = 2
_TOLD = re.compile(r"thinking of (an? [^.!?]+)", re.IGNORECASE)


def _entropy(alive: list[Entity], attribute: str) -> float:
    counts = Counter(e.values[attribute] for e in alive)
    n = len(alive)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


class TelepathyTeacher(Teacher):
    env = "telepathy"
    broken_turns = (1, 8)  # its episodes run 7 to 16 turns, and its loops in evaluation began at turns 10 and 11

    def move(self, ctx: Context) -> Move:
        kb = knowledge_base()
        by_question = {a.question: a.id for a in kb.attributes}
        alive, asked, wrong = list(kb.entities), set(), []
        by_answer: dict[str, list[str]] = {"yes": [], "no": [], "maybe": []}
        for choice, content, reply in ctx.history:
            answer = reply.strip(". ").lower()
            if choice == "action" and content in by_question and answer in by_answer:
                attribute = by_question[content]
                asked.add(attribute)
                by_answer[answer].append(attribute)
                alive = [e for e in alive if consistent(e, attribute, answer)]
            elif choice == "answer":
                wrong.append(f"{content} (wrong answer)")
                alive = [e for e in alive if e.title != content]
        told = _TOLD.search(ctx.task.prompt[-1]["content"])
        known = ([f"it is {told.group(1).strip()}"] if told else []) + [
            f"{answer}: {', '.join(ids)}" for answer, ids in by_answer.items() if ids
        ]
        ruled_out = (*wrong, f"{len(kb.entities) - len(alive)} of {len(kb.entities)} entities")
        budget = self.budget(ctx)
        gains = {a.id: _entropy(alive, a.id) for a in kb.attributes if a.id not in asked}
        best = max(gains.values(), default=0.0)
        if alive and (len(alive) <= GUESS_AT or best <= 0.0 or budget <= 1):
            guess = ctx.rng.choice(alive).title
            if len(alive) == 1:
                return Move("answer", guess, Behavior(tuple(known), (guess,), ruled_out,
                                                      f"answer {guess}, the only candidate left", budget))
            return Move("answer", guess, Behavior(tuple(known), (f"{len(alive)} candidates",), ruled_out,
                                                  f"answer {guess}, one of {len(alive)} candidates", budget))
        if not alive:
            return Move("finish", "", Behavior(tuple(known), (), ruled_out, "give up: no candidate fits", budget))
        target = kb.entity(ctx.task.hidden["title"])
        near = [a for a, g in gains.items() if g >= NEAR_BEST * best]
        attribute = min(near, key=lambda a: (sum(consistent(e, a, target.values[a]) for e in alive), -gains[a]))
        split = Counter(e.values[attribute] for e in alive)
        parts = " / ".join(f"{split[v]} {v}" for v in ("yes", "no", "maybe") if split[v])
        plan = f"ask {attribute}: splits {len(alive)} candidates into {parts}"
        question = next(a.question for a in kb.attributes if a.id == attribute)
        return Move("action", question, Behavior(tuple(known), (f"{len(alive)} candidates",), ruled_out, plan, budget))

    @staticmethod
    def secrets(task: Task, traj: Trajectory, turn: int) -> list[str]:
        entity = knowledge_base().entity(task.hidden["title"])
        return [entity.title, *entity.aliases]


TEACHER = TelepathyTeacher
