"""Write a report directory from run directories.

    OUT/index.html        results tables, figures, the viewer's controls (template: static/index.html)
    OUT/style.css         OUT/viewer.js (copied from static/)
    OUT/figures/          learning curves (curves-*.png), each sweep's Pareto and Pass@U-k plots (sweep-*/);
                          every figure also as .svg
    OUT/data/index.js     the evaluations the viewer offers
    OUT/data/eval-N.js    the episodes of evaluation N, loaded when the viewer first shows it

Data go into .js files that assign a global because a page opened from the file system may load scripts beside
it but may not fetch JSON. Their JSON escapes `<`, so no text in a trajectory can close a tag.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bao import __version__
from bao.pipelines.outputs import check_writable
from bao.pipelines.pareto import draw
from bao.report.curves import NEEDS_MATPLOTLIB, learning_curves
from bao.report.discover import PARETO, Evaluation, Sweep, discover, display_path
from bao.report.episodes import read_episodes
from bao.report.page import curves_html, render_page, results_html, static_text, sweeps_html
from bao.report.tables import result_rows
from bao.rewards import RewardConfig

MAX_TRAJECTORIES = 2000
INDEX = "index.html"
STATIC = ("viewer.js", "style.css")
FIGURES = "figures"
DATA = "data"


@dataclass
class Built:
    """What a report holds; `capped` names the evaluations whose episodes the viewer shows only in part."""

    index: Path
    evaluations: int
    training_runs: int
    sweeps: int
    capped: list[str]

    @property
    def summary(self) -> str:
        counts = ((self.evaluations, "evaluation"), (self.training_runs, "training run"), (self.sweeps, "sweep"))
        return ", ".join(f"{n} {noun}{'' if n == 1 else 's'}" for n, noun in counts)


def check_out(out: Path, overwrite: bool) -> None:
    """Refuse, before any work, an output that is a file, cannot be written, or holds files (unless `overwrite`)."""
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file, not a directory")
    check_writable(out, f"--out {out}")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise ValueError(f"--out {out} is not empty: pass --overwrite to replace the report in it, or choose "
                         "another directory")


def build_report(run_dirs: Sequence[Path], out: Path, overwrite: bool = False,
                 max_trajectories: int = MAX_TRAJECTORIES) -> Built:
    """Discover everything under `run_dirs` and write the report into `out`."""
    out = Path(out)
    check_out(out, overwrite)
    found = discover(run_dirs)
    _clear(out)
    figures = out / FIGURES
    curves = [(run, learning_curves(run, figures, f"curves-{i}-{_slug(run.path)}"))
              for i, run in enumerate(found.training_runs)]
    sweeps = [(sweep, _sweep_figures(sweep, out, figures / f"sweep-{i}-{_slug(sweep.path)}"))
              for i, sweep in enumerate(found.sweeps)]
    rows = result_rows(found.evaluations)
    viewable = [row.evaluation for row in rows if row.evaluation.trajectories.is_file()]
    capped = _write_viewer_data(out / DATA, viewable, max_trajectories)
    built = Built(out / INDEX, len(found.evaluations), len(found.training_runs), len(found.sweeps), capped)
    meta = (f"generated {time.strftime('%Y-%m-%d %H:%M')} by bao {__version__} from "
            f"{', '.join(str(d) for d in run_dirs)} · {built.summary}")
    page = render_page("bao report", meta, results_html(rows, {e.path: i for i, e in enumerate(viewable)}),
                       curves_html(curves), sweeps_html(sweeps))
    (out / INDEX).write_text(page, encoding="utf-8")
    for name in STATIC:
        (out / name).write_text(static_text(name), encoding="utf-8")
    return built


def _sweep_figures(sweep: Sweep, out: Path, folder: Path) -> list[str]:
    """The figures `bao pareto` draws from a pareto.json (PNG paths relative to the report; SVGs beside them)."""
    try:
        written = draw(sweep.data, folder)
    except ImportError:
        raise ValueError(NEEDS_MATPLOTLIB) from None
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"{sweep.path / PARETO}: not a sweep result (bad or missing {exc})") from None
    return [path.relative_to(out).as_posix() for path in written if path.suffix == ".png"]


def _clear(out: Path) -> None:
    """Remove what an earlier report wrote (only its own files: `out` may hold other things)."""
    for name in (INDEX, *STATIC):
        (out / name).unlink(missing_ok=True)
    for name in (FIGURES, DATA):
        shutil.rmtree(out / name, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)


def _write_viewer_data(folder: Path, evaluations: list[Evaluation], limit: int) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    entries, capped = [], []
    for i, evaluation in enumerate(evaluations):
        episodes, total = read_episodes(evaluation.trajectories, evaluation.reward, limit)
        if total > len(episodes):
            capped.append(display_path(evaluation.path))
        _write_js(folder / f"eval-{i}.js", f"(window.BAO_EPISODES = window.BAO_EPISODES || {{}})[{i}]",
                  {"total": total, "episodes": episodes})
        entries.append({"id": i, "env": evaluation.env, "method": evaluation.method, "w": evaluation.w,
                        "step": evaluation.step, "policy": evaluation.policy, "split": evaluation.split,
                        "source": display_path(evaluation.path), "file": f"{DATA}/eval-{i}.js",
                        "reward": _reward_summary(evaluation.reward)})
    _write_js(folder / "index.js", "window.BAO_REPORT", {"cap": limit, "evaluations": entries})
    return capped


def _write_js(path: Path, target: str, data: Any) -> None:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    text = text.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    path.write_text(f"{target} = {text};\n", encoding="utf-8")


def _reward_summary(config: RewardConfig) -> str:
    """The reward settings that differ from the defaults ("" for the env's reward alone)."""
    return ", ".join(f"{f.name}={getattr(config, f.name):g}" for f in dataclasses.fields(config)
                     if getattr(config, f.name) != f.default)


def _slug(path: Path) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", display_path(path)).strip("-")[-60:] or "run"
