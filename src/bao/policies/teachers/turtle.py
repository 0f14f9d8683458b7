"""The TurtleGym teacher: confirm the links of the hidden story one question at a time, then tell it.

The teacher reads the story's fact sheet and key points (hidden) to choose *which* questions to ask: greedily,
the true facts whose statements add most to the key-point score of the story it will tell, until that story
would reach full marks. It asks each chosen fact's own question, then answers with the statements of the
facts the user confirmed. Its behavior lists only the questions asked and their answers; the fact statements
appear only in the answer itself (the action), and the hidden story never does. Stories whose true facts
cannot reach full marks end below the threshold and are filtered out of teacher data.
"""

from __future__ import annotations

import re
from functools import lru_cache

from bao.agent.behaviors import Behavior
from bao.core.types import Task, Trajectory
from bao.envs.turtle import Fact, stories, story_score
from bao.policies.base import Context
from bao.policies.teachers.base import Move, Teacher


@lru_cache(maxsize=256)
def story_plan(story_id: str) -> tuple[Fact, ...]:
    """True facts chosen greedily by key-point gain until their statements score full marks (or nothing helps)."""
    story = stories()[story_id]
    chosen: list[Fact] = []
    score = 0.0
    pool = [f for f in story.facts if f.answer == "yes"]
    while score < 1.0 - 1e-9 and pool:
        gains = [(story_score(" ".join(c.statement for c in (*chosen, f)), story)[0], -i, f)
                 for i, f in enumerate(pool)]
        best_score, _, best = max(gains, key=lambda g: g[:2])
        if best_score <= score:
            break
        chosen.append(best)
        pool.remove(best)
        score = best_score
    return tuple(chosen)


def _story_so_far(known: tuple[str, ...]) -> str:
    return f"a story built on {len(known)} confirmed fact{'' if len(known) == 1 else 's'}"


def _item(question: str, reply: str) -> str:
    return f"{question.replace(';', ',').strip()} {reply.strip().rstrip('.').lower()}"


class TurtleTeacher(Teacher):
    env = "turtle"

    def move(self, ctx: Context) -> Move:
        plan = story_plan(ctx.task.hidden["story_id"])
        turns = ctx.questions
        asked = {content for content, _ in turns}
        known = tuple(_item(q, r) for q, r in turns if r.startswith("Yes"))
        ruled_out = tuple(_item(q, r) for q, r in turns if r.startswith("No"))
        budget = self.budget(ctx)
        todo = [f for f in plan if f.questions[0] not in asked]
        if todo and budget > 1:
            question = todo[0].questions[0]
            alive = (_story_so_far(known),) if known else ()
            return Move("action", question, Behavior(known, alive, ruled_out,
                                                     "ask whether the next link of the story holds", budget))
        confirmed = {q for q, r in turns if r.startswith("Yes")}
        story = " ".join(f.statement for f in plan if f.questions[0] in confirmed)
        return Move("answer", story, Behavior(known, (_story_so_far(known),), ruled_out,
                                              "tell the story that links every confirmed fact", budget))

    @staticmethod
    def secrets(task: Task, traj: Trajectory, turn: int) -> list[str]:
        story = stories()[task.hidden["story_id"]]
        revealed = {fact for t in traj.turns[:turn] for fact in t.info.get("revealed", [])}
        sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", task.hidden["bottom"]) if len(s.split()) >= 4]
        return [task.hidden["bottom"], *sentences, *(f.statement for f in story.facts if f.id not in revealed)]


TEACHER = TurtleTeacher
