"""`bao pareto`: train and evaluate every algorithm x effort cost w x seed, and read their Pareto frontiers.

    bao pareto --env ENV [--algos grpo,bao] [--w 0,0.05,0.1,0.2] [--seeds 0,1] [--conditioned bao] [--init DIR]
               [--reference NAME=DIR ...] [--eval-n N --eval-seeds 0,1] [key=value ...] --out DIR

Training settings are `bao train`'s (`--config FILE.yaml`, trailing `key=value` overrides such as steps=4
max_turns=6), shared by every run. Everything is checked before any model loads; a rerun with the same command
computes only what is missing. See `bao.pipelines.pareto` for the directory layout and `pareto.json`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bao.cli.args import positive_int
from bao.pipelines.pareto import SCRIPTED_REFERENCES


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from bao.policies.models import DEFAULT_MODEL

    p = subparsers.add_parser("pareto", help="Pareto sweep: every algorithm x effort cost w x seed, frontiers "
                              "against reference points", description=__doc__.splitlines()[0])
    p.add_argument("--env", required=True, help="environment (see `bao envs`)")
    p.add_argument("--algos", default="grpo,userrl,bao-paper,bao", help="estimators, comma-separated "
                   "(default %(default)s)")
    p.add_argument("--w", default="0,0.05,0.1,0.2", help="effort costs, comma-separated (default %(default)s)")
    p.add_argument("--seeds", default="0", help="training seeds, comma-separated (default %(default)s)")
    p.add_argument("--conditioned", default="", metavar="ALGOS",
                   help="algorithms (of --algos, comma-separated) that also train one policy per seed for every w "
                   "(w drawn per group and told in the prompt; steps x number of w steps, the sweep's compute), "
                   "evaluated at each w")
    p.add_argument("--init", default=None, help="HF model directory every run starts from (e.g. a `bao sft` run's "
                   "final/); also evaluated as the reference point 'init'")
    p.add_argument("--model", default=DEFAULT_MODEL, help="base model: trained from without --init, and evaluated "
                   "as the reference point 'base' (default %(default)s)")
    p.add_argument("--no-base", dest="base", action="store_false", help="do not evaluate the base model")
    p.add_argument("--reference", action="append", default=[], metavar="NAME=DIR",
                   help="another HF model directory to evaluate as a reference point (repeatable)")
    p.add_argument("--scripted", default=",".join(SCRIPTED_REFERENCES),
                   help="scripted agents evaluated as reference points, comma-separated, or none "
                   "(default %(default)s; skipped where the env has none)")
    p.add_argument("--eval-n", type=positive_int, default=None, help="test tasks per evaluation (default: all)")
    p.add_argument("--eval-seeds", default="0", help="evaluation seeds, comma-separated (default %(default)s)")
    p.add_argument("--config", type=Path, default=None, help="YAML file of training settings (as bao train)")
    p.add_argument("--out", type=Path, required=True, help="sweep directory: runs/, reference/, pareto.json, figures")
    p.add_argument("overrides", nargs="*", metavar="key=value", help="training settings for every run, e.g. steps=4 "
                   "max_turns=6 lr=0.00001 reward.lambda_is=0.1")


def run(args: argparse.Namespace) -> int:
    from rich.table import Table

    from bao.cli.console import console
    from bao.pipelines.pareto import SweepConfig, plan, run_sweep

    scripted = [] if args.scripted.strip().lower() == "none" else _items(args.scripted)
    config = SweepConfig(env=args.env, out=args.out, algos=_items(args.algos), ws=_numbers(args.w, "--w", float),
                         seeds=_numbers(args.seeds, "--seeds", int), conditioned=_items(args.conditioned),
                         init=args.init, model=args.model, base=args.base, references=_references(args.reference),
                         scripted=scripted, eval_n=args.eval_n,
                         eval_seeds=_numbers(args.eval_seeds, "--eval-seeds", int), config_file=args.config,
                         overrides=args.overrides)
    sweep = plan(config)
    t = sweep.template
    conditioned = f", + conditioned {','.join(config.conditioned)}" if config.conditioned else ""
    console.print(f"bao pareto: {config.env}, {len(sweep.points)} points ({len(config.algos)} algorithms x "
                  f"{len(config.ws)} w x {len(config.seeds)} seeds{conditioned}"
                  f"; {t.steps} steps of {t.tasks_per_step} x {t.group_size} episodes) -> {config.out}",
                  highlight=False, markup=False, soft_wrap=True)
    result = run_sweep(sweep, lambda line: console.print(line, highlight=False, markup=False, soft_wrap=True))
    table = Table(title=f"{config.env}: hypervolume of (score, U) against score 0, U {sweep.max_turns}")
    for column in ("method", "kind", "points", "non-dominated", "hypervolume"):
        table.add_column(column, justify="left" if column in ("method", "kind") else "right")
    for method, frontier in result["frontiers"].items():
        kinds = {p["kind"] for p in result["points"] if p["method"] == method}
        count = sum(p["method"] == method for p in result["points"])
        table.add_row(method, "/".join(sorted(kinds)), str(count), str(len(frontier["non_dominated"])),
                      f"{frontier['hypervolume']:.3f}")
    console.print(table)
    console.print(f"wrote {config.out / 'pareto.json'}, pareto_score_U, pareto_success_UR and pass_at_u (.png, .svg)",
                  highlight=False, markup=False, soft_wrap=True)
    return 0


def _items(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def _numbers(text: str, flag: str, kind: type) -> list:
    """`0,0.05` as numbers of `kind`; a malformed list fails with one line that names the flag."""
    try:
        return [kind(item) for item in _items(text)]
    except ValueError:
        noun = "integers" if kind is int else "numbers"
        raise ValueError(f"{flag} must be {noun} separated by commas (e.g. 0,1), got {text!r}") from None


def _references(items: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise ValueError(f"--reference {item!r} is not NAME=DIR (e.g. sft=runs/sft/final)")
        if name in out:
            raise ValueError(f"--reference names {name!r} twice")
        out[name] = path
    return out
