"""TauGym (customer service with a simulated customer) on a proxy of τ-bench, offline by default.

UserRL's TauGym wraps τ-bench: retail and airline tools over τ-bench's databases, an LLM customer playing a
hidden instruction, and τ-bench's reward. τ-bench is not on PyPI and its databases are not in the shared
data, so bao runs each task on a per-task proxy database (`tau_db`), with its own tool schemas
(`bao/data/tau/tools.json`, `tau_tools`) and a scripted customer (`tau_customer`; an LLM one with `user="llm"`).

Actions (UserRL's TauGym, `taugym/env/tau_env.py` at commit cf55a30):
- `[search] tools`: the domain's tools with their parameters (the full list once, then a reminder);
  `[search] help`: guidance; any other search: refused;
- `[action] <message>`: a message to the customer; the observation is the customer's reply;
- `[answer] {"name": ..., "arguments": {...}}` or `[answer] name: {...}`: a tool call; the observation is the
  tool's output (JSON records, or "Error: ..."); an unparsable call gets UserRL's "Invalid tool call format";
- `[finish]`: ends the episode; any other prefix: UserRL's "Invalid action format" reply.
Reward (τ-bench's, at the end only): 1.0 iff the database equals the one the goal writes produce (canonical
hash, `tau_db.state_hash`) and every required `outputs` string occurs in the agent's messages to the
customer (case-insensitive, commas ignored, as τ-bench checks), else 0. The episode ends when the customer
says `###STOP###`, a terminal tool (`transfer_to_human_agents`) is called, or on `[finish]`; a truncated
episode (16 steps, UserRL's training and eval limit) scores 0 even with the right database, as in τ-bench.
Goal writes: the ground-truth writes that succeed when replayed on the proxy database (in τ-bench too, a
ground-truth write that fails, e.g. a second return on one order, leaves the goal unchanged).

Differences from UserRL / τ-bench (all forced by the missing databases unless said otherwise):
- the database holds only what the task names (see `tau_db`), the tools check a subset of τ-bench's rules
  (see `tau_tools`; no gift card balances, no flight seat counts, no 24-hour or membership rules), and the
  tool texts and ids of new records are bao's;
- `[finish]` scores the database like the other endings (UserRL returns the last τ-bench step reward there,
  which is 0 in practice, since τ-bench scores only when its own episode ends);
- the scripted customer wants exactly the goal writes and ignores the instruction's conditions ("if the
  agent says X, change your mind"): tasks that depend on them, on refusals or on facts of τ-bench's
  database are marked unsupported (`tau_tasks`), played anyway and reported apart (`info["supported"]`);
- the LLM customer uses bao's prompt, not τ-bench's, and is called at the configured temperature.
Effort: `[action]` messages reach the customer, so they are `ask` and the only kind counted in U; `[answer]`
is a tool call the customer never sees (UserRL's U_userrl, fixed in `bao.envs.base`, still counts it).
`redundant`: a message that reveals nothing the customer had not told (offline), or the conversation-level
rule of `bao.users.redundancy` (llm).
"""

from __future__ import annotations

import json
from typing import Any

from bao.agent.wire import split_prefix
from bao.core.types import Action, ActionKind, StepResult, Task
from bao.envs.base import Env, EnvSpec
from bao.envs.tau_customer import LLMCustomer, ScriptedCustomer, target_of
from bao.envs.tau_db import build_db, state_hash
from bao.envs.tau_tasks import SUPPORTED, is_write, task_pool, tool_catalogue
from bao.envs.tau_tools import run_tool, tools_of

INVALID_FORMAT = "Invalid action format: {action}. Please follow the system instruction to call the interact tool."
INVALID_CALL = ("Invalid tool call format. Please provide valid JSON format in content when calling the internal "
                "tool.")
TOOLS_AGAIN = ("Tools information is already provided in previous turns in our conversation. Please directly refer "
               "to those information and do not search for available tools again.")
SEARCH_REFUSED = ("Search not supported for '{query}'. Please search for available tools by providing 'tools' in "
                  "content or show help information by providing 'help' in content.")
HELP = ("You should choose from one of the following:\n"
        "* search: 'tools' lists the internal tools and their arguments; 'help' shows this text.\n"
        "* action: a message to the customer, in content.\n"
        "* answer: one internal tool call, in content, as JSON: "
        '{"name": tool_name, "arguments": {"arg_1": "value_1"}}.\n'
        "Start from the customer's goal: find the tool that reaches it, then gather its arguments from other "
        "tools or by asking the customer. Confirm every change with the customer before making it.")


def format_tools(domain: str) -> str:
    """The `[search] tools` reply: each tool, its description and its parameters."""
    lines = ["Available Tools:"]
    for tool in tools_of(domain):
        lines.append(f"- {tool['name']}: {tool['description']}")
        params = tool["parameters"]
        if params["properties"]:
            lines.append("  Parameters:")
            for name, spec in params["properties"].items():
                required = "required" if name in params["required"] else "optional"
                lines.append(f"    - {name} ({spec['type']}, {required}): {spec.get('description', '')}")
    return "\n".join(lines)


def parse_tool_call(text: str) -> tuple[str, Any] | None:
    """`{"name": ..., "arguments": {...}}` or `name: {...}` as UserRL's TauGym reads them; None if neither."""
    text = text.strip()
    try:
        if text.startswith("{") and text.endswith("}"):
            call = json.loads(text)
            return str(call.get("name", "")), call.get("arguments", {})
        name, _, rest = text.partition(":")
        return name.strip(), json.loads(rest.strip())
    except (json.JSONDecodeError, AttributeError):
        return None


def outputs_said(outputs: list[str], messages: list[str]) -> bool:
    """τ-bench's outputs rule: each output, lower-cased, occurs in some agent message with commas removed."""
    said = [m.lower().replace(",", "") for m in messages]
    return all(any(str(o).lower() in m for m in said) for o in outputs)


class TauEnv(Env):
    spec = EnvSpec(
        name="tau",
        description="Serve a customer (retail or airline) by talking to them and calling tools on their records.",
        choices=("action", "search", "answer"),
        action_kind=ActionKind.ASK,
        user_kinds=frozenset({ActionKind.ASK}),
        max_steps=16,
        backends=("offline", "llm"),
    )

    def __init__(self, max_steps: int | None = None, user: str = "offline", llm: Any = None) -> None:
        super().__init__(max_steps)
        self.user = user
        self.llm_user = None
        if user != "offline" or llm is not None:
            from bao.users.llm import backend_user

            self.llm_user = backend_user(self.spec.name, self.spec.backends, user, llm)

    def tasks(self, split: str) -> list[Task]:
        return list(task_pool(split))

    def _reset(self, task: Task, seed: int) -> None:
        self.db = build_db(task)
        goal_db, self.goals = build_db(task), []
        for action in task.hidden["actions"]:
            if is_write(action["name"]) and not run_tool(goal_db, action["name"], action["kwargs"]).startswith("Error"):
                self.goals.append(action)
        self.goal_hash = state_hash(goal_db)
        self.done_goals = [False] * len(self.goals)
        self.messages: list[str] = []
        self.tools_shown = False
        self.customer = (LLMCustomer(task, self.llm_user, seed) if self.llm_user is not None
                         else ScriptedCustomer(task, self.goals, self.db))

    def _step(self, action: Action) -> StepResult:
        split = split_prefix(action.wire) if action.valid else None
        if split is None:
            return self._result(INVALID_FORMAT.format(action=(action.wire or action.raw).strip()), kind="invalid",
                                error=action.error)
        choice, rest = split
        if choice == "search":
            return self._search(rest.strip().lower())
        if choice == "action":
            return self._message(rest.strip())
        if choice == "answer":
            return self._tool(rest)
        return self._end("finish", "Episode finished. Final reward: {reward}")

    def _search(self, query: str) -> StepResult:
        if query == "tools":
            text = TOOLS_AGAIN if self.tools_shown else format_tools(self.task.hidden["domain"])
            self.tools_shown = True
            return self._result(text, kind="search")
        if query == "help":
            return self._result(HELP, kind="search")
        return self._result(SEARCH_REFUSED.format(query=query), kind="search")

    def _message(self, message: str) -> StepResult:
        self.messages.append(message)
        reply = self.customer.reply(message, list(self.done_goals))
        info = {"revealed": reply.revealed, "redundant": reply.redundant}
        if reply.stop:
            return self._end("ask", reply.text, **info)
        return self._result(reply.text, kind="ask", **info)

    def _tool(self, text: str) -> StepResult:
        call = parse_tool_call(text)
        if call is None:
            return self._result(INVALID_CALL, kind="answer", tool=None)
        name, arguments = call
        output = run_tool(self.db, name, arguments)
        ok = not output.startswith("Error")
        if ok and is_write(name):
            target = target_of(name, arguments)
            hit = next((i for i, g in enumerate(self.goals)
                        if not self.done_goals[i] and target_of(g["name"], g["kwargs"]) == target), None)
            if hit is not None:
                self.done_goals[hit] = True
        if name in tool_catalogue()["terminal"] and ok:
            return self._end("answer", output, tool=name)
        return self._result(output, kind="answer", tool=name, tool_ok=ok)

    def _end(self, kind: str, text: str, **info) -> StepResult:
        """End the episode with τ-bench's reward: the database and the required outputs."""
        db_ok = state_hash(self.db) == self.goal_hash
        reward = 1.0 if db_ok and outputs_said(self.task.hidden["outputs"], self.messages) else 0.0
        return self._result(text.format(reward=reward) if kind == "finish" else text, kind=kind, reward=reward,
                            done=True, success=reward == 1.0, db_matches_goal=db_ok, **info)

    def _result(self, text: str, kind: str, reward: float = 0.0, done: bool = False, **info) -> StepResult:
        info.update(kind=kind, success=info.get("success", False),
                    supported=self.task.hidden["support"] == SUPPORTED,
                    goals_done=sum(self.done_goals), goals=len(self.goals))
        return StepResult(text, reward, done, info)
