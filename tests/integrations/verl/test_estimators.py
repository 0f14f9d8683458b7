"""bao's estimators called the way verl's trainer calls them give bao's own advantages on the same batch.

A batch of episodes with every reward component (task, effort, redundant, over-thinking, early stop, info gain),
wire choices and policy tokens per turn is laid out as verl holds it: each row's turns are runs of policy
tokens separated by masked user replies and followed by padding, each turn's reward x_t (computed by
`turn_rewards`, as the agent loop does) on its last policy token. verl's v1 trainer then computes the
advantages (`compute_advantage_for_multi_trajectories`, selected by `algorithm.adv_estimator`); they must equal
`bao.algos.estimate` on the original episodes, spread over the same tokens.
"""

from __future__ import annotations

import random

import pytest

pytest.importorskip("verl")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from omegaconf import OmegaConf  # noqa: E402
from verl import DataProto  # noqa: E402
from verl.trainer.ppo.core_algos import get_adv_estimator_fn  # noqa: E402
from verl.trainer.ppo.v1.utils import compute_advantage_for_multi_trajectories  # noqa: E402

from bao.algos import Episode, estimate, token_advantages  # noqa: E402
from bao.integrations.verl.estimators import turn_rewards, turns_of  # noqa: E402
from bao.integrations.verl.settings import algo_params, read_settings  # noqa: E402

# (estimator, algorithm.gamma, algorithm.norm_adv_by_std_in_grpo, algorithm.bao.algo_args)
SETTINGS = [
    ("userrl", 0.8, True, {}),
    ("userrl", 0.8, True, {"credit": "r2g", "score": "r2g"}),
    ("userrl", 0.8, False, {"credit": "em"}),
    ("bao-paper", 0.8, True, {"credit": "r2g", "score": "sum", "lambda_ot": 0.05, "lambda_is": 0.005}),
    ("bao-paper", 0.8, True, {"credit": "em", "lambda_ot": 0.01}),
    ("bao", 1.0, True, {}),
    ("bao", 0.9, False, {"components": ["task", "effort", "redundant"]}),
]
WIDTH = 96


def algorithm(algo: str, gamma: float, norm_std: bool, args: dict):
    return OmegaConf.create({"adv_estimator": algo, "gamma": gamma, "norm_adv_by_std_in_grpo": norm_std,
                             "bao": {"algo_args": args}})


def random_episode(rng: random.Random, group: str) -> Episode:
    """An episode of 1-6 turns whose components and choices cover the shaping rules: successes and failures,
    user turns, redundant questions, repeated answers, penalties on reasoning."""
    turns = rng.randint(1, 6)
    choices = [rng.choice(["action", "action", "answer", "search"]) for _ in range(turns)]
    solved = rng.random() < 0.4
    task = [0.0] * turns
    if solved:
        task[-1] = rng.choice([1.0, 0.5])
    components = {
        "task": task,
        "effort": [-0.1 if c != "search" and rng.random() < 0.7 else 0.0 for c in choices],
        "redundant": [-0.05 if c == "action" and rng.random() < 0.3 else 0.0 for c in choices],
        "overthink": [-0.05 if rng.random() < 0.2 else 0.0 for _ in choices],
        "early_stop": [0.0] + [-0.07 if not solved else 0.0] * (turns - 1),
        "info_gain": [0.02 * rng.randint(0, 2) for _ in choices],
    }
    return Episode(group=group, components=components, choices=choices,
                   span_tokens=[rng.randint(1, 5) for _ in choices])


def random_batch(seed: int) -> list[Episode]:
    """Three groups of 4 episodes, a group of 4 identical failures (its advantages are exactly 0), and a group
    of one."""
    rng = random.Random(seed)
    episodes = [random_episode(rng, f"g{g}") for g in range(3) for _ in range(4)]
    failure = Episode(group="same", components={"task": [0.0, 0.0, 0.0]}, choices=["action", "answer", "answer"],
                      span_tokens=[2, 3, 1])
    return episodes + [failure] * 4 + [random_episode(rng, "alone")]


def layout(episodes: list[Episode], seed: int) -> tuple[list[list[int]], list[list[int]]]:
    """Each row's mask and its turns' start positions: turn k's policy tokens, then 1-4 masked reply tokens."""
    rng = random.Random(seed)
    masks, starts = [], []
    for ep in episodes:
        mask, first = [], []
        for k, tokens in enumerate(ep.spans):
            first.append(len(mask))
            mask += [1] * tokens
            if k < len(ep.spans) - 1:
                mask += [0] * rng.randint(1, 4)
        masks.append(mask + [0] * (WIDTH - len(mask)))
        starts.append(first)
    return masks, starts


def verl_batch(episodes: list[Episode], masks: list[list[int]], algo: str, config) -> DataProto:
    """The batch verl's trainer hands its estimator: dense rewards as the agent loop writes them, the mask, uids."""
    params = algo_params(algo, config)
    rewards = torch.zeros(len(episodes), WIDTH)
    for b, (ep, mask) in enumerate(zip(episodes, masks)):
        ends = [i for i in range(WIDTH) if mask[i] and (i + 1 == WIDTH or not mask[i + 1])]
        for end, x in zip(ends, turn_rewards(algo, ep, params)):
            rewards[b, end] = x
    return DataProto.from_dict(tensors={"token_level_rewards": rewards, "response_mask": torch.tensor(masks)},
                               non_tensors={"uid": np.array([ep.group for ep in episodes], dtype=object)})


def bao_advantages(episodes, masks, starts, algo, gamma, norm_std, args) -> torch.Tensor:
    result = estimate(algo, episodes, **{**args, "gamma": gamma, "norm_std": norm_std})
    rows = [token_advantages(turns, mask, first) for turns, mask, first in zip(result.turns, masks, starts)]
    return torch.tensor(rows, dtype=torch.float64)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(("algo", "gamma", "norm_std", "args"), SETTINGS)
def test_verl_trainer_computes_bao_advantages_from_dense_turn_rewards(algo, gamma, norm_std, args, seed):
    episodes = random_batch(seed)
    masks, starts = layout(episodes, seed)
    config = algorithm(algo, gamma, norm_std, args)
    data = verl_batch(episodes, masks, algo, config)
    keys = [f"{ep.group}_{b}_0" for b, ep in enumerate(episodes)]
    out = compute_advantage_for_multi_trajectories(data, batch_keys=keys, adv_estimator=algo, gamma=gamma,
                                                   norm_adv_by_std_in_grpo=norm_std, config=config)
    expected = bao_advantages(episodes, masks, starts, algo, gamma, norm_std, args)
    torch.testing.assert_close(out.batch["advantages"].double(), expected, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(out.batch["returns"], out.batch["advantages"])
    same = [b for b, ep in enumerate(episodes) if ep.group == "same"]
    assert not out.batch["advantages"][same].any(), "a group of equal returns compares nothing"


@pytest.mark.parametrize("algo", ["userrl", "bao-paper", "bao"])
def test_the_registered_function_groups_rows_by_uid_value_not_by_position(algo):
    episodes = random_batch(5)
    masks, _ = layout(episodes, 5)
    config = algorithm(algo, 0.8, True, {})
    data = verl_batch(episodes, masks, algo, config)
    estimator = get_adv_estimator_fn(algo)
    kwargs = {"token_level_rewards": data.batch["token_level_rewards"], "response_mask": data.batch["response_mask"]}
    straight, _ = estimator(**kwargs, index=data.non_tensor_batch["uid"], config=config)
    order = torch.randperm(len(episodes), generator=torch.Generator().manual_seed(0))
    shuffled, _ = estimator(**{k: v[order] for k, v in kwargs.items()}, index=data.non_tensor_batch["uid"][order],
                            config=config)
    torch.testing.assert_close(shuffled, straight[order])


def test_turns_are_runs_of_policy_tokens_with_their_summed_rewards():
    assert turns_of([0, 0.5, 0, 0, 0.25, 0, 0], [1, 1, 0, 0, 1, 1, 0]) == ([0, 4], [2, 2], [0.5, 0.25])
    assert turns_of([0.0] * 3, [0, 0, 0]) == ([], [], [])


def test_a_reward_on_a_token_the_policy_did_not_write_is_refused():
    with pytest.raises(ValueError, match="did not write"):
        turns_of([0, 0, 1.0], [1, 1, 0])


@pytest.mark.parametrize(("block", "message"), [
    ({"algo_args": {"gamma": 0.9}}, "set algorithm.gamma instead"),
    ({"algo_args": {"norm_std": False}}, "norm_adv_by_std_in_grpo"),
    ({"algo_args": {"credit": "r2g", "lambda": 1}}, "no setting lambda"),
    ({"lr": 1e-6}, "algorithm.bao has no setting lr"),
    ({"w": -0.1}, "w must be >= 0"),
    ({"reward": {"lambda_x": 1}}, "algorithm.bao.reward"),
    ({"max_new_tokens": 0}, "max_new_tokens must be an integer >= 1"),
])
def test_bad_settings_fail_with_the_key_named(block, message):
    config = OmegaConf.create({"adv_estimator": "userrl", "gamma": 0.8, "bao": block})
    with pytest.raises(ValueError, match=message):
        read_settings(config)


def test_an_estimator_that_is_not_baos_is_refused_by_the_agent_loop_settings():
    with pytest.raises(ValueError, match="userrl, bao-paper, bao"):
        read_settings(OmegaConf.create({"adv_estimator": "grpo"}))
