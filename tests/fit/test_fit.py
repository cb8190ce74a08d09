"""fit/: linear scaling and batched Levenberg-Marquardt on known problems, checked by scipy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import least_squares

from eurisko.evaluate.base import Dataset, scaled_losses
from eurisko.evaluate.reference import NumpyBackend, eval_program
from eurisko.expr import parse, var
from eurisko.expr.program import Program, ProgramBatch
from eurisko.fit import FitResult, fit_constants, fit_program, linear_scale


def _numba():
    pytest.importorskip("numba")
    try:
        from eurisko.evaluate.numba_backend import NumbaBackend
    except ImportError as e:  # pragma: no cover - only while the backend is being written
        pytest.skip(f"NumbaBackend not importable: {e}")
    return NumbaBackend()


@pytest.fixture(params=["numpy", "numba"])
def backend(request):
    return NumpyBackend() if request.param == "numpy" else _numba()


def _data(x: np.ndarray, y: np.ndarray, w: np.ndarray | None = None) -> Dataset:
    return Dataset.from_arrays(np.atleast_2d(x.T).T if x.ndim == 1 else x, y, w)


def _fit1(text: str, data: Dataset, backend, **kw) -> tuple[np.ndarray, float, FitResult]:
    p = parse(text)
    res = fit_constants(ProgramBatch.from_programs([p]), data, backend, **kw)
    return res.consts, float(res.loss[0]), res


X1 = np.random.default_rng(0).uniform(0.0, 4.0, 300)


# --- linear scaling ------------------------------------------------------------------------------


def test_linear_scale_matches_the_contract_rule():
    rng = np.random.default_rng(1)
    y = rng.normal(size=50)
    w = rng.uniform(0.1, 2.0, 50)
    F = rng.normal(size=(4, 50))
    F[1] = 3.0  # constant output: b = 0, a = weighted mean of y
    F[2, 7] = np.nan  # not finite: (0, 1) as in Losses.scale
    F[3] = 2.0 - 0.5 * y  # exact affine map
    a, b = linear_scale(F, y, w)
    ref = scaled_losses(F, y, w, True).scale
    np.testing.assert_allclose(np.c_[a, b], ref, rtol=1e-12, atol=1e-12)
    assert b[1] == 0.0 and a[1] == pytest.approx(np.average(y, weights=w))
    assert (a[2], b[2]) == (0.0, 1.0)
    assert a[3] == pytest.approx(4.0) and b[3] == pytest.approx(-2.0)
    a0, b0 = linear_scale(F[0], y)  # 1-D gives floats, unweighted
    assert isinstance(a0, float) and isinstance(b0, float)
    assert (a0, b0) == pytest.approx(tuple(scaled_losses(F[0], y, None, True).scale[0]))


def test_linear_scale_rejects_bad_input():
    with pytest.raises(ValueError, match="y must be 1-D"):
        linear_scale(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="non-negative"):
        linear_scale(np.ones(3), np.ones(3), np.array([1.0, -1.0, 1.0]))


# --- single problems ------------------------------------------------------------------------------


def test_exponential_decay_from_ones(backend):
    data = _data(X1, 2.5 * np.exp(-0.7 * X1))
    c, loss, res = _fit1("1.0*exp(1.0*x0)", data, backend, max_iter=60, linear_scaling=False)
    np.testing.assert_allclose(c, [2.5, -0.7], rtol=1e-7)
    assert loss < 1e-16
    assert tuple(res.scale[0]) == (0.0, 1.0)
    # with linear scaling the amplitude is b * c0 and the rate is still identified
    c, loss, res = _fit1("1.0*exp(1.0*x0)", data, backend, max_iter=60)
    a, b = res.scale[0]
    assert c[1] == pytest.approx(-0.7, rel=1e-7)
    assert b * c[0] == pytest.approx(2.5, rel=1e-7) and abs(a) < 1e-7
    assert loss < 1e-16


def test_sine_phase_and_frequency(backend):
    data = _data(X1, np.sin(1.3 * X1 + 0.4))
    c, loss, _ = _fit1("sin(1.0*x0 + 0.0)", data, backend, max_iter=40, linear_scaling=False)
    np.testing.assert_allclose(c, [1.3, 0.4], rtol=1e-7, atol=1e-8)
    assert loss < 1e-16


def test_michaelis_menten(backend):
    data = _data(X1, 3.0 * X1 / (0.5 + X1))
    c, loss, _ = _fit1("1.0*x0/(1.0 + x0)", data, backend, max_iter=40, linear_scaling=False)
    np.testing.assert_allclose(c, [3.0, 0.5], rtol=1e-7)
    assert loss < 1e-16


def test_linear_scaling_on_and_off(backend):
    y = 4.0 + 3.0 * np.exp(-0.5 * X1)
    data = _data(X1, y)
    p = ProgramBatch.from_programs([parse("exp(1.0*x0)")])
    on = fit_constants(p, data, backend, max_iter=40, linear_scaling=True)
    off = fit_constants(p, data, backend, max_iter=40, linear_scaling=False)
    assert on.consts[0] == pytest.approx(-0.5, rel=1e-7)
    np.testing.assert_allclose(on.scale[0], [4.0, 3.0], rtol=1e-6)
    assert on.loss[0] < 1e-16
    assert off.loss[0] > 1.0  # exp(c x) alone cannot reach an offset of 4
    assert tuple(off.scale[0]) == (0.0, 1.0)
    # the loss reported is exactly the backend's for the returned constants
    for res, ls in ((on, True), (off, False)):
        again = backend.losses(res.apply(p), data, ls)
        assert again.loss[0] == res.loss[0]
        np.testing.assert_array_equal(again.scale, res.scale)


def test_weights_ignore_a_corrupted_half(backend):
    rng = np.random.default_rng(2)
    y = 2.5 * np.exp(-0.7 * X1)
    bad = np.arange(len(y)) % 2 == 1
    y_corrupt = y.copy()
    y_corrupt[bad] += rng.normal(0.0, 5.0, bad.sum())
    w = np.where(bad, 0.0, 1.0)
    kw = {"max_iter": 60, "linear_scaling": False}
    c, loss, _ = _fit1("1.0*exp(1.0*x0)", _data(X1, y_corrupt, w), backend, **kw)
    np.testing.assert_allclose(c, [2.5, -0.7], rtol=1e-7)
    assert loss < 1e-16
    c_unw, loss_unw, _ = _fit1("1.0*exp(1.0*x0)", _data(X1, y_corrupt), backend, **kw)
    assert loss_unw > 1.0 and not np.allclose(c_unw, [2.5, -0.7], rtol=1e-2)


def test_program_without_constants_gets_its_loss(backend):
    data = _data(X1, X1 ** 2)
    progs = [var(0), parse("1.0*x0^2 + 1.0"), parse("x0*x0")]
    batch = ProgramBatch.from_programs(progs)
    res = fit_constants(batch, data, backend)
    start = backend.losses(batch, data, True)
    assert res.loss[0] == start.loss[0] and res.loss[2] == start.loss[2] < 1e-20
    np.testing.assert_array_equal(res.scale[0], start.scale[0])
    assert res.consts.shape == batch.consts.shape
    assert res.loss[1] < 1e-16
    only = fit_constants(ProgramBatch.from_programs([var(0)]), data, backend)
    assert only.n_jacobians == 0 and only.n_iter == 0 and only.consts.shape == (0,)


def test_nan_programs_never_raise(backend):
    x = np.linspace(0.0, 3.0, 100)
    data = _data(x, 2.0 * np.sqrt(1.5 * x))
    progs = [
        parse("log(-square(1.0*x0) - 1.0)"),  # log of a negative for every constant: NaN
        parse("1.0*sqrt(1.0*x0)"),  # finite, but its Jacobian is infinite at x = 0
        parse("1.0*exp(1.0*x0)"),  # an ordinary neighbour must still be fitted
    ]
    batch = ProgramBatch.from_programs(progs)
    start = backend.losses(batch, data, False)
    res = fit_constants(batch, data, backend, linear_scaling=False, max_iter=20)
    assert np.isinf(res.loss[0]) and np.isinf(start.loss[0])
    np.testing.assert_array_equal(res.consts[:4], batch.consts[:4])  # untouched
    assert res.loss[1] == start.loss[1]  # stopped at its start, kept it
    assert res.loss[2] < start.loss[2]
    assert np.all(np.isfinite(res.consts))


@pytest.mark.parametrize("name, truth, start", [
    ("asin", [1.5, 0.8], [1.0, 0.5]),
    ("acos", [0.7, -0.6], [1.0, -0.3]),
    ("atan", [2.0, 1.5], [1.0, 0.5]),
    ("sinh", [0.5, 1.2], [1.0, 0.5]),
    ("cosh", [0.5, 1.2], [1.0, 0.5]),
    ("tanh", [2.0, 1.5], [1.0, 0.5]),
])
def test_constants_inside_inverse_trig_and_hyperbolic_operators(backend, name, truth, start):
    x = np.linspace(-1.0, 1.0, 201)  # asin(b x) and acos(b x) are defined while |b| <= 1
    f = getattr(np, {"asin": "arcsin", "acos": "arccos", "atan": "arctan"}.get(name, name))
    data = _data(x, truth[0] * f(truth[1] * x))
    p = parse(f"1.0*{name}(1.0*x0)").with_consts(np.array(start))
    res = fit_constants(ProgramBatch.from_programs([p]), data, backend, max_iter=60,
                        linear_scaling=False)
    np.testing.assert_allclose(res.consts, truth, rtol=1e-7)
    assert res.loss[0] < 1e-16


@pytest.mark.parametrize("text, truth, start", [
    ("1.0*erf(1.0*x0)", [1.5, 0.8], [1.0, 0.5]),
    ("1.0*asinh(1.0*x0)", [2.0, 1.5], [1.0, 0.5]),
    ("1.0*gamma(1.0*x0 + 1.0)", [0.5, 1.2, 2.0], [1.0, 1.0, 2.5]),  # argument in [0.8, 3.2]
    ("1.0*gamma(1.0*x0 + 1.0)", [0.5, 0.2, -0.5], [1.0, 0.25, -0.6]),  # in [-0.7, -0.3]
    ("max(1.0*x0, 1.0) + 1.0*x0", [2.0, 0.3, 0.5], [1.5, 0.5, 0.2]),
], ids=["erf", "asinh", "gamma", "gamma-negative", "max"])
def test_constants_inside_the_named_operators(backend, text, truth, start):
    # Levenberg-Marquardt through each operator's derivative (gamma's: gamma * digamma)
    x = np.linspace(-1.0, 1.0, 201)
    p = parse(text)
    data = _data(x, eval_program(p.with_consts(np.array(truth, dtype=float)), x[None, :]))
    res = fit_constants(ProgramBatch.from_programs([p.with_consts(np.array(start, float))]),
                        data, backend, max_iter=100, linear_scaling=False)
    np.testing.assert_allclose(res.consts, truth, rtol=1e-7)
    assert res.loss[0] < 1e-16


def test_asin_out_of_its_domain_is_an_infinite_loss(backend):
    # asin(2 x) is NaN for |x| > 1/2 whatever the amplitude: the loss is inf from the start
    # and the fit leaves the program alone, as for log of a negative; its neighbour is fitted
    x = np.linspace(-1.0, 1.0, 101)
    data = _data(x, np.arcsin(0.4 * x))
    batch = ProgramBatch.from_programs([parse("1.0*asin(2.0*x0)"),
                                        parse("1.0*asin(0.9*x0)")])
    res = fit_constants(batch, data, backend, linear_scaling=False, max_iter=30)
    assert np.isinf(res.loss[0])
    np.testing.assert_array_equal(res.consts[:2], batch.consts[:2])
    np.testing.assert_allclose(res.consts[2:], [1.0, 0.4], rtol=1e-7)


# --- the batch ------------------------------------------------------------------------------------

TRUE_SHAPES = [  # each can express y exactly
    "1.0*exp(1.0*x0) + 1.0*x1",
    "exp(1.0*x0 + 1.0) + 1.0*x1",
    "1.0/exp(1.0*x0) + 1.0*x1 + 1.0",
    "(1.0*x1 + 1.0*exp(1.0*x0))*1.0",
]
TRUE_CONSTS = [[2.5, -0.7, 0.3], [-0.7, np.log(2.5), 0.3], [2.5, 0.7, 0.3, 0.0],
               [0.3, 2.5, -0.7, 1.0]]
WRONG_SHAPES = ["1.0*x0 + 1.0*x1", "1.0*sin(1.0*x0) + 1.0", "1.0*x0*x1 + 1.0/(1.0 + x0)"]


@pytest.mark.parametrize("linear_scaling", [False, True])
def test_batch_of_fifty_mixed_programs(backend, linear_scaling):
    rng = np.random.default_rng(3)
    X = rng.uniform(0.0, 3.0, (400, 2))
    y = 2.5 * np.exp(-0.7 * X[:, 0]) + 0.3 * X[:, 1]
    data = Dataset.from_arrays(X, y)
    progs, can_reach = [], []
    for i in range(50):
        if i % 5 == 4:
            p = parse(WRONG_SHAPES[i % len(WRONG_SHAPES)])
            p = p.with_consts(rng.uniform(0.5, 1.5, p.n_consts))
            can_reach.append(False)
        else:
            j = i % len(TRUE_SHAPES)
            p = parse(TRUE_SHAPES[j])
            truth = np.array(TRUE_CONSTS[j])
            p = p.with_consts(truth * rng.uniform(0.4, 1.6, p.n_consts)
                              + rng.normal(0.0, 0.3, p.n_consts))
            can_reach.append(True)
        progs.append(p)
    progs.append(var(1))
    can_reach.append(False)
    batch = ProgramBatch.from_programs(progs)
    start = backend.losses(batch, data, linear_scaling)
    res = fit_constants(batch, data, backend, max_iter=30, linear_scaling=linear_scaling)

    assert res.consts.shape == batch.consts.shape and res.loss.shape == (len(progs),)
    assert np.all(res.loss <= start.loss)
    reached = res.loss < 1e-14 * np.var(y)
    can_reach = np.array(can_reach)
    assert reached[can_reach].mean() >= 0.85
    assert not reached[~can_reach].any()
    # the programs' outputs at the returned constants give the reported losses
    out = np.array([eval_program(p, data.Xt) for p in res.apply(batch).programs()])
    np.testing.assert_allclose(scaled_losses(out, y, None, linear_scaling).loss, res.loss,
                               rtol=1e-6, atol=1e-20)
    # cost accounting: one Jacobian per program per round at most, plus the loss passes
    assert 40 <= res.n_jacobians <= 30 * 50
    assert res.n_evals >= res.n_jacobians + len(progs)
    assert 1 <= res.n_iter <= 30


def test_max_iter_zero_returns_the_start(backend):
    data = _data(X1, np.sin(X1))
    batch = ProgramBatch.from_programs([parse("1.0*sin(0.5*x0)")])
    res = fit_constants(batch, data, backend, max_iter=0)
    np.testing.assert_array_equal(res.consts, batch.consts)
    assert res.n_jacobians == 0 and res.n_evals == 1
    assert res.loss[0] == backend.losses(batch, data, True).loss[0]


# --- cross-check with scipy -----------------------------------------------------------------------


def _scipy_fit(program: Program, X: np.ndarray, y: np.ndarray, w: np.ndarray, scaled: bool):
    """scipy's trust-region fit of the same model (a + b f(c) when ``scaled``)."""
    Xt = np.ascontiguousarray(X.T)
    sw = np.sqrt(w)
    k = program.n_consts

    def resid(theta):
        f = eval_program(program.with_consts(theta[:k]), Xt)
        if scaled:
            f = theta[k] + theta[k + 1] * f
        return sw * (f - y)

    x0 = np.r_[program.consts, [0.0, 1.0]] if scaled else program.consts
    sol = least_squares(resid, x0, method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15)
    return sol.x, 2 * sol.cost / w.sum()


@pytest.mark.parametrize("text,truth,scaled", [
    ("1.0*x0/(1.0 + x0)", lambda x: 3.0 * x / (0.5 + x), False),
    ("sin(1.0*x0 + 0.0)", lambda x: 2.0 + 0.8 * np.sin(1.3 * x + 0.4), True),
])
def test_agrees_with_scipy_on_noisy_weighted_data(backend, text, truth, scaled):
    rng = np.random.default_rng(4)
    y = truth(X1) + rng.normal(0.0, 0.05, len(X1))
    w = rng.uniform(0.2, 2.0, len(X1))
    p = parse(text)
    fitted, loss, scale = fit_program(p, _data(X1, y, w), backend, max_iter=60,
                                      linear_scaling=scaled)
    theta, ref_loss = _scipy_fit(p, X1[:, None], y, w, scaled)
    assert loss == pytest.approx(ref_loss, rel=1e-9)
    np.testing.assert_allclose(fitted.consts, theta[:p.n_consts], rtol=1e-5, atol=1e-7)
    if scaled:
        np.testing.assert_allclose(scale, theta[p.n_consts:], rtol=1e-5, atol=1e-7)
    assert loss > 1e-4  # noisy: a real minimum, not an exact fit


# --- the door -------------------------------------------------------------------------------------


def test_fit_program_defaults_and_validation():
    data = _data(X1, 3.0 * X1 / (0.5 + X1))
    p = parse("1.0*x0/(1.0 + x0)")
    q, loss, (a, b) = fit_program(p, data, linear_scaling=False, max_iter=40)
    assert isinstance(q, Program) and q is not p
    np.testing.assert_allclose(q.consts, [3.0, 0.5], rtol=1e-7)
    np.testing.assert_array_equal(p.consts, [1.0, 1.0])  # the input is not modified
    assert (a, b) == (0.0, 1.0) and loss < 1e-16
    with pytest.raises(ValueError, match="needs a target"):
        fit_program(p, Dataset.from_arrays(X1[:, None]))
    with pytest.raises(ValueError, match="max_iter"):
        fit_program(p, data, max_iter=-1)
    with pytest.raises(TypeError, match="ProgramBatch"):
        fit_constants([p], data, NumpyBackend())
    with pytest.raises(TypeError, match="Program"):
        fit_program("x0", data)
    with pytest.raises(ValueError, match="data.w"):
        fit_program(p, _data(X1, X1, np.zeros_like(X1)))


def test_fixed_constants_do_not_move(backend):
    x = X1 + 0.5
    data = _data(x, 2.0 * np.exp(-0.7 * x) + 0.3)
    p = parse("c0 * exp(c1 * x0) + c2".replace("c0", "1.5").replace("c1", "-1.0")
              .replace("c2", "0.0"))
    batch = ProgramBatch.from_programs([p])
    fixed = np.array([False, True, False])
    res = fit_constants(batch, data, backend, max_iter=50, linear_scaling=False, fixed=fixed)
    assert res.consts[1] == -1.0  # held exactly
    assert res.consts[0] != 1.5 and res.consts[2] != 0.0  # the others were fitted
    free = fit_constants(batch, data, backend, max_iter=50, linear_scaling=False)
    assert free.loss[0] < 1e-20 < res.loss[0]
    with pytest.raises(ValueError, match="boolean mask"):
        fit_constants(batch, data, backend, fixed=np.array([0, 1, 0]))


def test_known_start_losses_are_not_evaluated_again(backend):
    x = X1 + 0.5
    data = _data(x, 2.0 * np.exp(-0.7 * x) + 0.3)
    batch = ProgramBatch.from_programs([parse("exp(-1.0 * x0)"), parse("x0 * 3.0 + 1.0")])
    plain = fit_constants(batch, data, backend, max_iter=20)
    start = backend.losses(batch, data, True)
    given = fit_constants(batch, data, backend, max_iter=20, start=start)
    np.testing.assert_allclose(given.consts, plain.consts)
    np.testing.assert_allclose(given.loss, plain.loss)
    assert given.n_evals == plain.n_evals - 2
    with pytest.raises(ValueError, match="start must hold"):
        fit_constants(batch, data, backend, start=type(start)(start.loss[:1], start.scale[:1]))


def test_taking_programs_out_of_a_batch_keeps_shapes_and_reads_new_constants():
    from eurisko.fit.lm import _subset

    progs = [parse("1.5 * x0 + 2"), parse("x0"), parse("exp(-0.5 * x0) * 3"), parse("sin(x0)")]
    batch = ProgramBatch.from_programs(progs)
    consts = batch.consts * 10.0
    sub = _subset(batch, np.array([2, 1, 0]), consts)
    want = ProgramBatch.from_programs([progs[2].with_consts(progs[2].consts * 10.0), progs[1],
                                       progs[0].with_consts(progs[0].consts * 10.0)])
    for name in ("codes", "args", "node_offsets", "consts", "const_offsets"):
        np.testing.assert_array_equal(getattr(sub, name), getattr(want, name), err_msg=name)
    assert sub.codes.dtype == batch.codes.dtype and sub.args.dtype == batch.args.dtype
    assert _subset(batch, np.zeros(0, dtype=np.int64), consts).n_programs == 0
