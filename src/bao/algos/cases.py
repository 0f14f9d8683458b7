"""Run one recorded advantage case (`shared/conformance/advantage_cases.json`) through bao's estimators.

`run_case(method, inputs)` takes a `methods` entry and a case's `inputs` exactly as stored (verl's tensors as
nested lists) and returns what the reference recorded, computed by bao. It accepts every method of the file
and, so that other implementations can be checked the same way, any estimator of the registry: the method's
`estimator` names it, and the reference's option names are mapped to bao's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bao.algos.base import Episode, estimate, make_config, token_advantages

# The reference's option names -> bao's config fields.
_OPTIONS = {
    "turn_level_method": "credit",
    "trajectory_score_method": "score",
    "gamma": "gamma",
    "epsilon": "epsilon",
    "norm_adv_by_std_in_grpo": "norm_std",
    "penalize_over_length_coef": "lambda_ot",
    "repeated_question_pen_coef": "lambda_is",
}


def run_case(method: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any]:
    """Token advantages [bsz][L], trajectory scores [bsz], turn credits [bsz][T'] and, for `bao-paper`, the
    shaped rewards [bsz][T'] of one case under one method."""
    name = method["estimator"]
    params = _params(name, method)
    rows = len(inputs["index"])
    length = int(inputs["response_length"])
    spans = [_spans(inputs["turn_boundaries"][b], length) for b in range(rows)]
    masks = inputs["response_mask"]
    episodes = []
    for b, history in enumerate(inputs["conversation_histories"]):
        tokens = [sum(masks[b][lo:hi]) for lo, hi in spans[b]]
        episodes.append(Episode(group=inputs["index"][b], components={"task": [float(h["reward"]) for h in history]},
                                choices=[h["choice"] for h in history], span_tokens=tokens))
    result = estimate(name, episodes, **params)
    advantages = [token_advantages(result.turns[b], masks[b], [lo for lo, _ in spans[b]]) for b in range(rows)]
    out = {"advantages": advantages, "trajectory_scores": result.scores, "turn_credits": result.credits}
    if name == "bao-paper":
        out["shaped_rewards"] = result.rewards
    return out


def _params(name: str, method: dict[str, Any]) -> dict[str, Any]:
    fields = set(vars(make_config(name)))
    params = {}
    for key, value in method.items():
        field = _OPTIONS.get(key)
        if field is None or field not in fields:
            continue
        params[field] = value.lower() if field in ("credit", "score") else value
    return params


def _spans(boundaries: Sequence[int], length: int) -> list[tuple[int, int]]:
    """Turn spans [start_k, start_{k+1}) of one row: from each boundary to the next, the last to `length`; a
    row without boundaries is one span (BAO_RECIPE.md 4.3 step 1)."""
    starts = [i for i, flag in enumerate(boundaries) if flag == 1] or [0]
    return list(zip(starts, starts[1:] + [length]))
