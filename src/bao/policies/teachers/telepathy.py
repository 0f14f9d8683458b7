"""The TelepathyGym teacher: twenty questions by information gain, written as BAO behaviors.

World knowledge is the knowledge base, replayed as the scripted heuristic does (`replay`): the teacher keeps
the entities consistent with every answer and asks the attribute question with the largest expected
information gain. It reads the hidden entity for one choice only: among questions within `NEAR_BEST` of the
best gain it takes the one whose true answer leaves the fewest candidates. Once at most `GUESS_AT` candidates
remain (or no question splits them, or the budget runs out) it guesses one of them at random, so the data also
shows what to do after a wrong guess; its plan says `answer X`, the tool's own choice (plans that said `guess
X` taught the model to call a `guess` choice that does not exist). Its behavior names attributes by their
knowledge-base id, grouped by the user's answer (`yes: is_animal, europe; no: is_alive`), a Known list of at
most four items (with the category the user gave) however many questions were asked (a list that grows by one
item a turn taught the model to loop on it). Alive counts candidates while more than `LIST_AT` remain and
names them (sorted by title) once at most `LIST_AT` do: a model fine-tuned on counts alone wrote made-up
counts and, with no name ever in its reasoning until the last candidate, guessed names unrelated to what it
had asked. A short list is no leak even when it holds the target: it follows from the public knowledge base
and the answers alone, and `secrets` stops hiding the target exactly when that public list is short enough to
be written. The list ignores the category the user told (free text such as "a famous cocktail", not a
knowledge-base field), so it can pair a cocktail with a raisin.
"""

from __future__ import annotations

import re
from collections import Counter

from bao.agent.behaviors import Behavior
from bao.core.types import Task, Trajectory
from bao.envs.telepathy import Entity, consistent, knowledge_base
from bao.policies.base import Context, history_of
from bao.policies.scripted.telepathy import entropy, replay
from bao.policies.teachers.base import Move, Teacher

NEAR_BEST = 0.9
GUESS_AT = 2
LIST_AT = 4
_TOLD = re.compile(r"thinking of (an? [^.!?]+)", re.IGNORECASE)


def _alive(alive: list[Entity]) -> tuple[str, ...]:
    if len(alive) <= LIST_AT:
        return tuple(sorted(e.title for e in alive))
    return (f"{len(alive)} candidates",)


class TelepathyTeacher(Teacher):
    env = "telepathy"
    broken_turns = (1, 8)  # its episodes run 7 to 16 turns, and its loops in evaluation began at turns 10 and 11

    def move(self, ctx: Context) -> Move:
        kb = knowledge_base()
        state = replay(ctx.history)
        alive = state.alive
        told = _TOLD.search(ctx.task.prompt[-1]["content"])
        known = ([f"it is {told.group(1).strip()}"] if told else []) + [
            f"{answer}: {', '.join(ids)}" for answer, ids in state.by_answer.items() if ids
        ]
        ruled_out = (*(f"{guess} (wrong answer)" for guess in state.wrong),
                     f"{len(kb.entities) - len(alive)} of {len(kb.entities)} entities")
        budget = self.budget(ctx)
        gains = {a.id: entropy(alive, a.id) for a in kb.attributes if a.id not in state.asked}
        best = max(gains.values(), default=0.0)
        if alive and (len(alive) <= GUESS_AT or best <= 0.0 or budget <= 1):
            guess = ctx.rng.choice(alive).title
            plan = (f"answer {guess}, the only candidate left" if len(alive) == 1
                    else f"answer {guess}, one of {len(alive)} candidates")
            return Move("answer", guess, Behavior(tuple(known), _alive(alive), ruled_out, plan, budget))
        if not alive:
            return Move("finish", "", Behavior(tuple(known), (), ruled_out, "give up: no candidate fits", budget))
        target = kb.entity(ctx.task.hidden["title"])
        near = [a for a, g in gains.items() if g >= NEAR_BEST * best]
        attribute = min(near, key=lambda a: (sum(consistent(e, a, target.values[a]) for e in alive), -gains[a]))
        split = Counter(e.values[attribute] for e in alive)
        parts = " / ".join(f"{split[v]} {v}" for v in ("yes", "no", "maybe") if split[v])
        plan = f"ask {attribute}: splits {len(alive)} candidates into {parts}"
        question = next(a.question for a in kb.attributes if a.id == attribute)
        return Move("action", question, Behavior(tuple(known), _alive(alive), ruled_out, plan, budget))

    @staticmethod
    def secrets(task: Task, traj: Trajectory, turn: int) -> list[str]:
        entity = knowledge_base().entity(task.hidden["title"])
        alive = replay(history_of(traj.turns[:turn])).alive
        if len(alive) <= LIST_AT and entity in alive:
            return []
        return [entity.title, *entity.aliases]


TEACHER = TelepathyTeacher
