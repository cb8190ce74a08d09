"""One island: a population under age-regularized evolution with tournament selection.

Each step breeds a batch of children (mutation or crossover of tournament winners), simplifies
them, evaluates the whole batch in one backend call, polishes some children's constants with
Levenberg-Marquardt, and lets the children replace the oldest members. Selection ranks by
log normalised loss plus an adaptive parsimony term that grows with how crowded a complexity
is, so small formulas keep a foothold while large ones are explored.
"""

from __future__ import annotations

import bisect
import dataclasses
import itertools
import math
import random
from dataclasses import dataclass, field

import numpy as np

from eurisko.evaluate.base import Backend, Dataset, Losses
from eurisko.expr.operators import set_complexities
from eurisko.expr.program import Program, ProgramBatch
from eurisko.expr.simplify import simplify
from eurisko.expr.template import Template
from eurisko.fit import fit_constants
from eurisko.search.constraints import Constraints
from eurisko.search.mutation import Grammar

Migrant = tuple[Program, float, tuple[float, float]]  # a formula, its loss and (a, b)


@dataclass(frozen=True)
class SearchConfig:
    """Knobs of the evolutionary search (the estimator fills them from its parameters)."""

    operators: tuple[str, ...]
    max_size: int = 30
    population_size: int = 100
    n_islands: int = 4
    tournament_size: int = 10
    tournament_p: float = 0.9
    children_per_step: int = 20
    steps_per_epoch: int = 10
    crossover_rate: float = 0.1
    parsimony: float = 0.002
    adaptive_parsimony: float = 20.0
    optimize_probability: float = 1.0
    optimizer_iterations: int = 8
    n_migrants: int = 5
    # Each island takes in migrants after every this many of its epochs; hearing from the
    # others after every epoch, all islands chase the same formulas (SymbolicRegressor's
    # migration_interval says what was measured).
    migration_interval: int = 10
    linear_scaling: bool = True
    # LM polishes constants on this many rows drawn once from the data (all rows when there
    # are fewer); the child is then judged on every row. Constants that fit a few hundred rows
    # fit them all when the form is right, and each LM round costs a fraction of a full pass.
    lm_rows: int | None = 256
    mutation_weights: tuple[float, ...] = field(
        default=(0.25, 0.15, 0.15, 0.1, 0.05, 0.2)  # point subtree insert delete hoist constants
    )
    # Depth, argument-size and nesting limits every child keeps (None: none).
    constraints: Constraints | None = None
    # The complexity of every op code, when the user overrides the registry's (None: not);
    # each island puts it in force in its process, so the front, parsimony and max_size agree.
    complexities: tuple[int, ...] | None = None
    # Children are scored on a fresh draw of this many rows per step (PySR's batching); None
    # scores them on all rows. The final front is scored on all rows either way.
    batch_size: int | None = None
    # A fixed-form template (`eurisko.expr.template`): only its holes evolve, each over its
    # own variables (`eurisko.search.template`); the data hold its fixed numbers as extra
    # columns. None: free search. Needs linear_scaling=False (scaling would change the form).
    template: Template | None = None


class Island:
    """A population with its own random stream; evolves in place."""

    def __init__(self, config: SearchConfig, grammar: Grammar, data: Dataset, backend: Backend,
                 rng: random.Random, y_var: float):
        set_complexities(config.complexities)
        self.config = config
        self.grammar = grammar.within(config.constraints, config.max_size)
        ops = config.operators
        self._simplify = (getattr(self.grammar, "simplified", None)
                          or (lambda p: simplify(p, ops)))
        self.data = data
        self.fit_data = lm_subset(data, config.lm_rows)
        self.backend = backend
        self.rng = rng
        self.y_var = max(float(y_var), 1e-300)
        self.programs: list[Program] = []
        self.losses = np.zeros(0)
        self.scales = np.zeros((0, 2))
        self.ages = np.zeros(0, dtype=np.int64)
        self.complexities = np.zeros(0, dtype=np.int64)
        self.births = 0
        self.n_evals = 0
        self._mutation_cdf = list(itertools.accumulate(config.mutation_weights))
        p = config.tournament_p
        # k = floor(log u / log(1-p)); p >= 1: always the best; p <= 0: always the last
        self._log_q = math.log1p(-p) if 0.0 < p < 1.0 else (-math.inf if p >= 1.0 else 0.0)

    # --- population bookkeeping --------------------------------------------------------

    def seed(self, programs: list[Program] | None = None) -> None:
        """Fill the population: given programs first, then random trees of growing size."""
        cfg = self.config
        given = list(programs or [])
        if cfg.template is not None:  # a guess of another form has no place in this search
            given = [q for p in given if (q := self.grammar.adopt(p)) is not None]
        progs = [self._simplify(p) for p in given[: cfg.population_size]]
        if cfg.constraints is not None:  # guesses from other problems, or an older search's
            progs = [p for p in progs if cfg.constraints.allows(p)]
        while len(progs) < cfg.population_size:
            size = self.rng.randint(1, min(cfg.max_size, 10))
            tree = self.grammar.random_tree(self.rng, size)
            simple = self._simplify(tree)
            progs.append(simple if self.grammar.fits(simple) else tree)
        self.programs = []
        self.losses = np.zeros(0)
        self.scales = np.zeros((0, 2))
        self.ages = np.zeros(0, dtype=np.int64)
        self.complexities = np.zeros(0, dtype=np.int64)
        progs, losses, scales, n = evaluate_batch(progs, self.data,
                                                  self.backend, cfg, self.rng, self.fit_data)
        self.n_evals += n
        self._insert(progs, losses, scales, replace_oldest=False)

    def _insert(self, programs, losses, scales, replace_oldest: bool = True) -> None:
        """Add finite-loss programs; with ``replace_oldest`` they take the oldest members' seats."""
        keep = np.isfinite(losses)
        programs = [p for p, k in zip(programs, keep, strict=True) if k]
        losses, scales = losses[keep], scales[keep]
        if not programs:
            return
        ages = self.births + np.arange(len(programs))
        self.births += len(programs)
        comp = np.array([p.complexity() for p in programs], dtype=np.int64)
        if replace_oldest and len(self.programs) >= self.config.population_size:
            n = min(len(programs), len(self.programs))
            oldest = np.argsort(self.ages, kind="stable")[:n]
            for j, slot in enumerate(oldest):
                self.programs[slot] = programs[j]
            self.losses[oldest] = losses[:n]
            self.scales[oldest] = scales[:n]
            self.ages[oldest] = ages[:n]
            self.complexities[oldest] = comp[:n]
            return
        self.programs.extend(programs)
        self.losses = np.concatenate((self.losses, losses))
        self.scales = np.concatenate((self.scales, scales))
        self.ages = np.concatenate((self.ages, ages))
        self.complexities = np.concatenate((self.complexities, comp))

    def receive(self, migrants: list[Migrant]) -> None:
        """Migrants arrive with their losses (same data everywhere) and replace the oldest."""
        if migrants:
            self._insert([m[0] for m in migrants], np.array([m[1] for m in migrants]),
                         np.array([m[2] for m in migrants], dtype=float).reshape(-1, 2))

    def best(self, k: int) -> list[Migrant]:
        """The ``k`` best members by selection score, with their losses (the emigrants)."""
        order = np.argsort(self._scores(), kind="stable")[:k]
        return [(self.programs[i], float(self.losses[i]), tuple(self.scales[i])) for i in order]

    # --- selection and breeding -----------------------------------------------------------

    def _scores(self) -> np.ndarray:
        """Lower is better: log normalised loss, plus parsimony, plus crowding of the size."""
        cfg = self.config
        nmse = np.maximum(self.losses / self.y_var, 1e-16)
        counts = np.bincount(self.complexities, minlength=cfg.max_size * 4 + 2)
        freq = counts[self.complexities] / max(len(self.programs), 1)
        return (np.log(nmse) + cfg.parsimony * self.complexities * np.log(10)
                + cfg.adaptive_parsimony * freq)

    def _tournament(self, scores: list[float]) -> Program:
        """The k-th best of a random sample, k geometric: P(k) = p (1-p)^k (the last entrant
        takes the rest), drawn with one random number instead of one per entrant."""
        cfg = self.config
        n = len(self.programs)
        rnd = self.rng.random
        size = min(cfg.tournament_size, n)
        entrants = [int(rnd() * n) for _ in range(size)]
        entrants.sort(key=scores.__getitem__)
        u = rnd()
        if self._log_q == 0.0 or u <= 0.0:
            k = size - 1
        else:
            k = min(int(math.log(u) / self._log_q), size - 1)
        return self.programs[entrants[k]]

    def _child(self, scores: list[float]) -> Program:
        cfg, g, rng = self.config, self.grammar, self.rng
        for _ in range(8):
            parent = self._tournament(scores)
            if rng.random() < cfg.crossover_rate:
                child = g.crossover(parent, self._tournament(scores), rng, cfg.max_size)
            else:
                kind = bisect.bisect(self._mutation_cdf, rng.random() * self._mutation_cdf[-1])
                if kind == 0:
                    child = g.point(parent, rng)
                elif kind == 1:
                    child = g.subtree(parent, rng, cfg.max_size)
                elif kind == 2:
                    child = g.insert(parent, rng)
                elif kind == 3:
                    child = g.delete(parent, rng)
                elif kind == 4:
                    child = g.hoist(parent, rng)
                else:
                    child = g.perturb_constants(parent, rng)
                    if child is not None:  # same shape as a simplified parent: nothing to fold
                        return child
            if child is None:
                continue
            child = self._simplify(child)
            if self.grammar.fits(child):
                return child
        return g.random_tree(rng, rng.randint(1, 5))

    def breed(self) -> list[Program]:
        """One batch of children from the current population (not yet evaluated).

        An empty population (every formula so far had a non-finite loss) breeds random
        trees, as when it was seeded, so the search goes on rather than drawing from nothing."""
        cfg = self.config
        if not self.programs:
            return [self.grammar.random_tree(self.rng, self.rng.randint(1, min(cfg.max_size, 10)))
                    for _ in range(cfg.children_per_step)]
        scores = self._scores().tolist()
        return [self._child(scores) for _ in range(cfg.children_per_step)]

    def absorb(self, children: list[Program], losses: np.ndarray, scales: np.ndarray) -> None:
        """Evaluated children take the seats of the oldest members."""
        self._insert(children, losses, scales)


def lm_subset(data: Dataset, rows: int | None) -> Dataset | None:
    """``rows`` rows of ``data`` drawn once (the same for a given data size), or None when
    the data have no more rows than that; LM fits constants on them during the search."""
    if rows is None or data.n_rows <= rows or data.y is None:
        return None
    return data.rows(np.sort(np.random.default_rng(0).choice(data.n_rows, size=int(rows),
                                                              replace=False)))


def mini_batch(data: Dataset, rows: int, rng: random.Random) -> Dataset:
    """``rows`` rows of ``data`` drawn afresh (without replacement) from ``rng``: what a step's
    children are scored on with batching, so no formula is tuned to one fixed subset."""
    return data.rows(np.sort(np.fromiter(rng.sample(range(data.n_rows), rows),
                                         dtype=np.int64, count=rows)))


def evaluate_batch(programs: list[Program], data: Dataset, backend: Backend,
                   config: SearchConfig, rng: random.Random, fit_data: Dataset | None = None
                   ) -> tuple[list[Program], np.ndarray, np.ndarray, int]:
    """Losses of ``programs`` in one backend call; some get their constants polished by LM.

    With ``fit_data`` (a subset of the rows, see `lm_subset`) LM fits there and the fitted
    constants are kept only if they lower the loss on all of ``data``. Returns the (possibly
    re-fitted) programs, losses, linear-scaling (a, b) and the evaluations spent, counted in
    passes over all of ``data`` (LM Jacobians and trial steps included, a pass over the subset
    counting as its share of the rows). With ``config.batch_size`` the programs are scored
    on a fresh mini-batch of rows (`mini_batch`), their evaluations counted as that share of
    a pass (rounded at random, so the count is right on average).
    """
    if not programs:
        return programs, np.zeros(0), np.zeros((0, 2)), 0
    if config.batch_size is not None and data.n_rows > config.batch_size:
        batch_data = mini_batch(data, config.batch_size, rng)
        progs, losses, scales, n = evaluate_batch(
            programs, batch_data, backend, dataclasses.replace(config, batch_size=None), rng,
            lm_subset(batch_data, config.lm_rows))
        passes = n * batch_data.n_rows / data.n_rows  # in passes over all rows
        whole = int(passes)
        return progs, losses, scales, whole + int(rng.random() < passes - whole)
    programs = list(programs)
    batch = ProgramBatch.from_programs(programs)
    res = backend.losses(batch, data, config.linear_scaling)
    n_evals = len(programs)
    losses, scales = res.loss.copy(), res.scale.copy()
    n_consts = np.diff(batch.const_offsets)
    pick = np.nonzero(
        (n_consts > 0) & np.isfinite(losses)
        & (np.array([rng.random() for _ in programs]) < config.optimize_probability)
    )[0]
    if not len(pick) or config.optimizer_iterations <= 0:
        return programs, losses, scales, n_evals
    sub = ProgramBatch.from_programs([programs[i] for i in pick])
    if fit_data is None:
        fitted = fit_constants(sub, data, backend, max_iter=config.optimizer_iterations,
                               linear_scaling=config.linear_scaling,
                               start=Losses(losses[pick], scales[pick]))
        n_evals += int(fitted.n_evals)
        new_loss, new_scale = fitted.loss, fitted.scale
    else:
        fitted = fit_constants(sub, fit_data, backend, max_iter=config.optimizer_iterations,
                               linear_scaling=config.linear_scaling)
        n_evals += round(fitted.n_evals * fit_data.n_rows / data.n_rows)
        moved = np.flatnonzero(
            np.add.reduceat(fitted.consts != sub.consts, sub.const_offsets[:-1]) > 0)
        new_loss = np.full(len(pick), np.inf)
        new_scale = np.zeros((len(pick), 2))
        if len(moved):
            refit = ProgramBatch.from_programs(
                [programs[pick[j]].with_consts(
                    fitted.consts[sub.const_offsets[j]:sub.const_offsets[j + 1]])
                 for j in moved])
            full = backend.losses(refit, data, config.linear_scaling)
            n_evals += len(moved)
            new_loss[moved], new_scale[moved] = full.loss, full.scale
    for j, i in enumerate(pick):
        if new_loss[j] <= losses[i]:
            a, b = sub.const_offsets[j], sub.const_offsets[j + 1]
            programs[i] = programs[i].with_consts(fitted.consts[a:b])
            losses[i] = new_loss[j]
            scales[i] = new_scale[j]
    return programs, losses, scales, n_evals
