import math

from bao.core.types import Trajectory, Turn
from bao.pipelines.metrics import mean_ci, proportion_ci, summarize


def _episode(kinds: list[str], solved_at: int | None) -> Trajectory:
    turns = []
    for i, kind in enumerate(kinds):
        success = solved_at == i
        turns.append(Turn(i, "", kind, "", "", "", float(success), success, kind == "answer",
                          info={"success": success}))
    return Trajectory("function", "t", 0, "p", [], turns, R=float(solved_at is not None),
                      U=sum(k == "answer" for k in kinds), success=solved_at is not None)


def test_pass_at_u_counts_user_turns_up_to_success():
    episodes = [
        _episode(["ask", "answer"], 1),               # solved at the 1st answer
        _episode(["answer", "ask", "answer"], 2),     # solved at the 2nd answer
        _episode(["answer", "invalid"], None),        # never solved
    ]
    m = summarize(episodes)
    assert m["pass@U-1"].mean == 1 / 3
    assert m["pass@U-2"].mean == 2 / 3
    assert m["pass@U-5"].mean == 2 / 3
    assert m["success"].mean == 2 / 3
    assert m["invalid_rate"].mean == 1 / 7
    assert math.isclose(m["UR"].mean, (1 / 2 + 2 / 3 + 1 / 2) / 3)


def test_confidence_intervals_bracket_the_mean_and_stay_in_range():
    est = proportion_ci(0, 10)
    assert est.low == 0.0 and 0 < est.high < 0.35
    est = mean_ci([1.0, 2.0, 3.0])
    assert est.low < 2.0 < est.high
    assert math.isclose(est.high - 2.0, 1.959964 * 1 / math.sqrt(3), rel_tol=1e-6)
