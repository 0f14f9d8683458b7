"""How often does the LLM user (turtle, `--user llm`) answer a paraphrased question as the story says?

The offline matcher is measured on bao's turtle paraphrase sets (`bao/data/turtle/paraphrases_<split>.json`:
each question asks one fact of a story's sheet, or none): it reaches the right fact (or none) on 0.85 of
`test` and 0.68-0.75 of `heldout`. This script asks an LLM user (bao's turtle prompt, the story's surface and
bottom) the same questions and reports, per split:
- `fact_accuracy`: questions that ask a fact answered with that fact's Yes/No;
- `off_sheet_maybe`: questions that ask no fact answered "Maybe" (the offline user's "doesn't matter"; the
  LLM sees the whole bottom, so a clear Yes/No there need not be wrong: read it as a tendency);
- `reply_rate`: both together, the reply-level rate to set beside the offline matcher's `reply_rate`
  (printed as `offline_reply_rate`, lexical matcher);
- `fallbacks`: replies without the expected JSON (they get the canned line in an episode).

    python experiments/turtle_llm_user.py --base-url http://127.0.0.1:8000/v1 --model Qwen/Qwen3-32B \\
        [--split test heldout] [--limit N] [--cache user.sqlite] [--out result.json]
"""

from __future__ import annotations

import argparse
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bao.envs import turtle
from bao.users.accuracy import accuracy
from bao.users.knowledge import load_sheet, sheet_path
from bao.users.llm import LLMUser, LLMUserConfig

SPLITS = ("dev", "test", "heldout")


def paraphrases(split: str) -> list[dict]:
    """The split's paraphrase records whose story has a sheet, each with the expected reply added."""
    known = turtle.stories()
    records = []
    for record in load_sheet(sheet_path("turtle", f"paraphrases_{split}.json")):
        story = known.get(record["story_id"])
        if story is None:
            continue
        facts = {f.id: f for f in story.facts}
        fact = facts.get(record.get("fact")) if record.get("fact") else None
        records.append({**record, "expected": fact.answer.capitalize() if fact else "Maybe"})
    return records


def measure(user: LLMUser, split: str, limit: int | None = None, concurrency: int = 8) -> dict:
    """The LLM user's reply-level rates on one split (see the module docstring)."""
    records = paraphrases(split)[:limit]

    def ask(item: tuple[int, dict]) -> str | None:
        i, record = item
        return turtle.ask_story(user, record["story_id"], record["question"], seed=i)

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        replies = list(pool.map(ask, enumerate(records)))
    on_sheet = [(r, got) for r, got in zip(records, replies) if r.get("fact")]
    off_sheet = [(r, got) for r, got in zip(records, replies) if not r.get("fact")]
    right = sum(got == r["expected"] for r, got in zip(records, replies))
    return {
        "split": split,
        "questions": len(records),
        "fact_accuracy": _rate(sum(got == r["expected"] for r, got in on_sheet), len(on_sheet)),
        "off_sheet_maybe": _rate(sum(got == "Maybe" for _, got in off_sheet), len(off_sheet)),
        "reply_rate": _rate(right, len(records)),
        "fallbacks": sum(got is None for got in replies),
        "offline_reply_rate": accuracy(turtle.paraphrase_probes(split)[:limit]).reply_rate,
        "misses": [{"question": r["question"], "expected": r["expected"], "got": got}
                   for r, got in zip(records, replies) if got != r["expected"]],
    }


def _rate(hits: int, total: int) -> float | None:
    return round(hits / total, 4) if total else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base-url", required=True, help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1")
    parser.add_argument("--model", required=True, help="the model name the server knows")
    parser.add_argument("--api-key-env", default="OPENAI_API_KEY", help="variable holding the key (%(default)s)")
    parser.add_argument("--split", nargs="+", choices=SPLITS, default=["test", "heldout"])
    parser.add_argument("--limit", type=int, default=None, help="first N questions of each split (default: all)")
    parser.add_argument("--cache", default=None, help="SQLite reply cache (a rerun sends no request)")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight (default %(default)s)")
    parser.add_argument("--out", type=Path, default=None, help="also write the results as JSON here")
    parser.add_argument("--json-mode", action="store_true", help="ask for JSON output (response_format json_object)")
    args = parser.parse_args(argv)
    user = LLMUser(LLMUserConfig(model=args.model, base_url=args.base_url, api_key_env=args.api_key_env,
                                 cache=args.cache, json_mode=args.json_mode))
    results = [measure(user, split, args.limit, args.concurrency) for split in args.split]
    for r in results:
        print(f"{r['split']}: {r['questions']} questions, reply rate {r['reply_rate']}, fact accuracy "
              f"{r['fact_accuracy']}, off-sheet 'Maybe' {r['off_sheet_maybe']}, {r['fallbacks']} fallbacks"
              f" (offline matcher reply rate {r['offline_reply_rate']:.4f})")
    print(f"usage: {user.usage}")
    if args.out:
        args.out.write_text(json.dumps({"model": args.model, "results": results, "usage": user.usage}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
