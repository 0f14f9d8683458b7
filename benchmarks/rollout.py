"""Rollout throughput of the engine (continuous batching, batch 1, 8, 16) against waves and a naive loop.

Same run, same episodes (the first `--episodes` test tasks of `--env`, seed 0, the embedded default model),
same sampling (`--temperature`, top-p 0.9). Configurations, by name:
- naive: one episode at a time, and every turn re-renders and re-reads the whole conversation with a fresh
  KV cache (`HFPolicy.act` through `run_episodes`), which is what a `generate()` loop does;
- engine-B: `run_engine` with `batch_size=B`: up to B episodes in flight, each keeping its KV cache across
  turns, a finished episode's slot going at once to the next job (continuous batching);
- waves-B: the same engine fed B jobs at a time, each batch starting when the previous one has finished
  (what the engine did before continuous batching);
- a `-nocopy` suffix (engine-16-nocopy) turns off the shared-prefix prefill and copy, so every prompt is
  read in full.
`--mixed-turns` gives the k-th episode a turn limit of 1 + k % `--max-turns`: the untrained model never
ends an episode early, so without it every episode plays `--max-turns` turns and waves lose nothing.
Each configuration runs in its own process so that its peak RSS is its own. Figures: generated tokens per
second, episodes per minute, speed-up over the first configuration (tok/s and episodes/min), peak RSS, and
whether the sampled ids are those of the first configuration. The machine's load average is printed too:
on a shared 2-core machine other jobs change every figure.

    python benchmarks/rollout.py [--configs naive,engine-1,engine-8,engine-16 --episodes 16 --max-turns 3
                                  --max-new-tokens 64 --temperature 0.7 --mixed-turns]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import time
from itertools import count


def measure(args: argparse.Namespace, config: str) -> dict:
    """Play the episodes under one configuration (see the module docstring) in this process."""
    from bao.envs import make
    from bao.policies.decoding import DecodeBatch
    from bao.policies.hf import HFPolicy, HFPolicyConfig, load_hf_policy
    from bao.policies.sampling import SamplingConfig
    from bao.rollout.episodes import run_episodes

    class CountingPolicy(HFPolicy):
        """Counts the tokens it samples (`text` sees every turn's ids, in both loops)."""

        generated = 0

        def text(self, ids: list[int]) -> str:
            self.generated += len(ids)
            return super().text(ids)

    sampling = SamplingConfig(temperature=args.temperature, max_new_tokens=args.max_new_tokens)
    loaded = load_hf_policy(HFPolicyConfig(args.model, sampling=sampling))
    policy = CountingPolicy(loaded.model, loaded.tokenizer, loaded.sampling, loaded.name)
    jobs = [(task, 0) for task in make(args.env).tasks("test")[: args.episodes]]
    started = count()

    def make_env():
        k = next(started)  # envs are made in job order, by every configuration
        return make(args.env, max_steps=1 + k % args.max_turns if args.mixed_turns else args.max_turns)

    if config.endswith("-nocopy"):
        DecodeBatch.SHARED_PREFIX_MIN = 1 << 30
    start = time.perf_counter()
    if config == "naive":
        trajectories = [t for job in jobs for t in run_episodes(make_env, policy, [job])]
    else:
        trajectories = _play_engine(make_env, policy, jobs, config)
    seconds = time.perf_counter() - start
    ids = [t.tokens.ids for t in trajectories] if config != "naive" else None
    return {
        "config": config,
        "episodes": len(trajectories),
        "turns": sum(t.n_turns for t in trajectories),
        "tokens": policy.generated,
        "seconds": round(seconds, 1),
        "tok_s": round(policy.generated / seconds, 2),
        "episodes_min": round(len(trajectories) / seconds * 60, 2),
        "invalid": sum(turn.kind == "invalid" for t in trajectories for turn in t.turns),
        "ids_sha": hashlib.sha256(json.dumps(ids).encode()).hexdigest()[:12] if ids else None,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "load": round(os.getloadavg()[0], 1),
    }


def _play_engine(make_env, policy, jobs: list, config: str) -> list:
    """`engine-B`: continuous batching over all jobs; `waves-B`: one engine call per B jobs."""
    from bao.rollout.engine import EngineConfig, run_engine

    kind, batch = config.split("-")[0], int(config.split("-")[1])
    engine = EngineConfig(batch_size=batch)
    if kind == "engine":
        return run_engine(make_env, policy, jobs, engine)
    return [t for lo in range(0, len(jobs), batch) for t in run_engine(make_env, policy, jobs[lo : lo + batch], engine)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--env", default="function")
    parser.add_argument("--episodes", type=int, default=16)
    parser.add_argument("--max-turns", type=int, default=3)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--temperature", type=float, default=0.7)
    parser.add_argument("--mixed-turns", action="store_true", help="the k-th episode plays <= 1 + k %% max-turns turns")
    parser.add_argument("--configs", default="naive,engine-1,engine-8,engine-16",
                        help="configurations separated by commas; the first is the baseline of the speed-ups")
    parser.add_argument("--only", default=None, help=argparse.SUPPRESS)  # one configuration, in a child process
    args = parser.parse_args()
    if args.only:
        print(json.dumps(measure(args, args.only)), flush=True)
        return 0

    from bao.policies.models import resolve

    resolve(args.model)  # pull once, before anything is timed
    env = {**os.environ, "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE")}
    rows = []
    for config in args.configs.split(","):
        argv = [sys.executable, __file__, "--only", config, "--model", args.model, "--env", args.env,
                "--episodes", str(args.episodes), "--max-turns", str(args.max_turns),
                "--max-new-tokens", str(args.max_new_tokens), "--temperature", str(args.temperature)]
        child = subprocess.run(argv + ["--mixed-turns"] * args.mixed_turns, capture_output=True, text=True, env=env)
        if child.returncode:
            print(child.stderr[-2000:])
            return child.returncode
        rows.append(json.loads(child.stdout.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]), flush=True)
    _print_table(args, rows)
    return 0


def _print_table(args: argparse.Namespace, rows: list[dict]) -> None:
    base = rows[0]
    turns = f"1 to {args.max_turns} turns (mixed)" if args.mixed_turns else f"<= {args.max_turns} turns"
    print(f"\n{args.model} on {args.env}: {args.episodes} episodes, {turns}, <= {args.max_new_tokens} tokens a "
          f"turn, temperature {args.temperature}, {os.cpu_count()} cores; speed-ups over {base['config']}")
    print(f"{'config':<17} {'turns':>5} {'tokens':>7} {'s':>7} {'tok/s':>7} {'x tok/s':>8} {'episodes/min':>13} "
          f"{'x ep/min':>9} {'same ids':>9} {'peak RSS MB':>12} {'load':>5}")
    for r in rows:
        same = "-" if not (r["ids_sha"] and base["ids_sha"]) else ("yes" if r["ids_sha"] == base["ids_sha"] else "no")
        print(f"{r['config']:<17} {r['turns']:>5} {r['tokens']:>7} {r['seconds']:>7} {r['tok_s']:>7} "
              f"{r['tok_s'] / base['tok_s']:>7.2f}x {r['episodes_min']:>13} "
              f"{r['episodes_min'] / base['episodes_min']:>8.2f}x {same:>9} {r['peak_rss_mb']:>12} {r['load']:>5}")


if __name__ == "__main__":
    sys.exit(main())
