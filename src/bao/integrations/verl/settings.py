"""bao's settings inside verl's config: one block, `algorithm.bao`, named as `bao train` names them.

    algorithm:
      adv_estimator: bao-paper          # userrl | bao-paper | bao
      gamma: 0.8                        # bao's algo_args.gamma
      norm_adv_by_std_in_grpo: true     # bao's algo_args.norm_std
      bao:
        w: 0.0                          # effort cost of a user-involved turn: the objective is R - w*U
        algo_args: {credit: r2g, score: sum, lambda_ot: 0.05, lambda_is: 0.005}
        reward: {}                      # bao.rewards.RewardConfig (the `bao` estimator's regularizers)
        env_args: {}                    # options of the environment, e.g. guard_test_case
        max_turns: null                 # turns per episode (default: the env's, 16)
        max_new_tokens: null            # tokens per turn (default: rollout.response_length)
        max_tokens: null                # policy tokens per episode (default: rollout.response_length)

Why under `algorithm`: verl hands an advantage estimator its `algorithm` section and nothing else, and the two
halves of the plugin must read the same settings: the agent loop, which computes each turn's reward, and the
estimator, which turns those rewards into advantages. Why `gamma` and `norm_std` come from verl's own keys:
they mean the same thing there (UserRL and BAO set `algorithm.gamma=0.8`), and one setting must not have two
places; `algo_args` that repeat them are refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from omegaconf import OmegaConf

from bao.algos import make_config
from bao.pipelines.rl_config import RLConfig
from bao.rewards import RewardConfig

ESTIMATORS = ("userrl", "bao-paper", "bao")
KEYS = ("w", "algo_args", "reward", "env_args", "max_turns", "max_new_tokens", "max_tokens")
_FROM_VERL = {"gamma": "algorithm.gamma", "norm_std": "algorithm.norm_adv_by_std_in_grpo"}


@dataclass(frozen=True)
class VerlSettings:
    """What the agent loop and the estimators read: the estimator's name and complete settings, the reward
    shaping, the env options and the rollout limits (None = verl's `rollout.response_length` / the env's)."""

    algo: str
    algo_params: dict[str, Any]
    reward: RewardConfig
    env_args: dict[str, Any]
    max_turns: int | None = None
    max_new_tokens: int | None = None
    max_tokens: int | None = None


def algo_params(algo: str, algorithm: Mapping[str, Any]) -> dict[str, Any]:
    """Settings of estimator `algo`: `algorithm.bao.algo_args` plus verl's gamma and std normalisation, checked
    by bao (an unknown or repeated key fails, naming it)."""
    block = _block(algorithm)
    args = dict(block.get("algo_args") or {})
    repeated = sorted(set(args) & set(_FROM_VERL))
    if repeated:
        raise ValueError(f"algorithm.bao.algo_args.{repeated[0]}: set {_FROM_VERL[repeated[0]]} instead")
    args["gamma"] = float(algorithm.get("gamma", 1.0))
    args["norm_std"] = bool(algorithm.get("norm_adv_by_std_in_grpo", True))
    make_config(algo, **args)
    return args


def read_settings(algorithm: Mapping[str, Any]) -> VerlSettings:
    """The settings of verl's `algorithm` section, checked: every mistake fails here with the key's name."""
    algo = algorithm.get("adv_estimator")
    if algo not in ESTIMATORS:
        raise ValueError(f"algorithm.adv_estimator={algo}: bao's agent loop trains with one of bao's estimators, "
                         f"{', '.join(ESTIMATORS)}")
    block = _block(algorithm)
    params = algo_params(algo, algorithm)
    w = float(block.get("w", 0.0))
    if w < 0:
        raise ValueError(f"algorithm.bao.w must be >= 0 (it is the cost of a user turn), got {w}")
    try:
        reward = RLConfig(algo=algo, w=w, reward=dict(block.get("reward") or {})).reward_config()
    except TypeError as exc:
        raise ValueError(f"algorithm.bao.reward: {exc} (see bao.rewards.RewardConfig)") from None
    limits = {name: block.get(name) for name in ("max_turns", "max_new_tokens", "max_tokens")}
    for name, value in limits.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ValueError(f"algorithm.bao.{name} must be an integer >= 1 or null, got {value!r}")
    return VerlSettings(algo, params, reward, dict(block.get("env_args") or {}), **limits)


def _block(algorithm: Mapping[str, Any]) -> dict[str, Any]:
    """`algorithm.bao` as plain Python values (verl passes OmegaConf nodes), with unknown keys refused."""
    block = algorithm.get("bao") or {}
    block = OmegaConf.to_container(block, resolve=True) if OmegaConf.is_config(block) else dict(block)
    unknown = sorted(set(block) - set(KEYS))
    if unknown:
        raise ValueError(f"algorithm.bao has no setting {', '.join(unknown)}; it has {', '.join(KEYS)}")
    return block
