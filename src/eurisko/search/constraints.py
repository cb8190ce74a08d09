"""What a formula may look like beyond its size: depth, argument sizes, nesting (PySR's meaning).

A `Constraints` is checked where children are made (`Island` breeds only children that pass,
`Grammar` grows random trees within the depth), so the search never spends an evaluation on a
formula the user ruled out. The three rules, as in PySR:

- ``max_depth``: the longest path from the root to a leaf, in nodes (a leaf has depth 1).
- ``constraints``: the largest complexity of each argument of an operator, ``{"pow": (-1, 1)}``
  (a binary operator takes a pair, a unary one a number; ``-1`` is unlimited). Sizes count with
  the complexities in force (`eurisko.expr.operators.complexities`).
- ``nested_constraints``: how many times an operator may appear nested inside another,
  ``{"sin": {"sin": 0, "cos": 0}}`` (no sin or cos anywhere inside a sin); the count is along
  one path, so ``sin(cos(x)) + cos(x)`` has one cos inside the sin.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from eurisko.expr.operators import CONST, arity_table, complexity_table, get_operator, op_code
from eurisko.expr.program import Program
from eurisko.validation import check_int

__all__ = ["Constraints"]


@dataclass(frozen=True)
class Constraints:
    """Depth, argument-size and nesting limits, by op code (picklable: workers check too).

    Build one from a user's parameters with `Constraints.of`; ``allows`` checks a program.
    """

    max_depth: int | None = None
    # (op code, largest left/only argument, largest right argument); -1: unlimited
    arg_limits: tuple[tuple[int, int, int], ...] = ()
    # (outer op code, inner op code, most nested inner inside one outer)
    nested: tuple[tuple[int, int, int], ...] = ()
    names: tuple[tuple[int, str], ...] = ()  # op code -> name, for messages

    @classmethod
    def of(cls, max_depth: object = None, constraints: object = None,
           nested_constraints: object = None) -> Constraints | None:
        """Validated limits from PySR-style parameters; None when there are none."""
        depth = check_int(max_depth, "max_depth", low=1, none_ok=True, what="levels")
        limits = _arg_limits(constraints)
        nested = _nested(nested_constraints)
        if depth is None and not limits and not nested:
            return None
        codes = {c for c, *_ in limits} | {c for c, i, _ in nested} | {i for _, i, _ in nested}
        from eurisko.expr.operators import operator_of

        return cls(depth, limits, nested, tuple(sorted((c, operator_of(c).name)
                                                       for c in codes)))

    def allows(self, p: Program) -> bool:
        """Whether ``p`` keeps every limit (one pass over the postfix program)."""
        return self.violation(p) is None

    def violation(self, p: Program) -> str | None:
        """What ``p`` breaks, in words (None when it keeps every limit)."""
        ar, ct = arity_table(), complexity_table()
        limits = {c: (a, b) for c, a, b in self.arg_limits}
        tracked = sorted({i for _, i, _ in self.nested})
        slot = {c: k for k, c in enumerate(tracked)}
        inner_of: dict[int, list[tuple[int, int]]] = {}
        for outer, inner, most in self.nested:
            inner_of.setdefault(outer, []).append((slot[inner], most))
        zero = (0,) * len(tracked)
        names = dict(self.names)
        max_depth = self.max_depth
        stack: list[tuple[int, int, tuple[int, ...]]] = []
        for c in p.codes.tolist():
            if c <= CONST:
                stack.append((int(ct[c]), 1, zero))
                continue
            if ar[c] == 1:
                kids = [stack.pop()]
            else:
                right = stack.pop()
                kids = [stack.pop(), right]
            lim = limits.get(c)
            if lim is not None:
                for k, kid in enumerate(kids):
                    if lim[k] >= 0 and kid[0] > lim[k]:
                        return (f"an argument of {names[c]} has complexity {kid[0]}, above "
                                f"its limit {lim[k]} (constraints)")
            depth = 1 + max(k[1] for k in kids)
            if max_depth is not None and depth > max_depth:
                return f"depth {depth} is above max_depth={max_depth}"
            nest = kids[0][2] if len(kids) == 1 else tuple(
                max(a, b) for a, b in zip(kids[0][2], kids[1][2], strict=True))
            for k, most in inner_of.get(c, ()):
                if nest[k] > most:
                    return (f"{names[tracked[k]]} appears {nest[k]} time(s) nested inside "
                            f"{names[c]}, above its limit {most} (nested_constraints)")
            if c in slot:
                k = slot[c]
                nest = nest[:k] + (nest[k] + 1,) + nest[k + 1:]
            stack.append((int(ct[c]) + sum(k[0] for k in kids), depth, nest))
        return None


def _operator(name: object, what: str) -> int:
    if not isinstance(name, str):
        raise TypeError(f"{what} keys must be operator names such as 'pow', got {name!r}")
    get_operator(name)  # the error lists the known names
    return op_code(name)


def _limit(value: object, what: str) -> int:
    return check_int(value, what, low=-1, what="complexity",
                     hint="-1 leaves that argument unlimited")


def _arg_limits(spec: object) -> tuple[tuple[int, int, int], ...]:
    if spec is None:
        return ()
    if not isinstance(spec, Mapping):
        raise TypeError(f"constraints must be a dict such as {{'pow': (-1, 1)}}, got "
                        f"{type(spec).__name__}")
    out = []
    for name, value in spec.items():
        code = _operator(name, "constraints")
        arity = get_operator(name).arity
        what = f"constraints[{name!r}]"
        if arity == 1:
            if isinstance(value, (tuple, list)):
                if len(value) != 1:
                    raise ValueError(f"{what} must be one size: {name} takes one argument, "
                                     f"got {value!r}")
                value = value[0]
            out.append((code, _limit(value, what), -1))
        else:
            if not isinstance(value, (tuple, list)) or len(value) != 2:
                raise ValueError(f"{what} must be a pair (largest left, largest right), "
                                 f"-1 for unlimited, such as (-1, 1); got {value!r}")
            out.append((code, _limit(value[0], what + "[0]"), _limit(value[1], what + "[1]")))
    return tuple(out)


def _nested(spec: object) -> tuple[tuple[int, int, int], ...]:
    if spec is None:
        return ()
    if not isinstance(spec, Mapping):
        raise TypeError("nested_constraints must be a dict of dicts such as "
                        f"{{'sin': {{'sin': 0, 'cos': 0}}}}, got {type(spec).__name__}")
    out = []
    for outer, inner in spec.items():
        oc = _operator(outer, "nested_constraints")
        if not isinstance(inner, Mapping):
            raise TypeError(f"nested_constraints[{outer!r}] must be a dict such as "
                            f"{{'cos': 0}}, got {type(inner).__name__}")
        for name, most in inner.items():
            ic = _operator(name, f"nested_constraints[{outer!r}]")
            out.append((oc, ic, check_int(most, f"nested_constraints[{outer!r}][{name!r}]",
                                          low=0, what="nestings")))
    return tuple(out)
