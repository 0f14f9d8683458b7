"""TauGym's tasks: UserRL's recorded τ-bench tasks, what the offline customer can read from them, and which
tasks the offline customer can play.

A task (`gyms/tau/tau_{train,test}.json`, listed by `splits/tau_multiturn`) is a τ-bench reset record: the
customer's first message (`obs`), the hidden `instruction` the customer plays, the ground-truth `actions` (tool
calls whose replay defines the goal database) and `outputs` (strings the agent must tell the customer).
`Profile` is what the instruction says about the customer (name, zip, email, user id) and, for the templated
retail-train instructions, the product names and options of the items the actions touch.

Offline support (`Task.hidden["support"]`: "offline" or the reason it is not). The scripted customer wants
exactly the ground-truth writes, so a task is *supported* when it has at least one write action, no required
`outputs`, and an identity the customer can give (name and zip, an email, or the user id in the instruction).
Tasks without writes test refusals or answers (the customer must insist, or be told facts), and `outputs` are
facts of τ-bench's real database (product counts, refund totals, tracking numbers) that bao's per-task proxy
database cannot ground. Unsupported tasks stay in the pools and play normally (their reward is still defined);
evaluations report them apart (`info["supported"]`).
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from bao.core.types import Task
from bao.envs.data import DataError, load_json, load_split, per_data_dir, prompt_of, require

SUPPORTED = "offline"
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+\w")
_ZIP = re.compile(r"(?<!\d)\d{5}(?!\d)")
_NAMED = re.compile(r"(?:[Yy]our name is|You are|You name is)\s+([A-Z][a-z]+)\s+([A-Z][a-z]+)")
_SEGMENT = re.compile(r"(?=Return #W|For #W|Cancel order #W)")
_RETURN = re.compile(r"Return (#W\d+) via \S+?: (.*)")
_CHANGE = re.compile(r"For (#W\d+), (?:exchange|modify) (.+?); via \S+?\.")
_ITEM = re.compile(r"\s*([^;{}]+?)(?: (\{[^{}]*\}))?(?: to (\{[^{}]*\}))?;")


@lru_cache(maxsize=1)
def tool_catalogue() -> dict[str, Any]:
    """`bao/data/tau/tools.json`: the tool schemas, the tools of each domain, the write and terminal tools."""
    path = resources.files("bao") / "data" / "tau" / "tools.json"
    catalogue = json.loads(path.read_text(encoding="utf-8"))
    catalogue["schemas"] = {tool["name"]: tool for tool in catalogue["tools"]}
    return catalogue


def is_write(name: str) -> bool:
    return name in tool_catalogue()["writes"]


@dataclass(frozen=True)
class ItemFacts:
    """What the instruction says of one item an action touches: its product name, options and wanted change."""

    name: str
    options: dict[str, str] = field(default_factory=dict)
    change: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Profile:
    """The customer as the instruction describes them; None where it says nothing."""

    user_id: str
    first_name: str
    last_name: str
    zip: str | None
    email: str | None
    knows_user_id: bool
    items: dict[tuple[str, str], ItemFacts]  # (order id, item id) -> facts, from the templated instructions

    @property
    def can_identify(self) -> bool:
        """Whether the customer can give an identity the agent can look up."""
        return self.knows_user_id or self.email is not None or self.zip is not None


def writes_of(task: Task) -> list[dict[str, Any]]:
    """The ground-truth write actions of a task, in order."""
    return [a for a in task.hidden["actions"] if is_write(a["name"])]


def profile_of(task: Task) -> Profile:
    return _profile(task.hidden["user_id"], task.hidden["instruction"], json.dumps(task.hidden["actions"]))


@lru_cache(maxsize=2048)
def _profile(user_id: str, instruction: str, actions_json: str) -> Profile:
    named = _NAMED.search(instruction)
    if named:
        first, last = named.group(1), named.group(2)
    else:  # τ-bench user ids are first_last_NNNN
        parts = user_id.split("_")
        first, last = parts[0].title(), (parts[1].title() if len(parts) > 2 else "")
    email = _EMAIL.search(instruction)
    zipcode = _ZIP.search(instruction)
    return Profile(user_id, first, last, zipcode.group() if zipcode else None, email.group() if email else None,
                   user_id in instruction, _item_facts(instruction, json.loads(actions_json)))


def _item_facts(instruction: str, actions: list[dict]) -> dict[tuple[str, str], ItemFacts]:
    """Names and options of the items, read from the templated retail-train instructions: "Return #W1 via pm:
    Kettle; Clock; " and "For #W1, modify Kettle {'size': 'S'} to {'size': 'L'}; via pm." pair with the
    action on that order, item by item."""
    by_order = {a["kwargs"].get("order_id"): a["kwargs"] for a in actions if "item_ids" in a["kwargs"]}
    facts: dict[tuple[str, str], ItemFacts] = {}
    for segment in _SEGMENT.split(instruction):
        match = _RETURN.match(segment) or _CHANGE.match(segment)
        if not match:
            continue
        described = _ITEM.findall(match.group(2).strip().rstrip(";") + ";")
        items = by_order.get(match.group(1), {}).get("item_ids", [])
        if len(described) != len(items):
            continue
        for (name, options, change), item in zip(described, items):
            try:
                facts[(match.group(1), item)] = ItemFacts(name.strip(), _literal(options), _literal(change))
            except (ValueError, SyntaxError):
                continue
    return facts


def _literal(text: str) -> dict[str, str]:
    return ast.literal_eval(text) if text else {}


def support_of(task: Task) -> str:
    """"offline" when the scripted customer can play the task, else why not (see the module docstring)."""
    if not writes_of(task):
        return "no write action: the task tests a refusal or an answer, which the scripted customer cannot play"
    if task.hidden["outputs"]:
        return "required outputs are facts of τ-bench's database, absent from the proxy database"
    if not profile_of(task).can_identify:
        return "the instruction gives no name and zip, email or user id"
    return SUPPORTED


@per_data_dir
def _records(split: str) -> dict[str, dict]:
    name = f"tau_{split}.json"
    items = load_json("gyms", "tau", name)
    if not isinstance(items, list):
        raise DataError(f"gyms/tau/{name}: expected a list of tasks")
    records = {}
    for i, item in enumerate(items):
        where = f"gyms/tau/{name} item {i}"
        require(item, ("id", "obs", "info"), where)
        task = item["info"].get("task") if isinstance(item["info"], dict) else None
        require(task, ("user_id", "actions", "instruction", "outputs"), f"{where} info.task")
        records[item["id"]] = item
    return records


@per_data_dir
def task_pool(split: str) -> tuple[Task, ...]:
    """The tasks of a split in the order of `splits/tau_multiturn/<split>.parquet`."""
    records = _records(split)
    tasks = []
    for row in load_split("tau_multiturn", split):
        task_id = row["reward_model"]["id"]
        if task_id not in records:
            raise DataError(f"splits/tau_multiturn/{split}.parquet names unknown task '{task_id}'")
        item = records[task_id]
        hidden = {"domain": task_id.split("-")[0], "obs": item["obs"], **item["info"]["task"]}
        task = Task(id=task_id, env="tau", split=split, prompt=prompt_of(row), hidden=hidden)
        hidden["support"] = support_of(task)
        tasks.append(task)
    return tuple(tasks)
