"""Every recorded case of `shared/conformance/advantage_cases.json`, under every method it holds, through
`bao.algos.cases.run_case`: token advantages, trajectory scores, turn credits and shaped rewards."""

from __future__ import annotations

import json

import pytest

from bao.algos.cases import run_case


@pytest.fixture(scope="module")
def recorded(request):
    from tests.conftest import SHARED

    path = SHARED / "conformance" / "advantage_cases.json"
    if not path.is_file():
        pytest.skip("shared/conformance not present")
    return json.loads(path.read_text())


def _close(ours: float, ref: float, tol: dict) -> bool:
    """The README's rule (numpy.isclose): |ours - ref| <= atol + rtol * |ref|."""
    return abs(ours - ref) <= tol["atol"] + tol["rtol"] * abs(ref)


def _mismatches(case: dict, method_id: str, method: dict, tol: dict) -> list[str]:
    inputs, ref = case["inputs"], case["outputs"][method_id]
    out = run_case(method, inputs)
    noise = set(case["flags"].get(method_id, {}).get("fp32_noise_rows", []))
    bad = []
    for b, row in enumerate(out["advantages"]):
        assert len(row) == inputs["response_length"]
        mask = inputs["response_mask"][b]
        starts = [i for i, f in enumerate(inputs["turn_boundaries"][b]) if f == 1] or [0]
        expected = [0.0] * len(row)
        for k, (lo, hi) in enumerate(zip(starts, starts[1:] + [len(row)])):
            for i in range(lo, hi):
                if mask[i]:
                    expected[i] = ref["turn_advantages"][b][k]
        for i, (o, e) in enumerate(zip(row, expected)):
            if not _close(o, e, tol) and not (b in noise and o == 0):
                bad.append(f"advantage row {b} token {i}: {o} != {e}")
    for b, (o, e) in enumerate(zip(out["trajectory_scores"], ref["trajectory_scores"], strict=True)):
        if not _close(o, e, tol):
            bad.append(f"score row {b}: {o} != {e}")
    checks = [("turn_credits", case["turn_credits"][method["credit_key"]])]
    if "shaped_key" in method:
        checks.append(("shaped_rewards", case["shaped_rewards"][method["shaped_key"]]))
    for key, expected_rows in checks:
        for b, (o, e) in enumerate(zip(out[key], expected_rows, strict=True)):
            if len(o) != len(e) or not all(_close(x, y, tol) for x, y in zip(o, e)):
                bad.append(f"{key} row {b}: {o} != {e}")
    return bad


def test_every_case_matches_under_every_recorded_method(recorded):
    tol = recorded["meta"]["tolerance"]
    pairs, failures = 0, {}
    for case in recorded["cases"]:
        for method_id in case["outputs"]:
            pairs += 1
            bad = _mismatches(case, method_id, recorded["methods"][method_id], tol)
            if bad:
                failures[f"{case['id']} / {method_id}"] = bad[:3]
    assert len(recorded["cases"]) == 62
    assert pairs == 62 * 16 + 25 * 3  # 16 methods on every case, 3 extra methods on 25 of them
    assert not failures, f"{len(failures)} of {pairs} case x method pairs differ: {dict(list(failures.items())[:5])}"


def test_run_case_accepts_every_method_of_the_file(recorded):
    case = recorded["cases"][0]
    for method in recorded["methods"].values():
        out = run_case(method, case["inputs"])
        assert set(out) >= {"advantages", "trajectory_scores", "turn_credits"}
        assert ("shaped_rewards" in out) == (method["estimator"] == "bao-paper")


def test_run_case_also_runs_bao_and_grpo(recorded):
    inputs = recorded["cases"][1]["inputs"]
    for name in ("grpo", "bao"):
        out = run_case({"estimator": name, "norm_adv_by_std_in_grpo": True}, inputs)
        assert len(out["advantages"]) == len(inputs["index"])
