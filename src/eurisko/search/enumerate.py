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
simplified, as the Pareto front shows its formulas.
"""

from __future__ import annotations

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

__all__ = ["EnumerationResult", "Found", "SizeStats", "enumerate_formulas"]

# The largest size enumerated by default, by number of variables: each takes about a second
# on one core with the default operators (see docs/reference/enumerate.md for the counts).
DEFAULT_MAX_SIZE = {1: 8, 2: 7, 3: 7}
SAMPLE_TOL = 1e-12  # normalised loss on the subsample below which a formula is verified
_CHUNK = 8192  # candidate formulas built per numpy operation (their values stay in cache)
_BIG = 1e100  # values beyond this are dropped (their squares overflow in the scoring)
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
    sizes : one `SizeStats` per size enumerated, in order.
    stop_reason : why the enumeration stopped: ``"max_size"`` (all sizes done),
        ``"exact"`` (``stop_at_exact`` and a size held an exact formula), ``"time_limit"``
        (cut short: see ``timed_out``) or ``"memory"`` (the table of distinct formulas
        outgrew its bound, so larger formulas could not all be built).
    seconds : wall-clock time of the whole call.
    n_sample : rows of the subsample the formulas were built and screened on.
    """

    exact: list[Found]
    best: list[Found]
    sizes: list[SizeStats] = field(default_factory=list)
    stop_reason: str = "max_size"
    seconds: float = 0.0
    n_sample: int = 0

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
    n_sample: int = 48,
    stop_at_exact: bool = True,
    random_state: int | None = 0,
) -> EnumerationResult:
    """Every formula of up to ``max_size`` nodes over the columns of ``X``; the exact ones.

    Parameters
    ----------
    X : (n_rows, n_features) array, few features (1 to 3: the space grows fast with each).
    y : (n_rows,) target.
    w : (n_rows,) non-negative weights with a positive sum, or None for equal weights.
    operators : operator names (default: eurisko's default set); only arity 1 and 2.
    max_size : largest formula enumerated, in nodes, before the scaling ``a + b*f`` is
        folded in; None picks it by the number of features (8 for one, 7 for two or three,
        6 beyond: about a second on one core with the default operators).
    time_limit : seconds; the enumeration goes size by size and stops when they are spent,
        keeping what it found (``timed_out`` tells). None: no limit.
    exact_tol : a formula is exact when its weighted MSE on all rows, after linear scaling,
        is at most ``exact_tol`` times the weighted variance of ``y``.
    n_best : best non-exact formulas kept per size (0 for none); also the most exact
        formulas verified per size.
    constants : the literal constants formulas may use inside (the outer offset and scale
        come from linear scaling).
    n_sample : rows formulas are built and screened on (the rows holding each feature's
        smallest and largest value, and a random draw); all rows when there are fewer.
    stop_at_exact : stop after the first size where an exact formula was found.
    random_state : seed of the subsample draw.

    Returns
    -------
    EnumerationResult

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
    X, y, w = _check_data(X, y, w)
    ops = resolve_operators(operators)
    for name in ops:
        if get_operator(name).arity not in (1, 2):  # pragma: no cover - the registry has 1, 2
            raise ValueError(f"operator {name!r} must take one or two arguments")
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
    consts = _check_constants(constants)

    t0 = time.monotonic()
    deadline = None if time_limit is None else t0 + time_limit
    y_var = _weighted_var(y, w)
    if y_var == 0.0:  # y is constant: nothing to enumerate
        c = float(np.average(y, weights=w))
        p = Program(np.array([CONST]), np.array([0]), np.array([c]))
        return EnumerationResult([Found(p, 0.0, (c, 0.0))], [], [], "exact",
                                 time.monotonic() - t0, 0)

    rows = _sample_rows(X, w, n_sample, random_state)
    table = _Table(X[rows], consts, ops)
    scorer = _Scorer(y[rows], w[rows])
    keep = max(4 * n_best, 8)
    sample_tol = max(SAMPLE_TOL, 100.0 * exact_tol)
    data = Dataset.from_arrays(X, y, w)
    backend = NumpyBackend()

    exact: list[Found] = []
    best: list[Found] = []
    stats: list[SizeStats] = []
    stop_reason = "max_size"
    with np.errstate(all="ignore"):
        for size in range(1, max_size + 1):
            ts = time.monotonic()
            picked, hits = _Picked(keep), _Picked(keep)
            n_cand = n_new = 0
            complete = True
            for code, left, right, vals in table.candidates(size, last=size == max_size):
                n_cand += len(left)
                store = size < max_size and table.n_stored * table.m * 8 < _MAX_STORED_BYTES
                if size < max_size and not store:
                    stop_reason = "memory"
                left, right, vals = table.add(size, code, left, right, vals, store)
                n_new += len(left)
                if len(left):
                    nmse = scorer.nmse(vals)
                    picked.offer(nmse, code, left, right)
                    ok = nmse <= sample_tol
                    if ok.any():
                        hits.offer(nmse[ok], code, left[ok], right[ok])
                if deadline is not None and time.monotonic() > deadline:
                    complete, stop_reason = False, "time_limit"
                    break
            table.finish(size)
            stats.append(SizeStats(size, n_cand, n_new, time.monotonic() - ts, complete))
            exact_loss = y_var * exact_tol
            found = _verified(table, hits, data, backend, exact_loss, True, ops, max(n_best, 1))
            exact.extend(found)
            best.extend(_verified(table, picked, data, backend, exact_loss, False, ops, n_best))
            if stop_reason != "max_size":
                break
            if stop_at_exact and found:
                stop_reason = "exact"
                break

    # exact losses are rounding noise: among equals, fewer minus signs read better
    exact = _unique(sorted(exact, key=lambda f: (f.program.complexity(),
                                                 int((f.program.consts < 0).sum()), f.loss)))
    exact_keys = {canonical_key(f.program) for f in exact}
    best = [f for f in _unique(sorted(best, key=lambda f: (f.program.complexity(), f.loss)))
            if canonical_key(f.program) not in exact_keys]
    best = _distinct_losses(best)
    return EnumerationResult(exact, best, stats, stop_reason, time.monotonic() - t0, len(rows))


# --- input -------------------------------------------------------------------------------

def _check_data(X: Any, y: Any, w: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    try:
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"X and y must be numeric arrays ({err})") from None
    if X.ndim != 2 or X.shape[1] < 1:
        raise ValueError(f"X must be 2-D (n_rows, n_features) with at least one feature, got "
                         f"shape {X.shape}; for one feature pass x.reshape(-1, 1)")
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise ValueError(f"y must be 1-D with one value per row of X ({X.shape[0]}), got "
                         f"shape {y.shape}")
    if X.shape[0] < 3:
        raise ValueError(f"X must have at least 3 rows to tell formulas apart, got {X.shape[0]}")
    if not (np.isfinite(X).all() and np.isfinite(y).all()):
        raise ValueError("X and y must be finite; drop the rows holding NaN or infinity")
    if w is None:
        w = np.ones_like(y)
    else:
        try:
            w = np.asarray(w, dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise ValueError(f"w must be a numeric array ({err})") from None
        if w.shape != y.shape:
            raise ValueError(f"w must have one weight per row ({y.shape[0]}), got shape "
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


def _sample_rows(X: np.ndarray, w: np.ndarray, n_sample: int, seed: int | None) -> np.ndarray:
    """Rows to build formulas on: each feature's extremes, then a random draw (weight > 0)."""
    pos = np.flatnonzero(w > 0)
    if len(pos) <= n_sample:
        return pos
    Xp = X[pos]
    chosen = dict.fromkeys(pos[np.concatenate([Xp.argmin(axis=0), Xp.argmax(axis=0)])].tolist())
    rng = np.random.default_rng(seed)
    for r in rng.permutation(pos).tolist():
        if len(chosen) >= n_sample:
            break
        chosen.setdefault(r)
    return np.sort(np.fromiter(chosen, dtype=np.int64))


# --- the table of distinct formulas -------------------------------------------------------

class _Table:
    """Formulas by size, one per distinct value vector on the subsample.

    Each entry has a global id (entries of size ``s`` are ids ``offsets[s] ..``) and a node:
    ``(VAR, column, -1)``, ``(CONST, index into consts, -1)``, ``(op, child, -1)`` or
    ``(op, left, right)`` with children given by id.
    """

    def __init__(self, Xs: np.ndarray, consts: tuple[float, ...], ops: tuple[str, ...]):
        m, k = Xs.shape
        self.m = m
        self.consts = consts
        self.unary = [(op_code(n), get_operator(n)) for n in ops if get_operator(n).arity == 1]
        self.binary = [(op_code(n), get_operator(n)) for n in ops if get_operator(n).arity == 2]
        self.commutative = {op_code(n) for n in ("add", "mul") if n in ops
                            and get_operator(n).numpy in (np.add, np.multiply)}
        self.cancelling = {op_code(n) for n in ("add", "sub") if n in ops
                           and get_operator(n).numpy in (np.add, np.subtract)}
        self.affine = self._affine_ops(ops)
        self.rng_keys = np.random.default_rng(12345).integers(
            1, 2**62, size=m, dtype=np.int64) | 1
        self.seen = _HashSet()
        self.n_stored = 0
        leaves = np.vstack([Xs.T, np.tile(np.array(consts)[:, None], (1, m))])
        self.n_vars = k
        # by size (index 0 unused): the entries' nodes and values; offsets[s] is the first id
        # of size s and ids run on through the sizes
        n1 = k + len(consts)
        self.code = [np.zeros(0, np.int16), np.array([VAR] * k + [CONST] * len(consts),
                                                     dtype=np.int16)]
        self.left = [np.zeros(0, np.int64),
                     np.array(list(range(k)) + list(range(len(consts))), dtype=np.int64)]
        self.right = [np.zeros(0, np.int64), np.full(n1, -1, dtype=np.int64)]
        self.vals = [np.zeros((0, m)), np.ascontiguousarray(leaves)]
        self.offsets = [0, 0, n1]
        self.seen.add(self._hash(leaves))
        self._pending: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    @staticmethod
    def _affine_ops(ops: tuple[str, ...]) -> dict[int, str]:
        """Built-in operators that are affine in one argument when the other is constant."""
        want = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide,
                "neg": np.negative}
        return {op_code(n): n for n in ops if n in want and get_operator(n).numpy is want[n]}

    # A size's entries, in order: leaves (size 1) first, then what `add` accepted.
    def candidates(self, size: int, last: bool
                   ) -> Iterator[tuple[int, np.ndarray, np.ndarray, np.ndarray]]:
        """``(op code, left ids, right ids, values)`` chunks of the formulas of ``size`` nodes.

        At the last size, formulas affine in a smaller one (``-f``, ``f + c``, ``c*f``,
        ``f/c``) are skipped: linear scaling rates them as that smaller formula.
        """
        if size == 1:
            k = self.n_vars
            yield VAR, np.arange(k, dtype=np.int64), np.full(k, -1), self.vals[1][:k]
            return
        for code, op in self.unary:
            if last and self.affine.get(code) == "neg":
                continue
            base = self.offsets[size - 1]
            vals = self.vals[size - 1]
            for a in range(0, len(vals), _CHUNK):
                v = np.asarray(op.numpy(vals[a:a + _CHUNK]), dtype=np.float64)
                ids = np.arange(base + a, base + a + len(v), dtype=np.int64)
                yield code, ids, np.full(len(v), -1, dtype=np.int64), v
        for code, op in self.binary:
            for i in range(1, size - 1):
                j = size - 1 - i
                if code in self.commutative and i > j:
                    continue
                yield from self._pairs(code, op, i, j, last)

    def _pairs(self, code: int, op, i: int, j: int, last: bool):
        A, B = self.vals[i], self.vals[j]
        if not len(A) or not len(B):
            return
        ia = np.arange(self.offsets[i], self.offsets[i] + len(A), dtype=np.int64)
        ib = np.arange(self.offsets[j], self.offsets[j] + len(B), dtype=np.int64)
        nv = self.n_vars
        if last and code in self.affine:  # drop constant operands that make f affine
            name = self.affine[code]
            if i == 1 and name in ("add", "sub", "mul"):
                A, ia = A[:nv], ia[:nv]
            if j == 1 and name in ("add", "sub", "mul", "div"):
                B, ib = B[:nv], ib[:nv]
        triangle = code in self.commutative and i == j
        for b0 in range(0, len(B), _CHUNK):
            yield from self._block(code, op, A, ia, B[b0:b0 + _CHUNK], ib[b0:b0 + _CHUNK],
                                   triangle)

    def _block(self, code: int, op, A: np.ndarray, ia: np.ndarray, B: np.ndarray,
               ib: np.ndarray, triangle: bool):
        """``op`` on every pair of a row of ``A`` and one of ``B``, in chunks (pairs with
        ``left > right`` dropped where ``triangle``: the operator commutes)."""
        step = max(1, _CHUNK // len(B))
        for a in range(0, len(A), step):
            Ablk, la0 = A[a:a + step], ia[a:a + step]
            if triangle:
                if la0[0] > ib[-1]:
                    break
            v = np.asarray(op.numpy(Ablk[:, None, :], B[None, :, :]), dtype=np.float64)
            la = np.repeat(la0, len(B))
            rb = np.tile(ib, len(Ablk))
            v = v.reshape(-1, self.m)
            keep = None
            if triangle:
                keep = rb >= la
                v, la, rb = v[keep], la[keep], rb[keep]
            if code in self.cancelling:  # f - g where f ~ g: noise around zero
                mag = (np.abs(Ablk).max(axis=1)[:, None] + np.abs(B).max(axis=1)[None, :])
                mag = mag.reshape(-1) if keep is None else mag.reshape(-1)[keep]
                small = np.abs(v).max(axis=1) <= _FLAT * mag
                if small.any():
                    v, la, rb = v[~small], la[~small], rb[~small]
            yield code, la, rb, v

    def _hash(self, vals: np.ndarray) -> np.ndarray:
        """A 64-bit key of each row, equal for rows that agree to about 2^-32 relative."""
        mant, expo = np.frexp(vals)
        q = np.rint(mant * _QUANT).astype(np.int64) + (expo.astype(np.int64) << 34)
        return (q * self.rng_keys).sum(axis=1)

    def add(self, size: int, code: int, left: np.ndarray, right: np.ndarray, vals: np.ndarray,
            store: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The rows that are finite, not constant and, when ``store``, new (then kept as
        entries of ``size``); returned as ``(left, right, values)``."""
        with np.errstate(all="ignore"):
            hi = vals.max(axis=1)
            lo = vals.min(axis=1)
            scale = np.maximum(np.abs(hi), np.abs(lo))
            ok = np.isfinite(hi) & np.isfinite(lo) & (scale <= _BIG) & (hi - lo > _FLAT * scale)
        if not ok.all():
            left, right, vals = left[ok], right[ok], vals[ok]
        if size == 1 or not store or not len(left):
            return left, right, vals
        idx = self.seen.add(self._hash(vals))
        left, right, vals = left[idx], right[idx], vals[idx]
        self._pending.append((np.full(len(left), code, dtype=np.int16), left, right, vals))
        self.n_stored += len(left)
        return left, right, vals

    def finish(self, size: int) -> None:
        """Close ``size``: its kept entries become the table's block of that size."""
        if size == 1:
            return
        p = self._pending
        self.code.append(np.concatenate([e[0] for e in p]) if p else np.zeros(0, np.int16))
        self.left.append(np.concatenate([e[1] for e in p]) if p else np.zeros(0, np.int64))
        self.right.append(np.concatenate([e[2] for e in p]) if p else np.zeros(0, np.int64))
        self.vals.append(np.concatenate([e[3] for e in p]) if p else np.zeros((0, self.m)))
        self.offsets.append(self.offsets[-1] + len(self.code[-1]))
        self._pending = []

    # --- back to programs
    def node(self, gid: int) -> tuple[int, int, int]:
        """``(code, left, right)`` of the entry with id ``gid``."""
        s = int(np.searchsorted(self.offsets, gid, side="right")) - 1
        r = gid - self.offsets[s]
        return int(self.code[s][r]), int(self.left[s][r]), int(self.right[s][r])

    def program(self, code: int, left: int, right: int) -> Program:
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
            keys = np.union1d(self.levels.pop(), keys)
        if len(keys):
            self.levels.append(keys)
        return np.sort(first[new])


# --- scoring ------------------------------------------------------------------------------

class _Scorer:
    """Normalised loss ``1 - r^2`` of ``y ~ a + b*f`` for stacks of value vectors."""

    def __init__(self, y: np.ndarray, w: np.ndarray):
        self.wn = w / w.sum()
        yc = y - self.wn @ y
        self.wyc = w * yc
        self.syy = float(self.wyc @ yc)
        self.w = w

    def nmse(self, F: np.ndarray) -> np.ndarray:
        if self.syy <= 0.0:
            return np.zeros(len(F))
        with np.errstate(all="ignore"):
            fc = F - (F @ self.wn)[:, None]
            vf = np.einsum("ij,ij,j->i", fc, fc, self.w)
            cov = fc @ self.wyc
            out = 1.0 - cov * cov / (vf * self.syy)
        out[~(vf > 0) | ~np.isfinite(out)] = np.inf
        return np.maximum(out, 0.0)


class _Picked:
    """The ``keep`` formulas of lowest loss offered so far, as ``(code, left, right)``."""

    def __init__(self, keep: int):
        self.keep = keep
        self.nmse = np.zeros(0)
        self.code = np.zeros(0, np.int16)
        self.left = np.zeros(0, np.int64)
        self.right = np.zeros(0, np.int64)

    def offer(self, nmse: np.ndarray, code: int, left: np.ndarray, right: np.ndarray) -> None:
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
                 if i == 0 or not abs(it[0] - items[i - 1][0]) <= 1e-9 * it[0]]
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
    """The first of each loss: ``f`` and ``log(sqrt(f))`` are alike under scaling."""
    out: list[Found] = []
    for f in found:
        if not any(abs(f.loss - g.loss) <= 1e-9 * g.loss for g in out):
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
