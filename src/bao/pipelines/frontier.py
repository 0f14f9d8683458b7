"""Pareto frontiers of task success against user effort: which points are non-dominated, the area they dominate,
the Pass@U-k curve, and the figures that show them (DESIGN.md: "the result is read as a Pareto frontier").

A point is `(score, effort)`: the score (mean task score, or success rate) is maximised, the effort (U, or the
user-turn share UR) minimised. A point dominates another when it is at least as good on both and strictly
better on one. Points with an undefined coordinate (NaN: a metric with nothing to measure) are never on a
frontier and dominate nothing.

The maths needs nothing beyond the standard library; the figures need matplotlib (`bao[plot]`), imported when
one is drawn, through its object API (`Figure`, rendered by Agg), so no global pyplot state is touched.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from bao.core.types import Trajectory
from bao.pipelines.metrics import Estimate

Point = tuple[float, float]  # (score, effort)
PASS_AT_U_KS = range(1, 10)


def dominates(a: Point, b: Point) -> bool:
    """`a` is at least as good as `b` on score (higher) and effort (lower), and strictly better on one."""
    return a[0] >= b[0] and a[1] <= b[1] and (a[0] > b[0] or a[1] < b[1])


def non_dominated(points: Sequence[Point]) -> list[int]:
    """Indices of the points no other point dominates, by increasing effort (then decreasing score).

    Identical points do not dominate one another, so every copy of a non-dominated point is kept: two seeds
    that land on the same (score, effort) are both on the frontier (they add nothing to its hypervolume).
    Copies of a dominated point are all dropped. Quadratic in the number of points, which is tens here.
    """
    defined = [i for i, p in enumerate(points) if _finite(p)]
    keep = [i for i in defined if not any(dominates(points[j], points[i]) for j in defined)]
    return sorted(keep, key=lambda i: (points[i][1], -points[i][0], i))


def hypervolume(points: Sequence[Point], reference: Point) -> float:
    """The area the points dominate inside the box bounded by `reference` = (worst score, worst effort), e.g.
    (0, the env's turn limit): the union of the rectangles [reference score, score] x [effort, reference
    effort] (the S-metric of Zitzler and Thiele, 1998, in two dimensions).

    Only the part of each rectangle inside the box counts: a point whose score is at or below the reference
    score, or whose effort is at or above the reference effort, adds nothing; an effort below 0 is not clipped
    (U and UR cannot be negative). Computed by sweeping the frontier from low to high effort.
    """
    ref_score, ref_effort = reference
    inside = [p for p in points if _finite(p) and p[0] > ref_score and p[1] < ref_effort]
    front = [inside[i] for i in non_dominated(inside)]
    area = 0.0
    for k, (score, effort) in enumerate(front):
        next_effort = front[k + 1][1] if k + 1 < len(front) else ref_effort
        area += (score - ref_score) * (next_effort - effort)  # identical copies add a zero-width strip
    return area


def pass_at_u_curve(trajectories: Sequence[Trajectory], ks: Iterable[int] = PASS_AT_U_KS) -> list[float]:
    """Pass@U-k for each k: the share of episodes solved within their first k user-involved actions (BAO paper;
    `Trajectory.user_turn_of_success`, as the `pass@U-k` metric of `bao.pipelines.metrics`). NaN for each k
    when there are no episodes."""
    solved_at = [t.user_turn_of_success() for t in trajectories]
    n = len(solved_at)
    return [sum(1 for s in solved_at if s is not None and s <= k) / n if n else math.nan for k in ks]


def _finite(point: Point) -> bool:
    return math.isfinite(point[0]) and math.isfinite(point[1])


# ------------------------------------------------------------------------------------------------------ figures

# Per method: (effort, score) estimates of its points, each with its 95% confidence interval.
Series = Mapping[str, Sequence[tuple[Estimate, Estimate]]]
_REFERENCE_MARKERS = ("s", "D", "^", "v", "P", "X", "*", "h")


def plot_frontiers(series: Series, references: Iterable[str], effort_label: str, score_label: str,
                   stem: Path) -> list[Path]:
    """Score against effort, one colour per method: every point with its 95% CI on both axes, a trained method's
    non-dominated points joined by a step line (the region it attains), reference points (scripted agents,
    base or warm-start models) as distinct grey markers without a line. Writes `stem.png` and `stem.svg`."""
    references = set(references)
    fig, ax = _figure()
    trained = [m for m in series if m not in references]
    marked = [m for m in series if m in references]
    colours = _colours(len(trained))
    for method in series:
        pairs = [(x, y) for x, y in series[method] if math.isfinite(x.mean) and math.isfinite(y.mean)]
        if not pairs:
            continue
        is_reference = method in references
        colour = "0.35" if is_reference else colours[trained.index(method)]
        marker = _REFERENCE_MARKERS[marked.index(method) % len(_REFERENCE_MARKERS)] if is_reference else "o"
        xs, ys = [x.mean for x, _ in pairs], [y.mean for _, y in pairs]
        ax.errorbar(xs, ys, xerr=_bars([x for x, _ in pairs]), yerr=_bars([y for _, y in pairs]), fmt=marker,
                    color=colour, ecolor=colour, elinewidth=0.8, capsize=2, markersize=7 if is_reference else 5,
                    alpha=0.9, label=method, zorder=3)
        if not is_reference:
            front = non_dominated([(y, x) for x, y in zip(xs, ys)])
            ax.step([xs[i] for i in front], [ys[i] for i in front], where="post", color=colour, linewidth=1.5,
                    zorder=2)
    ax.set_xlabel(f"{effort_label} (lower is better)")
    ax.set_ylabel(f"{score_label} (higher is better)")
    ax.grid(alpha=0.3)
    if series:
        ax.legend(fontsize=8, loc="best")
    return _save(fig, stem)


def plot_pass_at_u(curves: Mapping[str, Sequence[float]], references: Iterable[str], stem: Path,
                   ks: Sequence[int] = tuple(PASS_AT_U_KS)) -> list[Path]:
    """Pass@U-k against k, one curve per method (reference methods dashed). Writes `stem.png` and `stem.svg`."""
    references = set(references)
    fig, ax = _figure()
    trained = [m for m in curves if m not in references]
    marked = [m for m in curves if m in references]
    colours = _colours(len(trained))
    for method, values in curves.items():
        is_reference = method in references
        ax.plot(list(ks)[: len(values)], values, label=method,
                color="0.35" if is_reference else colours[trained.index(method)],
                linestyle="--" if is_reference else "-",
                marker=_REFERENCE_MARKERS[marked.index(method) % len(_REFERENCE_MARKERS)] if is_reference else "o",
                markersize=4)
    ax.set_xlabel("k (user-involved actions)")
    ax.set_ylabel("Pass@U-k")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xticks(list(ks))
    ax.grid(alpha=0.3)
    if curves:
        ax.legend(fontsize=8, loc="best")
    return _save(fig, stem)


def _figure():
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.8), layout="constrained")
    return fig, fig.add_subplot()


def _colours(n: int) -> list:
    from matplotlib import colormaps

    cmap = colormaps["tab10"]
    return [cmap(i % 10) for i in range(n)]


def _bars(estimates: Sequence[Estimate]) -> list[list[float]]:
    """Asymmetric error bars (below, above the mean) from confidence bounds; 0 where a bound is undefined."""

    def gap(a: float, b: float) -> float:
        return b - a if math.isfinite(a) and math.isfinite(b) else 0.0

    return [[gap(e.low, e.mean) for e in estimates], [gap(e.mean, e.high) for e in estimates]]


def _save(fig, stem: Path) -> list[Path]:
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_name(stem.name + ".png"), stem.with_name(stem.name + ".svg")]
    fig.savefig(paths[0], dpi=150)
    fig.savefig(paths[1], metadata={"Date": None})
    return paths
