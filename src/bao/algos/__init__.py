"""Advantage estimators of multi-turn episodes, one registry selected by name: `grpo`, `userrl`, `bao-paper`, `bao`.

Pure maths on per-turn data (no torch): `estimate("bao", episodes, gamma=1.0)`.
"""

from bao.algos import grpo, userrl, bao_paper, bao  # noqa: F401, I001 (registers the estimators, in this order)
from bao.algos.base import (
    ESTIMATORS,
    Advantages,
    Episode,
    UnknownEstimator,
    estimate,
    get_estimator,
    group_advantages,
    make_config,
    token_advantages,
)

__all__ = ["ESTIMATORS", "Advantages", "Episode", "UnknownEstimator", "estimate", "get_estimator",
           "group_advantages", "make_config", "token_advantages"]
