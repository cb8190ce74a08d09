"""Random formulas, mutations and crossover on postfix programs.

Every operator works on the flat arrays directly: the subtree that ends at node ``i`` spans
``i - size[i] + 1 .. i`` in postfix order, so replacing a subtree is one splice.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from eurisko.expr.operators import CONST, VAR, arity_table, op_code
from eurisko.expr.program import Program
from eurisko.expr.tree import subtree_sizes

if TYPE_CHECKING:
    from eurisko.search.constraints import Constraints


def _arity() -> np.ndarray:
    return arity_table()


def sizes_of(p: Program) -> list[int]:
    """Subtree sizes of ``p`` (cached on the program: its shape never changes)."""
    s = p.__dict__.get("_sizes")
    if s is None:
        s = p.__dict__["_sizes"] = subtree_sizes(p.codes).tolist()
    return s


def _renumber(codes: list[int], args: list[int], consts: list[float]) -> Program:
    """Constants numbered by first appearance, unused ones dropped (each node owns its own)."""
    new_consts = []
    args = list(args)
    for i, c in enumerate(codes):
        if c == CONST:
            new_consts.append(consts[args[i]])
            args[i] = len(new_consts) - 1
    return Program(codes, args, new_consts)


def splice(p: Program, start: int, end: int, q: Program) -> Program:
    """``p`` with nodes ``start..end`` (inclusive, one whole subtree) replaced by program ``q``."""
    pc, pa = p.codes.tolist(), p.args.tolist()
    qc, k = q.codes.tolist(), p.n_consts
    qa = [a + k if c == CONST else a for c, a in zip(qc, q.args.tolist(), strict=True)]
    return _renumber(pc[:start] + qc + pc[end + 1:], pa[:start] + qa + pa[end + 1:],
                     p.consts.tolist() + q.consts.tolist())


def subprogram(p: Program, start: int, end: int) -> Program:
    """The subtree occupying nodes ``start..end`` as a program of its own."""
    return _renumber(p.codes[start:end + 1].tolist(), p.args[start:end + 1].tolist(),
                     p.consts.tolist())


class Grammar:
    """What the search may build: the allowed operators and the number of variables."""

    def __init__(self, operators: Sequence[str], n_features: int, p_const: float = 0.25):
        codes = [op_code(n) for n in operators]
        ar = _arity()
        self.unary = [c for c in codes if ar[c] == 1]
        self.binary = [c for c in codes if ar[c] == 2]
        if len(self.binary) == 0 and len(self.unary) == 0:
            raise ValueError("the operator list must hold at least one operator")
        self.n_features = int(n_features)
        self.p_const = float(p_const)
        self.constraints: Constraints | None = None
        self.max_complexity: int | None = None

    def within(self, constraints: Constraints | None, max_complexity: int | None = None
               ) -> Grammar:
        """This grammar, growing only random trees that keep ``constraints`` (depth,
        argument sizes, nesting) and have at most ``max_complexity``."""
        g = copy.copy(self)
        g.constraints, g.max_complexity = constraints, max_complexity
        return g

    def fits(self, p: Program) -> bool:
        """Whether ``p`` keeps this grammar's limits (always, for a grammar without any)."""
        return ((self.max_complexity is None or p.complexity() <= self.max_complexity)
                and (self.constraints is None or self.constraints.allows(p)))

    def random_const(self, rng: random.Random) -> float:
        if rng.random() < 0.5:
            return rng.choice((1.0, 2.0, 0.5, -1.0, 3.0))
        return rng.gauss(0.0, 2.0)

    def random_leaf(self, rng: random.Random) -> Program:
        if rng.random() < self.p_const:
            return Program(np.array([CONST]), np.array([0]), np.array([self.random_const(rng)]))
        return Program(np.array([VAR]), np.array([rng.randrange(self.n_features)]), np.zeros(0))

    def random_tree(self, rng: random.Random, size: int) -> Program:
        """A random program of about ``size`` nodes (exactly, where the operators allow)."""
        depth = None if self.constraints is None else self.constraints.max_depth
        limited = self.constraints is not None or self.max_complexity is not None
        for _ in range(20 if limited else 1):
            codes: list[int] = []
            args: list[int] = []
            consts: list[float] = []
            self._grow(rng, max(1, size), codes, args, consts, depth)
            p = Program(np.array(codes), np.array(args), np.array(consts))
            if not limited or self.fits(p):
                return p
            size = max(1, size - 1)
        return self.random_leaf(rng)

    def _grow(self, rng, size, codes, args, consts, depth: int | None = None) -> None:
        has_u, has_b = len(self.unary) > 0, len(self.binary) > 0
        if depth is not None:  # a depth limit: nothing below the last level but leaves
            if depth <= 1:
                size = 1
            depth -= 1
        if size <= 1 or (size == 2 and not has_u):
            if rng.random() < self.p_const:
                codes.append(CONST)
                args.append(len(consts))
                consts.append(self.random_const(rng))
            else:
                codes.append(VAR)
                args.append(int(rng.randrange(self.n_features)))
            return
        if has_u and (not has_b or size == 2 or rng.random() < 0.25):
            self._grow(rng, size - 1, codes, args, consts, depth)
            codes.append(rng.choice(self.unary))
            args.append(0)
            return
        left = int(rng.randrange(1, size - 1)) if size > 2 else 1
        self._grow(rng, left, codes, args, consts, depth)
        self._grow(rng, size - 1 - left, codes, args, consts, depth)
        codes.append(rng.choice(self.binary))
        args.append(0)

    # --- mutations: each returns a new program, or None when it does not apply -------------

    def point(self, p: Program, rng: random.Random) -> Program | None:
        """Swap one node for another of the same arity (a variable for a variable or constant)."""
        i = int(rng.randrange(len(p)))
        codes, args, consts = p.codes.tolist(), p.args.tolist(), p.consts.tolist()
        c = codes[i]
        if c == VAR or c == CONST:
            if rng.random() < 0.5 and self.n_features > 1 and c == VAR:
                args[i] = (args[i] + 1 + rng.randrange(self.n_features - 1)) % self.n_features
            elif c == VAR:
                codes[i] = CONST
                args[i] = len(consts)
                consts.append(self.random_const(rng))
            else:
                codes[i] = VAR
                args[i] = rng.randrange(self.n_features)
        else:
            pool = self.unary if _arity()[c] == 1 else self.binary
            if len(pool) < 2:
                return None
            codes[i] = rng.choice([o for o in pool if o != c])
        return _renumber(codes, args, consts)

    def subtree(self, p: Program, rng: random.Random, max_size: int) -> Program:
        """Replace a random subtree with a fresh random one."""
        sizes = sizes_of(p)
        i = int(rng.randrange(len(p)))
        start = i - int(sizes[i]) + 1
        room = max_size - (len(p) - int(sizes[i]))
        q = self.random_tree(rng, int(rng.randrange(1, max(2, min(room, 8) + 1))))
        return splice(p, start, i, q)

    def insert(self, p: Program, rng: random.Random) -> Program:
        """Wrap a random subtree in a new operator (the other operand a fresh leaf)."""
        sizes = sizes_of(p)
        i = int(rng.randrange(len(p)))
        start = i - int(sizes[i]) + 1
        use_unary = len(self.unary) > 0 and (len(self.binary) == 0 or rng.random() < 0.4)
        codes, args, consts = p.codes.tolist(), p.args.tolist(), p.consts.tolist()
        if use_unary:
            new_c, new_a = codes[start:i + 1] + [rng.choice(self.unary)], args[start:i + 1] + [0]
        else:
            leaf = self.random_leaf(rng)
            lc, la = int(leaf.codes[0]), int(leaf.args[0])
            if lc == CONST:
                la = len(consts)
                consts.append(float(leaf.consts[0]))
            sub_c, sub_a = codes[start:i + 1], args[start:i + 1]
            if rng.random() < 0.5:
                new_c, new_a = sub_c + [lc], sub_a + [la]
            else:
                new_c, new_a = [lc] + sub_c, [la] + sub_a
            new_c.append(rng.choice(self.binary))
            new_a.append(0)
        return _renumber(codes[:start] + new_c + codes[i + 1:], args[:start] + new_a + args[i + 1:],
                         consts)

    def delete(self, p: Program, rng: random.Random) -> Program | None:
        """Replace an operator node by one of its operands."""
        ops = [i for i, c in enumerate(p.codes.tolist()) if c > CONST]
        if len(ops) == 0:
            return None
        i = rng.choice(ops)
        sizes = sizes_of(p)
        start = i - int(sizes[i]) + 1
        child_end = i - 1
        if _arity()[p.codes[i]] == 2 and rng.random() < 0.5:
            child_end = i - 1 - int(sizes[i - 1])
        child_start = child_end - int(sizes[child_end]) + 1
        return splice(p, start, i, subprogram(p, child_start, child_end))

    def hoist(self, p: Program, rng: random.Random) -> Program | None:
        """Keep only a random proper subtree."""
        if len(p) < 2:
            return None
        sizes = sizes_of(p)
        i = int(rng.randrange(len(p) - 1))
        return subprogram(p, i - int(sizes[i]) + 1, i)

    def perturb_constants(self, p: Program, rng: random.Random) -> Program | None:
        """Jiggle the constants multiplicatively, now and then flip a sign."""
        if p.n_consts == 0:
            return None
        consts = np.array([c * (1.0 + rng.gauss(0.0, 0.3)) * (-1.0 if rng.random() < 0.1 else 1.0)
                           for c in p.consts.tolist()])
        return p.with_consts(consts)

    def crossover(self, p: Program, q: Program, rng: random.Random, max_size: int
                  ) -> Program | None:
        """Graft a random subtree of ``q`` in place of a random subtree of ``p``."""
        sp_, sq = sizes_of(p), sizes_of(q)
        i = int(rng.randrange(len(p)))
        j = int(rng.randrange(len(q)))
        if len(p) - int(sp_[i]) + int(sq[j]) > max_size:
            return None
        return splice(p, i - int(sp_[i]) + 1, i, subprogram(q, j - int(sq[j]) + 1, j))
