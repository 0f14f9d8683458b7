"""Settings of `bao train`, where they come from, and the checks that run before any model loads.

Precedence: the dataclass defaults, then a YAML file (`--config`), then command-line flags, then `key=value`
overrides (`reward.lambda_is=0.1`, `algo_args.gamma=0.9`, `env_args.guard_test_case=true`, `lr=1e-5`). Every
mistake a user can make in a config fails here with one line that names the setting and what to do.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bao.algos import ESTIMATORS, make_config
from bao.rewards import RewardConfig

# `bao`'s regularizers are on by default (coefficients of BAO's released script where they exist); the other
# estimators read only the task reward and the effort cost, and their own settings (`algo_args`).
REWARD_PRESETS: dict[str, dict[str, float]] = {"bao": {"lambda_is": 0.05, "lambda_ot": 0.05, "early_stop": 0.05}}
LOSS_AGGREGATIONS = ("token-mean", "seq-mean-token-mean")


def _f(default: Any, help: str, **extra: Any) -> Any:
    if isinstance(default, dict):
        return field(default_factory=dict, metadata={"help": help, "flag": False, **extra})
    return field(default=default, metadata={"help": help, **extra})


@dataclass
class RLConfig:
    """Every setting of a training run (defaults: a short CPU run of SmolLM2-135M)."""

    env: str = _f("", "environment to train on (see `bao envs`)")
    out: Path | None = _f(None, "run directory: log.jsonl, checkpoints, final/ (default runs/train/ENV-ALGO-wW); "
                                "an existing run resumes")
    model: str = _f("smollm2-135m", "embedded name, HF directory or .gguf file")
    init: str | None = _f(None, "HF model directory to start from, e.g. a `bao sft` run's final/ (replaces --model)")
    adapter: str | None = _f(None, "peft LoRA adapter directory to start from (trained further)")
    lora: bool = _f(False, "train LoRA adapters instead of every weight")
    lora_r: int = _f(16, "LoRA rank")
    lora_alpha: int = _f(32, "LoRA scaling numerator")
    algo: str = _f("bao", f"advantage estimator: {', '.join(ESTIMATORS)}")
    w: float = _f(0.0, "effort cost of each user-involved turn: the objective is R - w*U")
    w_choices: str = _f("", "effort costs separated by commas: each group draws its w from them (a function of "
                            "seed, step and group), is rewarded R - w*U and told w in its prompt; one policy for "
                            "every w (replaces --w in training; --w is then the cost told in its evaluations)")
    steps: int = _f(20, "optimizer steps (each: a rollout of tasks_per_step x group_size episodes)")
    tasks_per_step: int = _f(4, "tasks per step")
    group_size: int = _f(4, "episodes per task (a group shares the task and the simulated user's seed)")
    split: str = _f("train", "split the tasks come from")
    lr: float = _f(2e-6, "learning rate (AdamW); LoRA usually wants 1e-5 to 1e-4")
    schedule: str = _f("constant", "LR schedule after warmup: constant, linear, cosine")
    warmup: int = _f(0, "warmup steps")
    weight_decay: float = _f(0.0, "AdamW weight decay")
    max_grad_norm: float = _f(1.0, "gradient clipping (0 = off)")
    clip_ratio: float = _f(0.2, "PPO clip epsilon")
    ppo_epochs: int = _f(1, "optimizer steps per rollout batch (each over the whole batch)")
    micro_batch: int = _f(2, "episodes per forward/backward pass (gradients accumulate over the batch)")
    loss_agg: str = _f("token-mean", "loss reduction: token-mean (every policy token weighs the same) or "
                                     "seq-mean-token-mean (every episode weighs the same)")
    kl_coef: float = _f(0.0, "KL penalty to the initial policy (k3); 0 = off, as in the published recipe")
    filter_groups: bool = _f(False, "drop groups whose scores are all equal (they carry no signal)")
    share_prefix: bool = _f(True, "run the prompt prefix shared by every episode of a step once per forward")
    skip_zero_advantage: bool = _f(True, "skip the forward of episodes whose advantages are all 0 (same gradient)")
    temperature: float = _f(0.7, "sampling temperature of the rollouts (the log-probs use the same)")
    top_p: float = _f(0.9, "nucleus sampling of the rollouts")
    max_new_tokens: int = _f(256, "tokens per turn")
    max_turns: int | None = _f(None, "turns per episode (default: the env's, 16)")
    max_tokens: int = _f(4096, "policy tokens per episode over all its turns")
    rollout_batch: int = _f(16, "episodes decoded together")
    eval_every: int = _f(0, "evaluate on the test split every N steps (0 = only before and after)")
    eval_n: int = _f(0, "test tasks per evaluation (0 = no evaluation)")
    eval_before: bool = _f(True, "also evaluate the initial policy, before the first step")
    eval_seeds: str = _f("0", "seeds of the evaluation, comma-separated")
    save_every: int = _f(1, "checkpoint every N steps (a crash loses at most N steps)")
    keep_checkpoints: int = _f(2, "checkpoints kept on disk")
    seed: int = _f(0, "seed of the task order, user seeds and sampling")
    algo_args: dict[str, Any] = _f({}, "estimator settings, e.g. gamma, credit, norm_std (see bao.algos)")
    reward: dict[str, Any] = _f({}, "reward shaping settings (bao.rewards.RewardConfig), e.g. lambda_is")
    env_args: dict[str, Any] = _f({}, "environment options, e.g. guard_test_case")

    @property
    def run_dir(self) -> Path:
        return Path(self.out) if self.out else Path("runs") / "train" / f"{self.env}-{self.algo}-w{self.w:g}"

    def reward_config(self) -> RewardConfig:
        return RewardConfig(w=self.w, **{**REWARD_PRESETS.get(self.algo, {}), **self.reward})

    def algo_config(self) -> Any:
        return make_config(self.algo, **self.algo_args)

    def w_values(self) -> list[float]:
        """The effort costs of `w_choices` ([] when every group trains with `w`)."""
        return [float(v) for v in str(self.w_choices).split(",") if v.strip()]

    def seeds(self) -> list[int]:
        return [int(s) for s in str(self.eval_seeds).split(",") if s.strip()]

    def eval_config(self) -> Any:
        """The test-split evaluation of this run: its tasks, seeds, limits and env options."""
        from bao.pipelines.evaluate import EvalConfig

        return EvalConfig(env=self.env, split="test", n=self.eval_n, seeds=self.seeds(), max_turns=self.max_turns,
                          batch_size=self.rollout_batch, engine={"max_tokens": self.max_tokens},
                          env_kwargs=dict(self.env_args), prompt_w=self.w if self.w_choices else None)


def flag_fields() -> list[dataclasses.Field]:
    """The fields that are also command-line flags (dict fields are set in YAML or as key=value)."""
    return [f for f in dataclasses.fields(RLConfig) if f.metadata.get("flag", True)]


def build_config(file: Path | None, flags: dict[str, Any], overrides: list[str]) -> RLConfig:
    """Merge the YAML file, the flags that were given and the overrides, then check the result."""
    values: dict[str, Any] = {}
    if file is not None:
        values.update(_read_yaml(file))
    values.update({k: v for k, v in flags.items() if v is not None})
    for item in overrides:
        _apply_override(values, item)
    names = {f.name for f in dataclasses.fields(RLConfig)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ValueError(f"unknown setting {', '.join(unknown)} (see `bao train --help`)")
    values = _numbers_as_numbers(values)
    config = RLConfig(**values)
    check(config)
    return config


def _numbers_as_numbers(values: dict[str, Any]) -> dict[str, Any]:
    """YAML 1.1 reads `1e-5` (no dot) as a string; a number setting given so is the number it spells."""
    hints = typing.get_type_hints(RLConfig)
    out = dict(values)
    for key, value in values.items():
        if hints[key] is float and isinstance(value, str):
            try:
                out[key] = float(value)
            except ValueError:
                pass  # check() names the setting and the bad value
    return out


def _read_yaml(path: Path) -> dict[str, Any]:
    import yaml

    if not Path(path).is_file():
        raise ValueError(f"--config {path}: no such file")
    try:
        data = yaml.safe_load(Path(path).read_text()) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"--config {path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise ValueError(f"--config {path}: expected a mapping of setting: value, got {type(data).__name__}")
    return data


def _apply_override(values: dict[str, Any], item: str) -> None:
    import yaml

    key, sep, raw = item.partition("=")
    if not sep or not key:
        raise ValueError(f"override {item!r} is not key=value (e.g. reward.lambda_is=0.1)")
    value = yaml.safe_load(raw) if raw else ""
    head, _, sub = key.partition(".")
    if sub:
        if head not in ("algo_args", "reward", "env_args"):
            raise ValueError(f"override {item!r}: only algo_args, reward and env_args take a dotted key")
        values.setdefault(head, {})
        values[head] = {**values[head], sub: value}
    else:
        values[key] = value


def check(config: RLConfig) -> None:
    """Every check that does not need the model: fails with the setting's name and the fix."""
    from bao.envs.registry import env_class

    if not config.env:
        raise ValueError("--env is required (see `bao envs`)")
    env_class(config.env)
    hints = typing.get_type_hints(RLConfig)
    for f in flag_fields():
        value = getattr(config, f.name)
        kind = hints[f.name]
        if kind in (int, float) and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise ValueError(f"--{_flag(f.name)} must be a number, got {value!r}")
    if config.algo not in ESTIMATORS:
        raise ValueError(f"--algo {config.algo!r} is unknown; choose one of {', '.join(ESTIMATORS)}")
    if config.w < 0:
        raise ValueError(f"--w must be >= 0 (it is the cost of a user turn), got {config.w}")
    try:
        bad_choice = any(not 0 <= w < math.inf for w in config.w_values())
    except ValueError:
        bad_choice = True
    if bad_choice:
        raise ValueError(f"--w-choices must be numbers >= 0 separated by commas, got {config.w_choices!r}")
    for name in ("steps", "tasks_per_step", "group_size", "ppo_epochs", "micro_batch", "max_new_tokens", "max_tokens",
                 "rollout_batch", "save_every", "lora_r", "lora_alpha"):
        if getattr(config, name) < 1:
            raise ValueError(f"--{_flag(name)} must be >= 1, got {getattr(config, name)}")
    for name in ("lr", "clip_ratio"):
        if getattr(config, name) <= 0:
            raise ValueError(f"--{_flag(name)} must be > 0, got {getattr(config, name)}")
    for name in ("warmup", "weight_decay", "max_grad_norm", "kl_coef", "eval_every", "eval_n"):
        if getattr(config, name) < 0:
            raise ValueError(f"--{_flag(name)} must be >= 0, got {getattr(config, name)}")
    if config.max_turns is not None and config.max_turns < 1:
        raise ValueError(f"--max-turns must be >= 1, got {config.max_turns}")
    if config.keep_checkpoints < 1:
        raise ValueError("--keep-checkpoints must be >= 1")
    if config.loss_agg not in LOSS_AGGREGATIONS:
        raise ValueError(f"--loss-agg must be one of {', '.join(LOSS_AGGREGATIONS)}, got {config.loss_agg!r}")
    if config.schedule not in ("constant", "linear", "cosine"):
        raise ValueError(f"--schedule must be constant, linear or cosine, got {config.schedule!r}")
    if config.split not in ("train", "test"):
        raise ValueError(f"--split must be train or test, got {config.split!r}")
    if not 0 <= config.temperature or not 0 < config.top_p <= 1:
        raise ValueError("--temperature must be >= 0 and --top-p in (0, 1]")
    if config.temperature == 0:
        raise ValueError("--temperature 0 (greedy) gives every episode of a group the same turns: use > 0")
    try:
        config.seeds()
    except ValueError:
        raise ValueError(f"--eval-seeds must be integers separated by commas, got {config.eval_seeds!r}") from None
    algo = config.algo_config()
    try:
        config.reward_config()
    except TypeError as exc:
        raise ValueError(f"reward: {exc} (see bao.rewards.RewardConfig)") from None
    if config.group_size == 1 and getattr(algo, "norm_std", False):
        raise ValueError("--group-size 1 with std normalisation has no group to compare: use --group-size >= 2 "
                         "(or algo_args.norm_std=false)")
    for name in ("init", "adapter"):
        path = getattr(config, name)
        if path is not None and not Path(path).is_dir():
            raise ValueError(f"--{name} {path}: no such directory")
    if config.adapter and not (Path(config.adapter) / "adapter_config.json").is_file():
        raise ValueError(f"--adapter {config.adapter} is not a peft adapter directory (no adapter_config.json)")
    if config.init and not (Path(config.init) / "config.json").is_file():
        raise ValueError(f"--init {config.init} is not an HF model directory (no config.json); a `bao sft` run "
                         "writes one as DIR/final")
    env_kwargs = dict(config.env_args)
    try:
        env_class(config.env)(**env_kwargs)
    except TypeError as exc:
        raise ValueError(f"env_args: {config.env} does not take these options ({exc})") from None


def _flag(name: str) -> str:
    return name.replace("_", "-")
