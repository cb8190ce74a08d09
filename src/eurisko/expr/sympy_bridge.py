"""Programs to SymPy expressions and back.

``to_sympy`` is for people (display, LaTeX, exact checks); ``from_sympy`` turns a SymPy
expression into a program built only from registered operators, e.g. to seed a search with a
known law. Constant subtrees are folded with numpy first, so the SymPy form means what the
evaluators compute (``sqrt(-2.0)`` is NaN there, not ``1.41*I``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np
import sympy as sp

from eurisko.expr.operators import (
    CONST,
    VAR,
    get_operator,
    is_operator,
    op_code,
    operator_names,
    operator_of,
)
from eurisko.expr.program import Program
from eurisko.expr.short_numbers import as_sympy
from eurisko.expr.tree import Node, from_tree, variable_names
from eurisko.validation import check_bool, check_int

_XNAME = re.compile(r"^x(\d+)$")
_FUNC_ALIASES = {"Abs": "abs"}


def _round_sig(v: float, precision: int) -> float:
    return float(f"{v:.{precision}g}")


def _sympy_number(v: float, precision: int | None) -> sp.Expr:
    if math.isnan(v):
        return sp.nan
    if math.isinf(v):
        return sp.oo if v > 0 else -sp.oo
    if precision is not None:
        v = _round_sig(v, precision)
    if v == int(v) and abs(v) < 2.0**53:
        return sp.Integer(int(v))
    if precision is not None:
        return sp.Float(v, precision)
    short = as_sympy(v)  # exactly a snapped 10/3 or pi/4
    return short if short is not None else sp.Float(v)


def _foreign(expr: sp.Expr) -> set:
    """What in ``expr`` no registered operator stands for (I, re, cosh, ...)."""
    out = {f.func for f in expr.atoms(sp.Function)
           if not is_operator(_FUNC_ALIASES.get(f.func.__name__, f.func.__name__.lower()))}
    if expr.has(sp.I):
        out.add(sp.I)
    return out


def _apply(op_sympy, args: list[sp.Expr]) -> sp.Expr:
    """Apply an operator, unevaluated where SymPy's rewriting would leave the real numbers
    or bring in functions no operator stands for (``Abs(exp(z))`` -> ``exp(re(z))``)."""
    if any(a is sp.nan for a in args):
        return sp.nan  # numpy's NaN in, NaN out (SymPy's Max rejects nan as incomparable)
    out = op_sympy(*args)
    new = _foreign(out)
    if new and not new <= set().union(*[_foreign(a) for a in args]):
        with sp.evaluate(False):
            out = op_sympy(*args)
    return out


def to_sympy(program: Program, names: Sequence[str] | None = None,
             precision: int | None = None, *, real: bool = True) -> sp.Expr:
    """The SymPy expression of ``program``.

    Variables are Symbols named from ``names`` (default x0, x1, ...), exactly as given. They
    are built real, so SymPy simplifies over the reals (``sqrt(x**2)`` is ``Abs(x)``); with
    ``real=False`` the result holds plain Symbols, the ones a user's ``sp.Symbol("x")`` is
    equal to (a real Symbol is not: ``subs`` would silently do nothing). Constants are
    Floats (integers become Integers; a constant that is exactly the double of a short
    fraction like 10/3 or a multiple of pi like pi/4, as the final front snaps them, is
    written as that number, see `short_numbers`),
    rounded to ``precision`` significant digits if given.
    """
    if not isinstance(program, Program):
        raise TypeError(f"to_sympy expects a Program, got {type(program).__name__}")
    precision = check_int(precision, "precision", low=1, none_ok=True, what="digits")
    program.validate()
    names = variable_names(program, names)
    symbols = [sp.Symbol(n, real=True) for n in names]
    # Each stack entry: (sympy expression, float value if the subtree is constant else None).
    stack: list[tuple[sp.Expr, float | None]] = []
    with np.errstate(all="ignore"):
        for code, arg in zip(program.codes.tolist(), program.args.tolist(), strict=True):
            if code == VAR:
                stack.append((symbols[arg], None))
                continue
            if code == CONST:
                v = float(program.consts[arg])
                stack.append((_sympy_number(v, precision), v))
                continue
            op = operator_of(code)
            kids = stack[-op.arity:]
            del stack[-op.arity:]
            if all(k[1] is not None for k in kids):
                v = float(np.asarray(op.numpy(*[np.float64(k[1]) for k in kids])))
                stack.append((_sympy_number(v, precision), v))
            else:
                stack.append((_apply(op.sympy, [k[0] for k in kids]), None))
    out = stack[0][0]
    if not check_bool(real, "real"):
        out = out.xreplace({s: sp.Symbol(s.name) for s in symbols})
    return out


# --- SymPy to program ------------------------------------------------------------------


class _Builder:
    """Builds tree nodes from SymPy, using only the allowed operators (with fallbacks)."""

    def __init__(self, names: Sequence[str] | None, operators: Sequence[str] | None):
        self.names = None if names is None else [str(n) for n in names]
        if operators is None:
            self.allowed = set(operator_names())
        else:
            for name in operators:
                get_operator(name)
            self.allowed = set(operators)

    def has(self, name: str) -> bool:
        return name in self.allowed and is_operator(name)

    def op(self, name: str, *kids: Node) -> Node:
        if not self.has(name):
            raise ValueError(
                f"the expression needs the operator {name!r}, which is not among the allowed "
                f"operators ({', '.join(sorted(self.allowed))})"
            )
        return (op_code(name), *kids)

    # Each helper below tries the dedicated operator first, then equivalent forms.
    def neg(self, a: Node) -> Node:
        if a[0] == CONST:
            return (CONST, -a[1])
        if self.has("neg"):
            return self.op("neg", a)
        if self.has("sub"):
            return self.op("sub", (CONST, 0.0), a)
        return self.op("mul", (CONST, -1.0), a)

    def add(self, a: Node, b: Node) -> Node:
        if self.has("add"):
            return self.op("add", a, b)
        return self.op("sub", a, self.neg(b))

    def sub(self, a: Node, b: Node) -> Node:
        if self.has("sub"):
            return self.op("sub", a, b)
        return self.add(a, self.neg(b))

    def mul(self, a: Node, b: Node) -> Node:
        if self.has("mul"):
            return self.op("mul", a, b)
        return self.div(a, self.inv(b))

    def inv(self, a: Node) -> Node:
        if self.has("inv"):
            return self.op("inv", a)
        if self.has("div"):
            return self.op("div", (CONST, 1.0), a)
        return self.op("pow", a, (CONST, -1.0))

    def div(self, a: Node, b: Node) -> Node:
        if self.has("div"):
            return self.op("div", a, b)
        if self.has("mul"):
            return self.op("mul", a, self.inv(b))
        return self.op("div", a, b)

    def power(self, base: Node, e: sp.Expr) -> Node:
        if e.is_Number and e.is_finite:
            ev = float(e)
            if ev < 0 and (self.has("inv") or self.has("div")):
                return self.inv(self.power(base, -e))
            if ev == 1:
                return base
            if ev == 2 and self.has("square"):
                return self.op("square", base)
            if ev == 3 and self.has("cube"):
                return self.op("cube", base)
            if ev == 0.5 and self.has("sqrt"):
                return self.op("sqrt", base)
            if self.has("pow"):
                return self.op("pow", base, (CONST, ev))
            if ev == int(ev) and 2 <= ev <= 8 and self.has("mul"):
                out = base
                for _ in range(int(ev) - 1):
                    out = self.op("mul", out, base)
                return out
            if ev == 1.5 and self.has("sqrt") and self.has("mul"):
                return self.op("mul", base, self.op("sqrt", base))
            raise ValueError(
                f"cannot write the power with exponent {e} without the 'pow' operator; "
                "add 'pow' to the allowed operators"
            )
        return self.op("pow", base, self.build(e))

    def build(self, expr: sp.Expr) -> Node:
        if expr.is_Symbol:
            return (VAR, self.column(expr.name))
        if expr.has(sp.I):
            raise ValueError(
                f"{expr} is complex (it holds I); eurisko formulas are real-valued"
            )
        if expr is sp.nan:
            return (CONST, math.nan)
        if expr.is_number:
            if expr is sp.zoo:
                return (CONST, math.inf)
            if expr in (sp.oo, -sp.oo):
                return (CONST, float(expr))
            try:
                val = complex(expr.evalf(17))
            except TypeError:  # undefined, such as erf(zoo): NaN, as the evaluators give
                return (CONST, math.nan)
            # sqrt(-2) written without I: NaN, as the evaluators compute it
            return (CONST, val.real if val.imag == 0 else math.nan)
        if expr.is_Add:
            return self.build_add(expr)
        if expr.is_Mul:
            return self.build_mul(expr)
        if expr.is_Pow:
            base, e = expr.args
            if base is sp.E:
                return self.op("exp", self.build(e)) if self.has("exp") else self.op(
                    "pow", (CONST, math.e), self.build(e))
            return self.power(self.build(base), e)
        if isinstance(expr, sp.Max | sp.Min):  # n-ary in SymPy: a chain of binary max / min
            name = "max" if isinstance(expr, sp.Max) else "min"
            args = sorted(expr.args, key=sp.default_sort_key)
            node = self.build(args[0])
            for a in args[1:]:
                node = self.op(name, node, self.build(a))
            return node
        if isinstance(expr, sp.Function):
            return self.build_function(expr)
        raise ValueError(
            f"cannot turn {type(expr).__name__} ({expr}) into a formula: only numbers, the "
            "variables, + - * / ** and functions of registered operators are supported"
        )

    def column(self, name: str) -> int:
        if self.names is None:
            m = _XNAME.match(name)
            if m:
                return int(m.group(1))
            raise ValueError(f"unknown variable {name!r}: without names, variables are x0, x1, ...")
        try:
            return self.names.index(name)
        except ValueError:
            raise ValueError(
                f"unknown variable {name!r}; known variables: {', '.join(self.names)}"
            ) from None

    def build_function(self, expr: sp.Expr) -> Node:
        fname = type(expr).__name__
        name = _FUNC_ALIASES.get(fname, fname.lower())
        if not is_operator(name):
            raise ValueError(
                f"no registered operator for the SymPy function {fname!r}; declare one with "
                "eurisko.register_operator or rewrite the expression without it"
            )
        op = get_operator(name)
        if op.arity != len(expr.args):
            raise ValueError(
                f"operator {name!r} takes {op.arity} argument(s) but {expr} has {len(expr.args)}"
            )
        return self.op(name, *[self.build(a) for a in expr.args])

    def build_add(self, expr: sp.Expr) -> Node:
        pos, negs, numbers = [], [], []
        for t in expr.args:
            if t.is_number:
                numbers.append(t)
            elif t.could_extract_minus_sign():
                negs.append(-t)
            else:
                pos.append(t)
        if numbers:
            num = sp.Add(*numbers)
            (negs if num.is_extended_negative else pos).append(
                -num if num.is_extended_negative else num)
        if pos:
            acc = self.build(pos[0])
            rest = pos[1:]
        else:
            acc = self.neg(self.build(negs[0]))
            negs = negs[1:]
            rest = []
        for t in rest:
            acc = self.add(acc, self.build(t))
        for t in negs:
            acc = self.sub(acc, self.build(t))
        return acc

    def build_mul(self, expr: sp.Expr) -> Node:
        coeff, rest = expr.as_coeff_mul()
        num, den = [], []
        for f in rest:
            if f.is_Pow and f.exp.is_Number and f.exp.is_negative and f.base is not sp.E:
                den.append(f.base ** (-f.exp))
            else:
                num.append(f)
        negative = coeff == -1
        if negative:
            coeff = sp.Integer(1)
        node: Node | None = None
        if coeff != 1:
            node = self.build(coeff)
        for f in num:
            node = self.build(f) if node is None else self.mul(node, self.build(f))
        if den:
            d = self.build(den[0])
            for f in den[1:]:
                d = self.mul(d, self.build(f))
            node = self.inv(d) if node is None else self.div(node, d)
        if node is None:
            node = (CONST, 1.0)
        if negative:
            node = self.neg(node)
        return node


def from_sympy(expr: sp.Expr, names: Sequence[str] | None = None,
               operators: Sequence[str] | None = None) -> Program:
    """A program computing the SymPy expression ``expr``.

    Symbols are matched by name against ``names`` (or must be x0, x1, ... when None).
    ``operators`` restricts the operators used (default: all registered); equivalent forms
    are used where one is missing (``x**2`` as ``x*x`` without ``square``). Functions with no
    registered operator raise a ValueError naming the function.
    """
    if isinstance(expr, str):
        raise TypeError("from_sympy takes a SymPy expression; parse text with eurisko.expr.parse")
    if isinstance(expr, bool) or not isinstance(expr, int | float | sp.Basic):
        raise TypeError(f"from_sympy expects a SymPy expression, got {type(expr).__name__}")
    if isinstance(expr, int | float):
        expr = sp.Float(expr)
    if not isinstance(expr, sp.Expr):
        raise TypeError(f"from_sympy expects a SymPy expression, got {type(expr).__name__}")
    return from_tree(_Builder(names, operators).build(expr))
