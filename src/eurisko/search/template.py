"""Search within a fixed-form template: only the holes' subtrees evolve.

`TemplateGrammar` offers the island the operations of `Grammar` (random formulas, the
mutations, crossover, simplification, the size limits) on formulas of a template
(`eurisko.expr.template`): each operation picks one hole, applies `Grammar`'s operation to
that hole alone, with a grammar over the hole's own variables, and puts the formula back
together. The outer form is never touched, so every formula of the search has it. The
search's template gives each hole a scale and an offset of its own (``?*h + ?``,
`with_hole_scaling`), fitted by Levenberg-Marquardt with the ``?`` of the outer form, in
place of the linear scaling a free search applies to the whole formula (which a template
turns off: it would change the outer form).
"""

from __future__ import annotations

import copy
import random
from collections.abc import Sequence

from eurisko.expr.program import Program
from eurisko.expr.simplify import simplify
from eurisko.expr.template import (
    Template,
    to_hole_scaling,
    with_hole_scaling,
    without_hole_scaling,
)
from eurisko.search.constraints import Constraints
from eurisko.search.mutation import Grammar


class TemplateGrammar:
    """What the search may build within ``template`` (the user's, see the module)."""

    def __init__(self, operators: Sequence[str], template: Template, p_const: float = 0.25):
        self.user = template
        self.template = with_hole_scaling(template)
        self.operators = tuple(operators)
        self.holes = [Grammar(operators, len(v), p_const) for v in template.hole_vars]
        self.constraints: Constraints | None = None
        self.max_complexity: int | None = None
        bare = self.template.compose([Program([0], [0], []) for _ in self.holes])
        self._outer_complexity = bare.complexity() - len(self.holes)

    def within(self, constraints: Constraints | None, max_complexity: int | None = None
               ) -> TemplateGrammar:
        g = copy.copy(self)
        g.constraints, g.max_complexity = constraints, max_complexity
        room = None if max_complexity is None else max(1, max_complexity
                                                       - self._outer_complexity)
        g.holes = [h.within(None, room) for h in self.holes]
        return g

    def fits(self, p: Program) -> bool:
        return ((self.max_complexity is None or p.complexity() <= self.max_complexity)
                and (self.constraints is None or self.constraints.allows(p))
                and self.template.matches(p))

    def simplified(self, p: Program) -> Program:
        """``p`` with each hole simplified on its own (the outer form kept)."""
        ops = self.operators
        q = self.template.holewise(lambda _, h: simplify(h, ops), p)
        return p if q is None else q

    def adopt(self, p: Program) -> Program | None:
        """A formula of the user's template in the search's form; None if not of the form."""
        return to_hole_scaling(self.user, self.template, p)

    # --- random formulas ------------------------------------------------------------

    def random_tree(self, rng: random.Random, size: int) -> Program:
        """A formula of the template with random holes of about ``size`` nodes together."""
        per = max(1, size // max(1, len(self.holes)))
        holes = [g.random_tree(rng, rng.randint(1, max(1, per + 2))) for g in self.holes]
        return self.template.compose(holes)

    # --- one hole at a time ---------------------------------------------------------

    def _one(self, p: Program, rng: random.Random, op) -> Program | None:
        parts = self.template.split(p)
        if parts is None:
            return None
        holes, params = parts
        k = rng.randrange(len(holes))
        h = op(self.holes[k], holes[k], p.complexity() - holes[k].complexity())
        if h is None:
            return None
        holes = list(holes)
        holes[k] = h
        return self.template.compose(holes, params)

    def point(self, p: Program, rng: random.Random) -> Program | None:
        return self._one(p, rng, lambda g, h, _: g.point(h, rng))

    def subtree(self, p: Program, rng: random.Random, max_size: int) -> Program | None:
        return self._one(p, rng, lambda g, h, used: g.subtree(h, rng, max(1, max_size - used)))

    def insert(self, p: Program, rng: random.Random) -> Program | None:
        return self._one(p, rng, lambda g, h, _: g.insert(h, rng))

    def delete(self, p: Program, rng: random.Random) -> Program | None:
        return self._one(p, rng, lambda g, h, _: g.delete(h, rng))

    def hoist(self, p: Program, rng: random.Random) -> Program | None:
        return self._one(p, rng, lambda g, h, _: g.hoist(h, rng))

    def perturb_constants(self, p: Program, rng: random.Random) -> Program | None:
        return self.holes[0].perturb_constants(p, rng)  # every constant, the outer's too

    def crossover(self, p: Program, q: Program, rng: random.Random, max_size: int
                  ) -> Program | None:
        """Hole ``k`` of ``q`` in place of ``p``'s (half the time), or a subtree of it
        grafted into ``p``'s hole ``k``."""
        pp, qp = self.template.split(p), self.template.split(q)
        if pp is None or qp is None:
            return None
        holes, params = list(pp[0]), pp[1]
        k = rng.randrange(len(holes))
        other = qp[0][k]
        if rng.random() < 0.5:
            h = other
        else:
            used = p.complexity() - holes[k].complexity()
            h = self.holes[k].crossover(holes[k], other, rng, max(1, max_size - used))
        if h is None:
            return None
        holes[k] = h
        return self.template.compose(holes, params)


def unscaled_variants(template: Template, p: Program) -> list[Program]:
    """``p`` (a formula of the search's form of ``template``) with and without its holes'
    scales and offsets: all kept, all dropped, all offsets or all scales dropped, and each
    hole's pair or offset dropped alone. The final front polishes every variant and keeps
    the simplest that fit, as it does with a free search's ``a + b*f``."""
    n = template.n_holes
    none, every = [False] * n, [True] * n
    drops = [(none, none), (every, every), (none, every), (every, none)]
    for k in range(n):
        one = [i == k for i in range(n)]
        drops += [(one, one), (none, one)]
    out: list[Program] = []
    seen: set[tuple] = set()
    for ds, do in drops:
        q = without_hole_scaling(template, p, ds, do)
        if q is None:
            return [p]
        key = (q.codes.tobytes(), q.args.tobytes(), q.consts.tobytes())
        if key not in seen:
            seen.add(key)
            out.append(q)
    return out
