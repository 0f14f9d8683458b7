"""Rollout throughput of the engine (batch 1, 8, 16) against a naive loop, on the embedded default model.

Same run, same episodes (the first `--episodes` test tasks of `--env`, seed 0), same sampling (0.7 / 0.9):
- naive: one episode at a time, and every turn re-renders and re-reads the whole conversation with a fresh
  KV cache (`HFPolicy.act` through `run_episodes`), which is what a `generate()` loop does;
- engine-B: `run_engine` with `batch_size=B`: B episodes decode together and each keeps its KV cache across
  turns (the shared system prompt is prefilled once per wave).
Each configuration runs in its own process so that its peak RSS is its own. Figures: generated tokens per
second, episodes per minute, speed-up over naive (episodes/min), peak RSS. The machine's load average is
printed too: on a shared 2-core machine other jobs change every figure.

    python benchmarks/rollout.py [--episodes 16 --max-turns 3 --max-new-tokens 64 --batches 1,8,16]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time


def measure(args: argparse.Namespace, config: str) -> dict:
    """Play the episodes under one configuration (`naive` or `engine-B`) in this process."""
    from bao.envs import make
    from bao.policies.hf import HFPolicy, HFPolicyConfig, load_hf_policy
    from bao.policies.sampling import SamplingConfig
    from bao.rollout.engine import EngineConfig, run_engine
    from bao.rollout.episodes import run_episodes

    class CountingPolicy(HFPolicy):
        """Counts the tokens it samples (`text` sees every turn's ids, in both loops)."""

        generated = 0

        def text(self, ids: list[int]) -> str:
            self.generated += len(ids)
            return super().text(ids)

    loaded = load_hf_policy(HFPolicyConfig(args.model, sampling=SamplingConfig(max_new_tokens=args.max_new_tokens)))
    policy = CountingPolicy(loaded.model, loaded.tokenizer, loaded.sampling, loaded.name)
    tasks = make(args.env).tasks("test")[: args.episodes]
    jobs = [(task, 0) for task in tasks]

    def make_env():
        return make(args.env, max_steps=args.max_turns)

    start = time.perf_counter()
    if config == "naive":
        trajectories = [t for job in jobs for t in run_episodes(make_env, policy, [job])]
    else:
        batch = int(config.split("-")[1])
        trajectories = run_engine(make_env, policy, jobs, EngineConfig(batch_size=batch))
    seconds = time.perf_counter() - start
    return {
        "config": config,
        "episodes": len(trajectories),
        "turns": sum(t.n_turns for t in trajectories),
        "tokens": policy.generated,
        "seconds": round(seconds, 1),
        "tok_s": round(policy.generated / seconds, 2),
        "episodes_min": round(len(trajectories) / seconds * 60, 2),
        "invalid": sum(turn.kind == "invalid" for t in trajectories for turn in t.turns),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "load": round(os.getloadavg()[0], 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--env", default="function")
    parser.add_argument("--episodes", type=int, default=16)
    parser.add_argument("--max-turns", type=int, default=3)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--batches", default="1,8,16", help="engine batch sizes, separated by commas")
    parser.add_argument("--only", default=None, help=argparse.SUPPRESS)  # one configuration, in a child process
    args = parser.parse_args()
    if args.only:
        print(json.dumps(measure(args, args.only)), flush=True)
        return 0

    from bao.policies.models import resolve

    resolve(args.model)  # pull once, before anything is timed
    env = {**os.environ, "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE")}
    rows = []
    for config in ["naive"] + [f"engine-{b}" for b in args.batches.split(",")]:
        argv = [sys.executable, __file__, "--only", config, "--model", args.model, "--env", args.env,
                "--episodes", str(args.episodes), "--max-turns", str(args.max_turns),
                "--max-new-tokens", str(args.max_new_tokens)]
        child = subprocess.run(argv, capture_output=True, text=True, env=env)
        if child.returncode:
            print(child.stderr[-2000:])
            return child.returncode
        rows.append(json.loads(child.stdout.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]), flush=True)
    naive = rows[0]["episodes_min"]
    print(f"\n{args.model} on {args.env}: {args.episodes} episodes, <= {args.max_turns} turns, "
          f"<= {args.max_new_tokens} tokens a turn, {os.cpu_count()} cores")
    print(f"{'config':<10} {'tokens':>7} {'s':>7} {'tok/s':>7} {'episodes/min':>13} {'speed-up':>9} "
          f"{'peak RSS MB':>12} {'load':>5}")
    for r in rows:
        print(f"{r['config']:<10} {r['tokens']:>7} {r['seconds']:>7} {r['tok_s']:>7} {r['episodes_min']:>13} "
              f"{r['episodes_min'] / naive:>8.2f}x {r['peak_rss_mb']:>12} {r['load']:>5}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
