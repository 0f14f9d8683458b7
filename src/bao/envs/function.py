"""FunctionGym, offline and faithful to UserRL (commit cf55a30).

The agent discovers a hidden arithmetic rule over four numbers. Reproduced exactly (checked against the
recorded episodes in `shared/conformance`):
- the action string is the gym string of the tool call (`Action.wire`): stripped, then matched
  case-sensitively by prefix; no space is needed after the prefix;
- `[action] ...`: numbers found with the regex `-?\\d+\\.?\\d*` (Unicode digits) anywhere in the rest; empty rest
  -> "provide four numbers"; a count other than 4 -> "exactly four numbers"; the test case itself (float list
  equality) is refused; otherwise the rule is computed with Python float semantics and rounded to 4 decimals;
  division by zero, `**` overflow and complex results give the calculation-error message;
- `[search] test` (case-insensitive, stripped) returns the test case, other contents are refused;
- `[answer] v`: Python `float()` of the stripped rest (so `2_25` and full-width digits count); empty and
  unparsable answers have their own messages; correct within 1e-6 -> reward 1.0 and the episode terminates;
  a wrong answer scores 0 and does not terminate;
- `[finish]` terminates with reward 0 and reveals the expected result;
- every step, invalid ones included, counts toward `max_steps` (16, as in UserRL's training and eval);
  truncation is `steps >= max_steps`, independent of termination; a step after the end raises.
Deviations: the rule is evaluated by a safe AST walker instead of `eval` (same operators, same results);
the feedback wording is bao's own (the numbers in it are the gym's); an output that bao's parser rejects
(e.g. malformed JSON) gets the same format-error observation as the gym's invalid prefix, with the reason.
Effort: `[action]` is the environment computing for the agent, like a user who computes on request, so it
is an `ask`; the paper's U counts answers.
Loophole: the gym refuses only the exact test case, so a query a hair off it (`3 5 5 3.0000001`) echoes the
answer rounded to 4 decimals, which passes the answer check on 77 of the 78 test tasks. Kept by default for
fidelity; `FunctionEnv(guard_test_case=True)` refuses, with the test-case message, every query whose four
numbers each lie less than `NEAR_TEST_CASE` (0.5) from the test case's. Not a 1e-6 or 1e-3 tolerance: every
test number and expected result in UserRL's data is an integer, so rounding the result of a query with 0.01
(0.1) added to `d` still gives the answer on 70 (47) test tasks; 0.5 is the box in which the test case is the
nearest integer point, so it never refuses an integer query but the test case itself. Interpolating between
integer queries stays allowed (it is reasoning about the rule, and no tolerance can tell it from honest play).
Info only, guard on or off (rewards and observations unchanged, so UserRL is still reproduced): a query of
four numbers records `near_test_case` (within that box, the exact test case excluded: the gym refuses it
anyway) and `redundant` (the same four numbers were queried before in the episode: the rule is
deterministic, so the reply reveals nothing new); a correct answer records `via_loophole`, whether a near
query was answered with a value earlier in the episode, so runs can count the successes the loophole gave.
"""

from __future__ import annotations

import math
import re

from bao.agent.wire import split_prefix
from bao.core.types import Action, ActionKind, StepResult, Task
from bao.envs.arithmetic import RuleError, parse_rule
from bao.envs.base import Env, EnvSpec
from bao.envs.data import (
    DataError,
    load_json,
    load_split,
    per_data_dir,
    prompt_of,
    require,
)

_NUMBER = re.compile(r"-?\d+\.?\d*")
INVALID_FORMAT = "Invalid action format. Please use [action], [search], [answer], or [finish]."
TOLERANCE = 1e-6
NEAR_TEST_CASE = 0.5
TEST_CASE_REFUSAL = "This is the test case and I cannot provide you with the calculation feedback."


class FunctionEnv(Env):
    spec = EnvSpec(
        name="function",
        description="Discover a hidden arithmetic rule over four numbers by querying it, then answer the test case.",
        choices=("action", "search", "answer"),
        action_kind=ActionKind.ASK,
        max_steps=16,
    )

    def __init__(self, max_steps: int | None = None, guard_test_case: bool = False) -> None:
        super().__init__(max_steps)
        self.guard_test_case = guard_test_case

    def tasks(self, split: str) -> list[Task]:
        return list(_tasks(split))

    def _reset(self, task: Task, seed: int) -> None:
        self.rule = parse_rule(task.hidden["rule"])
        self.test_case = list(task.hidden["test_case"])
        self.expected = float(task.hidden["expected_result"])
        self.submitted: float | None = None
        self.queried: set[tuple[float, ...]] = set()
        self.leaked = False  # a query near the test case was answered with a value

    def _step(self, action: Action) -> StepResult:
        split = split_prefix(action.wire) if action.valid else None
        if split is None:
            detail = f" ({action.error})" if action.error else ""
            return self._result(INVALID_FORMAT + detail, kind="invalid")
        choice, rest = split
        if choice == "action":
            return self._query(rest)
        if choice == "search":
            if rest.strip().lower() == "test":
                return self._result(f"Test case: {self.test_case}", kind="search", revealed=["test_case"])
            return self._result("Search content should only be 'test' to get the test case.", kind="search")
        if choice == "answer":
            return self._answer(rest)
        return self._result(
            f"Episode finished without correct answer. The expected result for the test case was: {self.expected}",
            kind="finish",
            done=True,
        )

    def _query(self, rest: str) -> StepResult:
        if not rest.strip():
            return self._result("Please provide four numbers after [action].", kind="ask")
        numbers = [float(n) for n in _NUMBER.findall(rest)]
        if len(numbers) != 4:
            return self._result("Please provide exactly four numbers.", kind="ask")
        flags = {"near_test_case": self._near_test_case(numbers), "redundant": tuple(numbers) in self.queried}
        self.queried.add(tuple(numbers))
        if numbers == self.test_case or (self.guard_test_case and flags["near_test_case"]):
            return self._result(TEST_CASE_REFUSAL, kind="ask", **flags)
        try:
            value = round(self.rule(*numbers), 4)
        except (ArithmeticError, TypeError, ValueError):
            return self._result(
                "Error parsing numbers or calculating result. This may happen like when division by zero occurs. "
                "Please try again with different number combinations.",
                kind="ask",
                **flags,
            )
        self.leaked = self.leaked or flags["near_test_case"]
        return self._result(f"For numbers {numbers}, the result is {value}.", kind="ask", value=value, inputs=numbers,
                            **flags)

    def _near_test_case(self, numbers: list[float]) -> bool:
        """Whether a query other than the test case has every number within `NEAR_TEST_CASE` of the test case's."""
        return numbers != self.test_case and all(abs(x - t) < NEAR_TEST_CASE for x, t in zip(numbers, self.test_case))

    def _answer(self, rest: str) -> StepResult:
        text = rest.strip()
        if not text:
            return self._result("Answer is empty. Please provide a numerical answer.", kind="answer")
        try:
            value = float(text)
        except ValueError:
            return self._result("Invalid numerical answer. Please provide a valid number.", kind="answer")
        self.submitted = value
        if abs(value - self.expected) <= TOLERANCE:
            return self._result("Your answer is correct!", kind="answer", reward=1.0, done=True, success=True,
                                via_loophole=self.leaked)
        return self._result(
            "Your answer is wrong. Please continue to try and reason about the hidden function and make your "
            "answer attempt later.",
            kind="answer",
        )

    def _result(self, text: str, kind: str, reward: float = 0.0, done: bool = False, **info) -> StepResult:
        info.update(kind=kind, success=info.get("success", False), submitted_answer=self.submitted)
        return StepResult(text, reward, done, info)


@per_data_dir
def _functions() -> dict[str, dict]:
    items = load_json("gyms", "function", "functions.json")
    if not isinstance(items, list):
        raise DataError("gyms/function/functions.json: expected a list of functions")
    by_id = {}
    for i, item in enumerate(items):
        where = f"gyms/function/functions.json item {i}"
        require(item, ("id", "rule", "test_case", "expected_result"), where)
        try:
            parse_rule(item["rule"])
        except RuleError as exc:
            raise DataError(f"{where} ('{item['id']}'): field 'rule': {exc}") from None
        case = item["test_case"]
        if not (isinstance(case, list) and len(case) == 4 and all(isinstance(x, (int, float)) for x in case)):
            raise DataError(f"{where} ('{item['id']}'): field 'test_case' must be a list of 4 numbers")
        if not isinstance(item["expected_result"], (int, float)) or not math.isfinite(item["expected_result"]):
            raise DataError(f"{where} ('{item['id']}'): field 'expected_result' must be a finite number")
        by_id[item["id"]] = item
    return by_id


@per_data_dir
def _tasks(split: str) -> tuple[Task, ...]:
    functions = _functions()
    tasks = []
    for row in load_split("function_multiturn", split):
        fid = row["reward_model"]["id"]
        if fid not in functions:
            raise DataError(f"splits/function_multiturn/{split}.parquet names unknown function '{fid}'")
        item = functions[fid]
        hidden = {k: item[k] for k in ("rule", "test_case", "expected_result")}
        prompt = prompt_of(row)
        tasks.append(Task(id=fid, env="function", split=split, prompt=prompt, hidden=hidden))
    return tuple(tasks)
