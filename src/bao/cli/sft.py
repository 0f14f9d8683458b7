"""`bao sft --data FILE --model smollm2-135m --out DIR`: supervised fine-tuning on chat examples.

Also home of the helpers that turn a config dataclass into command-line flags: every field becomes
`--field-name` with the field's `help` metadata and its default, so `--help` is the config's documentation;
a command may give a field a stricter argparse type (`bao.cli.args`) so that a bad number fails at parse time.
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bao.cli.args import non_negative_float, non_negative_int, positive_float, positive_int

# Numeric settings of `bao sft` whose bad values argparse rejects, naming the flag, before the model loads.
SFT_TYPES: dict[str, Callable[[str], Any]] = {
    "lora_r": positive_int, "lora_alpha": positive_int, "lora_dropout": non_negative_float, "lr": positive_float,
    "warmup": non_negative_float, "weight_decay": non_negative_float, "epochs": positive_float,
    "batch_size": positive_int, "grad_accum": positive_int, "max_length": positive_int, "limit": positive_int,
    "save_steps": positive_int, "keep_checkpoints": positive_int, "eval_steps": non_negative_int,
    "eval_n": non_negative_int, "eval_max_new_tokens": positive_int, "eval_temperature": non_negative_float,
    "seed": non_negative_int,
}


def _flag_type(annotation: Any) -> Any:
    """The argparse type of a field annotation (`int | None` -> int); bool fields are handled apart."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
    return annotation if annotation in (int, float, str, Path) else str


def add_config_arguments(parser: argparse.ArgumentParser, cls: type, positional: tuple[str, ...] = (),
                         only_given: bool = False, flag_types: dict[str, Callable[[str], Any]] | None = None) -> None:
    """One flag per field of the dataclass `cls` (fields named in `positional` become positional arguments;
    fields with `flag: False` metadata get none). With `only_given`, a flag left out is None in the parsed
    namespace, so that it does not override a config file; `--help` still shows the default. `flag_types` maps a
    field to the argparse type that replaces the one of its annotation."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if not f.metadata.get("flag", True):
            continue
        help_text = f.metadata.get("help", "")
        has_default = f.default is not dataclasses.MISSING
        default = None if only_given else f.default
        kind = (flag_types or {}).get(f.name) or _flag_type(hints[f.name])
        if f.name in positional:
            parser.add_argument(f.name, type=kind, help=help_text)
        elif hints[f.name] is bool:
            parser.add_argument(f"--{f.name.replace('_', '-')}", dest=f.name, action=argparse.BooleanOptionalAction,
                                default=default, help=help_text + (f" (default: {f.default})" if only_given else ""))
        else:
            suffix = f" (default: {f.default})" if has_default and f.default is not None else ""
            parser.add_argument(f"--{f.name.replace('_', '-')}", dest=f.name, type=kind,
                                required=not has_default, default=default if has_default else None,
                                help=help_text + suffix)


def config_from_args(cls: type, args: argparse.Namespace) -> Any:
    """Build the dataclass `cls` from the parsed flags of `add_config_arguments`."""
    return cls(**{f.name: getattr(args, f.name) for f in dataclasses.fields(cls)})


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from bao.pipelines.sft import SFTConfig

    sft = subparsers.add_parser("sft", help="supervised fine-tuning on chat examples (LoRA or full)",
                                description=__doc__.splitlines()[0])
    add_config_arguments(sft, SFTConfig, flag_types=SFT_TYPES)


def run(args: argparse.Namespace) -> int:
    import json

    from bao.cli.console import console
    from bao.pipelines.sft import SFTConfig, train

    config = config_from_args(SFTConfig, args)
    summary = train(config)
    console.print_json(json.dumps(summary))
    console.print(f"final model in {summary['final']}; log in {Path(config.out) / 'log.jsonl'}")
    return 0
