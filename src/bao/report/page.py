"""`index.html`: the template of `static/` filled with the results tables, the figures and the sweep summaries.

Every value from a run (names, paths, policies) is escaped here; the viewer's data never pass through this
module (they are in `data/` and shown with textContent).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from importlib import resources
from pathlib import Path
from string import Template

from bao.report.discover import Sweep, TrainingRun, display_path
from bao.report.tables import METRIC_COLUMNS, ResultRow


def render_page(title: str, meta: str, results: str, curves: str, sweeps: str) -> str:
    template = Template(static_text("index.html"))
    return template.substitute(title=escape(title), meta=escape(meta), results=results, curves=curves, sweeps=sweeps)


def static_text(name: str) -> str:
    """A file of the report's `static/` package data."""
    return resources.files("bao.report").joinpath("static", name).read_text(encoding="utf-8")


def results_html(rows: Sequence[ResultRow], viewable: dict[Path, int]) -> str:
    """One table per env; a row whose episodes the viewer holds gets a button that opens them there."""
    if not rows:
        return '<p class="empty">No evaluation found.</p>'
    out = []
    for env in dict.fromkeys(row.env for row in rows):
        head = "".join(f'<th class="text">{name}</th>' for name in ("method", "w", "step")) + "<th>episodes</th>"
        head += "".join(f"<th>{escape(name)}</th>" for name in METRIC_COLUMNS)
        head += '<th class="text">source</th><th></th>'
        body = "\n".join(_row_html(row, viewable.get(row.evaluation.path)) for row in rows if row.env == env)
        out.append(f"<h3>{escape(env)}</h3>\n<div class=\"table-wrap\"><table class=\"results\">\n"
                   f"<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody></table></div>")
    return "\n".join(out)


def _row_html(row: ResultRow, viewer_id: int | None) -> str:
    cells = [f'<td class="text">{escape(value)}</td>' for value in (row.method, row.w, row.step)]
    cells.append(f"<td>{escape(row.episodes)}</td>")
    for name in METRIC_COLUMNS:
        cell = row.metrics[name]
        interval = f'<span class="ci">{escape(cell.interval)}</span>' if cell.interval else ""
        cells.append(f"<td>{escape(cell.mean)}{interval}</td>")
    cells.append(f'<td class="text source">{escape(display_path(row.evaluation.path))}</td>')
    button = "" if viewer_id is None else f'<button type="button" data-evaluation="{viewer_id}">view</button>'
    cells.append(f"<td>{button}</td>")
    return "<tr>" + "".join(cells) + "</tr>"


def curves_html(figures: Sequence[tuple[TrainingRun, str]]) -> str:
    if not figures:
        return '<p class="empty">No training run found.</p>'
    return "\n".join(_figure_html(png, f"{run.label}: {len(run.steps)} steps, {len(run.evals)} evaluations",
                                  run.path) for run, png in figures)


SWEEP_FIGURES = {"pareto_score_U": "score against user effort U", "pareto_success_UR": "success against the share "
                 "of user turns UR", "pass_at_u": "Pass@U-k: solved within k user-involved actions"}


def sweeps_html(figures: Sequence[tuple[Sweep, Sequence[str]]]) -> str:
    """Per sweep: its figures and a table of each method's frontier."""
    if not figures:
        return '<p class="empty">No sweep (pareto.json) found.</p>'
    out = []
    for sweep, pngs in figures:
        frontiers = sweep.data.get("frontiers", {})
        rows = "".join(
            f'<tr><td class="text">{escape(str(method))}</td><td>{_hypervolume(front.get("hypervolume"))}</td>'
            f'<td>{len(front.get("non_dominated", []))}</td></tr>' for method, front in frontiers.items())
        table = ('<table class="results"><thead><tr><th class="text">method</th><th>hypervolume</th>'
                 f"<th>points on the frontier</th></tr></thead><tbody>{rows}</tbody></table>") if rows else ""
        shown = "".join(_figure_html(png, SWEEP_FIGURES.get(Path(png).stem, Path(png).stem), sweep.path)
                        for png in pngs)
        out.append(f"<h3>{escape(sweep.env)}: {len(sweep.data.get('points', []))} points</h3>"
                   f'<div class="figures">{shown}</div>{table}')
    return "\n".join(out)


def _hypervolume(value: object) -> str:
    return f"{value:.4f}" if isinstance(value, (int, float)) else "n/a"


def _figure_html(png: str, caption: str, source: Path) -> str:
    svg = png.removesuffix(".png") + ".svg"
    return (f'<figure><img src="{escape(png)}" alt="{escape(caption)}">'
            f"<figcaption>{escape(caption)} · {escape(display_path(source))} · "
            f'<a href="{escape(svg)}">SVG</a></figcaption></figure>')
