"""What each estimator does: the same warm start, budget and seeds for every algorithm, evaluated before and after.

One command per comparison (resumable: finished evaluations and runs are not redone, an interrupted run resumes
from its last checkpoint):

    python experiments/rl_runs.py --env intention --init runs/warmstart/sft-bao/final \\
        --algos grpo,userrl,bao-paper,bao --steps 10 --max-turns 6 --max-new-tokens 160 \\
        --eval-n 40 --eval-seeds 0,1 --out runs/rl-intention/rl --results experiments/results/rl_intention

It evaluates the initial policy once (the "before" row of every algorithm), trains each algorithm with
`bao train`'s trainer on the same task order, user seeds and sampling seeds, evaluates it on the same test
episodes, and writes into `--results` (small, committed): `results.json` (every metric with its 95% CI, before
and after, per algorithm, and the wall-clock), `table.md` (the table in docs/rl.md) and `curves.png` (per-step
score, success, U, redundant-query rate, thinking words and loss). Checkpoints stay under `--out`.

results.json is rewritten after the "before" evaluation and after each algorithm, with each evaluation's
per-episode figures: a later invocation with the same settings and the same warm-start weights (sha256) skips
what is in it, even on a machine without the run directories, and pairs its new runs with the kept episodes.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

COLUMNS = ("score", "success", "pass@U-1", "U", "UR", "redundant_rate", "think_words", "invalid_rate", "loophole")
PAIRED = ("score", "success", "U", "UR", "redundant", "think_words")
CURVES = ("episode/score", "episode/success", "episode/U", "episode/redundant_rate", "episode/think_words",
          "loss/policy")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", required=True)
    parser.add_argument("--init", default=None, help="warm start: HF model directory (e.g. a bao sft run's final/)")
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--algos", default="grpo,userrl,bao-paper,bao")
    parser.add_argument("--w", type=float, default=0.0)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--tasks-per-step", type=int, default=4)
    parser.add_argument("--group-size", type=int, default=4)
    parser.add_argument("--lr", type=float, default=2e-6)
    parser.add_argument("--max-turns", type=int, default=None)
    parser.add_argument("--max-new-tokens", type=int, default=256)
    parser.add_argument("--eval-n", type=int, default=40)
    parser.add_argument("--eval-seeds", default="0,1")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True, help="run directories (checkpoints; not committed)")
    parser.add_argument("--results", type=Path, required=True, help="small results to commit (JSON, table, PNG)")
    parser.add_argument("--set", action="append", default=[], metavar="key=value",
                        help="more trainer settings for every run (e.g. env_args.guard_test_case=true)")
    args = parser.parse_args()

    from bao.pipelines.rl import Trainer
    from bao.pipelines.rl_config import build_config

    common = dict(env=args.env, model=args.model, init=args.init, w=args.w, steps=args.steps,
                  tasks_per_step=args.tasks_per_step, group_size=args.group_size, lr=args.lr,
                  max_turns=args.max_turns, max_new_tokens=args.max_new_tokens, eval_n=args.eval_n,
                  eval_seeds=args.eval_seeds, eval_before=False, seed=args.seed)
    algos = [a for a in args.algos.split(",") if a]
    configs = {a: build_config(None, {**common, "algo": a, "out": args.out / a}, args.set) for a in algos}
    settings = {**common, "algos": algos, "init": args.init, "init_sha256": _weights_sha256(args.init), "set": args.set}
    payload = _previous(args.results / "results.json", settings)
    if not payload.get("before"):
        payload["before"] = _evaluate_once(configs[algos[0]], args.out / "before")
    _refresh(payload, args.out, configs)
    _write(args.results, payload)
    for algo, config in configs.items():
        if algo in payload["runs"]:
            continue
        if _finished(config.run_dir) is None:
            print(f"== {algo}", flush=True)
            Trainer(config).run()
        after = _final_eval(config)
        payload["runs"][algo] = {"after": _metrics(after), "seconds": _wall_clock(config.run_dir),
                                 "curves": _curves(config.run_dir), "episodes": _episodes(after)}
        _write(args.results, payload)
    print((args.results / "table.md").read_text())
    return 0


def _final_eval(config) -> Path:
    return config.run_dir / f"eval-step-{config.steps}"


def _refresh(payload: dict, out: Path, configs: dict) -> None:
    """Re-read the per-episode figures of kept evaluations whose episodes are still on this machine, so that
    figures added to `_episodes` after an evaluation ran reach its paired comparisons too."""
    if (out / "before" / "trajectories.jsonl").is_file():
        payload["before_episodes"] = _episodes(out / "before")
    for algo, run in payload["runs"].items():
        if algo in configs and (_final_eval(configs[algo]) / "trajectories.jsonl").is_file():
            run["episodes"] = _episodes(_final_eval(configs[algo]))


def _evaluate_once(config, out: Path) -> dict:
    """The initial policy's test metrics (shared by every algorithm's "before" row)."""
    if not (out / "metrics.json").is_file():
        from bao.pipelines.evaluate import evaluate, interrupted
        from bao.policies.hf import HFPolicyConfig, load_hf_policy
        from bao.policies.sampling import SamplingConfig

        sampling = SamplingConfig(config.temperature, config.top_p, config.max_new_tokens)
        policy = load_hf_policy(HFPolicyConfig(config.init or config.model, config.adapter, sampling))
        start = time.perf_counter()
        evaluate(config.eval_config(), policy, out, resume=interrupted(out))
        print(f"before: {time.perf_counter() - start:.0f} s", flush=True)
    return _metrics(out)


def _weights_sha256(init: str | None) -> str | None:
    """The warm start's weights, so that results kept from an earlier invocation (maybe on another machine,
    after rebuilding the warm start) are reused only when the runs start from the very same model."""
    if init is None:
        return None
    import hashlib

    digest = hashlib.sha256()
    for path in sorted(Path(init).glob("*.safetensors")):
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 24), b""):
                digest.update(block)
    return digest.hexdigest()


def _previous(path: Path, settings: dict) -> dict:
    """Results of an earlier invocation with the same settings: finished algorithms are not rerun (their
    checkpoints may be gone, e.g. on another machine; the committed results are what counts)."""
    if path.is_file():
        old = json.loads(path.read_text())
        if old.get("settings", {}) | {"algos": settings["algos"]} == settings:
            return {**old, "settings": settings}
        print(f"{path}: settings changed, every run is redone", flush=True)
    return {"settings": settings, "before": None, "runs": {}}


def _write(results: Path, payload: dict) -> None:
    """results.json, table.md and curves.png; the paired comparisons are recomputed from the kept episodes."""
    for algo, run in payload["runs"].items():
        run["paired"] = _paired(payload["before_episodes"], run["episodes"])
        if "grpo" in payload["runs"] and algo != "grpo":
            run["vs_grpo"] = _paired(payload["runs"]["grpo"]["episodes"], run["episodes"])
    results.mkdir(parents=True, exist_ok=True)
    tmp = results / "results.json.tmp"
    tmp.write_text(json.dumps(payload, indent=2))
    tmp.replace(results / "results.json")
    (results / "table.md").write_text(_table(payload))
    if payload["runs"]:
        _plot(payload["runs"], results / "curves.png")


def _episodes(path: Path) -> list[dict]:
    """Each test episode's task, seed and paired metrics: kept in results.json, so that a later invocation (even
    on another machine, without the run directories) can pair its runs with these."""
    from bao.core.types import read_jsonl
    from bao.rewards import RewardConfig, turn_flags
    from bao.rewards.overthinking import word_count

    def figures(t) -> dict:
        words = [word_count(turn.reasoning or "") for turn in t.turns]
        return {"task": t.task_id, "seed": t.seed, "score": t.score, "success": float(t.success), "U": t.U,
                "UR": t.U / t.n_turns if t.n_turns else 0.0,
                "redundant": sum(f["redundant"] for f in turn_flags(t.turns, RewardConfig())),
                "think_words": sum(words) / len(words) if words else 0.0}

    return [figures(t) for t in read_jsonl(path / "trajectories.jsonl")]


def _paired(base: list[dict], other: list[dict]) -> dict:
    """`other` minus `base` per test episode (same task, same user seed), with 95% CIs: tighter than comparing
    two pooled means, because the task's difficulty cancels."""
    from bao.pipelines.metrics import mean_ci, to_json

    a, b = ({(e["task"], e["seed"]): e for e in episodes} for episodes in (base, other))
    keys = sorted(a.keys() & b.keys())
    return to_json({m: mean_ci([b[k][m] - a[k][m] for k in keys if m in a[k] and m in b[k]]) for m in PAIRED})


def _metrics(path: Path) -> dict:
    return json.loads((path / "metrics.json").read_text())["metrics"]


def _log(run_dir: Path) -> list[dict]:
    path = run_dir / "log.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.is_file() else []


def _finished(run_dir: Path) -> dict | None:
    return next((r for r in reversed(_log(run_dir)) if r["event"] == "end"), None)


def _wall_clock(run_dir: Path) -> float:
    """Seconds of training (every step's rollout and update) and of the final evaluation, summed from the log:
    a run resumed after a kill counts each step once, not the time of its last invocation only."""
    records = _log(run_dir)
    steps = {r["step"]: r["time/rollout_s"] + r["time/train_s"] for r in records if r["event"] == "step"}
    evals = [r["seconds"] for r in records if r["event"] == "eval"]
    return round(sum(steps.values()) + (evals[-1] if evals else 0.0), 1)


def _curves(run_dir: Path) -> dict[str, list[float]]:
    steps = [r for r in _log(run_dir) if r["event"] == "step"]
    return {key: [r.get(key) for r in steps] for key in ("step", *CURVES)}


def _cell(metric: dict) -> str:
    """A metric as `mean [low, high]`; `n/a` where it is undefined (null in metrics.json, e.g. no questions)."""
    if metric["mean"] is None:
        return "n/a"
    return f"{metric['mean']:.2f} [{metric['low']:.2f}, {metric['high']:.2f}]"


def _table(payload: dict) -> str:
    before, runs = payload["before"], payload["runs"]
    lines = ["| algo | when | " + " | ".join(COLUMNS) + " | wall-clock |",
             "|---|---|" + "---|" * len(COLUMNS) + "---|",
             "| all | before | " + " | ".join(_cell(before[c]) for c in COLUMNS) + " | |"]
    for algo, run in runs.items():
        lines.append(f"| {algo} | after | " + " | ".join(_cell(run["after"][c]) for c in COLUMNS)
                     + f" | {run['seconds']:.0f} s |")
    if runs:
        lines += ["", "Paired by test episode (same task and user seed), 95% CI; redundant is the number of redundant "
                  "questions in an episode, think_words its words of reasoning per turn:", "",
                  "| algo | comparison | " + " | ".join(f"delta {m}" for m in PAIRED) + " |",
                  "|---|---|" + "---|" * len(PAIRED)]
        for algo, run in runs.items():
            for name, key in (("after - before", "paired"), ("after - grpo after", "vs_grpo")):
                if key in run:
                    lines.append(f"| {algo} | {name} | " + " | ".join(_cell(run[key][m]) for m in PAIRED) + " |")
    return "\n".join(lines) + "\n"


def _plot(runs: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(13, 7))
    for ax, key in zip(axes.flat, CURVES):
        for algo, run in runs.items():
            ax.plot(run["curves"]["step"], run["curves"][key], marker="o", ms=3, label=algo)
        ax.set_title(key)
        ax.set_xlabel("step")
    axes.flat[0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    sys.exit(main())
