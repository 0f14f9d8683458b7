"""Safe evaluation of FunctionGym rules: arithmetic over a, b, c, d without `eval`.

A rule is parsed with `ast` and only numbers, the four variables, unary +/-, and + - * / ** are allowed.
It is evaluated with Python's own float operators, so the results match UserRL's `eval` bit for bit:
`**` is right-associative, `x / 0` raises ZeroDivisionError, a float `**` overflow raises OverflowError, a
negative base to a fractional power gives a complex number, and `*`/`+` overflow silently to inf.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from dataclasses import dataclass

VARIABLES = ("a", "b", "c", "d")
_BINARY: dict[type, Callable] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}
_UNARY: dict[type, Callable] = {ast.USub: operator.neg, ast.UAdd: operator.pos}

Number = int | float | complex


class RuleError(ValueError):
    """The rule text is not plain arithmetic over a, b, c, d."""


@dataclass(frozen=True)
class Rule:
    """A parsed rule; call it with the four inputs."""

    text: str
    tree: ast.expr

    def __call__(self, a: float, b: float, c: float, d: float) -> Number:
        return _evaluate(self.tree, {"a": a, "b": b, "c": c, "d": d})


def parse_rule(text: str) -> Rule:
    """Parse and check a rule; raises RuleError naming the offending part."""
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        raise RuleError(f"not an arithmetic expression: {text!r} ({exc.msg})") from None
    for node in ast.walk(tree):
        allowed = (
            isinstance(node, (ast.BinOp, ast.UnaryOp, ast.operator, ast.unaryop, ast.Load))
            or (isinstance(node, ast.Constant) and type(node.value) in (int, float))
            or (isinstance(node, ast.Name) and node.id in VARIABLES)
        )
        if not allowed or (isinstance(node, ast.operator) and type(node) not in _BINARY) or (
            isinstance(node, ast.unaryop) and type(node) not in _UNARY
        ):
            raise RuleError(f"rule {text!r} uses {ast.dump(node)[:40]}: only numbers, a-d and + - * / ** are allowed")
    return Rule(text, tree)


def _evaluate(node: ast.expr, env: dict[str, float]) -> Number:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return env[node.id]
    if isinstance(node, ast.UnaryOp):
        return _UNARY[type(node.op)](_evaluate(node.operand, env))
    assert isinstance(node, ast.BinOp)
    return _BINARY[type(node.op)](_evaluate(node.left, env), _evaluate(node.right, env))
