"""examples/verl/bao_qwen3_4b.yaml composes as `verl.trainer.main_ppo` composes it, passes verl's own checks
(`validate_config`, the rollout config's dataclass) and bao's (`read_settings`), on one node and on several,
and holds the published setting."""

from __future__ import annotations

import pytest

pytest.importorskip("verl")

from omegaconf import OmegaConf  # noqa: E402
from verl.trainer.ppo.utils import need_critic, need_reference_policy  # noqa: E402
from verl.utils.config import omega_conf_to_dataclass, validate_config  # noqa: E402
from verl.workers.config import RolloutConfig  # noqa: E402

from bao.agent.prompt import CHATML_TEMPLATE  # noqa: E402
from bao.integrations.verl.settings import read_settings  # noqa: E402

MULTINODE = ["trainer.nnodes=2", "actor_rollout_ref.rollout.agent.num_workers=16"]


def check(config) -> None:
    """verl's checks, as its trainer runs them before it starts Ray, and bao's."""
    validate_config(config, use_reference_policy=need_reference_policy(config), use_critic=need_critic(config))
    rollout = omega_conf_to_dataclass(config.actor_rollout_ref.rollout)
    assert isinstance(rollout, RolloutConfig)
    read_settings(config.algorithm)


@pytest.mark.parametrize("overrides", [[], MULTINODE], ids=["one-node", "two-nodes"])
def test_the_example_composes_and_passes_verls_checks(compose, overrides):
    check(compose(*overrides))


def test_the_example_is_the_published_setting(compose):
    config = compose()
    settings = read_settings(config.algorithm)
    assert settings.algo == "bao-paper"
    assert settings.algo_params == {"credit": "r2g", "score": "sum", "lambda_ot": 0.05, "lambda_is": 0.005,
                                    "gamma": 0.8, "norm_std": True}
    assert config.actor_rollout_ref.rollout.n == 8
    assert config.actor_rollout_ref.model.path == "Qwen/Qwen3-4B"
    assert config.actor_rollout_ref.rollout.agent.default_agent_loop == "bao"
    assert config.trainer.use_v1 and not need_reference_policy(config) and not need_critic(config)


def test_the_model_sees_baos_chatml(compose):
    assert compose().actor_rollout_ref.model.custom_chat_template == CHATML_TEMPLATE


def test_every_ray_worker_gets_the_data_directory(compose, monkeypatch):
    monkeypatch.setenv("BAO_DATA_DIR", "/shared/userrl")
    runtime = OmegaConf.to_container(compose().ray_kwargs.ray_init.runtime_env, resolve=True)
    assert runtime["env_vars"] == {"BAO_DATA_DIR": "/shared/userrl"}


VARIATIONS = [
    ["algorithm.bao.w=0.05"],
    ["algorithm.adv_estimator=userrl", "~algorithm.bao.algo_args", "++algorithm.bao.algo_args={credit: r2g}"],
    ["algorithm.adv_estimator=bao", "algorithm.gamma=1.0", "~algorithm.bao.algo_args",
     "++algorithm.bao.reward={lambda_is: 0.1}"],
]


@pytest.mark.parametrize("overrides", VARIATIONS)
def test_the_documented_variations_pass_the_checks(compose, overrides):
    check(compose(*overrides))


def test_a_bao_setting_that_verl_would_pass_through_fails_before_the_run(compose):
    with pytest.raises(ValueError, match="algo bao has no setting"):
        check(compose("algorithm.adv_estimator=bao"))  # the example's bao-paper algo_args do not apply to bao
