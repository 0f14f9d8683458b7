"""Seconds per `bao train` step on the workload a general-purpose trainer (TRL's GRPOTrainer) was measured on.

Workload (as `../shared/peers/trl_grpo`): the embedded SmolLM2-135M in fp32, full fine-tune with AdamW, the
`function` env with its tool prompt, 4 tasks x group 4 = 16 episodes per optimizer step, exactly 3 model turns
per episode (the env never ends an episode early here) and exactly 48 sampled tokens per turn (end-of-turn
tokens do not stop a turn), temperature 1.0, top-p 1.0, every episode trained on (the trainer would skip the
forward of episodes whose advantages are all 0, which is every one here: the untrained model never solves a
task). A warm-up step, then `--steps` timed steps.

Reported: s/step (mean of the timed steps) split into generation and training, policy tokens/s of the
rollout, forward+backward tokens/s of the training, peak RSS (also after each step, warm-up included, in the
JSON lines), and in the same run on the same rows:
- a plain forward+backward of the same tokens (each episode padded and run whole, in the same micro-batches,
  the loss a sum of policy-token log-probs), the floor a trainer's overhead is measured against;
- the trainer's step without the shared prefix (`share_prefix=False`).
Every configuration runs in its own process, so that peak RSS is its own. The load average is printed: on a
shared 2-core machine other jobs change every figure.

    python benchmarks/train_step.py [--steps 3] [--micro-batch 4]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _register_bench_env() -> None:
    """`function-bench`: FunctionGym that never terminates early, so every episode plays exactly its turns."""
    from bao.envs.function import FunctionEnv
    from bao.envs.registry import register

    register("function-bench", f"{__name__}:BenchFunctionEnv")
    globals()["BenchFunctionEnv"] = type("BenchFunctionEnv", (FunctionEnv,), {"_step": _never_done})


def _never_done(self, action):
    from bao.envs.function import FunctionEnv

    result = FunctionEnv._step(self, action)
    result.done = False
    result.info["terminated"] = False
    return result


def measure(args: argparse.Namespace, config_name: str) -> dict:
    import torch

    from bao.pipelines.rl import Trainer
    from bao.pipelines.rl_config import build_config

    _register_bench_env()
    torch.set_num_threads(args.threads)
    out = Path(tempfile.mkdtemp(prefix="bao-bench-"))
    flags = dict(env="function-bench", model=args.model, out=out, algo="grpo", steps=args.steps + 1, tasks_per_step=4,
                 group_size=4, max_turns=3, max_new_tokens=48, temperature=1.0, top_p=1.0, lr=1e-6,
                 micro_batch=args.micro_batch, save_every=10_000, rollout_batch=16,
                 share_prefix=config_name != "no-prefix", skip_zero_advantage=False)
    trainer = Trainer(build_config(None, flags, []))
    trainer.policy.stop_ids = frozenset()  # exactly max_new_tokens per turn
    steps = []
    for _ in range(args.steps + 1):
        steps.append(trainer.train_step())
        if config_name == "plain":
            steps[-1]["time/plain_s"] = _plain_forward_backward(trainer, args.micro_batch)
    timed = steps[1:]

    def mean(key: str) -> float:
        return sum(s[key] for s in timed) / len(timed)

    rollout, train = mean("time/rollout_s"), mean("time/train_s")
    result = {
        "config": config_name,
        "s_step": round(rollout + train, 1),
        "generation_s": round(rollout, 1),
        "training_s": round(train, 1),
        "policy_tokens": round(mean("tokens/policy")),
        "policy_tok_s": round(mean("tokens/policy") / rollout, 1),
        "forward_tokens": round(mean("tokens/forward")),
        "fwd_bwd_tok_s": round(mean("tokens/forward") / train, 1),
        "shared_prefix": round(mean("tokens/shared_prefix")),
        "peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
        "peak_rss_by_step": [round(s["mem/peak_rss_gib"], 2) for s in steps],  # does the peak grow with steps?
        "load": round(os.getloadavg()[0], 1),
    }
    if config_name == "plain":
        result["plain_s"] = round(mean("time/plain_s"), 1)
        result["overhead"] = round(train / mean("time/plain_s"), 2)
    return result


def _plain_forward_backward(trainer, micro_batch: int) -> float:
    """A forward and backward of the last step's episodes, whole and right-padded, with no trainer around it."""
    import torch

    model = trainer.model
    rows = trainer.last_rows
    start = time.perf_counter()
    for lo in range(0, len(rows), micro_batch):
        chunk = rows[lo : lo + micro_batch]
        width = max(len(r.ids) for r in chunk)
        ids = torch.zeros(len(chunk), width, dtype=torch.long)
        mask = torch.zeros(len(chunk), width)
        for b, r in enumerate(chunk):
            ids[b, : len(r.ids)] = torch.tensor(r.ids)
            mask[b, : len(r.mask)] = torch.tensor(r.mask, dtype=torch.float)
        logits = model(input_ids=ids).logits[:, :-1].float()
        logp = torch.log_softmax(logits, -1).gather(2, ids[:, 1:, None]).squeeze(2)
        (logp * mask[:, 1:]).sum().backward()
    model.zero_grad(set_to_none=True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--steps", type=int, default=3, help="timed steps (after one warm-up step)")
    parser.add_argument("--micro-batch", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--configs", default="bao,no-prefix,plain",
                        help="bao (the trainer), no-prefix (without the shared prefix), plain (the trainer plus a "
                             "plain forward+backward of the same rows)")
    parser.add_argument("--out-json", type=Path, default=None)
    parser.add_argument("--only", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.only:
        print(json.dumps(measure(args, args.only)))
        return 0
    results = []
    for name in args.configs.split(","):
        cmd = [sys.executable, __file__, "--only", name, "--model", args.model, "--steps", str(args.steps),
               "--micro-batch", str(args.micro_batch), "--threads", str(args.threads)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode:
            print(proc.stderr[-3000:], file=sys.stderr)
            return proc.returncode
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print(json.dumps(results[-1]), flush=True)
    print(f"\nSmolLM2-135M fp32 full fine-tune, function, 16 episodes x 3 turns x 48 tokens, {args.steps} steps")
    print(f"{'config':<10} {'s/step':>7} {'gen s':>6} {'train s':>8} {'pol tok/s':>9} {'fwd+bwd tok/s':>13} "
          f"{'peak GiB':>8} {'load':>5}")
    for r in results:
        print(f"{r['config']:<10} {r['s_step']:>7} {r['generation_s']:>6} {r['training_s']:>8} {r['policy_tok_s']:>9} "
              f"{r['fwd_bwd_tok_s']:>13} {r['peak_rss_gib']:>8} {r['load']:>5}")
    plain = next((r for r in results if r["config"] == "plain"), None)
    if plain:
        print(f"trainer training / plain forward+backward of the same rows: {plain['overhead']}x "
              f"({plain['training_s']} s vs {plain['plain_s']} s)")
    if args.out_json:
        args.out_json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
