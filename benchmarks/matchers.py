"""Matcher accuracy and speed per env and matcher kind, on the held-out paraphrase sets (issue 3).

For telepathy and turtle, and each matcher kind (lexical, embedding, hybrid), prints the accuracy on the dev
set (which the thresholds and weights were tuned on), on the test set (never tuned on, but measured after
each change) and, for turtle, on a held-out set written once the matchers were frozen, from the sheets' fact
statements only and worded away from the sheets' question forms (never measured before then), then how many
questions a second one matcher answers on one core: one `match` call per question, as an env step makes it,
with every cache cleared first, and for the embedding kinds also in batches (`match_many`), as an evaluation
can. For turtle it also prints the reply-level rate: the share of questions given the reply the expected fact
gives (a neighbouring fact the user also answers "Yes." to looks right to the agent). The embedding kinds are
skipped, with the reason, when the model package is not installed.

    python benchmarks/matchers.py [--kinds lexical,embedding,hybrid] [--splits dev,test,heldout]
"""

from __future__ import annotations

import argparse
import time

from bao.envs import telepathy, turtle
from bao.users.accuracy import Probe, accuracy
from bao.users.knowledge import sheet_path
from bao.users.matcher import MATCHER_KINDS, Matcher
from bao.users.text import tokens

ENVS = ("telepathy", "turtle")


def paraphrase_probes(env: str, split: str, kind: str) -> list[Probe]:
    return {"telepathy": telepathy, "turtle": turtle}[env].paraphrase_probes(split, kind)


def _clear_caches() -> None:
    tokens.cache_clear()
    try:
        from bao.users.embedding import shared_encoder
    except ImportError:
        return
    if shared_encoder.cache_info().currsize:
        shared_encoder().clear_cache()


def questions_per_second(probes: list[Probe], batched: bool = False, seconds: float = 2.0) -> float:
    """Questions answered per second with cold caches (matchers and their entry embeddings already built)."""
    by_matcher: dict[int, tuple[Matcher, list[str]]] = {}
    for p in probes:
        by_matcher.setdefault(id(p.matcher), (p.matcher, []))[1].append(p.question)
    done, elapsed = 0, 0.0
    while elapsed < seconds:
        _clear_caches()
        start = time.perf_counter()
        for matcher, questions in by_matcher.values():
            if batched:
                matcher.match_many(questions)  # type: ignore[attr-defined]
            else:
                for q in questions:
                    matcher.match(q)
        elapsed += time.perf_counter() - start
        done += len(probes)
    return done / elapsed


def _available(kind: str) -> str | None:
    """None when `kind` can run here, else why not."""
    if kind == "lexical":
        return None
    try:
        from bao.users.embedding import model_dir

        model_dir()
    except ImportError as exc:
        return str(exc)
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kinds", default=",".join(MATCHER_KINDS))
    parser.add_argument("--splits", default="dev,test,heldout")
    args = parser.parse_args(argv)
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass
    splits = args.splits.split(",")
    print(f"{'env':10} {'matcher':9} " + " ".join(f"{s + ' acc':>14}" for s in splits)
          + f" {'q/s':>8} {'q/s batched':>11}")
    for env in ENVS:
        for kind in args.kinds.split(","):
            missing = _available(kind)
            if missing:
                print(f"{env:10} {kind:9} skipped: {missing}")
                continue
            cells, timed, replies = [], [], []
            for split in splits:
                if not sheet_path(env, f"paraphrases_{split}.json").exists():
                    cells.append("-")
                    continue
                probes = paraphrase_probes(env, split, kind)
                result = accuracy(probes)
                cells.append(f"{result.rate:.3f} ({result.correct}/{result.total})")
                if result.reply_rate is not None:
                    replies.append(f"{split} {result.reply_rate:.3f}")
                timed += probes
            speed = questions_per_second(timed)
            batched = f"{questions_per_second(timed, batched=True):11.0f}" if kind != "lexical" else f"{'-':>11}"
            print(f"{env:10} {kind:9} " + " ".join(f"{c:>14}" for c in cells) + f" {speed:8.0f} {batched}"
                  + (f"   same reply: {', '.join(replies)}" if replies else ""), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
