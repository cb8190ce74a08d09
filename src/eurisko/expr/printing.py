"""Formulas as text people read and `eurisko.expr.parser.parse` reads back.

The text keeps the program's structure: ``parse(to_string(p))`` rebuilds the same tree,
with two conventions shared with the parser: ``x^2`` / ``x^3`` are the ``square`` / ``cube``
operators and ``1/x`` is ``inv``, while a power or numerator that is a constant of the
program is printed as a float (``x^2.0``, ``1.0/x``) so it stays a constant.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from eurisko.expr.operators import CONST, VAR, operator_of
from eurisko.expr.program import Program
from eurisko.expr.tree import Node, to_tree, variable_names
from eurisko.validation import check_int

_ADD, _MUL, _NEG, _POW, _ATOM = 1, 2, 3, 4, 5
_INFIX_PREC = {"+": _ADD, "-": _ADD, "*": _MUL, "/": _MUL, "^": _POW}
_INFIX_TEXT = {"+": " + ", "-": " - ", "*": "*", "/": "/", "^": "^"}


def format_number(v: float, precision: int | None = None) -> str:
    """A constant as text: the shortest round-tripping form, or ``precision`` digits."""
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if precision is None:
        text = repr(v)
        return text[:-2] if text.endswith(".0") else text  # 2.0 -> 2; 1e16 is '1e+16'
    return f"{v:.{precision}g}"


class _Printer:
    def __init__(self, names: list[str], precision: int | None):
        self.names = names
        self.precision = precision

    def number(self, v: float, reserved: tuple[str, ...] = ()) -> tuple[str, int]:
        text = format_number(v, self.precision)
        if text in reserved:
            text += ".0"  # the integer literal would read back as square/cube/inv
        return text, (_NEG if text.startswith("-") else _ATOM)

    def fmt(self, node: Node, reserved: tuple[str, ...] = ()) -> tuple[str, int]:
        code = node[0]
        if code == VAR:
            return self.names[node[1]], _ATOM
        if code == CONST:
            return self.number(node[1], reserved)
        op = operator_of(code)
        if op.arity == 1:
            a = node[1]
            if op.name == "neg":
                text, p = self.fmt(a)
                return "-" + (f"({text})" if p <= _NEG else text), _NEG
            if op.name in ("square", "cube"):
                text, p = self.fmt(a)
                base = f"({text})" if p <= _POW else text
                return f"{base}^{2 if op.name == 'square' else 3}", _POW
            if op.name == "inv":
                return "1/" + self.right(a, _MUL), _MUL
            return f"{op.name}({self.fmt(a)[0]})", _ATOM
        a, b = node[1], node[2]
        if op.infix not in _INFIX_PREC:
            return f"{op.name}({self.fmt(a)[0]}, {self.fmt(b)[0]})", _ATOM
        prec = _INFIX_PREC[op.infix]
        if op.infix == "^":
            lt, lp = self.fmt(a)
            left = f"({lt})" if lp <= _POW else lt
            rt, rp = self.fmt(b, ("2", "3"))
            right = f"({rt})" if rp < _POW or rt.startswith("-") else rt
            return f"{left}^{right}", _POW
        lt, lp = self.fmt(a, ("1",) if op.infix == "/" else ())
        left = f"({lt})" if lp < prec else lt
        magnitude = _negative_literal(b)
        if op.infix in "+-" and magnitude is not None:
            # x + (-2) reads as x - 2 (same value; parses back as a subtraction)
            flipped = " - " if op.infix == "+" else " + "
            return left + flipped + self.number(magnitude)[0], prec
        return left + _INFIX_TEXT[op.infix] + self.right(b, prec), prec

    def right(self, node: Node, prec: int) -> str:
        """Right operand of a left-associative operator: ``a - (b - c)``, ``a*(-b)``."""
        text, p = self.fmt(node)
        return f"({text})" if p <= prec or text.startswith("-") else text


def _negative_literal(node: Node) -> float | None:
    """The magnitude of a constant that prints with a minus sign: ``-2`` or ``neg(2)``."""
    if node[0] == CONST and node[1] < 0:
        return -node[1]
    if node[0] > CONST and operator_of(node[0]).name == "neg" and node[1][0] == CONST \
            and node[1][1] > 0:
        return node[1][1]
    return None


def _check(program: Program, precision: int | None) -> None:
    if not isinstance(program, Program):
        raise TypeError(f"expected a Program, got {type(program).__name__}")
    check_int(precision, "precision", low=1, none_ok=True, what="digits")
    program.validate()


def to_string(program: Program, names: Sequence[str] | None = None,
              precision: int | None = None) -> str:
    """Infix text of ``program`` with as few parentheses as keep its structure.

    ``names`` name the data columns (default x0, x1, ...). Constants print in full
    (``repr``) unless ``precision`` asks for that many significant digits.

    >>> from eurisko.expr import parse
    >>> to_string(parse("2.5*x0^2 + sin(x1)"))
    '2.5*x0^2 + sin(x1)'
    """
    _check(program, precision)
    digits = None if precision is None else int(precision)
    printer = _Printer(variable_names(program, names), digits)
    return printer.fmt(to_tree(program))[0]


def to_latex(program: Program, names: Sequence[str] | None = None, precision: int = 4) -> str:
    """LaTeX of ``program`` (through SymPy), constants to ``precision`` significant digits."""
    import sympy as sp

    from eurisko.expr.sympy_bridge import to_sympy

    _check(program, precision)
    return sp.latex(to_sympy(program, names, precision))
