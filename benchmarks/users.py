"""Offline users: matcher accuracy on the intention and travel paraphrase sets, and user steps per second for
every offline env (telepathy and turtle accuracy per matcher kind: `benchmarks/matchers.py`).

Accuracy: intention on `paraphrases_test.json` (the set its settings were tuned on) and
`paraphrases_train.json` (written afterwards, never tuned on); travel on `paraphrases.json` (tuned on) and
`paraphrases_heldout.json` (never tuned on). Speed: `env.step` on already parsed questions, as many
thousand steps as `--steps` asks, with the tokeniser cache cleared before each pass over the questions, on
one core.

    python benchmarks/users.py [--steps 4000]
"""

from __future__ import annotations

import argparse
import json
import time

from bao.core.types import Action, ActionKind, Task
from bao.envs import intention, make, telepathy, travel
from bao.users.knowledge import sheet_path
from bao.users.text import tokens


def intention_episodes() -> list[tuple[Task, list[str]]]:
    """Each test task with the paraphrase questions written for it."""
    records = json.loads(sheet_path("intention", "paraphrases_test.json").read_text(encoding="utf-8"))
    tasks = {t.id: t for t in make("intention").tasks("test")}
    by_task: dict[str, list[str]] = {}
    for r in records:
        by_task.setdefault(r["task_id"], []).append(r["question"])
    return [(tasks[task_id], questions) for task_id, questions in by_task.items()]


def travel_episodes() -> list[tuple[Task, list[str]]]:
    """Each test task with every travel paraphrase question, in chunks the turn limit allows."""
    records = json.loads(sheet_path("travel", "paraphrases.json").read_text(encoding="utf-8"))
    return chunked_episodes("travel", [r["question"] for r in records])


def chunked_episodes(env_name: str, questions: list[str]) -> list[tuple[Task, list[str]]]:
    """Each test task with a turn-limit-sized chunk of `questions`."""
    chunks = [questions[i : i + 15] for i in range(0, len(questions), 15)]
    return [(task, chunks[i % len(chunks)]) for i, task in enumerate(make(env_name).tasks("test"))]


def telepathy_episodes() -> list[tuple[Task, list[str]]]:
    return chunked_episodes("telepathy", [p.question for p in telepathy.paraphrase_probes("test")])


def turtle_episodes() -> list[tuple[Task, list[str]]]:
    """Each test story with the paraphrase questions written for it."""
    by_story: dict[str, list[str]] = {}
    for record in json.loads(sheet_path("turtle", "paraphrases_test.json").read_text(encoding="utf-8")):
        by_story.setdefault(record["story_id"], []).append(record["question"])
    return [(task, by_story.get(task.id, [])) for task in make("turtle").tasks("test")]


def steps_per_second(env_name: str, episodes: list[tuple[Task, list[str]]], steps: int) -> float:
    """User steps per second: one `step` per question, resetting when an episode ends."""
    env = make(env_name)
    done_steps, elapsed = 0, 0.0
    while done_steps < steps:
        tokens.cache_clear()
        for task, questions in episodes:
            start = time.perf_counter()
            env.reset(task, seed=0)
            for question in questions:
                if env.step(Action(ActionKind.ASK, question, "action", wire=f"[action] {question}")).done:
                    break
                done_steps += 1
            elapsed += time.perf_counter() - start
    return done_steps / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=4000, help="user steps to time per env")
    args, _ = parser.parse_known_args()
    rows = [
        ("intention", "paraphrases_test (tuned on)", intention.paraphrase_accuracy("test")),
        ("intention", "paraphrases_train (held out)", intention.paraphrase_accuracy("train")),
        ("travel", "paraphrases (tuned on)", travel.paraphrase_accuracy()),
        ("travel", "paraphrases_heldout (held out)", travel.paraphrase_accuracy("paraphrases_heldout.json")),
    ]
    print(f"{'env':<10} {'set':<32} {'accuracy':>9} {'n':>5}")
    for env, name, score in rows:
        print(f"{env:<10} {name:<32} {score.rate:>9.3f} {score.total:>5}")
    print()
    print(f"{'env':<10} {'user steps/s (lexical, one core)':>34}")
    envs = (("telepathy", telepathy_episodes()), ("turtle", turtle_episodes()),
            ("intention", intention_episodes()), ("travel", travel_episodes()))
    for env, episodes in envs:
        print(f"{env:<10} {steps_per_second(env, episodes, args.steps):>34,.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
