"""`bao train`: multi-turn GRPO with turn-level credit (BAO stage 2, second half), on one process or data-parallel
over several (`rl_dist`: `accelerate launch` on GPUs, `torchrun` on CPUs).

A step: play `tasks_per_step` groups of `group_size` episodes with the rollout engine (a group shares its task
and simulated-user seed; its members sample differently), shape each turn's reward (`bao.rewards`), turn the
rewards into per-turn advantages with the chosen estimator (`bao.algos`), spread them over the policy tokens
the rollout recorded, and take `ppo_epochs` optimizer steps of PPO's clipped loss on exactly those tokens:
the old log-probs are the rollout's, no text is re-tokenised. The prompt prefix shared by the step's episodes
(the tool schema) goes through the model once per forward (`rl_forward.SharedPrefix`).

What a run leaves in its directory:
- `rl_config.json` (the settings; a rerun in the same directory resumes, and refuses other settings),
- `log.jsonl`: one record per step (`event: "step"`, every metric below), evaluation (`"eval"`), resume,
  and the end; tensorboard's event files in `tb/` when tensorboard is installed,
- `checkpoint-N/`: trainable weights, optimizer, scheduler and step, written into `tmp-checkpoint-N/` and
  renamed when complete; a crash or Ctrl-C loses at most the step in progress. The task order and every
  seed are functions of (seed, step), so a resumed run continues exactly as an uninterrupted one,
- `eval-step-N/`: trajectories and metrics of the test-split evaluations, `final/`: the trained model.

Metric names (stable): `reward/<component>` (mean per-episode sum of each reward component), `episode/<m>`
(the evaluation metrics of `bao.pipelines.metrics` on the step's episodes), `algo/<stat>` (the estimator's
statistics), `loss/policy`, `loss/kl`, `loss/clipfrac`, `loss/entropy`, `train/grad_norm`, `train/lr`,
`train/rows` (episodes with a non-zero advantage), `time/rollout_s`, `time/train_s`, `tokens/policy`,
`tokens/forward` (tokens run through the model, the shared prefix once), `tokens/shared_prefix`,
`mem/peak_rss_gib` (the process's peak resident memory so far, where the OS reports it).
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import importlib.util
import json
import math
import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from bao.agent.effort import with_effort_cost
from bao.algos import get_estimator
from bao.algos.loss import clipped_surrogate, kl_k3
from bao.envs import make
from bao.pipelines.metrics import summarize
from bao.pipelines.rl_config import RLConfig
from bao.pipelines.rl_data import Row, flat_groups, group_costs, step_jobs, to_episode, training_rows
from bao.pipelines.rl_dist import Workers
from bao.pipelines.rl_forward import SharedPrefix, policy_logprobs, shared_prefix_length
from bao.pipelines.sft import MARKER, JsonlLog, complete_checkpoints, prepare_resume, save_final
from bao.rewards import COMPONENTS

# Settings a resumed run may change: how long it runs, how often it evaluates and saves.
RESUMABLE_CHANGES = {"steps", "eval_every", "eval_n", "eval_seeds", "eval_before", "save_every", "keep_checkpoints",
                     "out"}


@dataclasses.dataclass
class Hooks:
    """What the trainer reports while it runs (the CLI draws progress from these)."""

    on_episode: Callable[[], None] | None = None  # an episode of the rollout finished
    on_turns: Callable[[int, int], None] | None = None  # a decoding round: turns played, tokens generated
    on_step: Callable[[int, dict[str, float]], None] | None = None  # a step finished, with its metrics
    on_phase: Callable[[str], None] | None = None  # "rollout", "train", "eval", "save"


class Trainer:
    """The state of a run: model, optimizer, scheduler, step."""

    def __init__(self, config: RLConfig, hooks: Hooks | None = None) -> None:
        _limit_malloc_arenas()
        self.config = config
        self.workers = Workers()
        self.workers.check(config.tasks_per_step)
        self.hooks = (hooks or Hooks()) if self.workers.is_main else Hooks()
        self.out = config.run_dir
        self.reward_config = config.reward_config()
        self.algo_config = config.algo_config()
        self.estimator = get_estimator(config.algo)
        env_kwargs = dict(config.env_args)
        if config.max_turns:
            env_kwargs["max_steps"] = config.max_turns
        self.env_kwargs = env_kwargs
        env = make(config.env, **env_kwargs)
        self.user_kinds = env.spec.user_kinds
        self.tasks = env.tasks(config.split)
        if not self.tasks:
            raise ValueError(f"{config.env} has no {config.split} tasks")
        self._check_run_dir()
        self.log = JsonlLog(self.out / "log.jsonl") if self.workers.is_main else None
        self.model, self.tokenizer = _load_model(config)
        self.params = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(self.params, lr=config.lr, weight_decay=config.weight_decay)
        from transformers import get_scheduler

        self.scheduler = get_scheduler(config.schedule, self.optimizer, num_warmup_steps=config.warmup,
                                       num_training_steps=config.steps)
        self.reference = _reference_model(self.model, config)
        self.policy = _policy(self.model, self.tokenizer, config)
        self.step = 0
        self.last_rows: list[Row] = []
        self.writer = _tensorboard(self.out / "tb") if self.workers.is_main else None

    def _check_run_dir(self) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        saved = self.out / "rl_config.json"
        current = json.loads(json.dumps(dataclasses.asdict(self.config), default=str))
        if saved.is_file():
            before = json.loads(saved.read_text())
            changed = sorted(k for k in set(before) | set(current)
                             if k not in RESUMABLE_CHANGES and before.get(k) != current.get(k))
            if changed:
                raise ValueError(f"{self.out} holds a run with other settings ({', '.join(changed)}): use another "
                                 "--out, or the same settings to resume it")
        if not self.workers.is_main:
            return
        tmp = saved.with_suffix(".tmp")
        tmp.write_text(json.dumps(current, indent=2))
        tmp.replace(saved)

    # ---------------------------------------------------------------------------------------------- the loop

    def run(self) -> dict[str, Any]:
        """Train to `config.steps` (resuming from the newest complete checkpoint), evaluate, save `final/`."""
        config = self.config
        resumed = self._resume()
        self._record("start" if resumed is None else "resume", step=self.step, checkpoint=resumed)
        if self.step == 0 and config.eval_n and config.eval_before:
            self._evaluate()
        start = time.perf_counter()
        last: dict[str, float] = {}
        while self.step < config.steps:
            last = self.train_step()
            if config.eval_n and config.eval_every and self.step % config.eval_every == 0 and self.step < config.steps:
                self._evaluate()
            if self.step % config.save_every == 0 or self.step == config.steps:
                self._save()
        summary: dict[str, Any] = {"steps": self.step, "seconds": round(time.perf_counter() - start, 1),
                                   "last_step": last}
        if config.eval_n:
            summary["eval"] = self._evaluate()
        self._phase("save")
        summary["final"] = str(self.out / "final")
        if self.workers.is_main:
            save_final(self.model, self.tokenizer, self.out)
        self.workers.wait()
        self._record("end", **summary)
        if self.writer is not None:
            self.writer.close()
        self.workers.close()
        return summary

    def train_step(self) -> dict[str, float]:
        """One rollout and its optimizer step(s); returns the step's metrics (also logged)."""
        config = self.config
        self._phase("rollout")
        t0 = time.perf_counter()
        jobs = step_jobs(self.tasks, self.step, config.tasks_per_step, config.group_size, config.seed)
        group_of = [k // config.group_size for k in range(len(jobs))]  # episode -> its group's index in the step
        costs = group_costs(config.w_values(), config.seed, self.step, config.tasks_per_step)
        if costs:  # one policy for several w: each group is told its w and rewarded with it
            jobs = [(with_effort_cost(task, costs[group_of[k]], self.user_kinds), seed, draw)
                    for k, (task, seed, draw) in enumerate(jobs)]
        mine = [k for k in range(len(jobs)) if self.workers.owns(group_of[k])]
        trajectories = self.workers.gather(self._rollout([jobs[i] for i in mine]), mine)
        _release_freed_memory()
        t1 = time.perf_counter()
        groups = [f"{task.id}@{seed}" for task, seed, _ in jobs]
        episodes, components = [], []
        for k, (traj, group) in enumerate(zip(trajectories, groups)):
            reward = dataclasses.replace(self.reward_config, w=costs[group_of[k]]) if costs else self.reward_config
            episode, rows = to_episode(traj, group, reward)
            episodes.append(episode)
            components.append(rows)
        adv = self.estimator(episodes, self.algo_config)
        rows = training_rows(trajectories, groups, adv)
        dropped = flat_groups(adv, groups) if config.filter_groups else set()
        rows = [r for r in rows if r.group not in dropped]
        self.last_rows = rows
        self._phase("train")
        owner = {group: group_of[k] for k, group in enumerate(groups)}
        losses = self._optimize(rows, [r for r in rows if self.workers.owns(owner[r.group])])
        _release_freed_memory()
        t2 = time.perf_counter()
        self.step += 1
        metrics = {f"reward/{name}": _mean([sum(turn[name] for turn in ep) for ep in components])
                   for name in COMPONENTS}
        metrics |= {f"episode/{k}": v.mean for k, v in summarize(trajectories).items()}
        metrics |= {f"algo/{k}": v for k, v in adv.stats.items()}
        metrics |= losses
        metrics |= {"train/lr": self.scheduler.get_last_lr()[0], "train/dropped_groups": len(dropped),
                    "time/rollout_s": t1 - t0, "time/train_s": t2 - t1,
                    "tokens/policy": sum(sum(t.tokens.mask) for t in trajectories)}
        metrics |= _peak_rss()
        metrics = {k: round(float(v), 6) for k, v in metrics.items()}
        self._record("step", step=self.step, **metrics)
        if self.writer is not None:
            for key, value in metrics.items():
                if math.isfinite(value):
                    self.writer.add_scalar(key, value, self.step)
        if self.hooks.on_step:
            self.hooks.on_step(self.step, metrics)
        return metrics

    def _rollout(self, jobs: list[tuple[Any, int, int]]) -> list:
        from bao.rollout.engine import EngineConfig, run_engine

        self.model.eval()
        engine = EngineConfig(batch_size=self.config.rollout_batch, max_tokens=self.config.max_tokens)
        on_done = (lambda _t: self.hooks.on_episode()) if self.hooks.on_episode else None
        return run_engine(lambda: make(self.config.env, **self.env_kwargs), self.policy, jobs, engine, on_done,
                          self.hooks.on_turns)

    # ---------------------------------------------------------------------------------------------- the loss

    def _optimize(self, rows: list[Row], own: list[Row]) -> dict[str, float]:
        """`ppo_epochs` optimizer steps of the clipped loss over `rows` (the whole batch), in micro-batches; this
        process runs the forward and backward of `own` (all of `rows` unless the run is data-parallel)."""
        config = self.config
        self.model.train()
        total_tokens = sum(sum(r.mask) for r in rows)
        # Rows whose advantages are all 0 add nothing to the policy loss; they still count in the token-mean
        # denominator (as in verl), so skipping their forward changes no gradient. With a KL term they stay.
        live = [r for r in own if not config.skip_zero_advantage or config.kl_coef > 0 or any(r.advantages)]
        stats = {"loss/policy": 0.0, "loss/kl": 0.0, "loss/clipfrac": 0.0, "loss/entropy": 0.0}
        prefix_len = shared_prefix_length(live) if config.share_prefix else 0
        counts = {"train/rows": len(live), "tokens/forward": prefix_len + sum(len(r.ids) - prefix_len for r in live)}
        reference = self._reference_logprobs(live, prefix_len) if config.kl_coef > 0 else None
        grad_norm = 0.0
        for _ in range(config.ppo_epochs):
            self.optimizer.zero_grad(set_to_none=True)
            if live:
                prefix = SharedPrefix(self.model, live[0].ids[:prefix_len]) if prefix_len else None
                for lo in range(0, len(live), config.micro_batch):
                    chunk = live[lo : lo + config.micro_batch]
                    ref = reference[lo : lo + config.micro_batch] if reference is not None else None
                    self._accumulate(chunk, ref, prefix, total_tokens, len(rows), stats)
                if prefix is not None:
                    prefix.backward()
            self.workers.sum_gradients(self.params)
            if any(p.grad is not None for p in self.params):
                norm = torch.nn.utils.clip_grad_norm_(self.params, config.max_grad_norm or float("inf"))
                grad_norm = float(norm)
            self.optimizer.step()  # a no-op without gradients (AdamW skips them), so the schedule stays in step
        self.optimizer.zero_grad(set_to_none=True)  # the next rollout needs the memory more than the gradients
        self.scheduler.step()
        totals = self.workers.sum_stats({**stats, **counts})
        scale = max(total_tokens, 1) * config.ppo_epochs
        out = {k: totals[k] / scale for k in stats}
        out |= {"train/grad_norm": grad_norm, "train/rows": totals["train/rows"],
                "tokens/forward": totals["tokens/forward"], "tokens/shared_prefix": prefix_len}
        return out

    def _accumulate(self, chunk: list[Row], reference: list[torch.Tensor] | None, prefix: SharedPrefix | None,
                    total_tokens: int, total_rows: int, stats: dict[str, float]) -> None:
        config = self.config
        logps, entropy = policy_logprobs(self.model, chunk, config.temperature, prefix, with_entropy=True)
        loss = torch.zeros(())
        for i, (row, logp) in enumerate(zip(chunk, logps)):
            if not len(logp):
                continue
            positions = [j for j, m in enumerate(row.mask) if m]
            old = torch.tensor([row.old_logprobs[j] for j in positions])
            advantages = torch.tensor([row.advantages[j] for j in positions])
            per_token, clipped = clipped_surrogate(logp, old, advantages, config.clip_ratio)
            if reference is not None:
                kl = kl_k3(logp, reference[i])
                per_token = per_token + config.kl_coef * kl
                stats["loss/kl"] += float(kl.detach().sum())
            weight = 1 / total_tokens if config.loss_agg == "token-mean" else 1 / (total_rows * len(logp))
            loss = loss + per_token.sum() * weight
            stats["loss/policy"] += float(per_token.detach().sum())
            stats["loss/clipfrac"] += float(clipped.sum())
            stats["loss/entropy"] += float(entropy) * len(logp) if entropy is not None else 0.0
        if loss.requires_grad:
            loss.backward()

    @torch.no_grad()
    def _reference_logprobs(self, rows: list[Row], prefix_len: int) -> list[torch.Tensor]:
        model = self.reference if self.reference is not None else self.model
        context = self.model.disable_adapter() if self.reference is None else contextlib.nullcontext()
        out: list[torch.Tensor] = []
        with context:
            prefix = SharedPrefix(model, rows[0].ids[:prefix_len]) if prefix_len and rows else None
            for lo in range(0, len(rows), self.config.micro_batch):
                logps, _ = policy_logprobs(model, rows[lo : lo + self.config.micro_batch], self.config.temperature,
                                           prefix)
                out += logps
        return out

    # ---------------------------------------------------------------------------------- eval and checkpoints

    def _evaluate(self) -> dict[str, float]:
        """Evaluate on the test split (on the main process; the others wait and return {})."""
        from bao.pipelines.evaluate import evaluate, interrupted

        self._phase("eval")
        if not self.workers.is_main:
            self.workers.wait()
            return {}
        self.model.eval()
        config = self.config
        out = self.out / f"eval-step-{self.step}"
        # an evaluation cut by a crash or Ctrl-C is finished from its kept episodes when the run resumes
        result = evaluate(config.eval_config(), self.policy, out, resume=interrupted(out))
        metrics = {k: round(v.mean, 4) for k, v in result.metrics.items()}
        self._record("eval", step=self.step, seconds=round(result.seconds, 1), **metrics)
        if self.writer is not None:
            for key, value in metrics.items():
                if math.isfinite(value):
                    self.writer.add_scalar(f"eval/{key}", value, self.step)
        self.workers.wait()
        return metrics

    def _save(self) -> None:
        self._phase("save")
        if self.workers.is_main:
            self._write_checkpoint()
        self.workers.wait()

    def _write_checkpoint(self) -> None:
        name = f"checkpoint-{self.step}"
        tmp = self.out / f"tmp-{name}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        trainable = {n: p.detach().clone() for n, p in self.model.named_parameters() if p.requires_grad}
        torch.save(trainable, tmp / "trainable.pt")
        torch.save(self.optimizer.state_dict(), tmp / "optimizer.pt")
        torch.save(self.scheduler.state_dict(), tmp / "scheduler.pt")
        (tmp / "state.json").write_text(json.dumps({"step": self.step}))
        (tmp / MARKER).write_text(json.dumps({"step": self.step}))
        tmp.rename(self.out / name)
        for old in complete_checkpoints(self.out)[: -self.config.keep_checkpoints]:
            shutil.rmtree(old)
        self._record("checkpoint", step=self.step, path=str(self.out / name))

    def _resume(self) -> str | None:
        if self.workers.is_main:
            for stale in self.out.glob("tmp-checkpoint-*"):
                shutil.rmtree(stale)
        checkpoint = prepare_resume(self.out)
        if checkpoint is None:
            return None
        trainable = torch.load(checkpoint / "trainable.pt", weights_only=True)
        missing = [n for n, p in self.model.named_parameters() if p.requires_grad and n not in trainable]
        if missing:
            raise ValueError(f"{checkpoint} does not match this model ({len(missing)} weights missing, e.g. "
                             f"{missing[0]}); use another --out")
        with torch.no_grad():
            for n, p in self.model.named_parameters():
                if n in trainable:
                    p.copy_(trainable[n])
        self.optimizer.load_state_dict(torch.load(checkpoint / "optimizer.pt", weights_only=True))
        self.scheduler.load_state_dict(torch.load(checkpoint / "scheduler.pt", weights_only=True))
        self.step = json.loads((checkpoint / "state.json").read_text())["step"]
        return str(checkpoint)

    def _record(self, event: str, **fields: Any) -> None:
        if self.log is not None:
            self.log.write(event, **{k: _finite(v) for k, v in fields.items()})

    def _phase(self, name: str) -> None:
        if self.hooks.on_phase:
            self.hooks.on_phase(name)


# glibc gives each thread that allocates its own heap ("arena"), up to 8 per core; torch's worker threads then
# keep freed activation and KV-cache blocks in heaps the main thread cannot reuse. Two arenas took the RL step
# benchmark's peak from 5.71 to 4.92 GiB (two threads; one thread: 4.91 GiB).
MALLOC_ARENAS = 2
_M_ARENA_MAX = -8  # mallopt's parameter number (malloc.h)


def _limit_malloc_arenas() -> None:
    """Cap glibc's malloc arenas (as MALLOC_ARENA_MAX would at start-up); a no-op elsewhere, or when the user
    set MALLOC_ARENA_MAX themselves."""
    if sys.platform.startswith("linux") and "MALLOC_ARENA_MAX" not in os.environ:
        try:
            ctypes.CDLL("libc.so.6").mallopt(_M_ARENA_MAX, MALLOC_ARENAS)
        except (OSError, AttributeError):
            pass


def _peak_rss() -> dict[str, float]:
    """The process's peak resident memory in GiB (`ru_maxrss` is KiB on Linux, bytes on macOS); {} where the
    `resource` module does not exist (Windows)."""
    try:
        import resource
    except ImportError:
        return {}
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"mem/peak_rss_gib": peak / (2**30 if sys.platform == "darwin" else 2**20)}


def _release_freed_memory() -> None:
    """Hand the memory freed by the rollout (its KV cache) or the training (activations) back to the system.

    glibc keeps freed blocks for reuse, and the two phases allocate differently shaped tensors, so without this
    the process's resident memory grows to the sum of both phases' peaks instead of the larger one.
    """
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):
            pass


def _finite(value: Any) -> Any:
    """NaN and infinities as null (a metric undefined this step, e.g. the redundant share without questions), so
    that log.jsonl stays valid JSON."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _load_model(config: RLConfig) -> tuple[Any, Any]:
    """The policy model (fp32 on CPU, bf16 on GPU), with LoRA adapters when asked, and its tokenizer."""
    from bao.policies.hf import HFPolicyConfig, load_hf_policy

    policy = load_hf_policy(HFPolicyConfig(model=config.init or config.model, adapter=config.adapter))
    model, tokenizer = policy.model, policy.tokenizer
    if config.adapter:
        for name, param in model.named_parameters():
            param.requires_grad_("lora_" in name)
    elif config.lora:
        from peft import LoraConfig, get_peft_model

        lora = LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=0.0,
                          target_modules="all-linear", task_type="CAUSAL_LM")
        torch.manual_seed(config.seed)
        model = get_peft_model(model, lora)
    return model, tokenizer


def _reference_model(model: Any, config: RLConfig) -> Any:
    """A frozen copy of the initial policy for the KL term; None when there is no KL or LoRA gives it for free
    (the base model with the adapters switched off)."""
    if config.kl_coef <= 0 or hasattr(model, "disable_adapter"):
        return None
    import copy

    reference = copy.deepcopy(model).eval()
    for param in reference.parameters():
        param.requires_grad_(False)
    return reference


def _policy(model: Any, tokenizer: Any, config: RLConfig) -> Any:
    from bao.policies.hf import HFPolicy
    from bao.policies.sampling import SamplingConfig

    sampling = SamplingConfig(config.temperature, config.top_p, config.max_new_tokens)
    return HFPolicy(model, tokenizer, sampling, name=f"train:{config.algo}")


def _tensorboard(path: Path) -> Any:
    if importlib.util.find_spec("tensorboard") is None:
        return None
    from torch.utils.tensorboard import SummaryWriter

    return SummaryWriter(str(path))
