"""Cheap algebraic simplification, run on every new formula inside the search loop.

Pure Python over the tuple tree (no SymPy): one bottom-up pass in which every operator node
is built through rules that fold constants, drop identities and merge constant chains.
A rewrite never changes the value on inputs where the original formula is finite, up to
floating-point rounding of merged constants (``2*(3*x)`` becomes ``6*x``) and of phases
(``sin(x + 1.5707963267949)`` becomes ``cos(x)``). Signed zeros are
not tracked. A rule only brings in an operator the program already uses (or that is listed
in ``operators``), so simplified formulas stay within the user's operator set.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Iterable

import numpy as np

from eurisko.expr.operators import (
    CONST,
    VAR,
    builtin_operators,
    is_operator,
    op_code,
    registry,
)
from eurisko.expr.program import Program
from eurisko.expr.tree import Node, from_tree, node_count, to_tree

_BUILTIN = {op.name: op for op in builtin_operators()}
_ZERO: Node = (CONST, 0.0)
_ONE: Node = (CONST, 1.0)


class _Table:
    """Per-registry facts the rules need, rebuilt only when the registry changes."""

    def __init__(self, ops: tuple) -> None:
        self.ops = ops
        self.arity = [0, 0] + [op.arity for op in ops]
        self.numpy = [None, None] + [op.numpy for op in ops]

        def code(name: str) -> int:
            return op_code(name) if is_operator(name) else -100

        self.ADD, self.SUB, self.MUL, self.DIV = code("add"), code("sub"), code("mul"), code("div")
        self.POW, self.NEG, self.INV, self.SQUARE = (code("pow"), code("neg"), code("inv"),
                                                     code("square"))
        self.ABS, self.SQRT, self.COSH = code("abs"), code("sqrt"), code("cosh")
        self.SIN, self.COS = code("sin"), code("cos")
        self.COMMUTATIVE = {self.ADD, self.MUL}
        self.codes_of: dict[tuple[str, ...], frozenset[int]] = {}  # operator names -> codes
        # IEEE arithmetic gives the same doubles as numpy; other operators go through numpy.
        self.fast = {c: fn for c, fn in (
            (self.ADD, operator.add), (self.SUB, operator.sub), (self.MUL, operator.mul),
            (self.DIV, operator.truediv), (self.NEG, operator.neg),
            (self.INV, lambda a: 1.0 / a), (self.SQUARE, lambda a: a * a),
            (code("cube"), lambda a: a * a * a),
        ) if c > 0 and ops[c - 2] is _BUILTIN[ops[c - 2].name]}


_TABLE: _Table | None = None


def _table() -> _Table:
    global _TABLE
    ops = registry()
    if _TABLE is None or _TABLE.ops != ops:
        _TABLE = _Table(ops)
    return _TABLE


class _Rules:
    def __init__(self, t: _Table, allowed: set[int]) -> None:
        self.t = t
        self.allowed = allowed

    def fold(self, code: int, *vals: float) -> float | None:
        fast = self.t.fast.get(code)
        try:
            if fast is not None:
                v = fast(*vals)
            else:
                with np.errstate(all="ignore"):
                    out = self.t.numpy[code](*[np.array([v]) for v in vals])
                v = float(np.asarray(out, dtype=np.float64).reshape(-1)[0])
        except Exception:  # x/0 in Python; a custom operator that rejects scalars
            return None
        return v if math.isfinite(v) else None

    # --- unary ---------------------------------------------------------------------

    def unary(self, code: int, a: Node) -> Node:
        t = self.t
        ac = a[0]
        if ac == CONST:
            v = self.fold(code, a[1])
            return (code, a) if v is None else (CONST, v)
        if code == t.NEG:
            if ac == t.NEG:
                return a[1]
            if ac == t.SUB:  # -(x - y) = y - x
                return self.binary(t.SUB, a[2], a[1])
            if ac == t.MUL and a[1][0] == CONST:
                return self.binary(t.MUL, (CONST, -a[1][1]), a[2])
            if ac == t.DIV:
                if a[1][0] == CONST:
                    return self.binary(t.DIV, (CONST, -a[1][1]), a[2])
                if a[2][0] == CONST:
                    return self.binary(t.DIV, a[1], (CONST, -a[2][1]))
        elif code == t.INV:
            if ac == t.INV:
                return a[1]
            if ac == t.DIV and t.DIV in self.allowed:
                return self.binary(t.DIV, a[2], a[1])
        elif code == t.SQRT:
            out = self.root_of_quotient(a)
            if out is not None:
                return out
        elif code == t.SIN or code == t.COS:
            out = self.phase(code, a)
            if out is not None:
                return out
        elif code == t.SQUARE or code == t.ABS or code == t.COSH:  # even functions
            if ac == t.NEG:
                return self.unary(code, a[1])
            if code == t.ABS and ac == t.ABS:
                return a
        return (code, a)

    def phase(self, code: int, a: Node) -> Node | None:
        """``sin/cos(x + k)``: ``k`` reduced into [-pi, pi]; a multiple of pi/2 (within 1e-10,
        as fitted constants land) turns into ``±sin x`` or ``±cos x`` where both are allowed."""
        t = self.t
        lin = self.linear(a)
        if lin is None:
            return None
        s, x, k = lin
        if s == -1:  # sin(k - x) = sin(pi - k + x), cos(k - x) = cos(x - k)
            k = math.pi - k if code == t.SIN else -k
        r = math.remainder(k, 2 * math.pi)
        j = round(r / (math.pi / 2))
        if abs(r - j * math.pi / 2) <= 1e-10 and t.SIN in self.allowed and t.COS in self.allowed:
            j %= 4
            base = (code if j % 2 == 0 else (t.COS if code == t.SIN else t.SIN), x)
            if j == 0 or (j == 1 and code == t.SIN) or (j == 3 and code == t.COS):
                return base
            return self.negate(base)
        if s == 1 and r == k:
            return None
        return (code, self.add(x, (CONST, r)))

    def root_of_quotient(self, a: Node) -> Node | None:
        """``sqrt(1/w)`` as ``1/sqrt(w)`` and ``sqrt(k/w)`` as ``sqrt(|k|)/sqrt(±w)``.

        Equal over the reals wherever the left side is finite (both need ``k/w >= 0``); a
        complex-valued checker such as SymPy tells ``sqrt(1/w)`` from ``1/sqrt(w)`` (they part
        on negative ``w``), and the law is usually written the second way: ``m/sqrt(1 - v^2/c^2)``
        rather than ``m*sqrt(-1/((v/c)^2 - 1))``. For ``k < 0`` only when ``-w`` costs no node.
        """
        t = self.t
        if a[0] == t.INV:
            return self.unary(t.INV, self.unary(t.SQRT, a[1]))
        if a[0] != t.DIV or a[1][0] != CONST or not a[1][1]:
            return None
        k, w = a[1][1], a[2]
        if k < 0:
            nw = (t.SUB, w[2], w[1]) if w[0] == t.SUB else self.negate(w)
            if nw is None or node_count(nw) > node_count(w):
                return None
            k, w = -k, nw
        return self.div((CONST, math.sqrt(k)), self.unary(t.SQRT, w))

    def negate(self, a: Node) -> Node | None:
        t = self.t
        if t.NEG in self.allowed:
            return self.unary(t.NEG, a)
        if t.MUL in self.allowed:
            return self.mul((CONST, -1.0), a)
        return None

    # --- binary --------------------------------------------------------------------

    def binary(self, code: int, a: Node, b: Node) -> Node:
        t = self.t
        ac, bc = a[0], b[0]
        if ac == CONST and bc == CONST:
            v = self.fold(code, a[1], b[1])
            return (code, a, b) if v is None else (CONST, v)
        if code == t.ADD:
            return self.add(a, b)
        if code == t.SUB:
            return self.sub(a, b)
        if code == t.MUL:
            return self.mul(a, b)
        if code == t.DIV:
            return self.div(a, b)
        if code == t.POW and bc == CONST:
            if b[1] == 1.0:
                return a
            if b[1] == 0.0:  # numpy: x**0 is 1 even for inf and NaN
                return _ONE
        return (code, a, b)

    def add(self, a: Node, b: Node) -> Node:
        t = self.t
        if a[0] == CONST:  # constants to the right: x + c
            a, b = b, a
        if b[0] == CONST:
            c = b[1]
            if c == 0.0:
                return a
            if c < 0 and t.SUB in self.allowed:
                return self.sub(a, (CONST, -c))
            out = self.affine(t.ADD, a, c)
            if out is not None:
                return out
        elif t.SUB in self.allowed:
            if b[0] == t.NEG:
                return self.sub(a, b[1])
            if a[0] == t.NEG:
                return self.sub(b, a[1])
        return (t.ADD, a, b)

    def sub(self, a: Node, b: Node) -> Node:
        t = self.t
        if a == b:
            return _ZERO
        if b[0] == CONST:
            c = b[1]
            if c == 0.0:
                return a
            if c < 0 and t.ADD in self.allowed:
                return self.add(a, (CONST, -c))
            out = self.affine(t.SUB, a, c)
            if out is not None:
                return out
        elif a[0] == CONST:
            if a[1] == 0.0 and t.NEG in self.allowed:
                return self.unary(t.NEG, b)
            out = self.affine(-t.SUB, b, a[1])
            if out is not None:
                return out
        if b[0] == t.NEG and t.ADD in self.allowed:
            return self.add(a, b[1])
        return (t.SUB, a, b)

    def linear(self, n: Node) -> tuple[int, Node, float] | None:
        """``n`` as ``s*x + k`` when it is an add/sub with one constant side."""
        t = self.t
        c = n[0]
        if c == t.ADD:
            if n[2][0] == CONST:
                return 1, n[1], n[2][1]
            if n[1][0] == CONST:
                return 1, n[2], n[1][1]
        elif c == t.SUB:
            if n[2][0] == CONST:
                return 1, n[1], -n[2][1]
            if n[1][0] == CONST:
                return -1, n[2], n[1][1]
        return None

    def affine(self, outer: int, inner: Node, c: float) -> Node | None:
        """Merge the constants of ``inner + c`` (outer=ADD), ``inner - c`` (SUB), ``c - inner``
        (-SUB) when ``inner`` is itself ``x ± k``."""
        t = self.t
        lin = self.linear(inner)
        if lin is None:
            return None
        s, x, k = lin
        if outer == t.ADD:
            tt, m = 1, c
        elif outer == t.SUB:
            tt, m = 1, -c
        else:
            tt, m = -1, c
        K = tt * k + m
        if not math.isfinite(K):
            return None
        if tt * s == 1:
            if K == 0.0:
                return x
            if t.ADD in self.allowed:
                return self.add(x, (CONST, K))
            return self.sub(x, (CONST, -K))
        if t.SUB in self.allowed:
            return self.sub((CONST, K), x)
        return None

    def mul(self, a: Node, b: Node) -> Node:
        t = self.t
        if b[0] == CONST:  # constants to the left: c*x
            a, b = b, a
        if a[0] == CONST:
            c = a[1]
            if c == 1.0:
                return b
            if c == 0.0:
                return _ZERO
            if c == -1.0 and t.NEG in self.allowed:
                return self.unary(t.NEG, b)
            if b[0] == t.NEG:
                return self.mul((CONST, -c), b[1])
            out = self.geometric(t.MUL, b, c)
            if out is not None:
                return out
            return (t.MUL, a, b)
        if b[0] == t.DIV and b[1] == _ONE:  # x * (1/y) = x/y
            return self.div(a, b[2])
        if a[0] == t.DIV and a[1] == _ONE:
            return self.div(b, a[2])
        if a == b and t.SQUARE in self.allowed:
            return self.unary(t.SQUARE, a)
        if a[0] == t.NEG and b[0] == t.NEG:
            return self.mul(a[1], b[1])
        return (t.MUL, a, b)

    def div(self, a: Node, b: Node) -> Node:
        t = self.t
        if b[0] == CONST:
            c = b[1]
            if c == 1.0:
                return a
            if a[0] == t.NEG:
                return self.div(a[1], (CONST, -c))
            out = self.geometric(t.DIV, a, c)
            if out is not None:
                return out
        elif a[0] == CONST:
            c = a[1]
            if c == 0.0:
                return _ZERO
            if c == 1.0 and t.INV in self.allowed:
                return self.unary(t.INV, b)
            if b[0] == t.NEG:
                return self.div((CONST, -c), b[1])
            out = self.geometric(-t.DIV, b, c)
            if out is not None:
                return out
        elif a == b:
            return _ONE
        elif a[0] == t.NEG and b[0] == t.NEG:
            return self.div(a[1], b[1])
        return (t.DIV, a, b)

    def power_form(self, n: Node) -> tuple[int, Node, float] | None:
        """``n`` as ``k * x**e`` (e = ±1) when it is a mul/div with one constant side."""
        t = self.t
        c = n[0]
        if c == t.MUL:
            if n[1][0] == CONST:
                return 1, n[2], n[1][1]
            if n[2][0] == CONST:
                return 1, n[1], n[2][1]
        elif c == t.DIV:
            if n[2][0] == CONST:
                return 1, n[1], 1.0 / n[2][1] if n[2][1] != 0.0 else math.inf
            if n[1][0] == CONST:
                return -1, n[2], n[1][1]
        return None

    def geometric(self, outer: int, inner: Node, c: float) -> Node | None:
        """Merge the constants of ``c*inner`` (MUL), ``inner/c`` (DIV), ``c/inner`` (-DIV)
        when ``inner`` is itself ``k*x``, ``x/k`` or ``k/x``."""
        t = self.t
        form = self.power_form(inner)
        if form is None:
            return None
        e, x, k = form
        if outer == t.MUL:
            tt, m = 1, c
        elif outer == t.DIV:
            if c == 0.0:
                return None
            tt, m = 1, 1.0 / c
        else:
            tt, m = -1, c
        if tt == -1:
            if k == 0.0:
                return None
            k = 1.0 / k
        K = k * m
        if not math.isfinite(K) or K == 0.0:
            return None
        if tt * e == 1:
            if t.MUL in self.allowed:
                return self.mul((CONST, K), x)
            return self.div(x, (CONST, 1.0 / K))
        if t.DIV in self.allowed:
            return self.div((CONST, K), x)
        return None


def _allowed(program: Program, operators: Iterable[str] | None) -> set[int]:
    allowed = set(program.codes.tolist())
    if operators is not None:
        names = tuple(operators)
        codes = _table().codes_of.get(names)
        if codes is None:  # the search asks with the same few operator sets again and again
            codes = _table().codes_of[names] = frozenset(op_code(n) for n in names)
        allowed |= codes
    return allowed


def simplify(program: Program, operators: Iterable[str] | None = None) -> Program:
    """An equivalent, usually smaller program: constants folded, identities dropped.

    Folds every subtree without variables into one constant (unless its value is not
    finite), applies ``x-x=0``, ``x/x=1``, ``x+0``, ``x*1``, ``x*0=0``, ``--x=x``,
    ``1/(1/x)=x``, ``f(-x)=f(x)`` for the even ``square``, ``abs`` and ``cosh``, merges
    constant chains (``2*(3*x) = 6*x``, ``1+(x+2) = x+3``), reduces the phase of
    ``sin``/``cos`` into [-pi, pi] (a multiple of pi/2 becomes ``±sin``/``±cos``) and puts
    constants on a canonical side (``c*x``, ``x + c``). Constants are renumbered in order
    of appearance. New operators are introduced only if the program already uses them or
    ``operators`` lists them (``0 - x`` becomes ``-x`` only where ``neg`` is allowed).
    """
    t = _table()
    rules = _Rules(t, _allowed(program, operators))
    ar = t.arity
    consts = program.consts.tolist()
    stack: list[Node] = []
    changed = False  # most children of the search are already simple: then skip from_tree
    k = 0  # constants must also be numbered in order of appearance, none unused
    for code, arg in zip(program.codes.tolist(), program.args.tolist(), strict=True):
        if code == VAR:
            stack.append((VAR, arg))
        elif code == CONST:
            stack.append((CONST, consts[arg]))
            changed = changed or arg != k
            k += 1
        elif ar[code] == 1:
            a = stack.pop()
            r = rules.unary(code, a)
            changed = changed or r[0] != code or len(r) != 2 or r[1] is not a
            stack.append(r)
        else:
            b = stack.pop()
            a = stack.pop()
            r = rules.binary(code, a, b)
            changed = changed or r[0] != code or len(r) != 3 or r[1] is not a or r[2] is not b
            stack.append(r)
    if len(stack) != 1:
        program.validate()
    if not changed and k == len(consts):
        return program
    return from_tree(stack[0])


def canonical_key(program: Program, digits: int = 6) -> str:
    """A text key equal for formulas that differ only in the order of ``+``/``*`` operands
    or in constants beyond ``digits`` significant digits; use on simplified programs."""
    t = _table()
    ar = t.arity
    names = [None, None] + [op.name for op in t.ops]
    consts = program.consts.tolist()
    stack: list[str] = []
    for code, arg in zip(program.codes.tolist(), program.args.tolist(), strict=True):
        if code == VAR:
            stack.append(f"x{arg}")
        elif code == CONST:
            stack.append(f"{consts[arg]:.{digits}g}")
        elif ar[code] == 1:
            stack.append(f"{names[code]}({stack.pop()})")
        else:
            b = stack.pop()
            a = stack.pop()
            if code in t.COMMUTATIVE and b < a:
                a, b = b, a
            stack.append(f"{names[code]}({a},{b})")
    return stack[0]


def without_sign_folds(program: Program) -> Program | None:
    """``program`` with every ``abs(e)`` and ``sqrt(square(e))`` replaced by ``e``, or None
    when it has neither.

    Not an identity: it holds where each such ``e`` is non-negative, which only the data can
    tell. Search finds ``sqrt(m^2)`` for a positive ``m`` as readily as ``m``, and an exact
    checker reads it as ``|m|``; a caller keeps the rewrite only when the loss on the data is
    unchanged.
    """
    t = _table()
    hit = False

    def strip(node: Node) -> Node:
        nonlocal hit
        code = node[0]
        if code in (VAR, CONST):
            return node
        if code == t.ABS:
            hit = True
            return strip(node[1])
        if code == t.SQRT and node[1][0] == t.SQUARE:
            hit = True
            return strip(node[1][1])
        return (code, *(strip(c) for c in node[1:]))

    out = strip(to_tree(program))
    return simplify(from_tree(out)) if hit else None
