"""Search within a fixed-form template: only the holes' subtrees evolve.

`TemplateGrammar` offers the island the operations of `Grammar` (random formulas, the
mutations, crossover, simplification, the size limits) on formulas of a template
(`eurisko.expr.template`): each operation picks one hole, applies `Grammar`'s operation to
that hole alone, with a grammar over the hole's own variables, and puts the formula back
together. The outer form is never touched, so every formula of the search has it.

The search's template gives each hole a scale of its own (``?*h``, `with_hole_scaling`),
fitted by Levenberg-Marquardt with the ``?`` of the outer form: the linear scaling a free
search applies to the whole formula, which a template turns off (its ``a + b*f`` would change
the outer form). The final front offers every formula without these scales too
(`unscaled_variants`), and keeps the simplest that fit.
"""

from __future__ import annotations

import copy
import itertools
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
        self._weights = list(itertools.accumulate(len(v) for v in template.hole_vars))
        self.constraints: Constraints | None = None
        self.max_complexity: int | None = None
        bare = self.template.compose([Program([0], [0], []) for _ in self.holes])
        self._outer_complexity = bare.complexity() - len(self.holes)
        #: the complexity of the smallest formula of the search (one variable per hole)
        self.smallest_complexity = bare.complexity()

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
        if p.__dict__.get("_template_simple") is self.template:
            return p
        ops = self.operators
        q = self.template.holewise(lambda _, h: simplify(h, ops), p)
        return p if q is None else q

    def _with_hole(self, holes: list[Program], params: list[float], k: int, h: Program
                   ) -> Program:
        """The formula with hole ``k`` replaced by ``h`` simplified (the other holes are
        already simple)."""
        holes = list(holes)
        holes[k] = simplify(h, self.operators)
        return self._simple(holes, params)

    def _simple(self, holes: list[Program], params: Sequence[float]) -> Program:
        """The formula of simplified ``holes``, built from its parts (the search need not
        find them again) and marked so that `simplified` leaves it as it is."""
        p = self.template.composed(holes, params)
        p.__dict__["_template_simple"] = self.template
        return p

    def adopt(self, p: Program) -> Program | None:
        """A formula of the user's template in the search's form; None if not of the form."""
        return to_hole_scaling(self.user, self.template, p)

    # --- random formulas ------------------------------------------------------------

    def random_tree(self, rng: random.Random, size: int) -> Program:
        """A formula of the template with random holes of about ``size`` nodes together."""
        per = max(1, size // max(1, len(self.holes)))
        holes = [simplify(g.random_tree(rng, rng.randint(1, max(1, per + 2))), self.operators)
                 for g in self.holes]
        return self._simple(holes, [1.0] * self.template.n_params)

    # --- one hole at a time ---------------------------------------------------------

    def _one(self, p: Program, rng: random.Random, op) -> Program | None:
        parts = self.template.split(p)
        if parts is None:
            return None
        holes, params = parts
        k = self._pick(holes, rng)
        h = op(self.holes[k], holes[k], p.complexity() - holes[k].complexity())
        if h is None:
            return None
        return self._with_hole(holes, params, k, h)

    def _pick(self, holes: list[Program], rng: random.Random) -> int:
        """The hole an operation changes, drawn with odds by its number of variables: a
        function of more variables has more to find (one of one variable is often right
        early, and each child spent on it is a child not spent on the others)."""
        w = self._weights
        u = rng.random() * w[-1]
        for k, c in enumerate(w):
            if u < c:
                return k
        return len(w) - 1

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
        k = self._pick(holes, rng)
        other = qp[0][k]
        if rng.random() < 0.5:
            h = other
        else:
            used = p.complexity() - holes[k].complexity()
            h = self.holes[k].crossover(holes[k], other, rng, max(1, max_size - used))
        if h is None:
            return None
        return self._with_hole(holes, params, k, h)


def unscaled_variants(template: Template, p: Program) -> list[Program]:
    """``p`` (a formula of the search's form of ``template``) with and without its holes'
    scales: all kept, all dropped, and each hole's dropped alone. The final front polishes
    every variant and keeps the simplest that fit, as it does with a free search's
    ``a + b*f``."""
    n = template.n_holes
    drops = [[False] * n, [True] * n] + [[i == k for i in range(n)] for k in range(n)]
    out: list[Program] = []
    seen: set[tuple] = set()
    for d in drops:
        q = without_hole_scaling(template, p, d)
        if q is None:
            return [p]
        key = (q.codes.tobytes(), q.args.tobytes(), q.consts.tobytes())
        if key not in seen:
            seen.add(key)
            out.append(q)
    return out
