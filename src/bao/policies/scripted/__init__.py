"""Scripted agents: the baselines every results table needs, one module per environment.

Each environment module exposes `AGENTS = {name: PolicyClass}` with at least `random`, `answer-now`,
`oracle` (reads the hidden state: the best success with the least user effort) and `heuristic` (a sensible
strategy that uses only what the agent is told).
"""

from __future__ import annotations

import importlib

from bao.policies.base import Policy

AGENT_NAMES = ("random", "answer-now", "heuristic", "oracle")
_MODULES = {
    "function": "bao.policies.scripted.function",
    "intention": "bao.policies.scripted.intention",
    "travel": "bao.policies.scripted.travel",
    "telepathy": "bao.policies.scripted.telepathy",
    "turtle": "bao.policies.scripted.turtle",
    "persuade": "bao.policies.scripted.persuade",
    "search": "bao.policies.scripted.search",
    "tau": "bao.policies.scripted.tau",
}


def register(env: str, module: str) -> None:
    _MODULES[env] = module


def agents_for(env: str) -> dict[str, type[Policy]]:
    if env not in _MODULES:
        raise KeyError(f"no scripted agents for environment {env!r}")
    return importlib.import_module(_MODULES[env]).AGENTS


def make_agent(name: str, env: str) -> Policy:
    """A scripted agent by name for an environment; the error lists the names that exist."""
    agents = agents_for(env)
    if name not in agents:
        raise KeyError(f"unknown agent {name!r} for {env}: choose one of {', '.join(agents)}")
    return agents[name]()
