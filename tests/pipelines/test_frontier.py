"""Pareto frontiers on hand-made points: who is dominated, the hypervolume against a reference box, the Pass@U-k
curve, and the figures."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bao.core.types import Trajectory, Turn
from bao.pipelines.frontier import hypervolume, non_dominated, pass_at_u_curve, plot_frontiers, plot_pass_at_u
from bao.pipelines.metrics import Estimate

REFERENCE = (0.0, 10.0)  # worst score, worst effort (the env's turn limit)


def test_a_point_tied_on_one_axis_and_worse_on_the_other_is_dominated():
    points = [(0.5, 2.0), (0.5, 3.0), (0.4, 2.0), (0.7, 4.0)]
    assert non_dominated(points) == [0, 3]


def test_identical_non_dominated_points_are_all_kept_and_counted_once_in_the_hypervolume():
    points = [(0.5, 2.0), (0.5, 2.0), (0.9, 6.0)]
    assert non_dominated(points) == [0, 1, 2]
    assert hypervolume(points, REFERENCE) == pytest.approx(hypervolume([(0.5, 2.0), (0.9, 6.0)], REFERENCE))


def test_copies_of_a_dominated_point_are_all_dropped():
    points = [(0.3, 5.0), (0.8, 1.0), (0.3, 5.0)]
    assert non_dominated(points) == [1]


def test_a_single_point_is_its_own_frontier_and_dominates_its_rectangle():
    assert non_dominated([(0.6, 4.0)]) == [0]
    assert hypervolume([(0.6, 4.0)], REFERENCE) == pytest.approx(0.6 * 6.0)


def test_an_empty_set_has_no_frontier_and_no_hypervolume():
    assert non_dominated([]) == []
    assert hypervolume([], REFERENCE) == 0.0


def test_points_outside_the_reference_box_add_nothing():
    inside = [(0.5, 2.0)]
    outside = [(0.9, 10.0), (0.95, 12.0), (0.0, 1.0), (-0.2, 0.0)]  # effort at/over the limit, score at/under 0
    assert hypervolume(outside, REFERENCE) == 0.0
    assert hypervolume(inside + outside, REFERENCE) == pytest.approx(0.5 * 8.0)
    assert 1 in non_dominated(inside + outside)  # still non-dominated: the box only bounds the area


def test_hypervolume_of_three_points_is_the_hand_computed_staircase():
    # Sorted by effort: 0.2 * (3 - 1) + 0.5 * (6 - 3) + 0.9 * (10 - 6) = 0.4 + 1.5 + 3.6
    points = [(0.9, 6.0), (0.2, 1.0), (0.5, 3.0)]
    assert non_dominated(points) == [1, 2, 0]
    assert hypervolume(points, REFERENCE) == pytest.approx(5.5)
    assert hypervolume([*points, (0.4, 5.0)], REFERENCE) == pytest.approx(5.5)  # a dominated point adds nothing


def test_a_point_with_an_undefined_coordinate_is_never_on_the_frontier():
    points = [(math.nan, 0.0), (0.5, 2.0), (1.0, math.nan)]
    assert non_dominated(points) == [1]
    assert hypervolume(points, REFERENCE) == pytest.approx(4.0)


coordinate = st.floats(min_value=0, max_value=1, allow_nan=False).map(lambda v: round(v, 2))


@settings(deadline=None)  # the machine is shared: wall-clock deadlines would make this flaky
@given(st.lists(st.tuples(coordinate, coordinate.map(lambda v: v * 10)), max_size=12))
def test_every_dropped_point_is_dominated_by_a_kept_one_and_adds_no_area(points):
    kept = non_dominated(points)
    front = [points[i] for i in kept]
    for i, p in enumerate(points):
        dominated = any(q[0] >= p[0] and q[1] <= p[1] and q != p for q in front)
        assert (i in kept) != dominated
    assert hypervolume(points, REFERENCE) == pytest.approx(hypervolume(front, REFERENCE))


def _episode(user_turns_before_success: int | None) -> Trajectory:
    """An episode with `n` user-involved turns, solved at the last one (None: three user turns, never solved)."""
    n = user_turns_before_success or 3
    turns = [Turn(index=i, output="", kind="answer", content="", reasoning="", observation="", reward=0.0,
                  done=i == n - 1, user_involved=True,
                  info={"success": user_turns_before_success is not None and i == n - 1}) for i in range(n)]
    return Trajectory(env="clue", task_id="t", seed=0, policy="p", messages=[], turns=turns)


def test_pass_at_u_counts_episodes_solved_within_k_user_actions():
    episodes = [_episode(1), _episode(3), _episode(None)]
    assert pass_at_u_curve(episodes, ks=range(1, 5)) == pytest.approx([1 / 3, 1 / 3, 2 / 3, 2 / 3])
    assert len(pass_at_u_curve(episodes)) == 9  # k = 1..9 by default
    assert all(math.isnan(v) for v in pass_at_u_curve([], ks=range(1, 3)))


def test_figures_are_written_as_png_and_svg(tmp_path):
    pytest.importorskip("matplotlib")

    def est(mean: float, half: float = 0.1) -> Estimate:
        return Estimate(mean, mean - half, mean + half, 10)

    series = {"bao": [(est(1.0), est(0.5)), (est(3.0), est(0.8)), (est(2.0), est(0.4))],
              "grpo": [(est(4.0), est(0.7)), (est(math.nan), est(0.1))],
              "oracle": [(est(1.0, 0.0), est(1.0, 0.0))]}
    written = plot_frontiers(series, ["oracle"], "U", "score", tmp_path / "pareto_score_U")
    curves = plot_pass_at_u({"bao": [0.1] * 9, "oracle": [1.0] * 9}, ["oracle"], tmp_path / "pass_at_u")
    assert [p.name for p in written + curves] == ["pareto_score_U.png", "pareto_score_U.svg", "pass_at_u.png",
                                                  "pass_at_u.svg"]
    assert all(p.stat().st_size > 1000 for p in written + curves)
    assert "oracle" in (tmp_path / "pareto_score_U.svg").read_text()
