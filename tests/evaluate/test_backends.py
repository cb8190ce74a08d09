"""Backend conformance: every evaluation backend against the numpy reference, on random programs.

A backend joins the suite by adding its name to ``BACKENDS`` and a branch to ``make_backend``;
one that cannot run here (no GPU, missing package) is skipped with the reason (``pytest -rs``).

Comparisons are made where the question is well posed: an output is compared only where the
reference itself is stable when every intermediate value is perturbed a hundred times more than
a rounding error (random formulas of 40 nodes can amplify a last-bit difference between two
libms without bound, or jump from finite to NaN, as pow(-0.5, 1.0) does next to 1.0 - 1e-16).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from eurisko.evaluate.base import Dataset, scaled_losses
from eurisko.evaluate.reference import NumpyBackend
from eurisko.expr import operators as operators_module
from eurisko.expr.operators import (
    CONST,
    VAR,
    get_operator,
    op_code,
    operator_of,
    register_operator,
    registry,
)
from eurisko.expr.program import Program, ProgramBatch

BACKENDS = ["numpy", "numba", "cuda"]
BUILTIN_OPS = tuple(op.name for op in registry())
SMOOTH_OPS = ("add", "sub", "mul", "neg", "square", "sin", "cos", "tanh")
TAME_OPS = ("add", "sub", "mul", "div", "neg", "square", "sin", "cos", "tanh", "exp")
REF = NumpyBackend()


def make_backend(name: str):
    if name == "numpy":
        return NumpyBackend()
    if name == "numba":
        try:
            import numba  # noqa: F401
        except ImportError as e:  # pragma: no cover - numba is a dependency
            pytest.skip(f"numba backend unavailable: {e}")
        from eurisko.evaluate.numba_backend import NumbaBackend

        return NumbaBackend()
    if name == "cuda":
        try:
            from eurisko.evaluate.cuda_backend import CudaBackend  # type: ignore[import-not-found]
        except ImportError as e:
            pytest.skip(f"CUDA backend unavailable: {e}")
        try:
            return CudaBackend()
        except Exception as e:  # no device, no driver
            pytest.skip(f"CUDA backend unavailable: {e}")
    raise AssertionError(f"unknown backend {name!r}")


@pytest.fixture(params=BACKENDS, scope="module")
def backend(request):
    return make_backend(request.param)


# ----------------------------------------------------------------------------------------------
# random programs and data


def random_program(rng, size: int, n_features: int, ops=BUILTIN_OPS, p_const: float = 0.35,
                   reuse: float = 0.15) -> Program:
    """A random valid program of about ``size`` nodes over ``ops`` (constants in [-2, 2])."""
    unary = [o for o in ops if get_operator(o).arity == 1]
    binary = [o for o in ops if get_operator(o).arity == 2]
    codes: list[int] = []
    args: list[int] = []
    consts: list[float] = []

    def leaf() -> None:
        if rng.random() < p_const:
            if consts and rng.random() < reuse:  # one constant used at two places
                idx = int(rng.integers(len(consts)))
            else:
                idx = len(consts)
                consts.append(float(np.round(rng.uniform(-2, 2), 3)) or 0.5)
            codes.append(CONST)
            args.append(idx)
        else:
            codes.append(VAR)
            args.append(int(rng.integers(n_features)))

    def build(n: int) -> None:
        if n == 1:
            leaf()
        elif unary and (n == 2 or not binary or rng.random() < 0.35):
            build(n - 1)
            codes.append(op_code(unary[int(rng.integers(len(unary)))]))
            args.append(0)
        elif n == 2:
            leaf()
        else:
            left = int(rng.integers(1, n - 1))
            build(left)
            build(n - 1 - left)
            codes.append(op_code(binary[int(rng.integers(len(binary)))]))
            args.append(0)

    build(size)
    p = Program(np.array(codes), np.array(args), np.array(consts))
    p.validate(n_features)
    return p


def random_batch(seed: int, n: int, n_features: int = 3, ops=BUILTIN_OPS, max_size: int = 40,
                 **kw) -> ProgramBatch:
    rng = np.random.default_rng(seed)
    progs = [random_program(rng, int(rng.integers(1, max_size + 1)), n_features, ops, **kw)
             for _ in range(n)]
    return ProgramBatch.from_programs(progs)


def make_data(seed: int, n_rows: int = 257, n_features: int = 3, weights: bool = False,
              dtype=np.float64) -> Dataset:
    rng = np.random.default_rng(seed)
    X = rng.uniform(0.5, 2.5, size=(n_rows, n_features))
    y = np.sin(X[:, 0]) * X[:, 1 % n_features] + 0.1 * rng.normal(size=n_rows)
    w = rng.uniform(0.1, 2.0, n_rows) if weights else None
    return Dataset.from_arrays(X, y, w, dtype=dtype)


def nudged(batch: ProgramBatch, data: Dataset, rel: float = 1e-12, seed: int = 99):
    """The same batch and data with every input moved by about ``rel`` (relative)."""
    rng = np.random.default_rng(seed)
    consts = batch.consts * (1 + rel * rng.uniform(-1, 1, batch.consts.shape))
    b2 = ProgramBatch(batch.codes, batch.args, batch.node_offsets, consts, batch.const_offsets)
    Xt = (data.Xt.astype(np.float64) * (1 + rel * rng.uniform(-1, 1, data.Xt.shape)))
    return b2, Dataset(Xt.astype(data.Xt.dtype), data.y, data.w)


def noisy_predict(batch, data, eps: float, seed: int = 99) -> np.ndarray:
    """The reference outputs with every node's value (leaves included) multiplied by a random
    ``1 + eps * u``, u in [-1, 1]: what any other rounding of the same formula may give."""
    rng = np.random.default_rng(seed)
    Xt = data.Xt.astype(np.float64)
    n = Xt.shape[1]
    out = np.empty((batch.n_programs, n))
    with np.errstate(all="ignore"):
        for i in range(batch.n_programs):
            p = batch.program(i)
            stack: list[np.ndarray] = []
            for code, arg in zip(p.codes.tolist(), p.args.tolist(), strict=True):
                if code == VAR:
                    v = Xt[arg]
                elif code == CONST:
                    v = np.full(n, p.consts[arg])
                else:
                    o = operator_of(code)
                    ins = stack[len(stack) - o.arity:]
                    del stack[len(stack) - o.arity:]
                    v = np.asarray(o.numpy(*ins), dtype=np.float64)
                stack.append(v * (1 + eps * rng.uniform(-1, 1, n)))
            out[i] = stack[0]
    return out


def stable_mask(batch, data, eps=1e-13, rtol=1e-7) -> tuple[np.ndarray, np.ndarray]:
    """Reference outputs, and where they are well conditioned: finite, and moved by less than
    ``rtol`` when every intermediate value is perturbed by ``eps`` (relative). Random formulas
    of 40 nodes amplify last-bit differences between two libms without bound elsewhere."""
    ref = REF.predict(batch, data)
    ref2 = noisy_predict(batch, data, eps)
    with np.errstate(all="ignore"):
        ok = np.isfinite(ref) & np.isfinite(ref2) & np.isclose(ref, ref2, rtol=rtol, atol=0)
    return ref, ok


def stable_programs(batch, data, eps=1e-13, rtol=1e-7):
    """Per program: 'finite' (well conditioned everywhere), 'nonfinite' (stably non-finite)."""
    ref, ok = stable_mask(batch, data, eps, rtol)
    ref2 = noisy_predict(batch, data, eps)
    fin1 = np.isfinite(ref).all(axis=1)
    fin2 = np.isfinite(ref2).all(axis=1)
    return ref, ok.all(axis=1), ~fin1 & ~fin2


# ----------------------------------------------------------------------------------------------
# predictions


def test_predict_matches_reference(backend):
    batch = random_batch(1, 300)
    data = make_data(2)
    got = np.asarray(backend.predict(batch, data))
    assert got.shape == (batch.n_programs, data.n_rows)
    ref, ok = stable_mask(batch, data)
    # (every operator draws: asin/acos are NaN off [-1, 1], sinh/cosh/exp overflow, so about
    # half the outputs of random 40-node programs are not finite)
    assert ok.mean() > 0.4, "too few comparable outputs: the test would prove little"
    np.testing.assert_allclose(got[ok], ref[ok], rtol=1e-8, atol=0)
    # NaN and +-Inf where the reference has them, for outputs that are stably non-finite
    ref2 = noisy_predict(batch, data, 1e-13)
    # (a handful may still flip: log of a near-zero difference whose sign depends on the last
    # bits of tan(1e5), say; one noisy sample cannot see every such cliff)
    for check in (np.isnan, np.isposinf, np.isneginf):
        stable = check(ref) & check(ref2)
        assert (stable & ~check(got)).sum() <= 1e-3 * stable.sum()
    assert (np.isnan(ref) & np.isnan(ref2)).sum() > 1000


def test_every_operator_is_exercised_and_matches(backend):
    data = make_data(3, n_rows=64)
    rng = np.random.default_rng(4)
    progs = []
    for name in BUILTIN_OPS:
        o = get_operator(name)
        for _ in range(3):  # the operator applied to random small subtrees
            kids = [random_program(rng, int(rng.integers(1, 6)), 3, TAME_OPS)
                    for _ in range(o.arity)]
            codes = np.concatenate([k.codes for k in kids] + [[op_code(name)]])
            shift = 0
            args = []
            consts = []
            for k in kids:
                a = k.args.copy()
                a[k.codes == CONST] += shift
                shift += k.n_consts
                args.append(a)
                consts.append(k.consts)
            progs.append(Program(codes, np.concatenate(args + [[0]]), np.concatenate(consts)))
    batch = ProgramBatch.from_programs(progs)
    got = np.asarray(backend.predict(batch, data))
    ref, ok = stable_mask(batch, data)
    per_op = ok.reshape(len(BUILTIN_OPS), -1).any(axis=1)
    assert per_op.all(), [n for n, k in zip(BUILTIN_OPS, per_op, strict=True) if not k]
    np.testing.assert_allclose(got[ok], ref[ok], rtol=1e-8, atol=0)


def test_block_size_and_threads_do_not_change_results(backend):
    if backend.name != "numba":
        pytest.skip("block and thread settings are numba backend options")
    from eurisko.evaluate.numba_backend import NumbaBackend

    batch = random_batch(5, 60)
    data = make_data(6, n_rows=101, weights=True)
    # not bit for bit: rows in a block's vector lanes and in its scalar tail may use
    # different (equally correct) libm code
    _, ok = stable_mask(batch, data)
    _, fine, _ = stable_programs(batch, data)
    base = backend.predict(batch, data)
    la = backend.losses(batch, data, True)
    pa, ja = backend.jacobian(batch, data)
    owner = np.repeat(np.arange(batch.n_programs), np.diff(batch.const_offsets))
    for kw in (dict(block_size=7, n_threads=1), dict(block_size=64, n_threads=3)):
        other = NumbaBackend(**kw)
        np.testing.assert_allclose(other.predict(batch, data)[ok], base[ok], rtol=1e-9)
        lb = other.losses(batch, data, True)
        np.testing.assert_allclose(lb.loss[fine], la.loss[fine], rtol=1e-9)
        np.testing.assert_array_equal(np.isinf(lb.loss), np.isinf(la.loss))
        pb, jb = other.jacobian(batch, data)
        np.testing.assert_allclose(pb[ok], pa[ok], rtol=1e-9)
        np.testing.assert_allclose(jb[fine[owner]], ja[fine[owner]], rtol=1e-6, atol=1e-9)


# ----------------------------------------------------------------------------------------------
# losses


@pytest.mark.parametrize("weights", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("scaling", [False, True], ids=["plain", "scaled"])
def test_losses_match_reference(backend, scaling, weights):
    batch = random_batch(7, 300)
    data = make_data(8, weights=weights)
    got = backend.losses(batch, data, scaling)
    assert got.loss.shape == (batch.n_programs,) and got.scale.shape == (batch.n_programs, 2)
    ref_pred, fine, bad = stable_programs(batch, data)
    ref = scaled_losses(ref_pred, data.y, data.w, scaling)
    with np.errstate(all="ignore"):
        flat = np.ptp(ref_pred, axis=1) <= 1e-12 * np.abs(ref_pred).max(axis=1)
    comparable = fine & ~(flat & scaling)
    assert comparable.sum() > 80 and bad.sum() > 5
    yv = float(np.var(data.y))
    np.testing.assert_allclose(got.loss[comparable], ref.loss[comparable], rtol=1e-8,
                               atol=1e-12 * yv)
    assert np.all(np.isinf(got.loss[bad]))
    np.testing.assert_array_equal(got.scale[bad], np.tile([0.0, 1.0], (bad.sum(), 1)))
    if scaling:
        # the fitted outputs a + b f agree (a and b alone are ill-posed when b ~ 0)
        fa = got.scale[comparable, :1] + got.scale[comparable, 1:] * ref_pred[comparable]
        fr = ref.scale[comparable, :1] + ref.scale[comparable, 1:] * ref_pred[comparable]
        np.testing.assert_allclose(fa, fr, rtol=0, atol=1e-7 * np.sqrt(yv))
        # constant outputs: b = 0, a = weighted mean of y, loss = weighted variance of y.
        # (scaled_losses itself tests vf > 0 exactly, and the rounding of the mean of a
        # constant can make vf ~ 1e-32 > 0, so the reference fits noise there: not checked.)
        const = fine & flat
        assert const.sum() > 3
        if backend.name == "numpy":
            return
        w = np.ones_like(data.y) if data.w is None else data.w
        ym = np.sum(w * data.y) / np.sum(w)
        np.testing.assert_array_equal(got.scale[const, 1], 0.0)
        np.testing.assert_allclose(got.scale[const, 0], ym, rtol=1e-12)
        np.testing.assert_allclose(got.loss[const], np.sum(w * (data.y - ym) ** 2) / np.sum(w),
                                   rtol=1e-10)
    else:
        np.testing.assert_array_equal(got.scale, np.tile([0.0, 1.0], (batch.n_programs, 1)))


def _prog(*nodes, consts=()) -> Program:
    codes, args = [], []
    for n in nodes:
        if isinstance(n, tuple):
            codes.append(VAR if n[0] == "x" else CONST)
            args.append(n[1])
        else:
            codes.append(op_code(n))
            args.append(0)
    return Program(np.array(codes), np.array(args), np.array(consts, dtype=float))


@pytest.mark.parametrize("scaling", [False, True], ids=["plain", "scaled"])
@pytest.mark.parametrize(("offset", "noise"), [(1e4, 1e-6), (1e8, 1e-2)],
                         ids=["near-perfect-fit", "large-offset"])
def test_losses_do_not_cancel(backend, scaling, offset, noise):
    # one-pass moment formulas lose everything here: sum(f^2) - sum(f)^2 / n cancels when
    # the offset dwarfs the spread, and var(y) - cov^2 / var(f) cancels when the fit is exact
    rng = np.random.default_rng(10)
    n = 5000
    x = offset + rng.uniform(0, 1, n)
    y = 3.0 * x + noise * rng.normal(size=n)
    w = rng.uniform(0.5, 1.5, n)
    data = Dataset.from_arrays(np.c_[x, rng.uniform(0, 1, n)], y, w)
    progs = [
        _prog(("x", 0), ("c", 0), "mul", consts=[3.0]),                 # the law itself
        _prog(("x", 0), ("c", 0), "mul", ("x", 1), "add", consts=[3.0]),  # law + O(1) error
        _prog(("x", 0)),                                                  # exact once scaled
        _prog(("x", 0), ("x", 1), "add"),
        _prog(("x", 1), ("c", 0), "mul", consts=[2.0]),
    ]
    batch = ProgramBatch.from_programs(progs)
    got = backend.losses(batch, data, scaling)
    ref = REF.losses(batch, data, scaling)
    np.testing.assert_allclose(got.loss, ref.loss, rtol=1e-6)
    assert got.loss[0] < 2 * noise**2
    if scaling:
        assert got.loss[2] < 2 * noise**2
        np.testing.assert_allclose(got.scale[2], ref.scale[2], rtol=1e-9, atol=1e-9 * offset)


def test_nonfinite_programs_give_inf_and_never_raise(backend):
    data = make_data(11, n_rows=50, weights=True)
    x0 = data.Xt[0]
    cut = float(np.sort(x0)[25])  # log(x0 - cut) is NaN on half of the rows, -inf on one
    progs = [
        _prog(("x", 0), ("c", 0), "sub", "log", consts=[10.0]),           # log of negatives
        _prog(("x", 0), ("x", 0), ("x", 0), "sub", "div"),               # x / 0 -> inf
        _prog(("x", 0), ("x", 0), "sub", ("x", 0), ("x", 0), "sub", "div"),  # 0 / 0 -> nan
        _prog(("x", 0), ("c", 0), "mul", "exp", "exp", consts=[1000.0]),  # overflow
        _prog(("x", 0), ("c", 0), "sub", "log", consts=[cut]),            # partly NaN
        _prog(("x", 0), "neg", "sqrt"),                                   # sqrt of negatives
        _prog(("x", 0), "asin"),                                          # NaN past x = 1
        _prog(("x", 0), ("c", 0), "add", "acos", consts=[1.0]),           # NaN everywhere
        _prog(("x", 0), ("c", 0), "mul", "cosh", consts=[1000.0]),        # overflow: +inf
        _prog(("x", 0), ("c", 0), "mul", "sinh", consts=[-1000.0]),       # overflow: -inf
        _prog(("x", 0), ("c", 0), "pow", ("c", 1), "pow", consts=[-1000.0, 3.0]),  # 0 and inf
        _prog(("x", 0), "sin"),                                           # a finite one
    ]
    batch = ProgramBatch.from_programs(progs)
    ref = REF.predict(batch, data)
    got = np.asarray(backend.predict(batch, data))
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
    np.testing.assert_array_equal(np.isposinf(got), np.isposinf(ref))
    np.testing.assert_array_equal(np.isneginf(got), np.isneginf(ref))
    for scaling in (False, True):
        L = backend.losses(batch, data, scaling)
        assert np.all(np.isinf(L.loss[:-1])) and np.isfinite(L.loss[-1])
        np.testing.assert_array_equal(L.scale[:-1], np.tile([0.0, 1.0], (len(progs) - 1, 1)))
    # a NaN on a row of weight zero still counts, as in the reference
    w = data.w.copy()
    w[np.isnan(ref[4])] = 0.0
    L = backend.losses(ProgramBatch.from_programs([progs[4]]), Dataset(data.Xt, data.y, w))
    assert np.isinf(L.loss[0])
    pred, jac = backend.jacobian(batch, data)  # no exception either
    assert pred.shape == (len(progs), 50) and jac.shape == (len(batch.consts), 50)


# ----------------------------------------------------------------------------------------------
# Jacobians


def test_jacobian_matches_reference(backend):
    batch = random_batch(12, 200, p_const=0.45)
    data = make_data(13, n_rows=97)
    pred, jac = backend.jacobian(batch, data)
    assert pred.shape == (batch.n_programs, data.n_rows)
    assert jac.shape == (len(batch.consts), data.n_rows)
    ref_pred, ref_jac = REF.jacobian(batch, data)
    _, ref_jac2 = REF.jacobian(*nudged(batch, data))
    _, ok = stable_mask(batch, data)
    np.testing.assert_allclose(np.asarray(pred)[ok], ref_pred[ok], rtol=1e-8)
    owner = np.repeat(np.arange(batch.n_programs), np.diff(batch.const_offsets))
    with np.errstate(all="ignore"):
        good = (ok[owner] & np.isfinite(ref_jac) & np.isfinite(ref_jac2)
                & np.isclose(ref_jac, ref_jac2, rtol=1e-6, atol=1e-300))
    assert good.sum() > 0.25 * good.size
    np.testing.assert_allclose(np.asarray(jac)[good], ref_jac[good], rtol=1e-7,
                               atol=1e-10 * np.abs(ref_jac[good]).max())


def test_jacobian_matches_central_differences(backend):
    batch = random_batch(14, 60, ops=SMOOTH_OPS, max_size=25, p_const=0.5)
    data = make_data(15, n_rows=40)
    pred, jac = backend.jacobian(batch, data)
    jac = np.asarray(jac)
    checked = 0
    for i in range(batch.n_programs):
        p = batch.program(i)
        c0 = batch.const_offsets[i]
        for k in range(p.n_consts):
            h = 1e-5 * max(1.0, abs(p.consts[k]))
            hi, lo = p.consts.copy(), p.consts.copy()
            hi[k] += h
            lo[k] -= h
            fd = (REF.predict(ProgramBatch.from_programs([p.with_consts(hi)]), data)[0]
                  - REF.predict(ProgramBatch.from_programs([p.with_consts(lo)]), data)[0]) / (2 * h)
            scale = 1.0 + np.abs(fd).max()
            np.testing.assert_allclose(jac[c0 + k], fd, rtol=1e-5, atol=1e-5 * scale)
            checked += 1
    assert checked > 50


def test_jacobian_sums_a_constant_used_twice(backend):
    # c0 * x0 + c0 * c0  ->  d/dc0 = x0 + 2 c0
    p = _prog(("c", 0), ("x", 0), "mul", ("c", 0), ("c", 0), "mul", "add", consts=[1.5])
    data = make_data(16, n_rows=20)
    _, jac = backend.jacobian(ProgramBatch.from_programs([p]), data)
    np.testing.assert_allclose(np.asarray(jac)[0], data.Xt[0] + 3.0, rtol=1e-12)


def test_jacobian_of_a_long_program_on_many_rows_does_not_write_freed_memory():
    # The kernel reaches its adjoint buffer only through its address; numba freed the buffer
    # after its last use as an array, and the reverse sweep wrote into freed memory: a
    # segfault once the buffer is large enough to be returned to the system (200 nodes x 256
    # rows here), silent corruption below that. Run apart, so that a crash fails one test.
    script = textwrap.dedent("""
        import numpy as np
        from eurisko.evaluate.base import Dataset
        from eurisko.evaluate.numba_backend import NumbaBackend
        from eurisko.evaluate.reference import NumpyBackend
        from eurisko.expr.parser import parse
        from eurisko.expr.program import ProgramBatch
        p = parse(" + ".join(f"{k + 1.5}*sin(x0*{k + 0.5})" for k in range(30)), ["x0"])
        x = np.random.default_rng(0).uniform(-1, 1, 2048)
        data = Dataset(x[None, :].copy(), x, None)
        batch = ProgramBatch.from_programs([p, p])
        pred, jac = NumbaBackend(n_threads=1).jacobian(batch, data)
        ref_pred, ref_jac = NumpyBackend().jacobian(batch, data)
        print(len(p.codes), float(np.abs(jac - ref_jac).max() / np.abs(ref_jac).max()))
    """)
    # twice: the crash shows with the kernels loaded from numba's cache (the first run fills
    # it when it is cold), whose heap is not the one compiling them leaves behind
    for _ in range(2):
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                             timeout=600)
        assert out.returncode == 0, f"rc={out.returncode}: {out.stderr[-2000:]}"
    n_nodes, err = out.stdout.split()
    assert int(n_nodes) > 200
    assert float(err) < 1e-10


INVERSE_AND_HYPERBOLIC = ("asin", "acos", "atan", "sinh", "cosh", "tanh")


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
def test_inverse_trig_and_hyperbolic_operators(backend, dtype):
    # c0 * f(c1 * x0 + c2) with the argument inside (-1, 1): values and Jacobians against the
    # reference, and the Jacobian against central differences of the reference
    data = make_data(27, n_rows=70, dtype=dtype)
    consts = [1.3, 0.6, -0.9]  # x0 in [0.5, 2.5]: the argument runs over [-0.6, 0.6]
    progs = [_prog(("c", 0), ("c", 1), ("x", 0), "mul", ("c", 2), "add", name, "mul",
                   consts=consts) for name in INVERSE_AND_HYPERBOLIC]
    batch = ProgramBatch.from_programs(progs)
    # (float32: c1 * x0 + c2 cancels near 0, so errors there are absolute, of order 1e-7)
    tol = 1e-12 if dtype == np.float64 else 2e-6
    ref_pred, ref_jac = REF.jacobian(batch, data)
    np.testing.assert_allclose(np.asarray(backend.predict(batch, data)), ref_pred, rtol=tol,
                               atol=tol)
    pred, jac = backend.jacobian(batch, data)
    np.testing.assert_allclose(np.asarray(pred), ref_pred, rtol=tol, atol=tol)
    np.testing.assert_allclose(np.asarray(jac), ref_jac, rtol=tol, atol=tol)
    h = 1e-6
    for i, p in enumerate(batch.programs()):
        for k in range(3):
            up, down = p.consts.copy(), p.consts.copy()
            up[k] += h
            down[k] -= h
            fd = (REF.predict(ProgramBatch.from_programs([p.with_consts(up)]), data)[0]
                  - REF.predict(ProgramBatch.from_programs([p.with_consts(down)]), data)[0])
            np.testing.assert_allclose(np.asarray(jac)[3 * i + k], fd / (2 * h), rtol=1e-5,
                                       atol=1e-7 + tol, err_msg=INVERSE_AND_HYPERBOLIC[i])
    L = backend.losses(batch, data, True)
    np.testing.assert_allclose(L.loss, REF.losses(batch, data, True).loss, rtol=1e-4)


#: operators available by name (not in the default set): each with the constants of
#: c0 * f(c1 * x0 + c2) [, x1] that keep its argument where it is smooth, x0 in [0.5, 2.5]
NAMED_OPERATORS = [
    ("erf", [1.3, 0.6, -0.9]),
    ("asinh", [1.3, 2.0, -3.0]),
    ("sign", [1.3, 0.6, -0.9]),
    ("gamma", [1.3, 0.6, 0.9]),      # argument in [1.2, 2.4]
    ("gamma", [1.3, 0.15, -0.98]),   # in [-0.905, -0.605]: the reflection branch of digamma
    ("max", [1.3, 0.6, -0.2]),
    ("min", [1.3, 0.6, -0.2]),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize(("name", "consts"), NAMED_OPERATORS,
                         ids=[f"{n}{i}" for i, (n, _) in enumerate(NAMED_OPERATORS)])
def test_named_operators_match_reference_and_scipy(backend, dtype, name, consts):
    # values and Jacobians (the Levenberg-Marquardt path) against the reference, the
    # reference against scipy / numpy, and the Jacobian against central differences
    import scipy.special as sps

    data = make_data(28, n_rows=70, dtype=dtype)
    binary = get_operator(name).arity == 2
    nodes = [("c", 0), ("c", 1), ("x", 0), "mul", ("c", 2), "add"]
    nodes += [("x", 1), name, "mul"] if binary else [name, "mul"]
    batch = ProgramBatch.from_programs([_prog(*nodes, consts=consts)])
    x0, x1 = data.Xt.astype(np.float64)[:2]
    u = consts[1] * x0 + consts[2]
    want = {"erf": sps.erf(u), "asinh": np.arcsinh(u), "sign": np.sign(u),
            "gamma": sps.gamma(u), "max": np.maximum(u, x1), "min": np.minimum(u, x1)}[name]
    ref_pred, ref_jac = REF.jacobian(batch, data)
    np.testing.assert_allclose(ref_pred[0], consts[0] * want, rtol=1e-14)
    if name == "gamma":  # d/dc2 gamma(u) = gamma(u) * digamma(u)
        np.testing.assert_allclose(ref_jac[2], consts[0] * want * sps.digamma(u), rtol=1e-10)
    tol = 1e-12 if dtype == np.float64 else 2e-6
    np.testing.assert_allclose(np.asarray(backend.predict(batch, data))[0], ref_pred[0],
                               rtol=tol, atol=tol)
    pred, jac = backend.jacobian(batch, data)
    np.testing.assert_allclose(np.asarray(pred), ref_pred, rtol=tol, atol=tol)
    np.testing.assert_allclose(np.asarray(jac), ref_jac, rtol=tol, atol=tol)
    h = 1e-6
    p = batch.program(0)
    for k in range(3):
        up, down = p.consts.copy(), p.consts.copy()
        up[k] += h
        down[k] -= h
        fd = (REF.predict(ProgramBatch.from_programs([p.with_consts(up)]), data)[0]
              - REF.predict(ProgramBatch.from_programs([p.with_consts(down)]), data)[0])
        np.testing.assert_allclose(np.asarray(jac)[k], fd / (2 * h), rtol=1e-5,
                                   atol=1e-7 + tol)
    np.testing.assert_allclose(backend.losses(batch, data, True).loss,
                               REF.losses(batch, data, True).loss, rtol=1e-4)


def test_named_operators_propagate_nan_and_poles(backend):
    # NaN in, NaN out (max and min too, as numpy's maximum); gamma: inf at 0, NaN at -1
    x = np.array([np.nan, 0.0, -1.0, 2.0])
    data = Dataset.from_arrays(np.c_[x, np.ones_like(x)], np.zeros_like(x))
    progs = [_prog(("x", 0), n) for n in ("erf", "asinh", "sign", "gamma")]
    progs += [_prog(("x", 0), ("x", 1), n) for n in ("max", "min")]
    batch = ProgramBatch.from_programs(progs)
    got = np.asarray(backend.predict(batch, data))
    ref = REF.predict(batch, data)
    np.testing.assert_allclose(got, ref, rtol=1e-15, atol=0)  # NaN and inf where ref has them
    assert np.isnan(ref[:, 0]).all()
    assert ref[3, 1] == np.inf and np.isnan(ref[3, 2]) and ref[3, 3] == 1.0


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
def test_asin_and_acos_at_the_ends_of_their_domain(backend, dtype):
    # +-pi/2, pi and 0 at x = -+1; slopes infinite there (as sqrt's at 0), NaN beyond
    x = np.array([-1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5])
    data = Dataset.from_arrays(x[:, None], np.zeros_like(x), dtype=dtype)
    batch = ProgramBatch.from_programs([_prog(("x", 0), ("c", 0), "mul", name, consts=[1.0])
                                        for name in ("asin", "acos")])
    pred, jac = backend.jacobian(batch, data)
    pred, jac = np.asarray(pred, dtype=np.float64), np.asarray(jac, dtype=np.float64)
    ref_pred, ref_jac = REF.jacobian(batch, data)
    rtol = 1e-15 if dtype == np.float64 else 1e-6
    np.testing.assert_allclose(pred, ref_pred, rtol=rtol)  # NaN where the reference has it
    np.testing.assert_allclose(pred[:, [1, 5]], [[-np.pi / 2, np.pi / 2], [np.pi, 0.0]],
                               rtol=rtol)
    np.testing.assert_allclose(jac[:, 1:6], ref_jac[:, 1:6], rtol=rtol)
    np.testing.assert_array_equal(jac[:, [1, 5]], [[-np.inf, np.inf], [np.inf, -np.inf]])
    assert np.isinf(backend.losses(batch, data).loss).all()


# ----------------------------------------------------------------------------------------------
# dtypes, shapes, edge cases


def test_float32_data(backend):
    batch = random_batch(17, 120, ops=TAME_OPS, max_size=15)
    data = make_data(18, n_rows=130, dtype=np.float32, weights=True)
    pred = np.asarray(backend.predict(batch, data))
    assert pred.dtype in (np.float32, np.float64)
    ref, ok = stable_mask(batch, data, eps=1e-5, rtol=1e-2)
    assert ok.mean() > 0.5
    np.testing.assert_allclose(pred[ok], ref[ok], rtol=2e-4, atol=1e-5 * np.abs(ref[ok]).max())
    _, fine, bad = stable_programs(batch, data, eps=1e-5, rtol=1e-2)
    for scaling in (False, True):
        got = backend.losses(batch, data, scaling)
        want = REF.losses(batch, data, scaling)
        assert got.loss.dtype == np.float64
        np.testing.assert_allclose(got.loss[fine], want.loss[fine], rtol=2e-3,
                                   atol=1e-5 * float(np.var(data.y)))
        assert np.all(np.isinf(got.loss[bad]))
    p32, j32 = backend.jacobian(batch, data)
    _, jref = REF.jacobian(batch, data)
    owner = np.repeat(np.arange(batch.n_programs), np.diff(batch.const_offsets))
    good = fine[owner]
    np.testing.assert_allclose(np.asarray(j32)[good], jref[good], rtol=2e-3,
                               atol=1e-4 * np.abs(jref[good]).max())


def test_empty_batch(backend):
    data = make_data(19, n_rows=10)
    empty = ProgramBatch.from_programs([])
    assert np.asarray(backend.predict(empty, data)).shape == (0, 10)
    L = backend.losses(empty, data, True)
    assert L.loss.shape == (0,) and L.scale.shape == (0, 2)
    pred, jac = backend.jacobian(empty, data)
    assert np.asarray(pred).shape == (0, 10) and np.asarray(jac).shape == (0, 10)


def test_programs_without_constants(backend):
    batch = random_batch(20, 40, p_const=0.0)
    assert len(batch.consts) == 0
    data = make_data(21, n_rows=30)
    pred, jac = backend.jacobian(batch, data)
    assert np.asarray(jac).shape == (0, 30)
    ref, ok = stable_mask(batch, data)
    np.testing.assert_allclose(np.asarray(pred)[ok], ref[ok], rtol=1e-8)
    L = backend.losses(batch, data)
    np.testing.assert_allclose(L.loss, REF.losses(batch, data).loss, rtol=1e-6)


def test_single_leaf_programs(backend):
    progs = [_prog(("x", 1)), _prog(("c", 0), consts=[2.5])]
    data = make_data(22, n_rows=9)
    batch = ProgramBatch.from_programs(progs)
    np.testing.assert_allclose(backend.predict(batch, data), REF.predict(batch, data))
    pred, jac = backend.jacobian(batch, data)
    np.testing.assert_allclose(np.asarray(jac), np.ones((1, 9)))
    L = backend.losses(batch, data, True)
    assert L.scale[1, 1] == 0.0  # a constant output is not scaled


def test_bad_inputs_raise_value_errors(backend):
    if backend.name == "numpy":
        pytest.skip("the numpy reference does not validate its inputs; compiled backends must")
    data = make_data(23, n_rows=8, n_features=2)
    with pytest.raises(ValueError, match="variable"):
        backend.predict(ProgramBatch.from_programs([_prog(("x", 2))]), data)
    with pytest.raises(ValueError, match="variable x5"):
        backend.losses(ProgramBatch.from_programs([_prog(("x", 0)), _prog(("x", 5))]), data)
    with pytest.raises(ValueError, match="dtype"):
        backend.predict(ProgramBatch.from_programs([_prog(("x", 0))]),
                        Dataset(data.Xt.astype(np.int64), data.y, None))
    bad = ProgramBatch.from_programs([_prog(("x", 0), "add")])  # pops an empty stack
    with pytest.raises(ValueError, match="postfix"):
        backend.predict(bad, data)
    with pytest.raises(ValueError, match="losses need a target"):
        backend.losses(ProgramBatch.from_programs([_prog(("x", 0))]), Dataset(data.Xt, None, None))
    with pytest.raises(ValueError, match="out must be"):
        backend.predict(ProgramBatch.from_programs([_prog(("x", 0))]), data,
                        out=np.empty((2, 8)))


def test_max_stack_depth():
    from eurisko.evaluate.numba_backend import max_stack_depth

    progs = [_prog(("x", 0)), _prog(("x", 0), ("x", 1), ("x", 0), "mul", "add"),
             _prog(("x", 0), "sin", ("x", 1), "add")]
    b = ProgramBatch.from_programs(progs)
    assert max_stack_depth(b.codes, b.node_offsets) == 3
    assert max_stack_depth(np.zeros(0, np.int16), np.zeros(1, np.int64)) == 0


# ----------------------------------------------------------------------------------------------
# custom operators, kernel cache


@pytest.fixture
def scratch_registry(monkeypatch):
    """Register operators for one test only: the registry is restored afterwards."""
    monkeypatch.setattr(operators_module, "_REGISTRY", list(operators_module._REGISTRY))
    monkeypatch.setattr(operators_module, "_BY_NAME", dict(operators_module._BY_NAME))
    monkeypatch.setattr(operators_module, "_CODE_BY_NAME", dict(operators_module._CODE_BY_NAME))
    yield
    operators_module._TABLES.clear()  # tables and fingerprint of the restored registry
    operators_module._FINGERPRINT.clear()


def test_derivatives_of_a_custom_operator_come_from_its_sympy_function(scratch_registry):
    import sympy as sp

    op = register_operator("softsign", 1, numpy=lambda a: a / (1 + np.abs(a)),
                           sympy=lambda a: a / (1 + sp.Abs(a)), scalar="a / (1.0 + abs(a))")
    assert operators_module.custom_operators() == (op,)
    a = np.array([-2.0, -0.5, 0.3, 4.0])
    grad = eval(op.grad[0], {"np": np, "a": a})  # our own generated code, not user text
    np.testing.assert_allclose(grad, 1.0 / (1.0 + np.abs(a)) ** 2, rtol=1e-12)


def test_custom_operator_runs_without_backend_changes(backend, scratch_registry):
    import sympy as sp

    register_operator(
        "softsign", 1, numpy=lambda a: a / (1 + np.abs(a)),
        sympy=lambda a: a / (1 + sp.Abs(a)), scalar="a / (1.0 + abs(a))",
        grad=["1.0 / ((1.0 + abs(a)) * (1.0 + abs(a)))"],
    )
    progs = [
        _prog(("x", 0), ("c", 0), "sub", "softsign", consts=[1.5]),
        _prog(("x", 1), ("c", 0), "mul", "softsign", ("x", 0), "add", consts=[-2.0]),
    ]
    batch = ProgramBatch.from_programs(progs)
    data = make_data(24, n_rows=33)
    pred, jac = backend.jacobian(batch, data)
    ref_pred, ref_jac = REF.jacobian(batch, data)
    np.testing.assert_allclose(pred, ref_pred, rtol=1e-12)
    np.testing.assert_allclose(jac, ref_jac, rtol=1e-10)
    # (predict and losses run the same generated interpreter; compiling them for this
    # one-off registry too would double the cost of this test)


def test_importing_eurisko_does_not_import_numba():
    code = "import sys, eurisko, eurisko.evaluate; print('numba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True)
    assert out.stdout.strip() == "False"


def test_forked_child_gets_its_own_thread_pool(backend):
    if backend.name != "numba" or not hasattr(os, "fork"):
        pytest.skip("numba backend thread pool, POSIX fork")
    import multiprocessing as mp

    from eurisko.evaluate.numba_backend import NumbaBackend

    batch = random_batch(25, 8)
    data = make_data(26, n_rows=50)
    parent = NumbaBackend(n_threads=2).predict(batch, data)  # the pool exists now
    with mp.get_context("fork").Pool(1) as pool:
        child = pool.apply_async(_predict_in_child, (batch, data)).get(timeout=120)
    np.testing.assert_array_equal(child, parent)


def _predict_in_child(batch, data):
    from eurisko.evaluate.numba_backend import NumbaBackend

    return NumbaBackend(n_threads=2).predict(batch, data)


def test_second_process_loads_compiled_kernels_from_cache(backend):
    if backend.name != "numba":
        pytest.skip("kernel caching is a numba backend matter")
    script = textwrap.dedent("""
        import json, time
        import numpy as np
        t0 = time.perf_counter()
        from eurisko.evaluate.base import Dataset
        from eurisko.evaluate.numba_backend import NumbaBackend, kernel_module
        from eurisko.expr.program import ProgramBatch, var
        data = Dataset.from_arrays(np.ones((5, 1)), np.ones(5))
        NumbaBackend().predict(ProgramBatch.from_programs([var(0)]), data)
        stats = kernel_module().predict_f64.stats
        print(json.dumps({"misses": sum(stats.cache_misses.values()),
                          "hits": sum(stats.cache_hits.values()),
                          "seconds": time.perf_counter() - t0}))
    """)
    env = dict(os.environ)
    runs = []
    for _ in range(2):  # the first run may compile (if this test runs alone); the second not
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                             env=env, timeout=300, check=True)
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        if runs[-1]["misses"] == 0:
            break
    last = runs[-1]
    assert last["misses"] == 0 and last["hits"] >= 1, runs
