"""Evaluation: run a policy on an environment's split over several seeds and write what happened.

The output directory holds:
- `trajectories.jsonl`: every episode, every turn. Each episode is appended (and flushed) the moment it ends,
  so an interrupted run keeps what it finished; at the end the file is rewritten in job order (seed, then
  task), so that a resumed run and an uninterrupted one write the same file;
- `INCOMPLETE`: the run's settings (JSON), present from the start until `metrics.json` is written. A directory
  with this marker holds an unfinished run; one with `metrics.json` and no marker a finished one;
- `metrics.json`: the headline metrics with 95% confidence intervals (`null` where undefined, e.g. the
  redundant rate of a run without questions) and the run's settings. Written last, atomically. A run with an
  LLM user (`env_kwargs["user"] == "llm"`) also records under `usage.user_llm` the requests its user sent, the
  replies its cache gave, their tokens, and the cost when `user_prices` are set (of this invocation: a resumed
  run counts only the episodes it played).

`evaluate(..., resume=True)` plays only the (task, seed) episodes that `trajectories.jsonl` lacks, after checking
that the recorded settings (env, split, n, seeds, max_turns, env options, the effort cost told in the prompt,
policy) are the ones asked for; the metrics then cover every episode. Without `resume`, earlier results in the
directory are replaced.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import asdict, dataclass, field, is_dataclass
from pathlib import Path
from typing import IO, Any

from bao.agent.effort import with_effort_cost
from bao.core.types import ActionKind, Task, Trajectory, write_jsonl
from bao.envs import make
from bao.pipelines.metrics import Estimate, summarize, to_json
from bao.pipelines.outputs import check_writable
from bao.policies.base import Policy
from bao.rollout.episodes import run_episodes
from bao.users.llm import cost, total_usage, usage_since

TRAJECTORIES = "trajectories.jsonl"
METRICS = "metrics.json"
INCOMPLETE = "INCOMPLETE"
RESULT_FILES = (TRAJECTORIES, METRICS, INCOMPLETE)


class EvalOutputError(RuntimeError):
    """An output directory that cannot take this run (earlier results, other settings); the message says why."""


@dataclass
class EvalConfig:
    """Settings of one evaluation run."""

    env: str
    split: str = "test"
    n: int | None = None  # first n tasks of the split; None = all
    seeds: Sequence[int] = (0,)
    max_turns: int | None = None  # None = the env's default (16, as UserRL)
    batch_size: int = 64  # episodes played at once
    engine: dict = field(default_factory=dict)  # LLM policies: max_tokens, context_limit (bao.rollout.engine)
    env_kwargs: dict = field(default_factory=dict)
    prompt_w: float | None = None  # effort cost written into every prompt (bao.agent.effort); None = not told
    user_prices: tuple[float, float] | None = None  # LLM user: USD per 1M prompt / completion tokens, for the cost

    def settings(self) -> dict[str, Any]:
        """What decides which episodes are played and how: a resumed run must match them (batch size does not).
        Config objects among the env options (an `LLMUserConfig`) are written as their fields, which hold the
        name of the key's environment variable, never the key."""
        env_kwargs = {k: asdict(v) if is_dataclass(v) else v for k, v in self.env_kwargs.items()}
        return {"env": self.env, "split": self.split, "n": self.n, "seeds": list(self.seeds),
                "max_turns": self.max_turns, "env_kwargs": env_kwargs, "prompt_w": self.prompt_w}


@dataclass
class EvalResult:
    trajectories: list[Trajectory]
    metrics: dict[str, Estimate]
    seconds: float
    usage: dict[str, Any] | None = None  # the LLM user's requests, cache hits, tokens (and cost); None without one


def evaluate(
    config: EvalConfig,
    policy: Policy,
    out_dir: str | Path | None = None,
    progress: Callable[[int], None] | None = None,
    on_turns: Callable[[int, int], None] | None = None,
    resume: bool = False,
) -> EvalResult:
    """Play every (task, seed) of the config with `policy`; `progress(k)` is called as k episodes finish (and
    once at the start with the episodes a resumed run already has), and for an LLM policy `on_turns(turns,
    tokens)` after each decoding round (see `run_engine`)."""
    start = time.perf_counter()
    kwargs = dict(config.env_kwargs)
    if config.max_turns:
        kwargs["max_steps"] = config.max_turns
    env = make(config.env, **kwargs)
    jobs = _jobs(config, env.tasks(config.split), env.spec.user_kinds)
    settings = {**config.settings(), "policy": policy.name}
    out = Path(out_dir) if out_dir is not None else None
    finished = _begin(out, settings, resume) if out is not None else []
    done, todo = _split_jobs(jobs, finished)
    if progress and done:
        progress(len(done))
    llm_user = config.env_kwargs.get("user") == "llm"
    usage_before = total_usage() if llm_user else None
    with _Appender(out) as append:

        def on_done(traj: Trajectory) -> None:
            append(traj)
            if progress:
                progress(1)

        played = _play(config, kwargs, policy, [jobs[i] for i in todo], on_done, on_turns)
    by_job = {**done, **dict(zip(todo, played))}
    trajectories = [by_job[i] for i in range(len(jobs))]
    usage = _user_usage(usage_before, config.user_prices) if usage_before is not None else None
    result = EvalResult(trajectories, summarize(trajectories), time.perf_counter() - start, usage)
    if out is not None:
        save(result, settings, out)
    return result


def _user_usage(before: dict[str, int], prices: tuple[float, float] | None) -> dict[str, Any]:
    usage: dict[str, Any] = usage_since(before)
    if prices is not None:
        usage.update(price_in_per_1m=prices[0], price_out_per_1m=prices[1], cost=round(cost(usage, *prices), 6))
    return usage


def _jobs(config: EvalConfig, tasks: list[Task], user_kinds: Collection[ActionKind]) -> list[tuple[Task, int]]:
    if config.n is not None:
        if config.n <= 0:
            raise ValueError("--n must be positive")
        tasks = tasks[: config.n]
    if config.prompt_w is not None:
        tasks = [with_effort_cost(task, config.prompt_w, user_kinds) for task in tasks]
    return [(task, seed) for seed in config.seeds for task in tasks]


def _play(config: EvalConfig, kwargs: dict, policy: Policy, jobs: list[tuple[Task, int]],
          on_done: Callable[[Trajectory], None], on_turns: Callable[[int, int], None] | None) -> list[Trajectory]:
    if getattr(policy, "token_level", False):  # an LLM: the rollout engine records ids, masks and log-probs
        from bao.rollout.engine import EngineConfig, run_engine

        engine = EngineConfig(batch_size=config.batch_size, **config.engine)
        return run_engine(lambda: make(config.env, **kwargs), policy, jobs, engine, on_done, on_turns)
    out: list[Trajectory] = []
    for lo in range(0, len(jobs), config.batch_size):
        batch = jobs[lo : lo + config.batch_size]
        out += run_episodes(lambda: make(config.env, **kwargs), policy, batch, on_done=on_done)
    return out


def recorded_settings(out_dir: Path) -> dict[str, Any] | None:
    """The settings of the run in `out_dir` (unfinished or finished), or None when it holds none."""
    for name in (INCOMPLETE, METRICS):
        if (out_dir / name).is_file():
            try:
                recorded = json.loads((out_dir / name).read_text())
            except json.JSONDecodeError:
                raise EvalOutputError(f"{out_dir / name} is not valid JSON: cannot resume; use --overwrite") from None
            return recorded.get("settings", recorded)
    return None


def check_resumable(out_dir: Path, settings: dict[str, Any]) -> None:
    """Refuse to resume a run whose recorded settings differ from `settings` (only the keys given are compared,
    so that the command line can check what it knows before loading a model)."""
    recorded = recorded_settings(out_dir)
    if recorded is None:
        if (out_dir / TRAJECTORIES).exists():
            raise EvalOutputError(f"{out_dir} has {TRAJECTORIES} but no record of its settings: cannot resume; "
                                  "use --overwrite")
        return
    differ = [f"{key} {recorded.get(key)!r} -> {value!r}" for key, value in settings.items()
              if recorded.get(key) != value]
    if differ:
        raise EvalOutputError(f"cannot resume {out_dir}: its run had other settings ({'; '.join(differ)})")


def _begin(out_dir: Path, settings: dict[str, Any], resume: bool) -> list[Trajectory]:
    """Mark the run unfinished and return the episodes an earlier run finished (none unless resuming)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    finished: list[Trajectory] = []
    if resume:
        check_resumable(out_dir, settings)
        finished = _read_finished(out_dir / TRAJECTORIES)
    _write_atomically(out_dir / INCOMPLETE, json.dumps(settings, indent=2))
    (out_dir / METRICS).unlink(missing_ok=True)
    write_jsonl(out_dir / TRAJECTORIES, finished)  # drops a line cut short by a crash before appending more
    return finished


def _read_finished(path: Path) -> list[Trajectory]:
    """The complete episodes of an interrupted run's file; a last line cut short by a crash is dropped."""
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(Trajectory.from_dict(json.loads(line)))
        except (json.JSONDecodeError, TypeError):
            continue
    return out


def _split_jobs(jobs: list[tuple[Task, int]], finished: list[Trajectory]) -> tuple[dict[int, Trajectory], list[int]]:
    """Job index -> finished trajectory, and the indices still to play (a repeated seed is played as often)."""
    pending: dict[tuple[str, int], list[Trajectory]] = {}
    for traj in finished:
        pending.setdefault((traj.task_id, traj.seed), []).append(traj)
    done, todo = {}, []
    for i, (task, seed) in enumerate(jobs):
        same = pending.get((task.id, seed))
        if same:
            done[i] = same.pop(0)
        else:
            todo.append(i)
    return done, todo


class _Appender:
    """`with _Appender(dir) as append: append(traj)`: one flushed line per finished episode (no-op without dir)."""

    def __init__(self, out_dir: Path | None) -> None:
        self.path = out_dir / TRAJECTORIES if out_dir is not None else None
        self.fh: IO[str] | None = None

    def __enter__(self) -> Callable[[Trajectory], None]:
        if self.path is not None:
            self.fh = self.path.open("a", encoding="utf-8")
        return self.append

    def __exit__(self, *exc: object) -> None:
        if self.fh is not None:
            self.fh.close()

    def append(self, traj: Trajectory) -> None:
        if self.fh is not None:
            self.fh.write(json.dumps(traj.to_dict(), ensure_ascii=False) + "\n")
            self.fh.flush()


def interrupted(out_dir: str | Path) -> bool:
    """Whether `out_dir` holds an evaluation cut short (its `INCOMPLETE` marker): a pipeline that owns the
    directory finishes it with `resume=True` rather than playing every episode again."""
    return (Path(out_dir) / INCOMPLETE).is_file()


def save(result: EvalResult, settings: dict[str, Any], out_dir: Path) -> None:
    """Write the trajectories in job order and the metrics, then drop the INCOMPLETE marker: the run is done."""
    out_dir.mkdir(parents=True, exist_ok=True)
    write_jsonl(out_dir / TRAJECTORIES, result.trajectories)
    payload = {
        "env": settings["env"],
        "split": settings["split"],
        "policy": settings["policy"],
        "seeds": settings["seeds"],
        "episodes": len(result.trajectories),
        "seconds": round(result.seconds, 3),
        "settings": settings,
        "metrics": to_json(result.metrics),
    }
    if result.usage is not None:
        payload["usage"] = {"user_llm": result.usage}
    _write_atomically(out_dir / METRICS, json.dumps(payload, indent=2, allow_nan=False))
    (out_dir / INCOMPLETE).unlink(missing_ok=True)


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)


def check_out_dir(out_dir: Path, overwrite: bool = False, resume: bool = False) -> None:
    """Refuse, before any model loads or episode runs, an output location this run could not finish in: a file,
    a place that cannot be written, or earlier results that neither `overwrite` nor `resume` lets us touch."""
    if out_dir.exists() and not out_dir.is_dir():
        raise EvalOutputError(f"output {out_dir} is a file, not a directory")
    try:
        check_writable(out_dir, f"--out {out_dir}")
    except ValueError as exc:
        raise EvalOutputError(f"{exc}: choose another output directory") from None
    if not (overwrite or resume) and any((out_dir / name).exists() for name in RESULT_FILES):
        raise EvalOutputError(f"{out_dir} holds earlier results: pass --overwrite to replace them or --resume to "
                              "finish an interrupted run")
