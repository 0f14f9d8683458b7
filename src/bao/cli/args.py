"""argparse types that reject bad numbers at parse time: argparse then prints the flag's name, what it got and
the rule, and exits with status 2 before anything loads."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable


def _number(kind: type, rule: str, ok: Callable[[float], bool]) -> Callable[[str], int | float]:
    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {rule}, got {text!r}") from None
        if isinstance(value, float) and not math.isfinite(value) or not ok(value):
            raise argparse.ArgumentTypeError(f"expected {rule}, got {text!r}")
        return value

    parse.__name__ = rule  # argparse names the type in its "invalid <type> value" message
    return parse


positive_int = _number(int, "an integer >= 1", lambda v: v >= 1)
non_negative_int = _number(int, "an integer >= 0", lambda v: v >= 0)
positive_float = _number(float, "a number > 0", lambda v: v > 0)
non_negative_float = _number(float, "a number >= 0", lambda v: v >= 0)
probability = _number(float, "a number in (0, 1]", lambda v: 0 < v <= 1)


def seeds(text: str) -> list[int]:
    """`0` or `0,1,2`: at least one integer."""
    try:
        values = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        values = []
    if not values:
        raise argparse.ArgumentTypeError(f"expected integers separated by commas (e.g. 0,1), got {text!r}")
    return values
