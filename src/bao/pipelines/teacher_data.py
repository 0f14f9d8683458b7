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

Both files are written through a temporary file beside them and a rename, and the output is checked before the
first episode: an existing file (without `overwrite`), a directory or a folder that cannot be written fails at once.
"""

from __future__ import annotations

import json
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bao.agent.wire import TOOL_SCHEMA
from bao.core.types import Task, Trajectory
from bao.envs import make
from bao.envs.data import DataError
from bao.envs.registry import spec
from bao.pipelines.outputs import check_writable
from bao.policies.teachers import BEHAVIOR_MODES, make_teacher, teacher_class
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
    overwrite: bool = field(default=False, metadata={"help": "replace --out if it exists"})


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
    check_config(config)
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
    with replacing(stats_path_of(config.out)) as tmp:
        tmp.write_text(json.dumps(asdict(stats), indent=2))
    return stats


def check_config(config: TeacherDataConfig) -> None:
    """Every mistake in `config` that would otherwise surface after the episodes, or as a misleading error (an
    unknown split reads as a missing data file); the command line runs it before its progress display starts."""
    if config.n <= 0:
        raise ValueError("--n must be positive")
    if config.annotator_url and (config.behaviors != "bao" or not config.annotator_model):
        raise ValueError("an annotator needs --behaviors bao and --annotator-model")
    splits = spec(config.env).splits
    if config.split not in splits:
        raise ValueError(f"--split {config.split!r} is not a split of {config.env}: choose one of {', '.join(splits)}")
    if config.behaviors not in BEHAVIOR_MODES:
        raise ValueError(f"--behaviors {config.behaviors!r}: choose one of {', '.join(BEHAVIOR_MODES)}")
    teacher_class(config.env)
    check_out(config.out, config.overwrite)


def check_out(out: str | Path, overwrite: bool) -> None:
    """Refuse an output file that exists (unless `overwrite`), is a directory, or cannot be written, before a
    run spends its time on episodes."""
    out = Path(out)
    if out.is_dir():
        raise ValueError(f"--out {out} is a directory: give a file such as {out / 'data.jsonl'}")
    if out.exists() and not overwrite:
        raise ValueError(f"--out {out} exists: pass --overwrite to replace it, or choose another file")
    check_writable(out.parent, f"--out {out}")


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


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temporary file beside `path` that replaces it when the block ends, and is deleted if the block fails:
    a reader sees the old file or the new one, and a failure leaves no stray temporary file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        yield tmp
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_examples(path: str | Path, examples: Iterable[dict[str, Any]]) -> None:
    """Write examples as JSONL or parquet (by extension), atomically."""
    path = Path(path)
    with replacing(path) as tmp:
        if path.suffix == ".parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            rows = [{**e, "tools": json.dumps(e["tools"])} for e in examples]
            pq.write_table(pa.Table.from_pylist(rows), tmp)
        else:
            with tmp.open("w", encoding="utf-8") as fh:
                for example in examples:
                    fh.write(json.dumps(example, ensure_ascii=False) + "\n")


EXAMPLE_SHAPE = '"messages": [{"role": ..., "content": ...}]'


def read_examples(path: str | Path) -> Iterator[dict[str, Any]]:
    """Read examples written by `write_examples` (JSONL or parquet). A file that is missing, or a line that is
    not a chat example, is a DataError naming the file, the line and the shape expected."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"no data file {path}: build one with `bao data teacher ENV --out {path}` "
                        f"(JSONL, one object with {EXAMPLE_SHAPE} a line)")
    if path.suffix == ".parquet":
        for i, row in enumerate(_parquet_rows(path), start=1):
            yield {**_checked(row, f"{path} row {i}"), "tools": json.loads(row["tools"])}
        return
    with path.open(encoding="utf-8") as fh:
        for i, line in enumerate(fh, start=1):
            if line.strip():
                yield _checked(_json_line(line, f"{path} line {i}"), f"{path} line {i}")


def _parquet_rows(path: Path) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    try:
        return pq.read_table(path).to_pylist()
    except Exception as exc:
        raise DataError(f"cannot read {path} as parquet: {exc}") from None


def _json_line(line: str, where: str) -> Any:
    try:
        return json.loads(line.rstrip("\n"))
    except json.JSONDecodeError as exc:
        raise DataError(f"{where}: not valid JSON ({exc.msg.removesuffix(' at')} at column {exc.colno}); expected "
                        f"one object with {EXAMPLE_SHAPE} a line") from None


def _checked(example: Any, where: str) -> dict[str, Any]:
    """`example` if it holds a list of chat messages; else a DataError that says what a valid one looks like."""
    problem = _shape_problem(example)
    if problem:
        raise DataError(f"{where}: expected an object with {EXAMPLE_SHAPE}, got {problem}")
    return example


def _shape_problem(example: Any) -> str | None:
    if not isinstance(example, dict):
        return _kind(example)
    if "messages" not in example:
        return 'an object without "messages"'
    messages = example["messages"]
    if not isinstance(messages, list) or not messages:
        return f'"messages": {_kind(messages)}'
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or not all(isinstance(message.get(k), str) for k in ("role", "content")):
            return f'message {i}: {json.dumps(message, ensure_ascii=False)[:60]}'
    return None


def _kind(value: Any) -> str:
    """How a JSON value reads in an error message."""
    if isinstance(value, list):
        return "a list" if value else "an empty list"
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    return {dict: "an object", str: "a string"}.get(type(value), "a number")
