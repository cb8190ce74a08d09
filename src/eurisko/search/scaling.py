"""Data of any finite magnitude: the search runs on scaled data, the front is written back.

Physical data span many orders of magnitude (``h ~ 6.6e-34``, ``exp`` of large arguments),
and a target whose square overflows float64 leaves every formula with an infinite loss. So
the search sees ``y / 2**ey`` and each column ``x_j / 2**ej``, powers of two chosen so the
values are of ordinary size; dividing by a power of two is exact, so no digit of the data is
lost and losses scale exactly by ``4**ey``. Magnitudes already ordinary (within
``ORDINARY``) are left alone, so such data are searched exactly as they would be without this
module.

- ``y`` is divided by the power of two nearest its largest magnitude (the scaled target is at
  most ``sqrt(2)`` in size, so no sum of squares overflows; scales stop at ``2**±1000``);
- a column by the power of two nearest the geometric middle of its smallest and largest
  non-zero magnitudes, so a column spanning many decades keeps as many of them as it can.

The formulas found are written back in the user's variables by substitution: ``x_j`` becomes
``2**-ej * x_j`` and merges into the constants next to it (`simplify`), then the final front
is polished on the user's own columns (`written_back_front`), so the constants absorb the
factors (``sin(512*x')`` found on ``x' = x/512`` comes out ``sin(x)``), and the factor
``2**ey`` of the output is taken into the formula's constants where one can take it. Losses
stay in the search's units until the estimator reports them (`Scaling.loss_to_user`).

A formula whose own output squares past float64 (``exp(x)`` for ``x`` beyond about 355) still
cannot be rated during the search: scaling the data does not shrink it. ``exp(x - c)`` can,
and is written back as ``exp(x)`` where the target's factor makes up ``exp(-c)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from eurisko.evaluate.base import Backend, Dataset
from eurisko.evaluate.losses import baseline_loss
from eurisko.expr.operators import CONST, VAR, builtin_operators, get_operator, is_operator, op_code
from eurisko.expr.program import Program, ProgramBatch
from eurisko.expr.simplify import simplify
from eurisko.expr.template import Template
from eurisko.expr.tree import Node, from_tree, to_tree
from eurisko.search.front import FrontEntry, final_front, pareto
from eurisko.search.hall_of_fame import HallOfFame
from eurisko.search.tidy import tidied

ORDINARY = (1e-3, 1e3)  # magnitudes left unscaled
MAX_EXPONENT = 1000  # |exponent| of a scale: 2**±1000 and its inverse are normal doubles
CANCEL_RTOL = 1e-6  # a shift this small next to the constants it sums is tried as 0
DECIMAL_RTOL = 1e-13  # a constant this close to a short decimal is tried as it (~450 ulps)


def _exponent(log2_magnitude: float) -> int:
    """Power of two to divide by: 0 for an ordinary magnitude (or none: all zeros)."""
    lo, hi = (math.log2(m) for m in ORDINARY)
    if not math.isfinite(log2_magnitude) or lo <= log2_magnitude <= hi:
        return 0
    return int(np.clip(round(log2_magnitude), -MAX_EXPONENT, MAX_EXPONENT))


@dataclass(frozen=True)
class Scaling:
    """The powers of two the search divides ``y`` (``2**y_exp``) and the columns by."""

    y_exp: int = 0
    x_exps: tuple[int, ...] = ()
    #: homogeneity of the fit's loss in y (2: squared error, huber, logcosh; 1: l1)
    loss_degree: int = 2

    @classmethod
    def of(cls, X: np.ndarray, y: np.ndarray) -> Scaling:
        """Scales for finite ``X`` (n_rows, n_features) and ``y``; identity when ordinary."""
        def log2_range(a: np.ndarray) -> tuple[float, float]:
            nz = np.abs(np.asarray(a, dtype=np.float64))
            nz = nz[nz > 0]
            if not len(nz):
                return math.nan, math.nan
            return math.log2(float(nz.min())), math.log2(float(nz.max()))

        y_exp = _exponent(log2_range(y)[1])
        x_exps = tuple(_exponent(sum(log2_range(col)) / 2) for col in np.asarray(X).T)
        return cls(y_exp, x_exps)

    @classmethod
    def from_dict(cls, d: dict | None) -> Scaling:
        """What `to_dict` wrote; None (a run saved before scaling existed) is the identity."""
        if not d:
            return cls()
        return cls(int(d["y_exp"]), tuple(int(e) for e in d["x_exps"]),
                   int(d.get("loss_degree", 2)))

    def to_dict(self) -> dict:
        out = {"y_exp": self.y_exp, "x_exps": list(self.x_exps)}
        if self.loss_degree != 2:
            out["loss_degree"] = self.loss_degree
        return out

    @property
    def identity(self) -> bool:
        return self.y_exp == 0 and not any(self.x_exps)

    def scale_data(self, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The data the search sees (the same arrays when there is nothing to scale)."""
        if any(self.x_exps):
            X = np.ldexp(X, -np.asarray(self.x_exps, dtype=np.int64)[None, :])
        if self.y_exp:
            y = np.ldexp(y, -self.y_exp)
        return X, y

    def loss_to_user(self, loss: float | np.ndarray):
        """A loss in the search's units (y scaled) in the user's units of y squared (of y
        for a loss of degree 1): inf (0) where that is beyond float64, as for a target of
        magnitude 1e200 (1e-200)."""
        with np.errstate(over="ignore", under="ignore"):
            return np.ldexp(loss, self.loss_degree * self.y_exp)

    def loss_from_user(self, loss: float | None) -> float | None:
        if loss is None:
            return None
        with np.errstate(over="ignore", under="ignore"):
            return float(np.ldexp(loss, -self.loss_degree * self.y_exp))

    def columns_back(self, program: Program, operators: Sequence[str] | None = None,
                     gather: bool = False) -> Program:
        """``program`` of scaled columns as a formula of the user's columns (same output).

        Each ``x_j`` becomes ``2**-ej * x_j``. ``gather``: the factors of a product are
        gathered first (``x0'*x1'/x2'^2`` is ``2**(e2+e2-e0-e1) * x0*x1/x2^2``) and the
        whole goes into a constant, one constant instead of one per column; the gathered
        form may overflow where the other does not (``x0*x1`` of two columns near 1e200)."""
        if not any(self.x_exps):
            return program
        absorb = _Absorb(False, False)
        tree = to_tree(program)
        if gather:
            try:
                e, rest = absorb.gathered(tree, self.x_exps)
                tree = absorb.scaled(rest, e)
            except OverflowError:  # a factor beyond float64: substitute instead
                gather = False
        if not gather:
            tree = self._columns_times(tree, -1)
        return simplify(from_tree(tree), operators)

    def _columns_times(self, tree: Node, sign: int) -> Node:
        """``x_j`` replaced by ``2**(sign*ej) * x_j`` (columns beyond the scales unchanged)."""
        mul = op_code("mul")
        return _map_vars(tree, lambda j: (
            (VAR, j) if j >= len(self.x_exps) or not self.x_exps[j]
            else (mul, (CONST, math.ldexp(1.0, sign * self.x_exps[j])), (VAR, j))))

    def output_back(self, program: Program, operators: Sequence[str] | None = None,
                    merge: bool = False, cancel: bool = False) -> Program:
        """``2**y_exp * program``, the factor taken into its constants where one takes it
        (``c*f``, ``a + b``, ``u/v``, ``exp(u + c)``...), else a factor in front.

        ``merge``: also take a positive factor ``b`` of ``b*exp(u + c)`` into ``c`` (a search
        on a target scaled by ``2**-y_exp`` finds ``b*exp(x - c)`` for ``exp(x)``: the factor
        and the shift make up ``2**-y_exp``). ``cancel``: write a shift that this sum cancels
        to within ``CANCEL_RTOL`` of its terms as 0. Neither is an identity to the last bit:
        callers keep them where the loss allows."""
        if not self.y_exp:
            return program
        return simplify(from_tree(_Absorb(merge, cancel).scaled(to_tree(program), self.y_exp)),
                        operators)

    def output_to_search(self, program: Program) -> Program:
        """``2**-y_exp * program`` exactly (a factor in front): its loss on the scaled ``y`` is
        the user-unit loss of ``program`` divided by ``4**y_exp``, with no rounding."""
        if not self.y_exp:
            return program
        n = program.n_consts
        return Program(np.append(program.codes, [CONST, op_code("mul")]),
                       np.append(program.args, [n, 0]),
                       np.append(program.consts, math.ldexp(1.0, -self.y_exp)))

    def to_search(self, program: Program, operators: Sequence[str] | None = None) -> Program:
        """A formula of the user's columns and units as one of the search's (scaled columns,
        scaled y): ``x_j`` becomes ``2**ej * x_j`` and the output is divided by ``2**y_exp``,
        so a guess in the user's terms enters the search with the same loss there."""
        if self.identity:
            return program
        tree = self._columns_times(to_tree(program), 1)
        return self.output_to_search(simplify(from_tree(tree), operators))

    def to_user(self, program: Program, operators: Sequence[str] | None = None) -> Program:
        """A formula of the search (scaled columns, scaled y) in the user's units, without
        data: substitution and the output factor only, no constant refitted."""
        return self.output_back(self.columns_back(program, operators), operators)


def _map_vars(node: Node, fn) -> Node:
    if node[0] == VAR:
        return fn(node[1])
    if node[0] == CONST:
        return node
    return (node[0], *(_map_vars(c, fn) for c in node[1:]))


class _Absorb:
    """Multiplies a tree by ``2**e`` through its constants; None where no constant takes it."""

    def __init__(self, merge: bool, cancel: bool) -> None:
        def code(name: str) -> int:  # only the built-in meaning of an operator is relied on
            ok = is_operator(name) and any(get_operator(name) is op for op in builtin_operators())
            return op_code(name) if ok else -100

        self.merge, self.cancel = merge, cancel
        self.add, self.sub, self.mul, self.div = code("add"), code("sub"), code("mul"), code("div")
        self.neg, self.inv, self.sqrt, self.square = (code("neg"), code("inv"), code("sqrt"),
                                                      code("square"))
        self.exp = code("exp")

    def scaled(self, node: Node, e: int) -> Node:
        """``node * 2**e``: through a constant where one takes it, else a factor in front
        (OverflowError where that factor is beyond float64)."""
        if e == 0:
            return node
        inner = self.times(node, e)
        if inner is not None:
            return inner
        if not -1022 <= e <= 1023:
            raise OverflowError(f"2**{e} is beyond float64")
        return (op_code("mul"), (CONST, math.ldexp(1.0, e)), node)

    def gathered(self, node: Node, exps: Sequence[int]) -> tuple[int, Node]:
        """``(e, rest)`` with ``node`` (of scaled columns) equal to ``2**e * rest`` (of the
        user's columns): each ``x_j`` gives ``-exps[j]``, products and quotients add and
        subtract, sums of equal factors keep theirs, anything else takes its factor inside."""
        c = node[0]
        if c == VAR:
            return -exps[node[1]], node
        if c == CONST:
            return 0, node
        if c == self.mul or c == self.div:
            (ea, a), (eb, b) = self.gathered(node[1], exps), self.gathered(node[2], exps)
            return (ea + eb if c == self.mul else ea - eb), (c, a, b)
        if c == self.add or c == self.sub:
            (ea, a), (eb, b) = self.gathered(node[1], exps), self.gathered(node[2], exps)
            if ea == eb:
                return ea, (c, a, b)
            return 0, (c, self.scaled(a, ea), self.scaled(b, eb))
        if c in (self.neg, self.inv, self.square) or (c == self.sqrt and len(node) == 2):
            e, a = self.gathered(node[1], exps)
            if c == self.neg:
                return e, (c, a)
            if c == self.inv:
                return -e, (c, a)
            if c == self.square:
                return 2 * e, (c, a)
            if e % 2 == 0:
                return e // 2, (c, a)
        return 0, (c, *(self.scaled(*self.gathered(ch, exps)[::-1]) for ch in node[1:]))

    def times(self, node: Node, e: int) -> Node | None:
        c = node[0]
        if c == CONST:
            v = math.ldexp(node[1], e)
            return (CONST, v) if math.isfinite(v) and (v != 0.0) == (node[1] != 0.0) else None
        if c == VAR:
            return None
        if c == self.add or c == self.sub:
            a, b = self.times(node[1], e), self.times(node[2], e)
            return None if a is None or b is None else (c, a, b)
        if c == self.mul:
            if self.merge and node[1][0] == CONST and node[1][1] > 0 and node[2][0] == self.exp:
                arg = self.shifted(node[2][1], math.log(node[1][1]) + e * math.log(2.0))
                if arg is not None:  # b*exp(u + c) = exp(u + c + log b)
                    return (self.exp, arg)
            a = self.times(node[1], e)
            if a is not None:
                return (c, a, node[2])
            b = self.times(node[2], e)
            return None if b is None else (c, node[1], b)
        if c == self.div:
            a = self.times(node[1], e)
            if a is not None:
                return (c, a, node[2])
            b = self.times(node[2], -e)
            return None if b is None else (c, node[1], b)
        if c == self.neg:
            a = self.times(node[1], e)
            return None if a is None else (c, a)
        if c == self.inv:  # 1/u: the 1 takes the factor
            a = self.times(node[1], -e)
            if a is not None:
                return (c, a)
            return None if self.div < 0 else (self.div, (CONST, math.ldexp(1.0, e)), node[1])
        if c == self.sqrt:
            a = self.times(node[1], 2 * e)
            return None if a is None else (c, a)
        if c == self.square and e % 2 == 0:
            a = self.times(node[1], e // 2)
            return None if a is None else (c, a)
        if c == self.exp:
            a = self.shifted(node[1], e * math.log(2.0))
            return None if a is None else (c, a)
        return None

    def shifted(self, node: Node, d: float) -> Node | None:
        """``node + d`` where ``node`` is ``u ± c`` or ``c ± u`` (the constant takes ``d``)."""
        c = node[0]
        if c not in (self.add, self.sub):
            return None
        if node[2][0] == CONST:
            k = node[2][1]
            new = k + d if c == self.add else k - d
            return (c, node[1], (CONST, self.cancelled(new, k, d)))
        if node[1][0] == CONST:
            k = node[1][1]
            return (c, (CONST, self.cancelled(k + d, k, d)), node[2])
        return None

    def cancelled(self, new: float, k: float, d: float) -> float:
        if self.cancel and abs(new) <= CANCEL_RTOL * max(abs(k), abs(d)):
            return 0.0
        return new


def decimal_snapped(program: Program, rtol: float = DECIMAL_RTOL) -> Program | None:
    """``program`` with each constant set to the shortest decimal of at most 12 significant
    digits within ``rtol`` of it, or None if none moves: a fit through the factors of scaling
    leaves ``6.67399999999999e-11`` (7 ulps off) where the data say ``6.674e-11``."""
    consts = program.consts.tolist()
    new = []
    for c in consts:
        v = c
        for digits in range(1, 13):
            d = float(f"{c:.{digits}g}")
            if abs(d - c) <= rtol * abs(c):
                v = d
                break
        new.append(v)
    return None if new == consts else program.with_consts(np.array(new))


def written_back_front(hof: HallOfFame, data: Dataset, X: np.ndarray, backend: Backend,
                       linear_scaling: bool, operators: Sequence[str] | None,
                       scaling: Scaling, allowed: Callable[[Program], bool] | None = None,
                       template: Template | None = None) -> list[FrontEntry]:
    """The final front of a search on ``data`` (scaled by ``scaling``) in the user's variables.

    ``X`` is the user's (n_rows, n_features) columns. The formulas are written in the user's
    columns and polished and scored on them (`final_front`), against ``data.y``: the user's
    target divided by ``2**y_exp``, exactly, so the losses returned are the user's divided by
    ``4**y_exp`` (`Scaling.loss_to_user`). Then the factor ``2**y_exp`` goes into the formulas
    (`Scaling.output_back`), and constants within ``DECIMAL_RTOL`` of a short decimal become
    it; each rewrite is kept where the loss allows, as in `final_front`. Where the factors of
    a product of columns can be gathered into one constant without overflow on the user's
    columns, they are (`Scaling.columns_back`). Without scaling this is
    `final_front` on ``data``. ``allowed``: which final formulas may enter (`final_front`).
    ``template``: the outer form the search kept (`final_front`), searched without scaling.
    """
    if template is not None and not scaling.identity:
        raise ValueError("a template's search runs on unscaled data")
    if scaling.identity:
        return final_front(hof, data, backend, linear_scaling, operators=operators,
                           allowed=allowed, template=template)
    raw = Dataset(np.ascontiguousarray(np.asarray(X, dtype=np.float64).T), data.y, data.w,
                  data.loss)
    y = np.asarray(raw.y, dtype=np.float64)
    y_var = float(np.average((y - np.average(y, weights=raw.w)) ** 2, weights=raw.w))
    if not raw.loss.is_l2:
        y_var = baseline_loss(y, raw.w, raw.loss)

    def tolerance(old: float) -> float:
        return old * (1 + 1e-6) + 1e-15 * y_var

    keys = sorted(hof.entries)
    single = [scaling.columns_back(hof.entries[c][0], operators) for c in keys]
    gathered = [scaling.columns_back(hof.entries[c][0], operators, gather=True) for c in keys]
    rated = backend.losses(ProgramBatch.from_programs(single + gathered), raw,
                           linear_scaling).loss if keys else np.zeros(0)
    in_columns = HallOfFame()
    for i, c in enumerate(keys):
        ls, lg = rated[i], rated[len(keys) + i]
        p = gathered[i] if lg <= tolerance(ls) or not np.isfinite(ls) else single[i]
        in_columns.entries[c] = (p, *hof.entries[c][1:])
    front = final_front(in_columns, raw, backend, linear_scaling, operators=operators,
                        allowed=allowed)
    if not front:
        return front

    def losses(programs: list[Program]) -> np.ndarray:
        batch = ProgramBatch.from_programs([scaling.output_to_search(p) for p in programs])
        return np.asarray(backend.losses(batch, raw, False).loss, dtype=float)

    def better(programs: list[Program], loss: np.ndarray, trials: list[Program | None]):
        idx = [i for i, q in enumerate(trials) if q is not None]
        new = losses([trials[i] for i in idx]) if idx else []
        programs, loss = list(programs), np.array(loss, dtype=float, copy=True)
        for i, lq in zip(idx, new, strict=True):
            if lq <= tolerance(loss[i]) and trials[i].complexity() <= programs[i].complexity():
                programs[i], loss[i] = trials[i], lq
        return programs, loss

    programs = [e.program for e in front]
    loss = np.array([e.loss for e in front])
    if scaling.y_exp:
        programs = [scaling.output_back(p, operators) for p in programs]
        loss = losses(programs)
        for merge, cancel in ((True, False), (True, True), (False, True)):
            programs, loss = better(programs, loss, [
                scaling.output_back(e.program, operators, merge, cancel) for e in front])
        programs, loss = tidied(programs, loss, losses, tolerance, operators)
    programs, loss = better(programs, loss, [decimal_snapped(p) for p in programs])
    return pareto(programs, loss)
