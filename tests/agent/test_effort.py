"""The effort cost told to the agent: one sentence naming w and the turns that cost, closing the user message."""

from __future__ import annotations

from bao.agent.effort import effort_sentence, with_effort_cost
from bao.core.types import ActionKind, Task

TASK = Task(id="t1", env="clue", split="test", prompt=[{"role": "system", "content": "Rules."},
                                                       {"role": "user", "content": "Find it.\n"}])


def test_the_sentence_names_w_and_only_the_turns_that_count_as_effort():
    paper = effort_sentence(0.05, {ActionKind.ANSWER})
    both = effort_sentence(0.1, {ActionKind.ASK, ActionKind.ANSWER})
    assert "minus 0.05 for each answer you submit." in paper and "question" not in paper
    assert "minus 0.1 for each question you ask and each answer you submit." in both


def test_the_sentence_closes_the_first_user_message_and_the_task_is_otherwise_unchanged():
    priced = with_effort_cost(TASK, 0.2, {ActionKind.ASK})
    assert priced.id == TASK.id and priced.prompt[0] == TASK.prompt[0]  # the system prompt stays shared
    assert priced.prompt[1]["content"] == "Find it.\n\n" + effort_sentence(0.2, {ActionKind.ASK})
    assert TASK.prompt[1]["content"] == "Find it.\n"  # the original task is not modified


def test_a_prompt_without_a_user_message_gets_one_holding_the_sentence():
    bare = Task(id="t2", env="clue", split="test", prompt=[{"role": "system", "content": "Rules."}])
    priced = with_effort_cost(bare, 0.0, {ActionKind.ASK})
    assert priced.prompt[-1] == {"role": "user", "content": effort_sentence(0.0, {ActionKind.ASK})}
