"""`bao demo [--full] [--out DIR]`: the main job end to end (teacher -> SFT -> RL -> evaluation -> frontier ->
report) on the embedded model; `bao demo --scripted`: every scripted agent on every environment, no model.

The stages and sizes are in `bao.pipelines.demo`. A rerun with the same `--out` keeps what is finished.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from rich.markup import escape
from rich.table import Table

from bao.cli.args import positive_int, seeds
from bao.cli.console import console

# Short headers, and the table printed at least this wide (no cell is cut when stdout is not a terminal).
TABLE_WIDTH = 110
SHORT = {"redundant_rate": "redundant", "think_words": "think", "invalid_rate": "invalid"}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    demo = subparsers.add_parser("demo", help="the main job: teacher -> SFT -> RL -> evaluation -> frontier -> report",
                                 description=__doc__.splitlines()[0])
    size = demo.add_mutually_exclusive_group()
    size.add_argument("--full", action="store_true",
                      help="the sizes behind the README's frontier (several hours; resumable)")
    size.add_argument("--scripted", action="store_true",
                      help="instead: evaluate every scripted agent on every environment (seconds, no model)")
    demo.add_argument("--out", type=Path, default=None,
                      help="run directory (default runs/demo, or runs/demo-full with --full); a rerun resumes")
    demo.add_argument("--model", default=None, help="base model (default: the embedded smollm2-135m)")
    demo.add_argument("--env", action="append", help="--scripted: only this environment (repeatable; default: all)")
    demo.add_argument("--n", type=positive_int, default=None, help="--scripted: first N test tasks of each env")
    demo.add_argument("--seed", type=seeds, default=[0], help="--scripted: seed, or seeds separated by commas")


def run(args: argparse.Namespace) -> int:
    if args.scripted:
        return _scripted(args)
    if args.env or args.n is not None or args.seed != [0]:
        raise ValueError("--env, --n and --seed go with --scripted; the main job's sizes are fixed "
                         "(bao.pipelines.demo: QUICK, or FULL with --full)")
    from bao.pipelines.demo import FULL, QUICK, run_demo
    from bao.policies.models import DEFAULT_MODEL

    sizes = FULL if args.full else QUICK
    out = args.out or Path("runs") / ("demo-full" if args.full else "demo")
    console.print(f"bao demo: {sizes.describe()} -> {out}", highlight=False, markup=False, soft_wrap=True)
    if not args.full:
        console.print("These sizes show every stage in minutes; they are too small to rank methods (see "
                      "`bao demo --full`).", highlight=False, markup=False, soft_wrap=True)
    result = run_demo(sizes, out, args.model or DEFAULT_MODEL,
                      lambda line: console.print(line, highlight=False, markup=False, soft_wrap=True))
    _headline(result.pareto, sizes)
    console.print(f"frontier plots: {out / 'pareto'}/pareto_score_U.png (and .svg), pareto_success_UR, pass_at_u",
                  highlight=False, markup=False, soft_wrap=True)
    console.print(f"report: {result.report}", highlight=False, markup=False, soft_wrap=True)
    return 0


def _headline(pareto: dict, sizes) -> None:
    from bao.pipelines.demo import HEADLINE, headline_rows

    seed_list = ",".join(map(str, sizes.eval_seeds))
    table = Table(title=f"{pareto['env']} / test: {sizes.eval_n} tasks x seeds {seed_list}, "
                        f"at most {sizes.max_turns} turns (mean ± half-width of the 95% CI)")
    table.add_column("method", no_wrap=True)
    for column in HEADLINE:
        table.add_column(SHORT.get(column, column), justify="right", no_wrap=True)
    for label, metrics in headline_rows(pareto):
        table.add_row(escape(label), *(_cell(metrics[c]) for c in HEADLINE))
    width = console.width
    console.width = max(width, TABLE_WIDTH)  # print's own width option cannot exceed the console's
    try:
        console.print(table)
    finally:
        console.width = width
    hypervolumes = ", ".join(f"{method} {frontier['hypervolume']:.2f}"
                             for method, frontier in pareto["frontiers"].items())
    console.print(f"hypervolume of (score, U) against score 0 and U {pareto['reference_point']['U']:g} (higher is "
                  f"better): {hypervolumes}", highlight=False, markup=False, soft_wrap=True)


def _cell(metric: dict | None) -> str:
    if not metric or metric.get("mean") is None or not math.isfinite(metric["mean"]):
        return "n/a"
    return f"{metric['mean']:.2f} ±{(metric['high'] - metric['low']) / 2:.2f}"


def _scripted(args: argparse.Namespace) -> int:
    from bao.cli.results import check_n, print_results, run_eval, seeds_text
    from bao.envs.registry import available
    from bao.pipelines.evaluate import EvalConfig
    from bao.policies.scripted import AGENT_NAMES, make_agent

    envs = args.env or available()
    for env in envs:
        check_n(env, "test", args.n)
    for env in envs:
        rows = {}
        for name in AGENT_NAMES:
            config = EvalConfig(env=env, n=args.n, seeds=args.seed)
            result = run_eval(config, make_agent(name, env), Path("runs") / "demo-scripted" / f"{env}-{name}")
            rows[name] = result.metrics
        print_results(rows, title=f"{env} / test: scripted agents, each {seeds_text(result, args.seed)}")
    return 0
