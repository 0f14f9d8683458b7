"""`bao pareto`: the effort/success frontier of each training method, against reference points.

For every algorithm x effort cost w x seed, a `bao train` run (`runs/ALGO-wW-sS/`, the trainer's own final
evaluation on the test split is the point: `eval-step-N/`); for each algorithm in `conditioned`, also one run per
seed that trains a single policy for every w (`w_choices`: each group draws its w and is told it in the prompt)
with the sweep's compute, evaluated once per w with that w in the prompt (`runs/ALGO-conditioned-sS/eval-wW/`,
method `ALGO-conditioned`). Equal compute means: the sweep of one algorithm and seed trains len(w) runs of
`steps` steps; the conditioned run trains len(w) x `steps` steps of the same `tasks_per_step` x `group_size`
episodes, so the same episodes and optimizer steps, and `group_costs` gives each w exactly the groups its own
run would have had. Reference points are evaluated once with the same evaluation settings (`reference/NAME/`):
scripted agents, the base model (`model`), the warm start (`init`, method "init") and any named HF model.

Resumable: a point whose `metrics.json` exists is not recomputed; a run whose `log.jsonl` records its end is not
trained again (its `final/` model is evaluated if its evaluation is missing); an interrupted run resumes from
its newest checkpoint, an interrupted evaluation from its finished episodes. Every setting is checked by `plan`
before any model loads.

`DIR/pareto.json` (read by `bao report`):
    {"env": str, "reference_point": {"U": turn limit, "score": 0.0},
     "points": [{"method", "w" (float or null), "seed" (int or null), "kind": "trained" | "reference",
                 "eval_dir": path relative to DIR, "metrics": metrics.json's {name: {mean, low, high, n}}}],
     "frontiers": {method: {"non_dominated": [indices into points, by (score, U)], "hypervolume": float}},
     "pass_at_u": {method: [Pass@U-k for k = 1..9, pooled over the method's points; null when undefined]}}
and the figures `pareto_score_U`, `pareto_success_UR` and `pass_at_u` (.png and .svg).
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bao.algos import ESTIMATORS
from bao.core.types import Trajectory, read_jsonl
from bao.envs import make
from bao.envs.registry import spec
from bao.pipelines.evaluate import METRICS, TRAJECTORIES, evaluate, interrupted
from bao.pipelines.frontier import hypervolume, non_dominated, pass_at_u_curve, plot_frontiers, plot_pass_at_u
from bao.pipelines.metrics import Estimate
from bao.pipelines.outputs import check_writable
from bao.pipelines.rl_config import RLConfig, build_config, check
from bao.policies.models import DEFAULT_MODEL, looks_like_path

SCRIPTED_REFERENCES = ("answer-now", "heuristic", "oracle")
PARETO_JSON = "pareto.json"
# RLConfig settings `bao pareto` sets itself, from its own flags.
SWEPT = {"env": "--env", "algo": "--algos", "w": "--w", "w_choices": "--conditioned", "seed": "--seeds",
         "out": "--out", "init": "--init", "model": "--model", "eval_n": "--eval-n", "eval_seeds": "--eval-seeds"}
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")

Report = Callable[[str], None]


@dataclass
class SweepConfig:
    """What `bao pareto` sweeps, and the reference points it measures the frontiers against."""

    env: str
    out: Path
    algos: Sequence[str] = ("grpo", "userrl", "bao-paper", "bao")
    ws: Sequence[float] = (0.0, 0.05, 0.1, 0.2)
    seeds: Sequence[int] = (0,)
    conditioned: Sequence[str] = ()  # algorithms that also train one policy per seed for every w (ALGO-conditioned)
    init: str | None = None  # warm start of every run (e.g. a `bao sft` run's final/); also a reference point
    model: str = DEFAULT_MODEL  # the base model: trained from when there is no `init`, and a reference point
    base: bool = True  # evaluate the base model as a reference (slow to load on a CPU)
    references: Mapping[str, str] = field(default_factory=dict)  # name -> HF model directory
    scripted: Sequence[str] = SCRIPTED_REFERENCES  # skipped when the env has no scripted agents
    eval_n: int | None = None  # test tasks per evaluation; None = every test task
    eval_seeds: Sequence[int] = (0,)
    config_file: Path | None = None  # YAML of training settings, as `bao train --config`
    overrides: Sequence[str] = ()  # training settings as key=value, as `bao train`


@dataclass(frozen=True)
class Point:
    """One point of the sweep and where it comes from: a training run (`run`), a scripted agent (`agent`) or
    a model (`model`). `eval_dir` is relative to the sweep's directory."""

    method: str
    kind: str  # "trained" or "reference"
    eval_dir: Path
    w: float | None = None
    seed: int | None = None
    run: RLConfig | None = None
    agent: str | None = None
    model: str | None = None

    @property
    def label(self) -> str:
        if self.kind == "reference":
            return f"reference {self.method}"
        return f"{self.method} w={self.w:g} seed={self.seed}"


@dataclass
class Sweep:
    """A checked sweep: every point, the settings its evaluations share, and what was left out and why."""

    config: SweepConfig
    template: RLConfig  # the settings every run shares: evaluation, sampling, limits
    points: list[Point]
    notes: list[str]

    @property
    def max_turns(self) -> int:
        return self.template.max_turns or spec(self.config.env).max_steps


def plan(config: SweepConfig) -> Sweep:
    """Check every setting and list the points, before any model loads; a mistake raises ValueError (or the
    registry's UnknownEnv) with one line that names it."""
    spec(config.env)
    _check_lists(config)
    tests = len(make(config.env).tasks("test"))
    if config.eval_n is not None and not 1 <= config.eval_n <= tests:
        raise ValueError(f"--eval-n must be between 1 and the {tests} test tasks of {config.env}, got {config.eval_n}")
    for item in config.overrides:
        key = item.partition("=")[0]
        if key in SWEPT:
            raise ValueError(f"override {item!r}: bao pareto sets {key} itself (use {SWEPT[key]})")
    check_writable(config.out, f"--out {config.out}")
    if config.base and looks_like_path(config.model) and not Path(config.model).expanduser().exists():
        raise ValueError(f"--model {config.model}: no such file or directory (or pass --no-base)")
    flags = {"env": config.env, "algo": config.algos[0], "w": config.ws[0], "seed": config.seeds[0],
             "init": config.init, "model": config.model, "eval_n": config.eval_n or tests,
             "eval_seeds": ",".join(map(str, config.eval_seeds)), "eval_before": False}
    template = build_config(config.config_file, flags, list(config.overrides))
    notes: list[str] = []
    points = _references(config, notes)
    for algo in config.algos:
        for seed in config.seeds:
            for w in config.ws:
                name = f"{algo}-w{w:g}-s{seed}"
                run = _run(template, Path(config.out) / "runs" / name, algo=algo, w=w, seed=seed)
                points.append(Point(algo, "trained", Path("runs") / name / f"eval-step-{run.steps}", w, seed, run))
            if algo in config.conditioned:
                name = f"{algo}-conditioned-s{seed}"
                run = _run(template, Path(config.out) / "runs" / name, algo=algo, seed=seed, w=0.0, eval_n=0,
                           w_choices=",".join(f"{w:g}" for w in config.ws), steps=template.steps * len(config.ws))
                points += [Point(f"{algo}-conditioned", "trained", Path("runs") / name / f"eval-w{w:g}", w, seed, run)
                           for w in config.ws]
    return Sweep(config, template, points, notes)


def _check_lists(config: SweepConfig) -> None:
    if not config.algos:
        raise ValueError("--algos is empty: name at least one of " + ", ".join(ESTIMATORS))
    for algo in config.algos:
        if algo not in ESTIMATORS:
            raise ValueError(f"--algos: {algo!r} is unknown; choose from {', '.join(ESTIMATORS)}")
    if not config.ws:
        raise ValueError("--w is empty: give the effort costs to sweep, e.g. 0,0.05,0.1,0.2")
    for w in config.ws:
        if not 0 <= w < math.inf:
            raise ValueError(f"--w: every effort cost must be a number >= 0, got {w}")
    for algo in config.conditioned:
        if algo not in config.algos:
            raise ValueError(f"--conditioned: {algo!r} is not one of --algos ({', '.join(config.algos)})")
    if not config.seeds:
        raise ValueError("--seeds is empty: give at least one seed, e.g. 0")
    if not config.eval_seeds:
        raise ValueError("--eval-seeds is empty: give at least one seed, e.g. 0")
    for flag, values in (("--algos", config.algos), ("--conditioned", config.conditioned), ("--w", config.ws),
                         ("--seeds", config.seeds)):
        if len(set(values)) != len(values):
            raise ValueError(f"{flag} names a value twice: {', '.join(map(str, values))}")


def _run(template: RLConfig, out: Path, **changes: Any) -> RLConfig:
    run = dataclasses.replace(template, out=out, **changes)
    check(run)
    return run


def _references(config: SweepConfig, notes: list[str]) -> list[Point]:
    """The reference points, named so that no two methods share a name."""
    from bao.policies.scripted import agents_for

    points = []
    try:
        available = agents_for(config.env)
    except KeyError:
        available = {}
        if config.scripted:
            notes.append(f"{config.env} has no scripted agents: no scripted reference points")
    if available:
        for name in config.scripted:
            if name not in available:
                raise ValueError(f"--scripted: no agent {name!r} for {config.env}; choose from {', '.join(available)}")
            points.append(Point(name, "reference", Path("reference") / name, agent=name))
    models = {"base": config.model} if config.base else {}
    if config.init:
        models["init"] = config.init
    taken = {*config.algos, *(f"{a}-conditioned" for a in config.conditioned), *(p.method for p in points), *models}
    for name, path in config.references.items():
        if not _NAME.fullmatch(name):
            raise ValueError(f"--reference {name}={path}: the name must be letters, digits, '.', '_' or '-'")
        if name in taken:
            raise ValueError(f"--reference {name}={path}: {name!r} is already a method of this sweep; rename it")
        if not (Path(path) / "config.json").is_file():
            raise ValueError(f"--reference {name}={path}: not an HF model directory (no config.json)")
        models[name] = path
    points += [Point(name, "reference", Path("reference") / name, model=path) for name, path in models.items()]
    return points


# -------------------------------------------------------------------------------------------------- running


def run_sweep(sweep: Sweep, report: Report = print) -> dict[str, Any]:
    """Compute every missing point (one line each: started / finished / skipped, with seconds), then write
    `pareto.json` and the figures; returns what `pareto.json` holds."""
    out = Path(sweep.config.out)
    out.mkdir(parents=True, exist_ok=True)
    for note in sweep.notes:
        report(note)
    models = _ModelCache(sweep.template)
    for k, point in enumerate(sweep.points, 1):
        head = f"[{k}/{len(sweep.points)}] {point.label}"
        if (out / point.eval_dir / METRICS).is_file():
            report(f"{head}: skipped (done)")
            continue
        report(f"{head}: started")
        start = time.perf_counter()
        _compute(sweep, point, models, report)
        report(f"{head}: finished in {time.perf_counter() - start:.1f} s")
    models.clear()
    result = collect(sweep)
    tmp = out / (PARETO_JSON + ".tmp")
    tmp.write_text(json.dumps(result, indent=2, allow_nan=False))
    tmp.replace(out / PARETO_JSON)
    draw(result, out)
    return result


def _compute(sweep: Sweep, point: Point, models: _ModelCache, report: Report) -> None:
    out = Path(sweep.config.out)
    eval_dir = out / point.eval_dir
    config = sweep.template.eval_config()
    if point.run is not None:
        if not finished(point.run.run_dir):
            models.clear()  # training needs the memory
            _train(point.run, point.label, report)
        if (eval_dir / METRICS).is_file():
            return  # the trainer's final evaluation
        policy = models.get(str(point.run.run_dir / "final"))
        config = dataclasses.replace(config, prompt_w=point.w if point.run.w_choices else None)
    elif point.agent is not None:
        from bao.policies.scripted import make_agent

        policy = make_agent(point.agent, sweep.config.env)
    else:
        policy = models.get(point.model)
    evaluate(config, policy, eval_dir, resume=interrupted(eval_dir))


def finished(run_dir: Path) -> bool:
    """A training run whose log records its end (its `final/` model is written)."""
    log = run_dir / "log.jsonl"
    if not log.is_file():
        return False
    for line in log.read_text(encoding="utf-8").splitlines():
        try:
            if json.loads(line).get("event") == "end":
                return True
        except json.JSONDecodeError:
            continue
    return False


def _train(run: RLConfig, label: str, report: Report) -> None:
    from bao.pipelines.rl import Hooks, Trainer

    def on_step(step: int, metrics: dict[str, float]) -> None:
        seconds = metrics["time/rollout_s"] + metrics["time/train_s"]
        report(f"    {label}: step {step}/{run.steps}, score {metrics['episode/score']:.3f}, "
               f"U {metrics['episode/U']:.2f} ({seconds:.0f} s)")

    Trainer(run, Hooks(on_step=on_step)).run()


class _ModelCache:
    """The last HF model loaded for evaluation (the conditioned points evaluate one model at several w), with
    the sampling settings of the training runs' own evaluations."""

    def __init__(self, template: RLConfig) -> None:
        self.template = template
        self.key: str | None = None
        self.policy: Any = None

    def get(self, model: str) -> Any:
        if model != self.key:
            from bao.policies.hf import HFPolicyConfig, load_hf_policy
            from bao.policies.sampling import SamplingConfig

            self.clear()
            t = self.template
            sampling = SamplingConfig(t.temperature, t.top_p, t.max_new_tokens)
            self.policy, self.key = load_hf_policy(HFPolicyConfig(model, sampling=sampling)), model
        return self.policy

    def clear(self) -> None:
        self.key, self.policy = None, None


# ------------------------------------------------------------------------------------------ pareto.json, figures


def collect(sweep: Sweep) -> dict[str, Any]:
    """`pareto.json`'s content from the points' evaluation directories (see the module docstring)."""
    out = Path(sweep.config.out)
    points = [{"method": p.method, "w": p.w, "seed": p.seed, "kind": p.kind, "eval_dir": p.eval_dir.as_posix(),
               "metrics": json.loads((out / p.eval_dir / METRICS).read_text())["metrics"]} for p in sweep.points]
    reference = (0.0, float(sweep.max_turns))
    frontiers, pass_at_u = {}, {}
    for method in dict.fromkeys(p["method"] for p in points):
        indices = [i for i, p in enumerate(points) if p["method"] == method]
        objectives = [(_mean(points[i], "score"), _mean(points[i], "U")) for i in indices]
        frontiers[method] = {"non_dominated": [indices[j] for j in non_dominated(objectives)],
                             "hypervolume": hypervolume(objectives, reference)}
        episodes = [t for i in indices for t in _trajectories(out / points[i]["eval_dir"])]
        pass_at_u[method] = [v if math.isfinite(v) else None for v in pass_at_u_curve(episodes)]
    return {"env": sweep.config.env, "reference_point": {"U": reference[1], "score": reference[0]},
            "points": points, "frontiers": frontiers, "pass_at_u": pass_at_u}


def draw(result: Mapping[str, Any], out: Path) -> list[Path]:
    """The three figures of a `pareto.json`: score vs U, success vs UR (95% CIs, non-dominated step lines,
    reference markers) and Pass@U-k."""
    references = {p["method"] for p in result["points"] if p["kind"] == "reference"}
    written = []
    for effort, score in (("U", "score"), ("UR", "success")):
        series: dict[str, list[tuple[Estimate, Estimate]]] = {}
        for p in result["points"]:
            series.setdefault(p["method"], []).append((_estimate(p, effort), _estimate(p, score)))
        written += plot_frontiers(series, references, effort, score, out / f"pareto_{score}_{effort}")
    curves = {m: [math.nan if v is None else v for v in values] for m, values in result["pass_at_u"].items()}
    return written + plot_pass_at_u(curves, references, out / "pass_at_u")


def _trajectories(directory: Path) -> list[Trajectory]:
    path = directory / TRAJECTORIES
    return list(read_jsonl(path)) if path.is_file() else []


def _estimate(point: Mapping[str, Any], name: str) -> Estimate:
    values = point["metrics"].get(name, {})
    return Estimate(*(math.nan if values.get(k) is None else float(values[k]) for k in ("mean", "low", "high")),
                    int(values.get("n") or 0))


def _mean(point: Mapping[str, Any], name: str) -> float:
    return _estimate(point, name).mean

