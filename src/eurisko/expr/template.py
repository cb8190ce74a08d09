"""Fixed-form templates: ``"f(x1, x2) * exp(?*g(x3))"``, an outer form with holes.

A template is parsed by the safe parser (`eurisko.expr.parser`), extended by two things:

- a call of a name that is not an operator, ``f(x1, x2)``, is a *hole*: a formula to be
  searched over the variables named in the call only (each name once per template);
- ``?`` is a constant to be fitted with the rest of the formula's constants.

Plain numbers (and ``pi``, ``e``) in the template stay fixed. So that no constant fitting
moves them, they are not constant nodes: the template numbers them as extra columns after the
data's (``n_features + j`` holds ``fixed[j]`` on every row), and `Template.written` puts the
numbers back as constants once the search is done.

A formula of the template is one ordinary `Program`: the outer form's nodes around the
holes' subtrees, in postfix order. `Template.compose` builds it from the holes (each in its
own variables, numbered 0, 1, ... as in the call) and the ``?`` values; `Template.split`
takes it apart again, or returns None when a program does not have the template's form.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from eurisko.expr import parser as _p
from eurisko.expr.operators import CONST, VAR, arity_table, is_operator
from eurisko.expr.program import Program
from eurisko.expr.tree import Node, subtree_sizes

HOLE = -1  # outer-form node: a hole (arg: which)
PARAM = -2  # parse-time node of a ``?`` (becomes a CONST item of the outer form)

_TOKEN = re.compile(
    r"\s*(?:(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>\*\*|[-+*/^(),?]))"
)


def _tokenize(text: str) -> list[_p._Tok]:
    return _p._tokenize(text, _TOKEN, "templates use numbers, names, ?, + - * / ^ ** and "
                                      "parentheses")


class _TemplateParser(_p._Parser):
    def __init__(self, text: str, names: Sequence[str]):
        super().__init__("", names)
        self.toks = _tokenize(text)
        self.holes: list[tuple[str, tuple[int, ...]]] = []
        self.n_params = 0

    def primary(self) -> Node:
        t = self.tok
        if t.kind == "op" and t.text == "?":
            self.advance()
            self.n_params += 1
            return (PARAM, self.n_params - 1)
        return super().primary()

    def call(self, t: _p._Tok) -> Node:
        if is_operator(t.text):
            return super().call(t)
        if t.text in self.index:
            raise ValueError(f"{t.text!r} at column {t.col} is a variable, so it cannot name a "
                             "function too; call the function something else, e.g. "
                             f"h({', '.join(self.names[:2])})")
        if any(name == t.text for name, _ in self.holes):
            raise ValueError(f"the function {t.text!r} appears more than once in the template "
                             f"(column {t.col}); give each function its own name, e.g. "
                             f"{t.text}(...) and {t.text}2(...)")
        self.advance()  # the '('
        cols: list[int] = []
        while True:
            a = self.advance()
            if a.kind != "name" or a.text not in self.index:
                known = ", ".join(self.names) or "none"
                what = "the end of the template" if a.kind == "end" else repr(a.text)
                raise ValueError(
                    f"{t.text}(...) at column {t.col} takes variable names as arguments, "
                    f"found {what} at column {a.col}; known variables: {known}")
            if self.index[a.text] in cols:
                raise ValueError(f"{t.text}(...) at column {t.col} names {a.text!r} twice; "
                                 "name each variable once")
            cols.append(self.index[a.text])
            nxt = self.advance()
            if nxt.kind == "op" and nxt.text == ")":
                break
            if not (nxt.kind == "op" and nxt.text == ","):
                raise ValueError(f"expected ',' or ')' at column {nxt.col} in {t.text}(...), "
                                 f"found {_p._where(nxt)}")
        self.holes.append((t.text, tuple(cols)))
        return (HOLE, len(self.holes) - 1)


@dataclass(frozen=True)
class Template:
    """A parsed template (see the module docstring); build one with `Template.parse`."""

    text: str
    names: tuple[str, ...]  # the data's variables
    hole_names: tuple[str, ...]
    hole_vars: tuple[tuple[int, ...], ...]  # columns of each hole, in the call's order
    fixed: tuple[float, ...]  # the template's numbers: column n_features + j holds fixed[j]
    n_params: int  # the ``?`` constants
    outer: tuple[tuple[int, int], ...]  # postfix (code, arg); code HOLE: arg is the hole

    @classmethod
    def parse(cls, text: str, names: Sequence[str]) -> Template:
        """The template of ``text`` over the variables ``names``; a one-line ValueError
        saying what to fix when it is not one."""
        if not isinstance(text, str):
            raise TypeError(f"template must be a str such as 'f(x0, x1) * exp(g(x2))', got "
                            f"{type(text).__name__}")
        names = tuple(str(n) for n in names)
        try:
            p = _TemplateParser(text, names)
            tree = p.parse()
        except RecursionError:
            raise ValueError("template nested too deeply to parse") from None
        except ValueError as e:
            raise ValueError(f"template {text!r}: {e}") from None
        if not p.holes:
            raise ValueError(f"template {text!r} has no function to search: write at least one "
                             "call of a new name, such as f(x0), e.g. 'f(x0, x1) * exp(g(x2))'")
        fixed: list[float] = []
        outer: list[tuple[int, int]] = []
        n = len(names)

        def walk(node: Node) -> None:
            code = node[0]
            if code == HOLE:
                outer.append((HOLE, node[1]))
            elif code == PARAM:
                outer.append((CONST, node[1]))
            elif code == CONST:
                fixed.append(float(node[1]))
                outer.append((VAR, n + len(fixed) - 1))
            elif code == VAR:
                outer.append((VAR, int(node[1])))
            else:
                for child in node[1:]:
                    walk(child)
                outer.append((int(code), 0))

        walk(tree)
        return cls(text, names, tuple(h for h, _ in p.holes), tuple(v for _, v in p.holes),
                   tuple(fixed), p.n_params, tuple(outer))

    # --- facts -------------------------------------------------------------------------

    @property
    def n_holes(self) -> int:
        return len(self.hole_names)

    @property
    def n_features(self) -> int:
        return len(self.names)

    @property
    def n_columns(self) -> int:
        """The data's columns plus one per fixed number."""
        return len(self.names) + len(self.fixed)

    def fixed_columns(self, n_rows: int) -> np.ndarray:
        """The columns to append to the data, ``(n_rows, len(fixed))``."""
        return np.broadcast_to(np.asarray(self.fixed, dtype=np.float64),
                               (int(n_rows), len(self.fixed))).copy()

    # --- building and taking apart -------------------------------------------------------

    def compose(self, holes: Sequence[Program], params: Sequence[float] | None = None
                ) -> Program:
        """The program of the template with ``holes`` (each in its own variables) and the
        ``?`` values ``params`` (1.0 each when None)."""
        if params is None:
            params = [1.0] * self.n_params
        codes: list[int] = []
        args: list[int] = []
        consts: list[float] = []
        for code, arg in self.outer:
            if code == HOLE:
                h, cols = holes[arg], self.hole_vars[arg]
                hc = h.consts.tolist()
                for c, a in zip(h.codes.tolist(), h.args.tolist(), strict=True):
                    codes.append(c)
                    if c == VAR:
                        args.append(cols[a])
                    elif c == CONST:
                        args.append(len(consts))
                        consts.append(hc[a])
                    else:
                        args.append(0)
            elif code == CONST:
                codes.append(CONST)
                args.append(len(consts))
                consts.append(float(params[arg]))
            else:
                codes.append(code)
                args.append(arg)
        return Program(np.array(codes), np.array(args), np.array(consts, dtype=np.float64))

    def split(self, p: Program) -> tuple[list[Program], list[float]] | None:
        """The holes (in their own variables) and ``?`` values of ``p``, or None when ``p``
        does not have this template's form (or a hole uses a variable not its own)."""
        cached = p.__dict__.get("_template_split")
        if cached is not None and cached[0] is self:
            return cached[1]
        shape = self._shape(p)
        out = None
        if shape is not None:
            consts = p.consts
            out = ([Program(c, a, consts[k]) for c, a, k in shape[0]],
                   consts[shape[1]].tolist())
        p.__dict__["_template_split"] = (self, out)
        return out

    def _shape(self, p: Program):
        """Where ``p``'s holes and ``?`` are: per hole its codes, its args in its own
        variables and the indices of its constants in ``p.consts``; the indices of the ``?``.
        None when ``p`` is not of the form. Cached on the program (kept by ``with_consts``:
        it depends on the shape alone)."""
        cached = p.__dict__.get("_template_shape")
        if cached is not None and cached[0] is self:
            return cached[1]
        out = self._find_shape(p)
        p.__dict__["_template_shape"] = (self, out)
        return out

    def _find_shape(self, p: Program, written: bool = False):
        """(`_shape`; ``written``: the fixed numbers are constants, as `written` puts them)"""
        codes, pargs = p.codes.tolist(), p.args.tolist()
        sizes = subtree_sizes(p.codes).tolist()
        if not codes or sizes[-1] != len(codes):
            return None
        ar = arity_table()
        pconsts = p.consts.tolist()
        holes: list = [None] * self.n_holes
        params = [0] * self.n_params
        osizes = self._outer_sizes()

        def match(o: int, i: int) -> bool:
            if i < 0:
                return False
            code, arg = self.outer[o]
            if code == HOLE:
                start = i - sizes[i] + 1
                local = {c: k for k, c in enumerate(self.hole_vars[arg])}
                ha, hk = [], []
                for c, a in zip(codes[start:i + 1], pargs[start:i + 1], strict=True):
                    if c == VAR:
                        if a not in local:
                            return False
                        ha.append(local[a])
                    elif c == CONST:
                        ha.append(len(hk))
                        hk.append(a)
                    else:
                        ha.append(0)
                holes[arg] = (p.codes[start:i + 1], np.array(ha, dtype=np.int32),
                              np.array(hk, dtype=np.int64))
                return True
            if written and code == VAR and arg >= len(self.names):
                return codes[i] == CONST and pconsts[pargs[i]] == self.fixed[arg - len(self.names)]
            if codes[i] != code:
                return False
            if code == CONST:
                params[arg] = pargs[i]
                return True
            if code == VAR:
                return pargs[i] == arg
            if ar[code] == 1:
                return match(o - 1, i - 1)
            return (match(o - 1, i - 1)
                    and match(o - 1 - osizes[o - 1], i - 1 - sizes[i - 1]))

        if not match(len(self.outer) - 1, len(codes) - 1):
            return None
        return holes, np.array(params, dtype=np.int64)

    def _outer_sizes(self) -> list[int]:
        s = self.__dict__.get("_osizes")
        if s is None:
            s = subtree_sizes(np.array([0 if c == HOLE else c for c, _ in self.outer])).tolist()
            object.__setattr__(self, "_osizes", s)
        return s

    def composed(self, holes: Sequence[Program], params: Sequence[float]) -> Program:
        """`compose`, with the split of the result known (no need to find the holes again)."""
        p = self.compose(holes, params)
        p.__dict__["_template_split"] = (self, (list(holes), list(params)))
        return p

    def matches(self, p: Program) -> bool:
        """Whether ``p`` has this template's form."""
        return self.split(p) is not None

    def holewise(self, fn: Callable[[int, Program], Program | None], p: Program
                 ) -> Program | None:
        """``p`` with ``fn(k, hole)`` in place of each hole where it gives one; None when it
        gives none (or ``p`` is not of the form)."""
        parts = self.split(p)
        if parts is None:
            return None
        holes, params = parts
        new = [fn(k, h) for k, h in enumerate(holes)]
        if all(q is None for q in new):
            return None
        return self.compose([h if q is None else q for h, q in zip(holes, new, strict=True)],
                            params)

    def written(self, p: Program) -> Program:
        """``p`` with the fixed numbers' columns back as constants: a program over the data's
        columns alone (its constants are no longer held fixed by anything)."""
        n = self.n_features
        if not self.fixed or not np.any((p.codes == VAR) & (p.args >= n)):
            return p
        codes, args, consts = p.codes.tolist(), p.args.tolist(), p.consts.tolist()
        new_consts: list[float] = []
        for i, (c, a) in enumerate(zip(codes, args, strict=True)):
            if c == VAR and a >= n:
                codes[i] = CONST
                args[i] = len(new_consts)
                new_consts.append(self.fixed[a - n])
            elif c == CONST:
                args[i] = len(new_consts)
                new_consts.append(consts[a])
        return Program(np.array(codes), np.array(args), np.array(new_consts, dtype=np.float64))

    def parts(self, p: Program) -> tuple[list[Program], list[float]] | None:
        """`split` of ``p`` as the search holds it or as `written` gives it (the fixed numbers
        as constants, as a user writes them in a guess); None when ``p`` is not of the form."""
        parts = self.split(p)
        if parts is None:
            shape = self._find_shape(p, written=True)
            if shape is None:
                return None
            parts = ([Program(c, a, p.consts[k]) for c, a, k in shape[0]],
                     p.consts[shape[1]].tolist())
        return parts

    def searched(self, p: Program) -> Program | None:
        """``p`` (of the form, either way: see `parts`) as the search holds it, the fixed
        numbers as their columns; None when it is not of the form."""
        parts = self.parts(p)
        return None if parts is None else self.composed(*parts)

    def describe(self, p: Program, precision: int | None = None) -> dict | None:
        """Each hole of ``p`` as text in the data's names (``{"f": "x0 + x1^2", ...}``), and
        the ``?`` values under ``"?"``; ``p`` as the search holds it or as `written`. None
        when ``p`` is not of the form."""
        from eurisko.expr.printing import to_string

        parts = self.parts(p)
        if parts is None:
            return None
        out = {name: to_string(h, [self.names[c] for c in cols], precision=precision)
               for name, h, cols in zip(self.hole_names, parts[0], self.hole_vars, strict=True)}
        if self.n_params:
            out["?"] = [float(v) for v in parts[1]]
        return out


def with_hole_scaling(t: Template, scales: Sequence[bool] | None = None,
                      offsets: Sequence[bool] | None = None) -> Template:
    """``t`` with each hole ``h`` written ``?*h``: the search's form of a template, so that
    every hole has its own scale fitted with the other constants, as linear scaling gives a
    whole formula in a free search. A formula of this form is also one of ``t`` (the constant
    is part of the hole there). ``scales`` and ``offsets`` (one flag per hole; by default
    every hole a scale and none an offset, ``?*h + ?``: an offset is a constant a hole can
    grow itself, and tied to the others' scales in most forms) say which holes get which.
    The new ``?`` are numbered after ``t``'s, scale before offset, in the order the holes
    appear in the formula."""
    from eurisko.expr.operators import op_code

    scales = [True] * t.n_holes if scales is None else list(scales)
    offsets = [False] * t.n_holes if offsets is None else list(offsets)
    mul, add = op_code("mul"), op_code("add")
    outer: list[tuple[int, int]] = []
    n = t.n_params
    for code, arg in t.outer:
        if code != HOLE:
            outer.append((code, arg))
            continue
        if scales[arg]:
            outer += [(CONST, n), (HOLE, arg), (mul, 0)]
            n += 1
        else:
            outer.append((HOLE, arg))
        if offsets[arg]:
            outer += [(CONST, n), (add, 0)]
            n += 1
    return Template(t.text, t.names, t.hole_names, t.hole_vars, t.fixed, n, tuple(outer))


def hole_order(t: Template) -> list[int]:
    """The holes in the order they appear in ``t``'s formula."""
    return [arg for code, arg in t.outer if code == HOLE]


def without_hole_scaling(t: Template, p: Program, drop_scales: Sequence[bool]
                         ) -> Program | None:
    """A formula of ``with_hole_scaling(t)`` without the scales flagged (one flag per hole),
    as a formula of ``t``; None when ``p`` is not of that form."""
    scaled = with_hole_scaling(t)
    parts = scaled.split(p)
    if parts is None:
        return None
    holes, params = parts
    keep_s = [not d for d in drop_scales]
    keep_o = [False] * t.n_holes  # (the search's form has no offsets)
    kept = list(params[:t.n_params])
    j = t.n_params
    for k in hole_order(t):
        if keep_s[k]:
            kept.append(params[j])
        j += 1
    return with_hole_scaling(t, keep_s, keep_o).compose(holes, kept)


def to_hole_scaling(t: Template, scaled: Template, p: Program) -> Program | None:
    """A formula of ``t`` in the form of ``scaled = with_hole_scaling(t)`` (each hole's scale
    1), or None when ``p`` is not of ``t``'s form."""
    if scaled.matches(p):
        return p
    parts = t.split(p)
    if parts is None:
        return None
    holes, params = parts
    return scaled.compose(holes, [*params, *([1.0] * t.n_holes)])
