"""Safe user expressions of one variable ``x``, e.g. ``"sin(3*x) + x**2/2"``.

The text is parsed with :func:`ast.parse` and the tree is *walked* by this
module: only numbers, the variable ``x``, the constants ``pi``, ``e``, ``tau``,
the operators ``+ − * / ** %`` (and unary ±) and a whitelist of math functions
are accepted; anything else (attribute access, names, subscripts, lambdas,
keyword arguments, …) is a :class:`~mlplab.errors.ConfigError` naming the
offending piece. Nothing is ever passed to ``eval``, ``exec`` or ``compile``.
Numbers are evaluated as float64 arrays, so ``9**9**9`` is ``inf``, not a hang.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import ConfigError

MAX_LENGTH = 500
MAX_DEPTH = 50

#: What a (sub)expression evaluates to: an array of x values, or a float64 constant.
_Value: TypeAlias = NDArray[np.float64] | np.float64

FUNCTIONS: dict[str, Callable[[_Value], _Value]] = {
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "asin": np.arcsin,
    "acos": np.arccos,
    "atan": np.arctan,
    "arcsin": np.arcsin,
    "arccos": np.arccos,
    "arctan": np.arctan,
    "sinh": np.sinh,
    "cosh": np.cosh,
    "tanh": np.tanh,
    "exp": np.exp,
    "log": np.log,
    "log2": np.log2,
    "log10": np.log10,
    "sqrt": np.sqrt,
    "abs": np.abs,
    "sign": np.sign,
    "floor": np.floor,
    "ceil": np.ceil,
    "step": lambda z: (z > 0).astype(np.float64),  # the lecture's Heaviside H
    "heaviside": lambda z: (z > 0).astype(np.float64),
    "sigmoid": lambda z: 0.5 * (1.0 + np.tanh(0.5 * z)),
    "relu": lambda z: np.maximum(z, 0.0),
}
TWO_ARG_FUNCTIONS: dict[str, Callable[[_Value, _Value], _Value]] = {
    "min": np.minimum,
    "max": np.maximum,
}
CONSTANTS = {"pi": np.pi, "e": np.e, "tau": 2 * np.pi}

_BINOPS = {
    ast.Add: np.add,
    ast.Sub: np.subtract,
    ast.Mult: np.multiply,
    ast.Div: np.divide,
    ast.Pow: np.power,
    ast.Mod: np.mod,
}
_UNARY = {ast.USub: np.negative, ast.UAdd: np.positive}


@dataclass(frozen=True)
class Expression:
    """A parsed expression ``g(x)``; call it on a NumPy array of x values."""

    source: str
    tree: ast.Expression

    def __call__(self, x: ArrayLike) -> NDArray[np.float64]:
        """``g(x)`` elementwise: `(m,)` -> `(m,)` float64 (constants broadcast)."""
        x = np.asarray(x, dtype=np.float64)
        with np.errstate(all="ignore"):
            out = _eval(self.tree.body, x)
        return np.broadcast_to(np.asarray(out, dtype=np.float64), x.shape).copy()

    def __str__(self) -> str:
        return self.source


def parse_expression(source: str) -> Expression:
    """Parse and validate ``source`` as a function of ``x``.

    Raises:
        ConfigError: syntax errors, and anything outside the whitelist, with
            what was found and what is allowed.
    """
    if not isinstance(source, str) or not source.strip():
        raise ConfigError("the expression is empty; give a function of x such as 'sin(3*x)'.")
    if len(source) > MAX_LENGTH:
        raise ConfigError(
            f"the expression is {len(source)} characters long; at most {MAX_LENGTH} are allowed."
        )
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as err:
        raise ConfigError(
            f"cannot parse the expression {source!r}: {err.msg} (column {err.offset}). "
            "Write it in Python syntax, e.g. 'x**3 - 2*x**2 - x + 2'."
        ) from None
    _validate(tree.body, 0)
    return Expression(source.strip(), tree)


def _allowed() -> str:
    names = sorted(FUNCTIONS) + sorted(TWO_ARG_FUNCTIONS)
    return "numbers, x, pi, e, tau, + - * / ** %, and the functions " + ", ".join(names) + "."


def _reject(what: str) -> ConfigError:
    return ConfigError(f"the expression may not contain {what}; allowed: {_allowed()}")


def _validate(node: ast.AST, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise ConfigError(f"the expression is nested more than {MAX_DEPTH} levels deep.")
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise _reject(f"the constant {node.value!r}")
        try:
            float(node.value)
        except OverflowError:
            raise ConfigError(
                f"the number {str(node.value)[:20]}… is too large for a float (> 1.8e308); "
                "use a smaller constant."
            ) from None
    elif isinstance(node, ast.Name):
        if node.id != "x" and node.id not in CONSTANTS:
            raise _reject(f"the name {node.id!r}")
    elif isinstance(node, ast.BinOp):
        if type(node.op) not in _BINOPS:
            raise _reject(f"the operator {type(node.op).__name__}")
        _validate(node.left, depth + 1)
        _validate(node.right, depth + 1)
    elif isinstance(node, ast.UnaryOp):
        if type(node.op) not in _UNARY:
            raise _reject(f"the operator {type(node.op).__name__}")
        _validate(node.operand, depth + 1)
    elif isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name):
            raise _reject("calls of anything but a plain function name")
        name = node.func.id
        arity = 1 if name in FUNCTIONS else 2 if name in TWO_ARG_FUNCTIONS else None
        if arity is None:
            raise _reject(f"the function {name!r}")
        if node.keywords or len(node.args) != arity:
            raise ConfigError(f"`{name}` takes exactly {arity} positional argument(s).")
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise _reject("*arguments")
            _validate(arg, depth + 1)
    else:
        raise _reject(f"{type(node).__name__} syntax ({ast.unparse(node)!r})")


def _eval(node: ast.AST, x: NDArray[np.float64]) -> _Value:
    # Only nodes accepted by _validate reach here.
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return np.float64(float(node.value))  # _validate refused integers beyond float range
    if isinstance(node, ast.Name):
        return x if node.id == "x" else np.float64(CONSTANTS[node.id])
    if isinstance(node, ast.BinOp):
        return _BINOPS[type(node.op)](_eval(node.left, x), _eval(node.right, x))
    if isinstance(node, ast.UnaryOp):
        return _UNARY[type(node.op)](_eval(node.operand, x))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        args = [_eval(a, x) for a in node.args]
        fn = FUNCTIONS.get(node.func.id) or TWO_ARG_FUNCTIONS[node.func.id]
        return fn(*args)
    raise ConfigError(f"unsupported expression node {type(node).__name__}")  # pragma: no cover


__all__ = ["CONSTANTS", "FUNCTIONS", "Expression", "parse_expression"]
