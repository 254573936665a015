"""The safe expression parser for approximation targets: whitelist only, never eval."""

from __future__ import annotations

import ast
import builtins

import numpy as np
import pytest

from mlplab.data.expr import parse_expression
from mlplab.errors import ConfigError

X = np.linspace(-2, 2, 9)


@pytest.mark.parametrize(
    "source,expected",
    [
        ("x**3 - 2*x**2 - x + 2", X**3 - 2 * X**2 - X + 2),
        ("sin(3*x) + x/2", np.sin(3 * X) + X / 2),
        ("abs(x) - pi*e + tau", np.abs(X) - np.pi * np.e + 2 * np.pi),
        ("exp(-25*x**2)", np.exp(-25 * X**2)),
        ("step(x - 1/3)", (X > 1 / 3).astype(float)),
        ("max(x, 0) % 1.5", np.maximum(X, 0) % 1.5),
        ("-x", -X),
        ("3", np.full_like(X, 3.0)),
    ],
)
def test_values(source, expected):
    np.testing.assert_allclose(parse_expression(source)(X), expected, rtol=1e-12)


@pytest.mark.parametrize(
    "source,match",
    [
        ("__import__('os').system('true')", "plain function name"),
        ("__import__('os')", "function '__import__'"),
        ("x.__class__", "Attribute"),
        ("y + 1", "name 'y'"),
        ("(lambda: 1)()", "plain function name"),
        ("x[0]", "Subscript"),
        ("'abc'", "constant 'abc'"),
        ("True", "constant True"),
        ("sin(x, 2)", "exactly 1"),
        ("sin(x=1)", "exactly 1"),
        ("[v for v in x]", "ListComp"),
        ("x if x else 1", "IfExp"),
        ("x < 1", "Compare"),
        ("sin(x", "cannot parse"),
        ("", "empty"),
        ("x" + "+x" * 400, "at most 500"),
        ("(" * 60 + "x" + ")" * 60 + "+" + "-" * 60 + "x", "nested"),
    ],
)
def test_rejections(source, match):
    with pytest.raises(ConfigError, match=match):
        parse_expression(source)


def test_huge_powers_are_inf_not_a_hang():
    assert np.isinf(parse_expression("9**9**9")(np.zeros(2))).all()


def test_no_eval_exec_or_code_compilation(monkeypatch):
    real_compile = builtins.compile

    def forbidden(*args, **kwargs):
        raise AssertionError("eval/exec must not be used")

    def ast_only(source, filename, mode, flags=0, *args, **kwargs):
        # ast.parse is compile(..., PyCF_ONLY_AST): allowed; compiling to code is not
        if not flags & ast.PyCF_ONLY_AST:
            raise AssertionError("user code must never be compiled to bytecode")
        return real_compile(source, filename, mode, flags, *args, **kwargs)

    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    monkeypatch.setattr(builtins, "compile", ast_only)
    expr = parse_expression("cos(x)**2 + sin(x)**2")
    values = expr(X)
    monkeypatch.undo()
    np.testing.assert_allclose(values, np.ones_like(X))


def test_an_integer_beyond_float_range_is_refused():
    with pytest.raises(ConfigError, match=r"too large for a float"):
        parse_expression("x + 1" + "0" * 400)
