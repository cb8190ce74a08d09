"""Brute force for small problems: every formula up to a few nodes, the exact ones returned.

Evolution is poor at the last step of a small law: on ``t = 1/sqrt(1 - z^2)`` it settles on
near-exact look-alikes (``0.5*z^2/cos(...) + 1``). With one to three variables the space of
formulas of up to seven nodes is small enough to walk whole, as AI Feynman does.

`enumerate_formulas` builds the formulas bottom-up on a subsample of the rows. A formula of
``s`` nodes is an operator applied to formulas of fewer nodes, so its values are one numpy
operation on their value vectors. A table keeps, per size, one formula for every distinct
value vector: a new vector that agrees to rounding with one already in the table (``z*z``
after ``square(z)``, ``exp(log(z))`` after ``z``), that is constant, or that is not finite
on the subsample is dropped, keeping the smallest formula of each function. Every new formula
``f`` is scored by linear scaling, ``y ~ a + b*f`` in closed form (weighted least squares);
the ones within rounding of exact on the subsample are verified on all rows, and the best few
per size are kept as well. The answers come back with ``a`` and ``b`` folded in and
simplified, as the Pareto front shows its formulas. `enumerate_targets` rates every formula
against several targets in the one walk (a target and its transforms, ``y**2``, ``log y``...).
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from eurisko.evaluate.base import Dataset
from eurisko.evaluate.reference import NumpyBackend
from eurisko.expr.operators import CONST, VAR, get_operator, op_code, resolve_operators
from eurisko.expr.program import Program, ProgramBatch
from eurisko.expr.simplify import canonical_key, simplify
from eurisko.search.front import fold_scaling
from eurisko.search.tidy import snapped
from eurisko.validation import check_bool, check_instance, check_int, check_number

__all__ = ["EnumerationResult", "Found", "SizeStats", "enumerate_formulas", "enumerate_targets"]

# The largest size enumerated by default, by number of variables: each takes about a second
# on one core with the default operators (see docs/reference/enumerate.md for the counts).
DEFAULT_MAX_SIZE = {1: 8, 2: 8, 3: 7}
SAMPLE_TOL = 1e-12  # normalised loss on the subsample below which a formula is verified
_CHUNK = 8192  # candidate formulas built per numpy operation (their values stay in cache)
_BIG = 1e100  # value vectors larger than this are dropped (their squares overflow)
_FLAT = 1e-10  # a vector whose spread is below this times its size counts as constant
_MAX_STORED_BYTES = 1 << 28  # bound on the value vectors kept for building larger formulas
_QUANT = float(1 << 32)  # value vectors are compared to about 2^-32 relative


class Found(NamedTuple):
    """One formula: ``program`` (scaling folded in), its weighted MSE on all rows, and the
    ``(a, b)`` of linear scaling that were folded into it."""

    program: Program
    loss: float
    scale: tuple[float, float]


@dataclass
class SizeStats:
    """What one size of the enumeration did.

    ``n_candidates``: formulas built; ``n_distinct``: of them, the ones that are finite and
    not constant on the subsample and (below the last size) differ from every smaller or
    earlier formula; ``complete``: False where the time limit cut the size short.
    """

    size: int
    n_candidates: int
    n_distinct: int
    seconds: float
    complete: bool = True


@dataclass
class EnumerationResult:
    """What `enumerate_formulas` found.

    Attributes
    ----------
    exact : formulas whose loss on all rows is at most ``exact_tol * var(y)``, smallest
        complexity first.
    best : the best non-exact formulas of each enumerated size (at most ``n_best`` per size),
        by complexity then loss: seeds for an evolutionary search.
    free : the best non-exact formulas of each size as they are, with no fitted number (no
        scaling: ``a = 0``, ``b = 1``), at most ``n_best`` per size, by complexity then loss.
        On noisy data a law with no constant to fit (``1/sqrt(1 - z^2)``) scores with
        scaling no better than its look-alikes (``a + b*z^2``) and is lost among them on the
        subsample; as it is, it stands out.
    sizes : one `SizeStats` per size enumerated, in order.
    stop_reason : why the enumeration stopped: ``"max_size"`` (all sizes done),
        ``"exact"`` (``stop_at_exact`` and a size held an exact formula), ``"time_limit"``
        (cut short: see ``timed_out``), ``"budget"`` (``max_candidates`` reached) or
        ``"memory"`` (the table of distinct formulas outgrew its bound, so larger formulas
        could not all be built).
    seconds : wall-clock time of the whole call.
    n_sample : rows of the subsample the formulas were built and screened on.
    """

    exact: list[Found]
    best: list[Found]
    sizes: list[SizeStats] = field(default_factory=list)
    stop_reason: str = "max_size"
    seconds: float = 0.0
    n_sample: int = 0
    free: list[Found] = field(default_factory=list)

    @property
    def timed_out(self) -> bool:
        """True when the time limit cut the enumeration short."""
        return self.stop_reason == "time_limit"

    @property
    def max_size_done(self) -> int:
        """The largest size enumerated completely (0 when none was)."""
        done = [s.size for s in self.sizes if s.complete]
        return max(done, default=0)


def enumerate_formulas(
    X: Any,
    y: Any,
    w: Any = None,
    operators: Sequence[str] | str | None = None,
    max_size: int | None = None,
    time_limit: float | None = None,
    exact_tol: float = 1e-14,
    n_best: int = 3,
    constants: Sequence[float] = (1.0, 2.0),
    n_sample: int = 32,
    stop_at_exact: bool = True,
    random_state: int | None = 0,
    max_candidates: int | None = None,
) -> EnumerationResult:
    """Every formula of up to ``max_size`` nodes over the columns of ``X``; the exact ones.

    Parameters
    ----------
    X : (n_rows, n_features) array, few features (1 to 3: the space grows fast with each).
    y : (n_rows,) target.
    w : (n_rows,) non-negative weights with a positive sum, or None for equal weights.
    operators : operator names, or None for eurisko's default set.
    max_size : largest formula enumerated, in nodes, before the scaling ``a + b*f`` is
        folded in; None picks it by the number of features (8 for one or two, 7 for three,
        6 beyond: at most about a second on one core with the default operators).
    time_limit : seconds; the enumeration goes size by size and stops when they are spent,
        keeping what it found (``timed_out`` tells). None: no limit.
    exact_tol : a formula is exact when its weighted MSE on all rows, after linear scaling,
        is at most ``exact_tol`` times the weighted variance of ``y`` (the estimator's
        ``exact_fit_tol``). On the subsample the screen is looser (``SAMPLE_TOL``, or 100
        times ``exact_tol``), so that rounding does not hide an exact formula.
    n_best : best non-exact formulas returned per size (0 for none); at most as many exact
        ones (at least one) per size.
    constants : the literal constants formulas may use inside (the outer offset and scale
        come from linear scaling).
    n_sample : rows formulas are built and screened on (the rows holding the smallest and
        largest value of each feature and of ``y``, and a random draw); all rows when there
        are fewer. Two formulas that agree on these rows to about 1e-10 count as one.
    stop_at_exact : stop after the first size where an exact formula was found.
    random_state : seed of the subsample draw.
    max_candidates : stop once this many candidate formulas were built (``stop_reason``
        ``"budget"``); unlike ``time_limit``, the same on every machine, so that a caller's
        budget in evaluations gives the same walk everywhere. None: no bound.

    Returns
    -------
    EnumerationResult
        The table of distinct formulas is bounded (256 MiB of values): a ``max_size`` that
        outgrows it stops after the size that filled it (``stop_reason == "memory"``).

    Examples
    --------
    >>> import numpy as np
    >>> from eurisko.expr import to_string
    >>> z = np.linspace(0.1, 5, 200)
    >>> res = enumerate_formulas(z[:, None], 2 * z / (np.exp(z) - 1))
    >>> to_string(res.exact[0].program), res.stop_reason
    ('2*(x0/(exp(x0) - 1))', 'exact')
    >>> [s.size for s in res.sizes], [s.n_distinct for s in res.sizes[:3]]
    ([1, 2, 3, 4, 5, 6], [1, 7, 43])
    """
    return enumerate_targets(X, [y], w, operators, max_size, time_limit, exact_tol, n_best,
                             constants, n_sample, stop_at_exact, random_state,
                             max_candidates=max_candidates)[0]


def enumerate_targets(
    X: Any,
    targets: Any,
    w: Any = None,
    operators: Sequence[str] | str | None = None,
    max_size: int | None = None,
    time_limit: float | None = None,
    exact_tol: float = 1e-14,
    n_best: int = 3,
    constants: Sequence[float] = (1.0, 2.0),
    n_sample: int = 32,
    stop_at_exact: bool = True,
    random_state: int | None = 0,
    stop_with_first: bool = False,
    max_candidates: int | None = None,
) -> list[EnumerationResult]:
    """`enumerate_formulas` for several targets in one walk: one `EnumerationResult` each.

    Building the formulas is the walk's cost; scoring one against another target is one
    more column in a matrix product. So ``y``, ``y**2``, ``log(y)`` ... (AI Feynman's output
    transforms) are searched for the price of about one. ``targets`` is a sequence of
    ``(n_rows,)`` arrays or an ``(n_rows, n_targets)`` array; the other parameters are
    `enumerate_formulas`' and apply to every target (``exact_tol`` relative to each target's
    own variance). The subsample holds the extremes of every target. Each target's result
    is the one `enumerate_formulas` gives on it with that subsample: with ``stop_at_exact``
    a target stops collecting after its first size with an exact formula (its ``sizes`` end
    there) while the walk goes on for the others; with ``stop_with_first`` too, the first
    target's first exact size ends the walk for every target (``stop_reason`` ``"exact"`` for
    all): for a caller whose question is the first target and who asks the others only when
    it has no small answer (an exact formula of a transform can be smaller than the target's
    own and still read worse: ``1/sqrt(1/z^2 - 1)`` for ``z/sqrt(1 - z^2)``).
    """
    X, Y, w = _check_data(X, targets, w, many=True)
    ops = resolve_operators(operators)
    n_features = X.shape[1]
    max_size = check_int(max_size, "max_size", low=1, high=30, none_ok=True, what="nodes",
                         hint="formulas beyond 8 nodes take long unless there is one feature")
    if max_size is None:
        max_size = DEFAULT_MAX_SIZE.get(n_features, 6)
    time_limit = check_number(time_limit, "time_limit", low=0, low_open=True, none_ok=True,
                              what="seconds")
    exact_tol = check_number(exact_tol, "exact_tol", low=0, what="relative loss")
    n_best = check_int(n_best, "n_best", low=0, what="formulas per size")
    n_sample = check_int(n_sample, "n_sample", low=3, what="rows")
    stop_at_exact = check_bool(stop_at_exact, "stop_at_exact")
    random_state = check_int(random_state, "random_state", low=0, none_ok=True)
    stop_with_first = check_bool(stop_with_first, "stop_with_first")
    max_candidates = check_int(max_candidates, "max_candidates", low=1, none_ok=True,
                               what="formulas")
    consts = _check_constants(constants)

    t0 = time.monotonic()
    deadline = None if time_limit is None else t0 + time_limit
    out: list[EnumerationResult | None] = [None] * Y.shape[1]
    for j, y in enumerate(Y.T):
        if _weighted_var(y, w) == 0.0:  # y is constant: nothing to enumerate
            c = float(np.average(y, weights=w))
            p = Program(np.array([CONST]), np.array([0]), np.array([c]))
            out[j] = EnumerationResult([Found(p, 0.0, (c, 0.0))], [], [], "exact",
                                       time.monotonic() - t0, 0)
    todo = [j for j, r in enumerate(out) if r is None]
    if todo and stop_with_first and stop_at_exact and out[0] is not None:
        for j in todo:  # a constant first target is an exact law: no walk for the others
            out[j] = EnumerationResult([], [], [], "exact", time.monotonic() - t0, 0)
        todo = []
    if not todo:
        return out  # type: ignore[return-value]
    rows = _sample_rows(X, Y[:, todo], w, n_sample, random_state)
    walked = _enumerate(
        _Table(X[rows], consts, ops), _Scorer(Y[rows][:, todo], w[rows]),
        [Dataset.from_arrays(X, Y[:, j], w) for j in todo], ops, max_size, deadline,
        exact_tol, n_best, stop_at_exact, stop_with_first and todo[0] == 0, t0, max_candidates)
    for j, (exact, best, free, stats, stop_reason, seconds) in zip(todo, walked,
                                                                  strict=True):
        # exact losses are rounding noise: among equals, fewer minus signs read better
        exact = _unique(sorted(exact, key=lambda f: (f.program.complexity(),
                                                     int((f.program.consts < 0).sum()),
                                                     f.loss)))
        exact_keys = {canonical_key(f.program) for f in exact}
        best = [f for f in _unique(sorted(best, key=lambda f: (f.program.complexity(),
                                                               f.loss)))
                if canonical_key(f.program) not in exact_keys]
        free = [f for f in _unique(sorted(free, key=lambda f: (f.program.complexity(),
                                                               f.loss)))
                if canonical_key(f.program) not in exact_keys]
        out[j] = EnumerationResult(exact, _distinct_losses(best), stats, stop_reason, seconds,
                                   len(rows), free)
    return out  # type: ignore[return-value]


def _enumerate(table: _Table, scorer: _Scorer, data: list[Dataset], ops: tuple[str, ...],
               max_size: int, deadline: float | None, exact_tol: float, n_best: int,
               stop_at_exact: bool, stop_with_first: bool, t0: float,
               max_candidates: int | None = None
               ) -> list[tuple[list[Found], list[Found], list[Found], list[SizeStats], str,
                               float]]:
    """Size by size: build, screen on the subsample, verify on all rows; per target
    ``(exact, best, free, sizes, stop_reason, seconds)``."""
    keep = max(4 * n_best, 8)
    sample_tol = max(SAMPLE_TOL, 100.0 * exact_tol)
    backend = NumpyBackend()
    k = len(data)
    exact: list[list[Found]] = [[] for _ in range(k)]
    best: list[list[Found]] = [[] for _ in range(k)]
    free: list[list[Found]] = [[] for _ in range(k)]
    stats: list[SizeStats] = []
    ended: list[tuple[int, str, float] | None] = [None] * k  # (sizes, reason, seconds)
    stop_reason = "max_size"
    n_built = 0
    with np.errstate(all="ignore"):
        for size in range(1, max_size + 1):
            ts = time.monotonic()
            live = [j for j in range(k) if ended[j] is None]
            if not live:
                break
            if deadline is not None and ts > deadline:
                stop_reason = "time_limit"
                break
            picked = [_Picked(keep) for _ in range(k)]
            unscaled = [_Picked(keep) for _ in range(k)]
            hits = [_Picked(keep) for _ in range(k)]
            n_cand = n_new = 0
            complete = True
            for chunk in table.candidates(size, last=size == max_size):
                if deadline is not None and time.monotonic() > deadline:
                    complete, stop_reason = False, "time_limit"
                    break
                if max_candidates is not None and n_built + len(chunk.left) > max_candidates:
                    complete, stop_reason = False, "budget"
                    break
                n_built += len(chunk.left)
                n_cand += len(chunk.left)
                nmse, rms, ok = scorer.score(chunk.vals)
                if chunk.mag is not None:  # f - g where f ~ g: rounding noise around zero
                    ok &= rms > _FLAT * chunk.mag
                idx = np.flatnonzero(ok)
                store = 1 < size < max_size  # the leaves are in the table from the start
                if store and table.n_bytes >= _MAX_STORED_BYTES:
                    store, stop_reason = False, "memory"
                if store:
                    idx = idx[table.store(size, chunk, idx, rms)]
                n_new += len(idx)
                if len(idx):
                    left, right, sub = chunk.left[idx], chunk.right[idx], nmse[:, idx]
                    for j in live:
                        s = sub[j]
                        picked[j].offer(s, chunk.code, left, right)
                        unscaled[j].offer(scorer.plain(j, idx), chunk.code, left, right)
                        hit = s <= sample_tol
                        if hit.any():
                            hits[j].offer(s[hit], chunk.code, left[hit], right[hit])
            table.finish(size)
            stats.append(SizeStats(size, n_cand, n_new, time.monotonic() - ts, complete))
            for j in live:
                exact_loss = exact_tol * _weighted_var(data[j].y, data[j].w)
                found = _verified(table, hits[j], data[j], backend, exact_loss, True, ops,
                                  max(n_best, 1))
                exact[j].extend(found)
                best[j].extend(_verified(table, picked[j], data[j], backend, exact_loss, False,
                                         ops, n_best))
                free[j].extend(_verified_free(table, unscaled[j], data[j], backend, exact_loss,
                                              ops, n_best))
                if stop_at_exact and found and stop_reason == "max_size":
                    ended[j] = (len(stats), "exact", time.monotonic() - t0)
            if stop_reason != "max_size":
                break
            if stop_with_first and ended[0] is not None:
                stop_reason = "exact"
                break
    out = []
    for j in range(k):
        n, reason, seconds = ended[j] or (len(stats), stop_reason, time.monotonic() - t0)
        out.append((exact[j], best[j], free[j], stats[:n], reason, seconds))
    return out


# --- input -------------------------------------------------------------------------------

def _check_data(X: Any, y: Any, w: Any, many: bool = False
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Arrays of float64; with ``many``, ``y`` is a list of targets or an (n_rows, n_targets)
    array and comes back as the latter."""
    what = "targets" if many else "y"
    try:
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"X and {what} must be numeric arrays ({err})") from None
    if X.ndim != 2 or X.shape[1] < 1:
        raise ValueError(f"X must be 2-D (n_rows, n_features) with at least one feature, got "
                         f"shape {X.shape}; for one feature pass x.reshape(-1, 1)")
    if many:
        if y.ndim == 2 and y.shape[0] != X.shape[0] and y.shape[1] == X.shape[0]:
            y = y.T  # a list of targets
        if y.ndim != 2 or y.shape[0] != X.shape[0] or y.shape[1] < 1:
            raise ValueError(f"targets must be a list of arrays of one value per row of X "
                             f"({X.shape[0]}) or an (n_rows, n_targets) array, got shape "
                             f"{y.shape}")
    elif y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise ValueError(f"y must be 1-D with one value per row of X ({X.shape[0]}), got "
                         f"shape {y.shape}")
    if X.shape[0] < 3:
        raise ValueError(f"X must have at least 3 rows to tell formulas apart, got {X.shape[0]}")
    if not (np.isfinite(X).all() and np.isfinite(y).all()):
        raise ValueError(f"X and {what} must be finite; drop the rows holding NaN or infinity")
    if w is None:
        w = np.ones(X.shape[0])
    else:
        try:
            w = np.asarray(w, dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise ValueError(f"w must be a numeric array ({err})") from None
        if w.shape != (X.shape[0],):
            raise ValueError(f"w must have one weight per row ({X.shape[0]}), got shape "
                             f"{w.shape}")
        if not np.isfinite(w).all() or (w < 0).any() or not w.sum() > 0:
            raise ValueError("w must be finite and non-negative with a positive sum")
    return X, y, w


def _check_constants(constants: Any) -> tuple[float, ...]:
    check_instance(constants, "constants", (list, tuple, np.ndarray),
                   expected="a sequence of numbers", hint="e.g. (1.0, 2.0)")
    out: list[float] = []
    for i, c in enumerate(constants):
        v = check_number(c, f"constants[{i}]")
        if v not in out:
            out.append(v)
    return tuple(out)


def _weighted_var(y: np.ndarray, w: np.ndarray) -> float:
    return float(np.average((y - np.average(y, weights=w)) ** 2, weights=w))


def _sample_rows(X: np.ndarray, Y: np.ndarray, w: np.ndarray, n_sample: int, seed: int | None
                 ) -> np.ndarray:
    """Rows to build formulas on: the extremes of each feature and of each target (columns
    of ``Y``), then a random draw (rows of positive weight only)."""
    pos = np.flatnonzero(w > 0)
    if len(pos) <= n_sample:
        return pos
    Xy = np.column_stack([X[pos], Y[pos]])
    chosen = dict.fromkeys(pos[np.concatenate([Xy.argmin(axis=0), Xy.argmax(axis=0)])].tolist())
    rng = np.random.default_rng(seed)
    for r in rng.permutation(pos).tolist():
        if len(chosen) >= n_sample:
            break
        chosen.setdefault(r)
    return np.sort(np.fromiter(chosen, dtype=np.int64))


# --- the table of distinct formulas -------------------------------------------------------

@dataclass(eq=False)
class _Chunk:
    """Candidate formulas ``code(left, right)`` (``right`` -1 for a unary operator), children
    by id, with their values on the subsample; ``mag``, for ``add``/``sub``, the sum of the
    operands' sizes (a result far below it is cancellation noise)."""

    code: int
    left: np.ndarray
    right: np.ndarray
    vals: np.ndarray
    mag: np.ndarray | None = None


@dataclass(eq=False)
class _Block:
    """Entries of one size, stored as the chunks they came in (ids ``start ..``)."""

    start: int
    code: np.ndarray
    left: np.ndarray
    right: np.ndarray
    vals: np.ndarray
    rms: np.ndarray


class _Table:
    """Formulas by size, one per distinct value vector on the subsample.

    Each entry has a global id, numbered on through the sizes, and a node:
    ``(VAR, column, -1)``, ``(CONST, index into consts, -1)``, ``(op, child, -1)`` or
    ``(op, left, right)`` with children given by id.
    """

    def __init__(self, Xs: np.ndarray, consts: tuple[float, ...], ops: tuple[str, ...]):
        m, k = Xs.shape
        self.m, self.n_vars, self.consts = m, k, consts
        self.unary = [(op_code(n), get_operator(n)) for n in ops if get_operator(n).arity == 1]
        self.binary = [(op_code(n), get_operator(n)) for n in ops if get_operator(n).arity == 2]
        # built-in arithmetic: which operators commute, cancel, or are affine given a constant
        known = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide,
                 "neg": np.negative}
        self.builtin = {op_code(n): n for n in ops if get_operator(n).numpy is known.get(n)}
        self.rng_keys = np.random.default_rng(12345).integers(
            1, 2**62, size=m, dtype=np.int64) | 1
        self.seen = _HashSet()
        self.n_bytes = 0
        leaves = np.vstack([Xs.T, np.tile(np.array(consts, dtype=np.float64)[:, None], (1, m))])
        n1 = len(leaves)
        first = _Block(0, np.array([VAR] * k + [CONST] * len(consts), dtype=np.int16),
                       np.array(list(range(k)) + list(range(len(consts))), dtype=np.int64),
                       np.full(n1, -1, dtype=np.int64), leaves,
                       np.sqrt(np.mean(leaves * leaves, axis=1)))
        self.blocks: list[list[_Block]] = [[], [first]]  # by size; index 0 unused
        self.flat = [first]  # every block, in the order of their ids
        self.starts = [0]  # ... and the first id of each
        self.next_id = n1
        self.seen.add(self._hash(leaves))

    def candidates(self, size: int, last: bool) -> Iterator[_Chunk]:
        """The formulas of ``size`` nodes, in chunks.

        At the last size, formulas affine in a smaller one (``-f``, ``f + c``, ``c*f``,
        ``f/c``) are skipped: linear scaling rates them as that smaller formula.
        """
        if size == 1:
            k = self.n_vars
            yield _Chunk(VAR, np.arange(k, dtype=np.int64), np.full(k, -1, dtype=np.int64),
                         self.blocks[1][0].vals[:k])
            return
        for code, op in self.unary:
            if last and self.builtin.get(code) == "neg":
                continue
            for blk in self.blocks[size - 1]:
                for a in range(0, len(blk.code), _CHUNK):
                    v = np.asarray(op.numpy(blk.vals[a:a + _CHUNK]), dtype=np.float64)
                    ids = np.arange(blk.start + a, blk.start + a + len(v), dtype=np.int64)
                    yield _Chunk(code, ids, np.full(len(v), -1, dtype=np.int64), v)
        for code, op in self.binary:
            name = self.builtin.get(code)
            for i in range(1, size - 1):
                j = size - 1 - i
                if name in ("add", "mul") and i > j:
                    continue
                for A in self._operands(i, last and name in ("add", "sub", "mul")):
                    for B in self._operands(j, last and name in ("add", "sub", "mul", "div")):
                        yield from self._pairs(code, op, A, B, name in ("add", "mul") and i == j,
                                               name in ("add", "sub"))

    def _operands(self, size: int, no_consts: bool) -> Iterator[_Block]:
        """The blocks of ``size``, cut to at most ``_CHUNK`` rows (constants left out where
        ``no_consts``)."""
        for blk in self.blocks[size]:
            n = self.n_vars if size == 1 and no_consts else len(blk.code)
            for a in range(0, n, _CHUNK):
                b = min(n, a + _CHUNK)
                yield _Block(blk.start + a, blk.code[a:b], blk.left[a:b], blk.right[a:b],
                             blk.vals[a:b], blk.rms[a:b])

    def _pairs(self, code: int, op, A: _Block, B: _Block, triangle: bool, cancelling: bool
               ) -> Iterator[_Chunk]:
        """``op`` on every pair of an entry of ``A`` and one of ``B``, in chunks; pairs with
        ``left > right`` dropped where ``triangle`` (the operator commutes)."""
        nb = len(B.code)
        if not nb or not len(A.code):
            return
        ib = np.arange(B.start, B.start + nb, dtype=np.int64)
        step = max(1, _CHUNK // nb)
        for a in range(0, len(A.code), step):
            la0 = np.arange(A.start + a, A.start + min(a + step, len(A.code)), dtype=np.int64)
            if triangle and la0[0] > ib[-1]:
                break
            Av = A.vals[a:a + step]
            v = np.asarray(op.numpy(Av[:, None, :], B.vals[None, :, :]), dtype=np.float64)
            v = v.reshape(-1, self.m)
            la, rb = np.repeat(la0, nb), np.tile(ib, len(la0))
            mag = (A.rms[a:a + step, None] + B.rms[None, :]).reshape(-1) if cancelling else None
            if triangle:
                keep = rb >= la
                v, la, rb = v[keep], la[keep], rb[keep]
                mag = None if mag is None else mag[keep]
            yield _Chunk(code, la, rb, v, mag)

    def _hash(self, vals: np.ndarray) -> np.ndarray:
        """A 64-bit key of each row, equal for rows that agree to about 2^-32 relative."""
        mant, expo = np.frexp(vals)
        q = np.rint(mant * _QUANT).astype(np.int64) + (expo.astype(np.int64) << 34)
        return (q * self.rng_keys).sum(axis=1)

    def store(self, size: int, chunk: _Chunk, idx: np.ndarray, rms: np.ndarray) -> np.ndarray:
        """Keep the rows ``idx`` of ``chunk`` whose values are new, as entries of ``size``;
        returns their positions in ``idx``."""
        if not len(idx):
            return idx
        new = self.seen.add(self._hash(chunk.vals[idx]))
        rows = idx[new]
        if len(rows):
            if len(self.blocks) <= size:
                self.blocks.append([])
            blk = _Block(self.next_id, np.full(len(rows), chunk.code, dtype=np.int16),
                         chunk.left[rows], chunk.right[rows], chunk.vals[rows], rms[rows])
            self.blocks[size].append(blk)
            self.starts.append(self.next_id)
            self.flat.append(blk)
            self.next_id += len(rows)
            self.n_bytes += blk.vals.nbytes
        return new

    def finish(self, size: int) -> None:
        """Close ``size``: its entries (ids in a row) become one block."""
        while len(self.blocks) <= size:
            self.blocks.append([])
        parts = self.blocks[size]
        if len(parts) > 1:
            blk = _Block(parts[0].start, *(np.concatenate([getattr(b, f) for b in parts])
                                           for f in ("code", "left", "right", "vals", "rms")))
            self.blocks[size] = [blk]
            n = len(self.flat) - len(parts)
            self.flat[n:], self.starts[n:] = [blk], [blk.start]

    def node(self, gid: int) -> tuple[int, int, int]:
        """``(code, left, right)`` of the entry with id ``gid``."""
        blk = self.flat[bisect.bisect_right(self.starts, gid) - 1]
        r = gid - blk.start
        return int(blk.code[r]), int(blk.left[r]), int(blk.right[r])

    def program(self, code: int, left: int, right: int) -> Program:
        """The program of the formula ``code(left, right)`` (children by id)."""
        codes: list[int] = []
        args: list[int] = []
        consts: list[float] = []

        def walk(c: int, a: int, b: int) -> None:
            if c == VAR:
                codes.append(VAR)
                args.append(a)
            elif c == CONST:
                codes.append(CONST)
                args.append(len(consts))
                consts.append(self.consts[a])
            else:
                walk(*self.node(a))
                if b >= 0:
                    walk(*self.node(b))
                codes.append(c)
                args.append(0)

        walk(code, left, right)
        return Program(np.array(codes), np.array(args), np.array(consts))


class _HashSet:
    """A set of 64-bit keys as a few sorted arrays of falling lengths (merged like the
    digits of a binary counter): 8 bytes a key, membership by binary search."""

    def __init__(self) -> None:
        self.levels: list[np.ndarray] = []

    def add(self, h: np.ndarray) -> np.ndarray:
        """Indices of the first occurrence of each key of ``h`` not seen before (in order);
        those keys are added."""
        keys, first = np.unique(h, return_index=True)
        new = np.ones(len(keys), dtype=bool)
        for level in self.levels:
            pos = np.minimum(np.searchsorted(level, keys), len(level) - 1)
            new &= level[pos] != keys
        keys = keys[new]
        while self.levels and len(self.levels[-1]) <= len(keys):
            # two sorted runs of distinct keys: timsort merges them in linear time
            keys = np.sort(np.concatenate([self.levels.pop(), keys]), kind="stable")
        if len(keys):
            self.levels.append(keys)
        return np.sort(first[new])


# --- scoring ------------------------------------------------------------------------------

class _Scorer:
    """Normalised loss ``1 - r^2`` of ``y ~ a + b*f`` for stacks of value vectors against
    each target (a column of ``Y``), the normalised loss of ``y ~ f`` as it is, their root
    mean square, and whether they can be scored at all: not where ``f`` is not finite,
    nearly constant (spread below ``_FLAT`` of its size) or beyond ``_BIG`` (the loss is inf
    there). The targets share everything but one matrix product."""

    def __init__(self, Y: np.ndarray, w: np.ndarray):
        self.wn = w / w.sum()
        self.ybar = self.wn @ Y
        Yc = Y - self.ybar[None, :]
        self.wyc = np.ascontiguousarray((self.wn[:, None] * Yc).T)  # (n_targets, rows)
        syy = np.einsum("ij,ij->i", self.wyc, Yc.T)
        self.flat = ~(syy > 0)  # a target constant on the subsample: every formula fits it
        self.inv_syy = np.where(self.flat, 0.0, 1.0 / np.where(self.flat, 1.0, syy))
        self.syy = syy

    def score(self, F: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(nmse (n_targets, n), rms (n,), ok (n,))`` for the ``n`` rows of ``F``; `plain`
        then reads the unscaled loss of any of them."""
        mean = F @ self.wn
        fc = F - mean[:, None]
        var = np.einsum("ij,ij,j->i", fc, fc, self.wn)
        ms = mean * mean + var
        ok = (var > _FLAT * _FLAT * ms) & (ms < _BIG * _BIG)  # False where NaN
        cov = np.empty((len(self.wyc), len(F)))
        for j, wyc in enumerate(self.wyc):  # the covariances, finite wherever ok (one
            np.dot(fc, wyc, out=cov[j])  # product per target: 8x faster than one gemm here)
        self._last = (mean, var, cov)
        nmse = cov * cov
        nmse *= self.inv_syy[:, None]
        nmse /= var
        np.subtract(1.0, nmse, out=nmse)
        np.maximum(nmse, 0.0, out=nmse)
        if self.flat.any():
            nmse[self.flat] = 0.0
        nmse[:, ~ok] = np.inf
        return nmse, np.sqrt(ms), ok

    def plain(self, j: int, idx: np.ndarray) -> np.ndarray:
        """The mean squared error of ``f`` itself against target ``j``, over its variance,
        for the rows ``idx`` of the last `score` (scorable ones): ``var(f) - 2 cov(f, y) +
        var(y) + (mean f - mean y)^2``."""
        mean, var, cov = self._last
        shift = mean[idx] - self.ybar[j]
        return (var[idx] - 2.0 * cov[j, idx] + self.syy[j] + shift * shift) * self.inv_syy[j]


class _Picked:
    """The ``keep`` formulas of lowest loss offered so far, as ``(code, left, right)``."""

    def __init__(self, keep: int):
        self.keep = keep
        self.nmse = np.zeros(0)
        self.code = np.zeros(0, np.int16)
        self.left = np.zeros(0, np.int64)
        self.right = np.zeros(0, np.int64)
        self.bound = np.inf  # the keep-th lowest loss at the last trim: no worse one can stay

    def offer(self, nmse: np.ndarray, code: int, left: np.ndarray, right: np.ndarray) -> None:
        if self.bound < np.inf:
            below = nmse < self.bound
            if not below.all():
                nmse, left, right = nmse[below], left[below], right[below]
        if not len(nmse):
            return
        if len(nmse) > self.keep:
            idx = np.argpartition(nmse, self.keep)[:self.keep]
            nmse, left, right = nmse[idx], left[idx], right[idx]
        self.nmse = np.concatenate([self.nmse, nmse])
        self.code = np.concatenate([self.code, np.full(len(nmse), code, np.int16)])
        self.left = np.concatenate([self.left, left])
        self.right = np.concatenate([self.right, right])
        if len(self.nmse) > 4 * self.keep:
            self._trim()

    def _trim(self) -> None:
        idx = np.argsort(self.nmse, kind="stable")[:self.keep]
        self.nmse, self.code = self.nmse[idx], self.code[idx]
        self.left, self.right = self.left[idx], self.right[idx]
        if len(self.nmse) == self.keep:
            self.bound = float(self.nmse[-1])

    def items(self) -> list[tuple[float, int, int, int]]:
        """Lowest loss first; finite losses only."""
        self._trim()
        return [(float(s), int(c), int(a), int(b)) for s, c, a, b in
                zip(self.nmse, self.code, self.left, self.right, strict=True) if np.isfinite(s)]


def _verified(table: _Table, picked: _Picked, data: Dataset, backend: NumpyBackend,
              exact_loss: float, exact: bool, ops: tuple[str, ...], n: int) -> list[Found]:
    """At most ``n`` of the picked formulas, scored on all rows with the scaling folded in:
    those whose scaled loss is at most ``exact_loss`` when ``exact``, else the others."""
    items = picked.items()
    if not exact:  # one formula per loss: f, 2*f and f + 1 score alike
        items = [it for i, it in enumerate(items)
                 if i == 0 or not abs(it[0] - items[i - 1][0]) <= 1e-6 * it[0]]
    if not items or n == 0:
        return []
    programs = [table.program(c, a, b) for _, c, a, b in items]
    res = backend.losses(ProgramBatch.from_programs(programs), data, linear_scaling=True)
    y_var = _weighted_var(data.y, data.w)
    out: list[Found] = []
    for p, loss, (a, b) in zip(programs, res.loss, res.scale, strict=True):
        if not np.isfinite(loss) or (loss <= exact_loss) != exact:
            continue
        out.append(_folded(p, float(a), float(b), float(loss), data, backend, ops, y_var))
        if len(out) >= n:
            break
    return out


def _verified_free(table: _Table, picked: _Picked, data: Dataset, backend: NumpyBackend,
                   exact_loss: float, ops: tuple[str, ...], n: int) -> list[Found]:
    """At most ``n`` of the picked formulas as they are (no scaling), scored on all rows; the
    exact ones are left to `_verified`, which finds them scaled."""
    items = picked.items()
    if not items or n == 0:
        return []
    programs = [table.program(c, a, b) for _, c, a, b in items]
    res = backend.losses(ProgramBatch.from_programs(programs), data, linear_scaling=False)
    order = [i for i in np.argsort(res.loss, kind="stable")
             if np.isfinite(res.loss[i]) and res.loss[i] > exact_loss][:n]
    return [Found(simplify(programs[i], ops), float(res.loss[i]), (0.0, 1.0)) for i in order]


def _folded(p: Program, a: float, b: float, scaled_loss: float, data: Dataset,
            backend: NumpyBackend, ops: tuple[str, ...], y_var: float) -> Found:
    """``a + b*p`` simplified, dropping ``a`` or ``b`` and snapping constants to short
    fractions (``3.6999999999999997`` to ``3.7``) where that is no worse."""
    variants = [simplify(q, ops) for q in fold_scaling(p, a, b)]
    variants += [simplify(s, ops) for q in variants if (s := snapped(q)) is not None]
    losses = backend.losses(ProgramBatch.from_programs(variants), data, False).loss
    full = min(float(losses[3]), scaled_loss)
    ok = [i for i, v in enumerate(losses) if v <= full * (1 + 1e-6) + 1e-15 * y_var]
    i = min(ok, key=lambda i: (variants[i].complexity(), i < 4, losses[i])) if ok else 3
    return Found(variants[i], float(losses[i]), (a, b))


def _distinct_losses(found: list[Found]) -> list[Found]:
    """The first of each loss, to 1e-4 relative: ``f`` and ``log(sqrt(f))`` are alike under
    scaling, and so, to rounding, are ``z^2`` and ``log(log(exp(exp(2 - z^2))))``."""
    out: list[Found] = []
    for f in found:
        if not any(abs(f.loss - g.loss) <= 1e-4 * g.loss for g in out):
            out.append(f)
    return out


def _unique(found: list[Found]) -> list[Found]:
    """The first of each formula (by canonical key)."""
    out, keys = [], set()
    for f in found:
        k = canonical_key(f.program)
        if k not in keys:
            keys.add(k)
            out.append(f)
    return out
