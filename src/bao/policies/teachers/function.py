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
from bao.policies.teachers.base import Move, Teacher

CANDIDATE_QUERIES = 32
GUESS_AT = 2


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

    @staticmethod
    def secrets(task: Task, traj: Trajectory, turn: int) -> list[str]:
        expected = float(task.hidden["expected_result"])
        return [task.hidden["rule"], format_number(expected), repr(expected)]


TEACHER = FunctionTeacher
