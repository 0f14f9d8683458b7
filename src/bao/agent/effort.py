"""The effort cost told to the agent: one sentence that states `w`, added to a task's prompt.

A policy trained with several effort costs (`bao train --w-choices`) must know which one it is playing under,
so the cost is written into the prompt, by this one function, both when it trains and when it is evaluated
(`EvalConfig.prompt_w`). The sentence closes the task's first user message rather than the system message:
the system message and the tool schema after it are then the same for every `w`, so the trainer still runs
that shared prefix through the model once per step (`rl_forward.SharedPrefix`), and the sentence sits right
before the agent's first turn.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection

from bao.core.types import ActionKind, Task

# What a user-involved turn of each kind is, in the agent's words.
_TURNS = {ActionKind.ASK: "each question you ask", ActionKind.ANSWER: "each answer you submit",
          ActionKind.ACT: "each action you take", ActionKind.SEARCH: "each search you run",
          ActionKind.FINISH: "giving up"}


def effort_sentence(w: float, user_kinds: Collection[ActionKind]) -> str:
    """The sentence that tells the agent its objective R - w*U, naming the turns that count as effort U (the
    env's `user_kinds`: answers under the BAO paper's rule, questions too where the user reads them)."""
    turns = " and ".join(_TURNS[kind] for kind in _TURNS if kind in user_kinds) or "each turn with the user"
    return (f"Every turn that involves the user costs them effort: your score is the task reward minus {w:g} "
            f"for {turns}.")


def with_effort_cost(task: Task, w: float, user_kinds: Collection[ActionKind]) -> Task:
    """`task` with `effort_sentence` closing its first user message (a prompt without one gets a user message
    holding only the sentence). The id is kept, so seeds and results still match the plain task."""
    sentence = effort_sentence(w, user_kinds)
    prompt = [dict(m) for m in task.prompt]
    user = next((m for m in prompt if m["role"] == "user"), None)
    if user is None:
        prompt.append({"role": "user", "content": sentence})
    else:
        user["content"] = f"{user['content'].rstrip()}\n\n{sentence}"
    return dataclasses.replace(task, prompt=prompt)
