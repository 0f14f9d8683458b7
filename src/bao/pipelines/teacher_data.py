"""Teacher data: play a teacher on an environment's train split and keep its successful episodes as chat examples.

One example is one episode in the chat format SFT reads: `messages` (the task's system prompt and first user
message, then each assistant turn and the environment's reply as a `tool` message, ending on the last
assistant turn), `tools` (the tool schema the prompt renderer puts into the system prompt, exactly as at
inference) and `untrained_turns` (the teacher's deliberate detours, which SFT keeps out of the loss). Only
episodes that solved the task are kept, and none whose reasoning fails the no-cheating audit
(`bao.policies.teachers.audit`). With an annotator endpoint, an LLM rewrites the kept episodes' reasoning
(`bao.policies.teachers.llm`); rewrites that break the grammar or the audit are dropped. Stats (success of the
teacher, mean R and U of the kept episodes, the turn and length distributions) go beside the data as
`<file>.stats.json`.
"""

from __future__ import annotations

import json
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bao.agent.wire import TOOL_SCHEMA
from bao.core.types import Task, Trajectory
from bao.envs import make
from bao.envs.data import DataError
from bao.policies.teachers import make_teacher
from bao.policies.teachers.audit import find_leaks
from bao.rollout.episodes import run_episodes


@dataclass
class TeacherDataConfig:
    """Settings of `bao data teacher`."""

    env: str = field(metadata={"help": "environment name (see `bao envs`)"})
    out: Path = field(metadata={"help": "output file: .jsonl, or .parquet (needs pyarrow)"})
    n: int = field(default=200, metadata={"help": "episodes to play; tasks are cycled with a new seed each round"})
    behaviors: str = field(default="bao", metadata={"help": "bao: reasoning in the behavior grammar; none: same "
                                                            "actions, no reasoning"})
    split: str = field(default="train", metadata={"help": "split whose tasks the teacher plays"})
    seed: int = field(default=0, metadata={"help": "seed of the first round of tasks"})
    max_turns: int | None = field(default=None, metadata={"help": "turn limit (default: the env's, 16)"})
    annotator_url: str | None = field(default=None, metadata={"help": "OpenAI-compatible endpoint of an LLM that "
                                                                      "rewrites the reasoning (behaviors bao only)"})
    annotator_model: str = field(default="", metadata={"help": "model name sent to the annotator endpoint"})


@dataclass
class TeacherDataStats:
    """What `build_teacher_data` did; saved as `<out>.stats.json`."""

    env: str
    behaviors: str
    episodes: int
    kept: int
    leaky: int
    annotation_failed: int
    teacher_success: float
    mean_R: float
    mean_U: float
    mean_U_userrl: float
    turns: dict[str, float]
    turns_histogram: dict[int, int]
    chars: dict[str, float]
    seconds: float


def episode_messages(traj: Trajectory) -> list[dict[str, str]]:
    """The conversation an SFT example trains on: everything up to and including the last assistant turn."""
    messages = [dict(m) for m in traj.messages]
    while messages and messages[-1]["role"] != "assistant":
        messages.pop()
    return messages


def to_example(traj: Trajectory, behaviors: str, untrained_turns: Iterable[int] = ()) -> dict[str, Any]:
    """One SFT example; `untrained_turns` are the teacher's detours (assistant turns kept out of the loss)."""
    return {
        "env": traj.env,
        "task_id": traj.task_id,
        "seed": traj.seed,
        "behaviors": behaviors,
        "tools": [TOOL_SCHEMA],
        "messages": episode_messages(traj),
        "untrained_turns": [i for i in untrained_turns if i < traj.n_turns],
        "R": traj.R,
        "U": traj.U,
        "U_userrl": traj.U_userrl,
        "turns": traj.n_turns,
    }


def _jobs(tasks: list[Task], n: int, seed: int) -> list[tuple[Task, int]]:
    return [(tasks[i % len(tasks)], seed + i // len(tasks)) for i in range(n)]


def _distribution(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)
    return {"min": ordered[0], "p50": statistics.median(ordered), "mean": round(statistics.fmean(ordered), 3),
            "p90": ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))], "max": ordered[-1]}


def build_teacher_data(
    config: TeacherDataConfig, progress: Callable[[int], None] | None = None
) -> TeacherDataStats:
    """Play `config.n` teacher episodes, write the successful, audited ones and their stats."""
    if config.n <= 0:
        raise ValueError("--n must be positive")
    if config.annotator_url and (config.behaviors != "bao" or not config.annotator_model):
        raise ValueError("an annotator needs --behaviors bao and --annotator-model")
    start = time.perf_counter()
    kwargs = {"max_steps": config.max_turns} if config.max_turns else {}
    env = make(config.env, **kwargs)
    tasks = env.tasks(config.split)
    teacher = make_teacher(config.env, config.behaviors, config.max_turns or env.max_steps)
    jobs = _jobs(tasks, config.n, config.seed)
    trajectories = run_episodes(lambda: make(config.env, **kwargs), teacher, jobs,
                                on_done=(lambda _t: progress(1)) if progress else None)
    by_id = {task.id: task for task in tasks}
    kept, leaky = [], 0
    for traj in trajectories:
        if find_leaks(traj, by_id[traj.task_id]):
            leaky += 1
        elif traj.success:
            kept.append(traj)
    annotation_failed = 0
    if config.annotator_url:
        kept, annotation_failed = _annotate(kept, by_id, config)
    examples = [to_example(t, config.behaviors, teacher.detours(by_id[t.task_id], t)) for t in kept]
    write_examples(config.out, examples)
    stats = TeacherDataStats(
        env=config.env,
        behaviors=config.behaviors,
        episodes=len(trajectories),
        kept=len(kept),
        leaky=leaky,
        annotation_failed=annotation_failed,
        teacher_success=round(sum(t.success for t in trajectories) / len(trajectories), 4),
        mean_R=round(statistics.fmean(t.R for t in kept), 4) if kept else 0.0,
        mean_U=round(statistics.fmean(t.U for t in kept), 4) if kept else 0.0,
        mean_U_userrl=round(statistics.fmean(t.U_userrl for t in kept), 4) if kept else 0.0,
        turns=_distribution([t.n_turns for t in kept]),
        turns_histogram=dict(sorted(Counter(t.n_turns for t in kept).items())),
        chars=_distribution([sum(len(m["content"]) for m in e["messages"]) for e in examples]),
        seconds=round(time.perf_counter() - start, 2),
    )
    stats_path = stats_path_of(config.out)
    tmp = stats_path.with_name(stats_path.name + ".tmp")
    tmp.write_text(json.dumps(asdict(stats), indent=2))
    tmp.replace(stats_path)
    return stats


def _annotate(kept: list[Trajectory], tasks: dict[str, Task],
              config: TeacherDataConfig) -> tuple[list[Trajectory], int]:
    """The LLM-rewritten episodes that still parse and pass the audit, and how many did not."""
    from bao.llm_client.client import ChatClient, ClientConfig
    from bao.policies.teachers.llm import AnnotatorConfig, annotate

    client = ChatClient(ClientConfig(base_url=config.annotator_url))
    rewritten = annotate(kept, client, AnnotatorConfig(config.annotator_model))
    good = [t for t in rewritten if t is not None and not find_leaks(t, tasks[t.task_id])]
    return good, len(kept) - len(good)


def stats_path_of(out: str | Path) -> Path:
    out = Path(out)
    return out.with_name(out.name + ".stats.json")


def write_examples(path: str | Path, examples: Iterable[dict[str, Any]]) -> None:
    """Write examples as JSONL or parquet (by extension), atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    if path.suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        rows = [{**e, "tools": json.dumps(e["tools"])} for e in examples]
        pq.write_table(pa.Table.from_pylist(rows), tmp)
    else:
        with tmp.open("w", encoding="utf-8") as fh:
            for example in examples:
                fh.write(json.dumps(example, ensure_ascii=False) + "\n")
    tmp.replace(path)


def read_examples(path: str | Path) -> Iterator[dict[str, Any]]:
    """Read examples written by `write_examples` (JSONL or parquet)."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"no data file {path}: build one with `bao data teacher ENV --out {path}`")
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        for row in pq.read_table(path).to_pylist():
            yield {**row, "tools": json.loads(row["tools"])}
        return
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)
