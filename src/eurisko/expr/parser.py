"""A small, safe formula parser: text never reaches ``eval`` (nor SymPy's parser, which uses it).

Grammar (precedence climbing; ``^`` and ``**`` bind tightest and associate to the right,
unary minus binds looser than ``^`` and tighter than ``*``, so ``-x^2`` is ``-(x^2)``)::

    expr    := unary (binop unary)*        binop: + - (1)   * / (2)   ^ ** (4)
    unary   := ('-' | '+') unary | primary (('^' | '**') unary)?
    primary := number | name | name '(' expr (',' expr)* ')' | '(' expr ')'

Names are the variables (``names``, or x0, x1, ... when None), the constants ``pi``, ``e``,
``inf``, ``nan`` and, before ``(``, registered operators (``exp(x)``, ``pow(a, b)``).
Integer literals keep their exact meaning: ``x^2`` is ``square(x)``, ``x^3`` is ``cube(x)`` and
``1/x`` is ``inv(x)``; a float such as ``x^2.0`` is a power with a constant exponent.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sympy as sp

from eurisko.expr.operators import (
    CONST,
    VAR,
    get_operator,
    is_operator,
    op_code,
    operator_names,
    registry,
)
from eurisko.expr.program import Program
from eurisko.expr.tree import Node, from_tree

_TOKEN = re.compile(
    r"\s*(?:(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>\*\*|[-+*/^(),]))"
)
_XNAME = re.compile(r"^x(\d+)$")
_CONSTANTS = {"pi": math.pi, "e": math.e, "inf": math.inf, "nan": math.nan}
_BINARY = {"+": (1, "+"), "-": (1, "-"), "*": (2, "*"), "/": (2, "/"), "^": (4, "^"),
           "**": (4, "^")}
_UNARY_PREC = 3
_MAX_LEN = 100_000


@dataclass
class _Tok:
    kind: str  # "num", "name", "op", "end"
    text: str
    col: int  # 1-based


def _where(tok: _Tok) -> str:
    return "the end of the formula" if tok.kind == "end" else repr(tok.text)


def _tokenize(text: str, token: re.Pattern = _TOKEN,
              allowed: str = "formulas use numbers, names, + - * / ^ ** and parentheses"
              ) -> list[_Tok]:
    """The tokens of ``text`` by the pattern ``token`` (templates add ``?``); ``allowed`` is
    what the error on an unknown character says."""
    toks: list[_Tok] = []
    pos = 0
    n = len(text)
    while True:
        while pos < n and text[pos].isspace():
            pos += 1
        if pos >= n:
            break
        m = token.match(text, pos)
        if m is None or m.lastgroup is None:
            raise ValueError(f"unexpected character {text[pos]!r} at column {pos + 1}; {allowed}")
        kind = m.lastgroup
        toks.append(_Tok(kind, m.group(kind), m.start(kind) + 1))
        pos = m.end()
    toks.append(_Tok("end", "", n + 1))
    return toks


class _Parser:
    def __init__(self, text: str, names: Sequence[str] | None):
        self.toks = _tokenize(text)
        self.i = 0
        self.names = None if names is None else list(names)
        self.index = None if names is None else {n: i for i, n in enumerate(self.names)}
        self.infix = {op.infix: op_code(op.name) for op in registry() if op.infix}

    @property
    def tok(self) -> _Tok:
        return self.toks[self.i]

    def advance(self) -> _Tok:
        t = self.toks[self.i]
        self.i += 1
        return t

    def expect(self, text: str, context: str) -> _Tok:
        t = self.tok
        if t.kind != "op" or t.text != text:
            raise ValueError(f"expected {text!r} {context} at column {t.col}, found {_where(t)}")
        return self.advance()

    # --- grammar -------------------------------------------------------------------

    def parse(self) -> Node:
        if self.tok.kind == "end":
            raise ValueError("empty formula: expected an expression such as 'x0 + 1'")
        node = self.expr(1)
        t = self.tok
        if t.kind != "end":
            if t.text == ")":
                raise ValueError(f"unbalanced parenthesis: ')' at column {t.col} closes nothing")
            hint = " (write * to multiply, as in 2*x)" if t.kind != "op" or t.text == "(" else ""
            raise ValueError(
                f"unexpected {_where(t)} at column {t.col} after a complete expression; "
                f"expected an operator (+ - * / ^) or the end of the formula{hint}"
            )
        return node

    def expr(self, min_prec: int) -> Node:
        left = self.unary()
        while True:
            t = self.tok
            if t.kind != "op" or t.text not in _BINARY:
                return left
            prec, sym = _BINARY[t.text]
            if prec < min_prec:
                return left
            self.advance()
            # right-associative ^ parses its right side at its own level, the others one above
            right = self.expr(prec if sym == "^" else prec + 1)
            left = self.binary(sym, left, right, t)

    def unary(self) -> Node:
        t = self.tok
        if t.kind == "op" and t.text in "+-":
            self.advance()
            operand = self.expr(_UNARY_PREC + 1)
            if t.text == "+":
                return operand
            if operand[0] == CONST and len(operand) == 3:  # a literal: fold the sign in
                return (CONST, -operand[1])
            return self.operator("neg", t, operand)
        return self.primary()

    def primary(self) -> Node:
        t = self.advance()
        if t.kind == "num":
            # the third item marks a literal; integer literals keep their text for x^2, 1/x
            return (CONST, float(t.text), t.text if t.text.isdigit() else "")
        if t.kind == "op" and t.text == "(":
            node = self.expr(1)
            if self.tok.kind != "op" or self.tok.text != ")":
                raise ValueError(
                    f"unbalanced parenthesis: expected ')' at column {self.tok.col} to close "
                    f"the '(' at column {t.col}, found {_where(self.tok)}"
                )
            self.advance()
            return node
        if t.kind == "name":
            if self.tok.kind == "op" and self.tok.text == "(":
                return self.call(t)
            return self.name(t)
        if t.kind == "end":
            raise ValueError(
                f"expected a number, a name or '(' at column {t.col}, found the end of the formula"
            )
        raise ValueError(f"expected a number, a name or '(' at column {t.col}, found {t.text!r}")

    def call(self, t: _Tok) -> Node:
        if not is_operator(t.text):
            known = ", ".join(sorted(operator_names()))
            raise ValueError(
                f"unknown function {t.text!r} at column {t.col}; known functions: {known}"
            )
        self.advance()
        args = [self.expr(1)]
        while self.tok.kind == "op" and self.tok.text == ",":
            self.advance()
            args.append(self.expr(1))
        if self.tok.kind != "op" or self.tok.text != ")":
            raise ValueError(
                f"unbalanced parenthesis: expected ',' or ')' at column {self.tok.col} to close "
                f"{t.text}( at column {t.col}, found {_where(self.tok)}"
            )
        self.advance()
        op = get_operator(t.text)
        if len(args) != op.arity:
            raise ValueError(
                f"{t.text} at column {t.col} takes {op.arity} argument(s), got {len(args)}"
            )
        return (op_code(t.text), *args)

    def name(self, t: _Tok) -> Node:
        if self.index is not None and t.text in self.index:
            return (VAR, self.index[t.text])
        if self.index is None:
            m = _XNAME.match(t.text)
            if m:
                return (VAR, int(m.group(1)))
        if t.text in _CONSTANTS:
            return (CONST, _CONSTANTS[t.text])
        known = "x0, x1, ..." if self.names is None else (", ".join(self.names) or "none")
        hint = f" ({t.text} is a function: write {t.text}(...))" if is_operator(t.text) else ""
        raise ValueError(
            f"unknown name {t.text!r} at column {t.col}; known variables: {known}; "
            f"constants: pi, e{hint}"
        )

    # --- building nodes --------------------------------------------------------------

    def operator(self, name: str, t: _Tok, *args: Node) -> Node:
        if not is_operator(name):
            raise ValueError(f"{t.text!r} at column {t.col} needs the {name!r} operator, "
                             "which is not registered")
        return (op_code(name), *args)

    def binary(self, sym: str, a: Node, b: Node, t: _Tok) -> Node:
        if sym == "^" and _literal(b) in ("2", "3"):
            return self.operator("square" if _literal(b) == "2" else "cube", t, a)
        if sym == "/" and _literal(a) == "1":
            return self.operator("inv", t, b)
        if sym not in self.infix:
            raise ValueError(f"no registered operator prints as {sym!r} (column {t.col})")
        return (self.infix[sym], a, b)


def _literal(node: Node) -> str:
    return node[2] if node[0] == CONST and len(node) == 3 else ""


_NOT_IDENT = re.compile(r"[^0-9a-zA-Z_]")


_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def identifiers(texts: Sequence[object], taken: Sequence[str] = (),
                prefix: str = "x") -> list[str]:
    """Names the parser reads back as variables, one per text (a column name, ``v/c``).

    A text that is already an identifier (ASCII letters, digits and ``_``, not starting with a
    digit) is kept exactly as given, underscores included (``lambda_``, ``I_``, ``E``). In
    other texts each other character becomes ``_`` and the ``_`` at both ends are dropped, a
    leading digit gets ``prefix_``, an empty name is ``prefix<i>``. None is a constant of the
    parser (``pi``, ``e``, ``inf``, ``nan``), one of ``taken`` or one before it: a ``_`` is
    appended until it is new.

    >>> identifiers(["m_0", "v [m/s]", "2nd", "pi", "v__m_s", "lambda_", "I_"])
    ['m_0', 'v__m_s', 'x_2nd', 'pi_', 'v__m_s_', 'lambda_', 'I_']
    """
    out: list[str] = []
    for i, text in enumerate(texts):
        name = str(text)
        if not _IDENT.match(name):
            name = _NOT_IDENT.sub("_", name).strip("_") or f"{prefix}{i + len(taken)}"
            if name[0].isdigit():
                name = f"{prefix}_{name}"
        while name in out or name in taken or name in _CONSTANTS:
            name += "_"
        out.append(name)
    return out


def parse(text: str, names: Sequence[str] | None = None) -> Program:
    """The program of a formula written as text, e.g. ``"2.5*x0^2 + sin(x1)"``.

    ``names`` are the variable names, one per data column (default x0, x1, ...). Errors are
    ValueErrors that give the column and what was expected.
    """
    if not isinstance(text, str):
        raise TypeError(f"parse expects the formula as a str, got {type(text).__name__}")
    if len(text) > _MAX_LEN:
        raise ValueError(f"formula too long ({len(text)} characters; the limit is {_MAX_LEN})")
    if names is not None:
        if isinstance(names, str):
            raise TypeError("names must be a list of variable names, e.g. ['a', 'b'], not a str")
        names = [str(n) for n in names]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"duplicate variable names: {', '.join(sorted(dup))}")
    try:
        tree = _Parser(text, names).parse()
    except RecursionError:
        raise ValueError("formula nested too deeply to parse") from None
    return from_tree(tree)


def parse_sympy(text: str, names: Sequence[str] | None = None) -> sp.Expr:
    """The SymPy expression of a formula written as text (parsed safely, see `parse`)."""
    from eurisko.expr.sympy_bridge import to_sympy

    p = parse(text, names)
    return to_sympy(p, names)
