"""`bao models pull NAME` fetches and converts an embedded model once; `bao models list` shows the cache."""

from __future__ import annotations

import argparse
import time


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from bao.policies.models import DEFAULT_MODEL

    models = subparsers.add_parser("models", help="fetch and list language models (cache: $BAO_CACHE_DIR/models)")
    actions = models.add_subparsers(dest="models_command", required=True)
    pull = actions.add_parser("pull", help="download and convert an embedded model (instant when cached)")
    pull.add_argument("name", nargs="?", default=DEFAULT_MODEL, help=f"embedded model (default {DEFAULT_MODEL})")
    pull.add_argument("--force", action="store_true", help="fetch and convert again even when cached")
    actions.add_parser("list", help="embedded models, and what the cache holds")


def run(args: argparse.Namespace) -> int:
    from rich.table import Table

    from bao.cli.console import console
    from bao.policies.models import EMBEDDED, cache_dir, cached, pull

    if args.models_command == "pull":
        start = time.perf_counter()
        with console.status(f"pulling {args.name} (download, sha256 check, GGUF -> HF conversion)"):
            path = pull(args.name, force=args.force)
        console.print(f"{args.name} ready at {path} ({time.perf_counter() - start:.1f}s)", soft_wrap=True)
        return 0
    table = Table(title=f"models (cache: {cache_dir()})")
    for column in ("name", "cached", "size MB", "source"):
        table.add_column(column)
    present = {entry["name"]: entry for entry in cached()}
    for name, spec in EMBEDDED.items():
        entry = present.pop(name, None)
        table.add_row(name, "yes" if entry else "no (bao models pull)", str(entry["size_mb"]) if entry else "-",
                      spec.description)
    for name, entry in present.items():
        table.add_row(name, "yes", str(entry["size_mb"]), entry.get("gguf", ""))
    console.print(table)
    return 0
