"""`bao report RUN_DIR... [--out report/] [--overwrite]`: a static HTML report of evaluations, training runs and sweeps.

Each RUN_DIR is searched recursively for evaluations (`metrics.json` + `trajectories.jsonl`, from `bao eval`),
training runs (`rl_config.json` + `log.jsonl`, from `bao train`; their `eval-step-N/` evaluations are labelled
with the run's algo, w and step) and sweeps (`pareto.json`). The report (results tables with 95% intervals,
learning curves, Pareto and Pass@U-k plots as PNG and SVG, a trajectory viewer) opens from the file system:
no server, nothing loaded from the network.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bao.cli.args import positive_int


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from bao.report.build import MAX_TRAJECTORIES

    report = subparsers.add_parser("report", help="static HTML report of evaluations, training runs and sweeps",
                                   description=__doc__.splitlines()[0])
    report.add_argument("run_dirs", nargs="+", type=Path, metavar="RUN_DIR",
                        help="directory searched recursively for evaluations, training runs and sweeps")
    report.add_argument("--out", type=Path, default=Path("report"), help="report directory (default %(default)s)")
    report.add_argument("--overwrite", action="store_true", help="replace the report in a non-empty --out")
    report.add_argument("--max-trajectories", type=positive_int, default=MAX_TRAJECTORIES,
                        help="episodes per evaluation the viewer holds (default %(default)s)")


def run(args: argparse.Namespace) -> int:
    from bao.cli.console import console
    from bao.report.build import build_report

    built = build_report(args.run_dirs, args.out, overwrite=args.overwrite, max_trajectories=args.max_trajectories)
    console.print(f"bao report: {built.summary}", highlight=False)
    for source in built.capped:
        console.print(f"  viewer shows the first {args.max_trajectories} episodes of {source}", highlight=False)
    console.print(str(built.index), highlight=False, soft_wrap=True)
    return 0
