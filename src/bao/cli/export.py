"""`bao export verl --env ENV --split train --out DIR [--seeds 0,1] [--n N]`: tasks as the parquet files verl reads.

The file is `DIR/SPLIT.parquet`, one row per task and simulated-user seed (`bao.integrations.verl.export`); an
existing one is replaced only with `--overwrite`. Exporting needs no verl.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bao.cli.args import positive_int, seeds


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    export = subparsers.add_parser("export", help="write tasks in another framework's format (verl)")
    targets = export.add_subparsers(dest="export_command", required=True)
    verl = targets.add_parser("verl", help="parquet files for verl's trainer (data.train_files / data.val_files)",
                              description=__doc__.splitlines()[0])
    verl.add_argument("--env", required=True, help="environment (see `bao envs`)")
    verl.add_argument("--split", default="train", choices=("train", "test"), help="split the tasks come from")
    verl.add_argument("--out", type=Path, required=True, help="directory of SPLIT.parquet")
    verl.add_argument("--seeds", type=seeds, default=[0],
                      help="simulated-user seeds, comma-separated: one row per task and seed (default: 0)")
    verl.add_argument("--n", type=positive_int, default=None, help="only the first N tasks of the split")
    verl.add_argument("--overwrite", action="store_true", help="replace an existing DIR/SPLIT.parquet")


def run(args: argparse.Namespace) -> int:
    from bao.cli.console import console
    from bao.envs.registry import env_class
    from bao.integrations.verl.export import export
    from bao.pipelines.outputs import check_writable

    env_class(args.env)
    target = args.out / f"{args.split}.parquet"
    if target.exists() and not args.overwrite:
        raise ValueError(f"--out: {target} exists; pass --overwrite to replace it")
    check_writable(args.out, "--out")
    path = export(args.env, args.split, args.out, args.seeds, args.n)
    import pyarrow.parquet as pq

    rows = pq.read_metadata(path).num_rows
    console.print(f"wrote {rows} rows ({args.env} {args.split}, user seeds {','.join(map(str, args.seeds))}) to "
                  f"{path}", highlight=False)
    return 0
