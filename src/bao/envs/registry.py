"""The environment registry: `bao.envs.make("function")`.

Environments register by module path so that importing the registry stays cheap and an env's optional
dependencies load only when it is made.
"""

from __future__ import annotations

import importlib
from typing import Any

from bao.envs.base import Env, EnvSpec

_ENVS: dict[str, str] = {
    "function": "bao.envs.function:FunctionEnv",
    "intention": "bao.envs.intention:IntentionEnv",
    "travel": "bao.envs.travel:TravelEnv",
    "telepathy": "bao.envs.telepathy:TelepathyEnv",
    "turtle": "bao.envs.turtle:TurtleEnv",
    "persuade": "bao.envs.persuade:PersuadeEnv",
    "search": "bao.envs.search:SearchEnv",
    "tau": "bao.envs.tau:TauEnv",
}


class UnknownEnv(KeyError):
    def __str__(self) -> str:
        return str(self.args[0])


def register(name: str, target: str) -> None:
    """Register an environment class given as 'module:Class'."""
    _ENVS[name] = target


def available() -> list[str]:
    return list(_ENVS)


def env_class(name: str) -> type[Env]:
    if name not in _ENVS:
        raise UnknownEnv(f"unknown environment {name!r}: choose one of {', '.join(_ENVS)} (see `bao envs`)")
    module, cls = _ENVS[name].split(":")
    return getattr(importlib.import_module(module), cls)


def spec(name: str) -> EnvSpec:
    return env_class(name).spec


def make(name: str, **kwargs: Any) -> Env:
    """Build an environment by name; keyword arguments go to its constructor (e.g. `max_steps`)."""
    return env_class(name)(**kwargs)
