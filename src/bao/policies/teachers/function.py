"""The FunctionGym teacher: hypothesis elimination over the public rule family, written as BAO behaviors.

World knowledge is the scripted heuristic's hypothesis space (the train split's rules plus flat expressions
over a, b, c, d). The teacher fetches the test case, then queries inputs and drops every candidate rule that
disagrees with an observed result, and answers once the survivors agree on the test case. With `GUESS_AT`
predictions left it answers one at random instead of querying: an answer splits two predictions as well as a
query does, and a wrong one puts in the data what to do after a wrong answer (answer what is left), a state a
teacher that never errs never shows and a model fine-tuned on it met with invalid turns. It reads the
hidden rule for two choices only: among random candidate inputs it queries the one whose *true* result
leaves the fewest candidates, and when the budget runs out while survivors disagree it answers the value
the hidden rule gives, if a survivor predicts it. It gives up (and the episode is filtered out of teacher
data) when the hidden rule lies outside the hypothesis space. Its behavior never writes a rule or a
prediction for the test case before the turn that answers it, and counts only eliminated and surviving
rules (not the size of the space, a constant that would say nothing and could collide with a result).

In half of the episodes its first answer is a **detour**: a near miss, answered on purpose, the mistake a
fine-tuned model makes most (it cannot run the elimination, so it answers a made-up number). SFT keeps that
turn out of the loss (see `bao.policies.teachers.intention`), and the data shows the turn after a wrong
answer: the answer listed as wrong, and a different value answered.
"""

from __future__ import annotations

import random
from collections import Counter

from bao.agent.behaviors import Behavior
from bao.core.types import Task, Trajectory
from bao.envs.arithmetic import parse_rule
from bao.policies.base import Context
from bao.policies.scripted.function import (
    apply_rule,
    format_number,
    hypothesis_space,
    observed_queries,
    predictions,
    surviving,
    test_case_of,
    wrong_answers,
)
from bao.policies.teachers.base import Move, Teacher, detour_rng

CANDIDATE_QUERIES = 32
GUESS_AT = 2
DETOUR_RATE = 0.5
DETOUR_MIN_BUDGET = 4  # a detour never spends one of the last turns the episode needs to answer right


def _call(inputs: list[float]) -> str:
    return f"f({', '.join(format_number(x) for x in inputs)})"


def _answer(votes: Counter, expected: float, budget: int, rng: random.Random) -> tuple[float, str] | None:
    """The value to answer and the plan that says why, or None while a query is the better move."""
    if len(votes) == 1:
        value = next(iter(votes))
        return value, f"answer {format_number(value)}: every candidate rule predicts it for the test case"
    if len(votes) <= GUESS_AT:
        value = rng.choice(sorted(votes))
        return value, f"answer {format_number(value)}, one of {len(votes)} predictions: if wrong, the other is left"
    if budget <= 2:
        value = expected if expected in votes else votes.most_common(1)[0][0]
        return value, f"answer {format_number(value)}: budget nearly spent, best of {len(votes)} predictions"
    return None


def _near_miss(value: float, votes: Counter, rng: random.Random) -> float:
    """A wrong answer close to `value` that no surviving rule predicts."""
    misses = [value + d for d in (-2, -1, 1, 2) if value + d not in votes]
    return rng.choice(misses)


class FunctionTeacher(Teacher):
    env = "function"

    def move(self, ctx: Context) -> Move:
        budget = self.budget(ctx)
        test_case = test_case_of(ctx)
        if test_case is None:
            return Move("search", "test", Behavior((), ("every candidate rule",), (),
                                                   "get the test case before querying", budget))
        wrong = wrong_answers(ctx)
        rules = surviving(ctx)
        known = (f"test case {_call(test_case)}",
                 *(f"{_call(x)} = {format_number(y)}" for x, y in observed_queries(ctx)))
        eliminated = len(hypothesis_space()) - len(rules)
        ruled_out = (*(f"answer {format_number(v)} (wrong)" for v in sorted(wrong)),
                     *((f"{eliminated} candidate rules",) if eliminated else ()))
        votes = predictions(rules, test_case, wrong)
        expected = float(ctx.task.hidden["expected_result"])
        if not votes or (len(votes) > 1 and budget <= 1 and expected not in votes):
            return Move("finish", "", Behavior(known, (), ruled_out,
                                               "give up: no candidate rule fits every observation", budget))
        alive = (f"{len(rules)} candidate rules",) if eliminated else ("every candidate rule",)
        answer = _answer(votes, expected, budget, ctx.rng)
        if answer is not None:
            value, plan = answer
            if not wrong and self._detour_at(ctx.task, ctx.seed, ctx.turn):
                value = _near_miss(value, votes, detour_rng(ctx.task.id, ctx.seed, self.played(ctx)))
                plan = f"answer {format_number(value)}: my best guess for the test case"
            return Move("answer", format_number(value), Behavior(known, alive, ruled_out, plan, budget))
        inputs = self._query(ctx, rules, test_case)
        groups = len({apply_rule(r, inputs) for r in rules})
        plan = f"query {_call(inputs)}: its result splits the candidates into {groups} groups"
        query = " ".join(format_number(x) for x in inputs)
        return Move("action", query, Behavior(known, alive, ruled_out, plan, budget))

    @staticmethod
    def _query(ctx: Context, rules: list, test_case: list[float]) -> list[float]:
        """The random input whose true result leaves the fewest candidates (ties: the most groups)."""
        truth = parse_rule(ctx.task.hidden["rule"])
        candidates = [[float(ctx.rng.randint(1, 9)) for _ in range(4)] for _ in range(CANDIDATE_QUERIES)]
        candidates = ([c for c in candidates if c != test_case and apply_rule(truth, c) is not None]
                      or [[1.0, 2.0, 3.0, 4.0]])

        def score(inputs: list[float]) -> tuple[int, int]:
            true_value = apply_rule(truth, inputs)
            left = sum(apply_rule(r, inputs) == true_value for r in rules)
            return left, -len({apply_rule(r, inputs) for r in rules})

        return min(candidates, key=score)

    def _detour_at(self, task: Task, seed: int, turn: int) -> bool:
        """Whether the episode's first answer, due at `turn`, is a detour (`move` errs there, `mistakes`
        reports it)."""
        return self.max_turns - turn >= DETOUR_MIN_BUDGET and detour_rng(task.id, seed).random() < DETOUR_RATE

    def mistakes(self, task: Task, traj: Trajectory) -> tuple[int, ...]:
        first = next((t.index for t in traj.turns if t.kind == "answer"), None)
        return (first,) if first is not None and self._detour_at(task, traj.seed, first) else ()

    @staticmethod
    def secrets(task: Task, traj: Trajectory, turn: int) -> list[str]:
        expected = float(task.hidden["expected_result"])
        return [task.hidden["rule"], format_number(expected), repr(expected)]


TEACHER = FunctionTeacher
