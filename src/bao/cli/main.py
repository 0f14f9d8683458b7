"""`bao <command>`: envs, eval, play, demo.

Errors that a user can fix (unknown env, missing data, bad arguments) print one line that says what to do
and exit with status 2; anything else is a bug and shows its traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bao.envs.data import DataError
from bao.envs.registry import UnknownEnv

console = Console()


class UsageError(RuntimeError):
    """A mistake in the command line; the message says what to fix."""


def _seeds(text: str) -> list[int]:
    try:
        return [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"seeds must be integers separated by commas, got {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bao", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("envs", help="list the environments")

    ev = sub.add_parser("eval", help="evaluate an agent on an environment")
    ev.add_argument("env", help="environment name (see `bao envs`)")
    ev.add_argument("--agent", default="heuristic", help="scripted agent: random, answer-now, heuristic, oracle")
    ev.add_argument("--split", default="test", choices=("train", "test"))
    ev.add_argument("--n", type=int, default=None, help="first N tasks of the split (default: all)")
    ev.add_argument("--seed", type=_seeds, default=[0], help="seed, or seeds separated by commas (aggregated)")
    ev.add_argument("--max-turns", type=int, default=None, help="turn limit (default: the env's, 16)")
    ev.add_argument("--out", type=Path, default=None, help="output directory (default runs/eval/ENV-AGENT)")

    play = sub.add_parser("play", help="play an episode yourself in the terminal")
    play.add_argument("env")
    play.add_argument("--task", default=None, help="task id (default: the first of the split)")
    play.add_argument("--split", default="test", choices=("train", "test"))
    play.add_argument("--seed", type=int, default=0)

    demo = sub.add_parser("demo", help="the main job on the embedded default: evaluate every agent")
    demo.add_argument("--env", default="function")
    demo.add_argument("--n", type=int, default=None)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (UsageError, UnknownEnv, DataError, KeyError, ValueError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        console.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
        return 2
    except KeyboardInterrupt:
        console.print("interrupted")
        return 130


def cmd_envs(args: argparse.Namespace) -> int:
    from bao.envs.registry import available, spec, make

    table = Table(title="bao environments")
    for col in ("env", "user backends", "#train", "#test", "actions", "max turns"):
        table.add_column(col)
    for name in available():
        s = spec(name)
        env = make(name)
        counts = []
        for split in ("train", "test"):
            try:
                counts.append(str(len(env.tasks(split))))
            except DataError:
                counts.append("no data")
        table.add_row(name, ", ".join(s.backends), *counts, ", ".join(s.choices), str(s.max_steps))
    console.print(table)
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from bao.envs.registry import spec
    from bao.pipelines.evaluate import EvalConfig
    from bao.policies.scripted import make_agent

    spec(args.env)
    policy = make_agent(args.agent, args.env)
    config = EvalConfig(env=args.env, split=args.split, n=args.n, seeds=args.seed, max_turns=args.max_turns)
    out = args.out or Path("runs") / "eval" / f"{args.env}-{args.agent}"
    result = _run_eval(config, policy, out)
    print_results({args.agent: result.metrics}, title=f"{args.env} / {args.split} ({len(result.trajectories)} episodes)")
    console.print(f"wrote {out}/trajectories.jsonl and {out}/metrics.json ({result.seconds:.1f}s)")
    return 0


def _run_eval(config, policy, out):
    from bao.envs import make
    from bao.pipelines.evaluate import evaluate

    total = len(make(config.env).tasks(config.split)[: config.n]) * len(config.seeds)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        job = bar.add_task(f"{config.env} {policy.name}", total=total)
        return evaluate(config, policy, out, progress=lambda k: bar.advance(job, k))


METRIC_COLUMNS = ("score", "success", "pass@U-1", "pass@U-3", "pass@U-5", "U", "U_userrl", "UR", "turns", "invalid_rate")


def print_results(rows: dict, title: str) -> None:
    table = Table(title=title)
    table.add_column("metric")
    for name in rows:
        table.add_column(name, justify="right")
    for col in METRIC_COLUMNS:
        table.add_row(col, *(f"{m[col].mean:.2f} ± {(m[col].high - m[col].low) / 2:.2f}" for m in rows.values()))
    console.print(table)
    console.print("mean ± half-width of the 95% CI; U counts answers (BAO paper), U_userrl questions and answers")


def cmd_play(args: argparse.Namespace) -> int:
    from bao.cli.play import play

    return play(args.env, args.task, args.split, args.seed, console)


def cmd_demo(args: argparse.Namespace) -> int:
    from bao.pipelines.evaluate import EvalConfig
    from bao.policies.scripted import AGENT_NAMES, make_agent

    rows = {}
    for name in AGENT_NAMES:
        config = EvalConfig(env=args.env, n=args.n)
        rows[name] = _run_eval(config, make_agent(name, args.env), Path("runs") / "demo" / f"{args.env}-{name}").metrics
    print_results(rows, title=f"{args.env} / test: scripted agents")
    return 0


COMMANDS = {"envs": cmd_envs, "eval": cmd_eval, "play": cmd_play, "demo": cmd_demo}


if __name__ == "__main__":
    sys.exit(main())
