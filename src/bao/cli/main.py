"""`bao <command>`: envs, eval, play, data, sft, train, models, pareto, report, export, serve, demo.

Errors that a user can fix (unknown env, missing data, bad arguments) print one line that says what to do
and exit with status 2; anything else is a bug and shows its traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.markup import escape
from rich.table import Table

from bao.cli import data as data_cli
from bao.cli import demo as demo_cli
from bao.cli import export as export_cli
from bao.cli import models as models_cli
from bao.cli import pareto as pareto_cli
from bao.cli import report as report_cli
from bao.cli import serve as serve_cli
from bao.cli import sft as sft_cli
from bao.cli import train as train_cli
from bao.cli.args import non_negative_float, positive_int, probability, seeds
from bao.cli.console import console
from bao.cli.llm_user import add_user_arguments, usage_line, user_env_kwargs, user_prices
from bao.cli.results import UsageError, check_n, print_results, run_eval, seeds_text
from bao.envs.data import DataError
from bao.envs.registry import UnknownEnv
from bao.llm_client import LLMError
from bao.pipelines.evaluate import EvalOutputError
from bao.policies.models import ModelError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bao", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("envs", help="list the environments")

    ev = sub.add_parser("eval", help="evaluate an agent on an environment")
    ev.add_argument("env", help="environment name (see `bao envs`)")
    ev.add_argument("--agent", default=None,
                    help="scripted agent: random, answer-now, heuristic (default), oracle; only with --policy scripted")
    ev.add_argument("--split", default="test", choices=("train", "test"))
    ev.add_argument("--n", type=positive_int, default=None, help="first N tasks of the split (default: all)")
    ev.add_argument("--seed", type=seeds, default=[0], help="seed, or seeds separated by commas (aggregated)")
    ev.add_argument("--max-turns", type=positive_int, default=None, help="turn limit (default: the env's, 16)")
    ev.add_argument("--out", type=Path, default=None,
                    help="output directory (default runs/eval/ENV-AGENT); must not hold earlier results unless "
                    "--overwrite or --resume")
    again = ev.add_mutually_exclusive_group()
    again.add_argument("--overwrite", action="store_true", help="replace earlier results in the output directory")
    again.add_argument("--resume", action="store_true",
                       help="finish an interrupted run: play only the episodes it lacks (same settings required)")
    _add_llm_arguments(ev)
    add_user_arguments(ev, prices=True)

    play = sub.add_parser("play", help="play an episode yourself in the terminal")
    play.add_argument("env", help="environment name (see `bao envs`)")
    play.add_argument("--task", default=None, help="task id (default: the first of the split)")
    play.add_argument("--split", default="test", choices=("train", "test"), help="split the task comes from")
    play.add_argument("--seed", type=int, default=0, help="seed of the simulated user (default %(default)s)")
    add_user_arguments(play)

    demo_cli.add_parser(sub)
    data_cli.add_parser(sub)
    sft_cli.add_parser(sub)
    train_cli.add_parser(sub)
    models_cli.add_parser(sub)
    serve_cli.add_parser(sub)
    pareto_cli.add_parser(sub)
    export_cli.add_parser(sub)
    report_cli.add_parser(sub)
    return parser


def _add_llm_arguments(ev: argparse.ArgumentParser) -> None:
    from bao.policies.models import DEFAULT_MODEL
    from bao.policies.sampling import SamplingConfig

    default = SamplingConfig()
    ev.add_argument("--policy", choices=("scripted", "hf", "openai"), default="scripted",
                    help="scripted agent (--agent), a local HF model, or an OpenAI-compatible endpoint")
    ev.add_argument("--model", default=None, help=f"hf: embedded name (default {DEFAULT_MODEL}), HF directory, "
                    ".gguf file or Hub id; openai: the model name the server knows")
    ev.add_argument("--adapter", default=None, help="hf: a peft LoRA adapter directory to apply")
    ev.add_argument("--base-url", default=None, help="openai: endpoint such as http://127.0.0.1:8000/v1 "
                    "(default OpenAI; key from $OPENAI_API_KEY)")
    ev.add_argument("--llm-cache", default=None, help="openai: SQLite file that caches responses (replays reruns)")
    ev.add_argument("--temperature", type=non_negative_float, default=default.temperature,
                    help="0 = greedy (default %(default)s)")
    ev.add_argument("--top-p", type=probability, default=default.top_p,
                    help="nucleus sampling, in (0, 1] (default %(default)s)")
    ev.add_argument("--max-new-tokens", type=positive_int, default=default.max_new_tokens,
                    help="tokens per turn (default %(default)s)")
    ev.add_argument("--batch-size", type=positive_int, default=None,
                    help="episodes played at once (default 16 for hf, 64 otherwise)")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (UsageError, EvalOutputError, UnknownEnv, DataError, ModelError, LLMError, KeyError, ValueError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        console.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
        return 2
    except KeyboardInterrupt:
        console.print("interrupted")
        return 130


def cmd_envs(args: argparse.Namespace) -> int:
    from bao.envs.registry import available, make, spec

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
    """Every check that needs no model (env, flags, --n, output directory, resumed settings) comes first: a
    mistake must not cost a model load or a run."""
    from bao.envs.registry import spec
    from bao.pipelines.evaluate import EvalConfig, check_out_dir, check_resumable

    spec(args.env)
    _check_policy_flags(args)
    env_kwargs = user_env_kwargs(args)
    check_n(args.env, args.split, args.n)
    batch_size = args.batch_size or (16 if args.policy == "hf" else 64)
    config = EvalConfig(env=args.env, split=args.split, n=args.n, seeds=args.seed, max_turns=args.max_turns,
                        batch_size=batch_size, env_kwargs=env_kwargs, user_prices=user_prices(args))
    label = _label(args)
    out = args.out or Path("runs") / "eval" / f"{args.env}-{label}"
    check_out_dir(out, overwrite=args.overwrite, resume=args.resume)
    if args.resume:
        check_resumable(out, config.settings())
    policy = _make_policy(args)
    try:
        result = run_eval(config, policy, out, resume=args.resume)
    except KeyboardInterrupt:
        console.print(f"finished episodes are kept in {out}/trajectories.jsonl: add --resume to finish the run",
                      markup=False, highlight=False, soft_wrap=True)
        raise
    print_results({label: result.metrics}, title=f"{args.env} / {args.split}: {seeds_text(result, config.seeds)}")
    generated = sum(sum(t.tokens.mask) for t in result.trajectories if t.tokens)
    if generated:
        console.print(f"{generated} generated tokens, {generated / result.seconds:.1f} tok/s")
    if result.usage is not None:
        console.print(usage_line(result.usage), markup=False, highlight=False, soft_wrap=True)
    console.print(f"wrote {out}/trajectories.jsonl and {out}/metrics.json ({result.seconds:.1f}s)", markup=False,
                  highlight=False, soft_wrap=True)
    return 0


def _check_policy_flags(args: argparse.Namespace) -> None:
    """Flags that the chosen policy would silently ignore, or lack, are mistakes."""
    if args.agent is not None and args.policy != "scripted":
        raise UsageError(f"--agent picks a scripted agent; it cannot be combined with --policy {args.policy}")
    if args.policy == "openai" and not args.model:
        raise UsageError("--policy openai needs --model NAME (the model name the server knows)")


def _label(args: argparse.Namespace) -> str:
    """The name of the agent in tables and default output directories: the scripted agent's name, or the
    policy kind and the model (for a local model its last two path parts, so that `a/final` and `b/final`
    differ)."""
    if args.policy == "scripted":
        return args.agent or "heuristic"
    if args.policy == "openai":
        return "openai-" + args.model.replace(":", "-").replace("/", "-")
    from bao.policies.models import DEFAULT_MODEL

    label = "hf-" + _path_label(args.model or DEFAULT_MODEL)
    return label + (f"+{_path_label(args.adapter)}" if args.adapter else "")


def _path_label(model: str) -> str:
    path = Path(model).expanduser()
    parts = path.resolve().parts if path.exists() else path.parts
    return "-".join(parts[-2:]).replace(":", "-")


def _make_policy(args: argparse.Namespace):
    """The policy `bao eval` plays: a scripted agent, a local HF model or an API-served model."""
    if args.policy == "scripted":
        from bao.policies.scripted import make_agent

        return make_agent(args.agent or "heuristic", args.env)
    from bao.policies.sampling import SamplingConfig

    sampling = SamplingConfig(args.temperature, args.top_p, args.max_new_tokens)
    if args.policy == "hf":
        from bao.policies.hf import HFPolicyConfig, load_hf_policy
        from bao.policies.models import DEFAULT_MODEL

        with console.status(f"loading {escape(args.model or DEFAULT_MODEL)}"):
            return load_hf_policy(HFPolicyConfig(args.model or DEFAULT_MODEL, args.adapter, sampling))
    from bao.llm_client import ClientConfig
    from bao.policies.openai_api import OpenAIPolicy, OpenAIPolicyConfig

    client = ClientConfig(base_url=args.base_url, cache=args.llm_cache)
    return OpenAIPolicy(OpenAIPolicyConfig(model=args.model, client=client, sampling=sampling))


def cmd_play(args: argparse.Namespace) -> int:
    from bao.cli.play import play

    return play(args.env, args.task, args.split, args.seed, console, env_kwargs=user_env_kwargs(args))


COMMANDS = {"envs": cmd_envs, "eval": cmd_eval, "play": cmd_play, "demo": demo_cli.run, "data": data_cli.run,
            "sft": sft_cli.run, "train": train_cli.run, "models": models_cli.run, "report": report_cli.run,
            "pareto": pareto_cli.run, "export": export_cli.run, "serve": serve_cli.run}


if __name__ == "__main__":
    sys.exit(main())
