"""Environments: tasks, the Env contract, the registry and the UserRL gyms re-implemented offline."""

from bao.envs.base import Env, EnvSpec, EpisodeOver
from bao.envs.registry import available, make, spec

__all__ = ["Env", "EnvSpec", "EpisodeOver", "available", "make", "spec"]
