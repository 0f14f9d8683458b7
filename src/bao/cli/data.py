"""`bao data teacher ENV --n N --behaviors bao|none --out FILE`: build SFT data from a scripted teacher."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from bao.cli.args import positive_int
from bao.cli.sft import add_config_arguments, config_from_args


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from bao.pipelines.teacher_data import TeacherDataConfig

    data = subparsers.add_parser("data", help="build training data")
    kinds = data.add_subparsers(dest="data_command", required=True)
    teacher = kinds.add_parser("teacher", help="successful teacher episodes as chat examples (JSONL or parquet)",
                               description=__doc__.splitlines()[0])
    add_config_arguments(teacher, TeacherDataConfig, positional=("env",),
                         flag_types={"n": positive_int, "max_turns": positive_int})


def run(args: argparse.Namespace) -> int:
    from bao.cli.console import console
    from bao.cli.progress import EpisodeProgress
    from bao.pipelines.teacher_data import (
        TeacherDataConfig,
        build_teacher_data,
        check_config,
        stats_path_of,
    )

    config = config_from_args(TeacherDataConfig, args)
    check_config(config)
    with EpisodeProgress(console, f"{config.env} teacher ({config.behaviors})", config.n) as progress:
        stats = build_teacher_data(config, progress=progress.episodes)
    console.print_json(json.dumps(asdict(stats)))
    console.print(f"wrote {stats.kept} examples to {config.out} and stats to {stats_path_of(config.out)}")
    return 0
