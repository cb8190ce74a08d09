"""Losses: each built-in and a user-registered loss against numpy written here, in the kernels'
loss path and in constant fitting (IRLS inside LM against a general-purpose minimiser)."""

from __future__ import annotations

import numpy as np
import pytest

from eurisko.evaluate import losses as losses_module
from eurisko.evaluate.base import Dataset, scaled_losses
from eurisko.evaluate.losses import LossSpec, default_loss_scale, get_loss, register_loss
from eurisko.evaluate.reference import NumpyBackend, eval_program
from eurisko.expr import parse
from eurisko.expr.program import ProgramBatch
from eurisko.fit import fit_constants

BUILTIN = ("l1", "huber", "logcosh")


def rho_reference(name: str, r: np.ndarray, d: float) -> np.ndarray:
    """The losses as the README defines them, written without the registry's code."""
    a = np.abs(r)
    if name == "l2":
        return r * r
    if name == "l1":
        return a
    if name == "huber":
        return np.where(a <= d, r * r, 2 * d * a - d * d)
    if name == "logcosh":
        return 2 * d * d * (np.logaddexp(r / d, -r / d) - np.log(2.0))
    if name == "pseudo_l1_5":
        return (r * r + d * d) ** 0.75 - d ** 1.5
    raise AssertionError(name)


def pseudo_numpy(r, d):
    return (r * r + d * d) ** 0.75 - d ** 1.5


@pytest.fixture
def scratch_losses(monkeypatch):
    """Register losses for one test only: the registry is restored afterwards."""
    monkeypatch.setattr(losses_module, "_REGISTRY", list(losses_module._REGISTRY))
    yield
    losses_module._FINGERPRINT.clear()


def numba_backend():
    from eurisko.evaluate.numba_backend import NumbaBackend

    return NumbaBackend()


def outlier_data(seed: int, name: str, d: float, weights: bool = False, n: int = 200
                 ) -> Dataset:
    rng = np.random.default_rng(seed)
    X = rng.uniform(0.5, 2.5, (n, 3))
    y = np.sin(X[:, 0]) * X[:, 1] + 0.05 * rng.normal(size=n)
    y[rng.choice(n, n // 20, replace=False)] *= 10
    w = rng.uniform(0.2, 2.0, n) if weights else None
    return Dataset.from_arrays(X, y, w, loss=LossSpec(name, d))


def random_programs(seed: int, n: int) -> ProgramBatch:
    rng = np.random.default_rng(seed)
    texts = []
    for _ in range(n):
        c = np.round(rng.uniform(-2, 2, 3), 3)
        form = rng.integers(5)
        texts.append([f"{c[0]}*sin(x0)*x1 + {c[1]}", f"{c[0]}*x0 + {c[1]}*x1*x2",
                      f"exp({c[0]}*x2)*{c[1]}", f"x0/({c[2]} + x1*x1)", f"{c[0]}"][form])
    return ProgramBatch.from_programs([parse(t, ["x0", "x1", "x2"]) for t in texts])


def check_losses_path(name: str, backend, d: float = 0.3) -> None:
    batch = random_programs(3, 40)
    for weights in (False, True):
        data = outlier_data(4, name, d, weights)
        w = np.ones(data.n_rows) if data.w is None else data.w
        pred = NumpyBackend().predict(batch, data)
        # without scaling: the mean loss of the residuals, exactly as written above
        got = backend.losses(batch, data, False)
        want = np.array([np.sum(w * rho_reference(name, f - data.y, d)) / np.sum(w)
                         for f in pred])
        np.testing.assert_allclose(got.loss, want, rtol=1e-9)
        # with scaling: (a, b) minimise the loss; no a, b nearby does better
        got = backend.losses(batch, data, True)
        ref = scaled_losses(pred, data.y, data.w, True, data.loss)
        np.testing.assert_allclose(got.loss, ref.loss, rtol=1e-5)
        for i in range(0, batch.n_programs, 7):
            a, b = got.scale[i]
            at = np.sum(w * rho_reference(name, a + b * pred[i] - data.y, d)) / np.sum(w)
            np.testing.assert_allclose(got.loss[i], at, rtol=1e-9)
            # (IRLS on l1 converges linearly: within 1e-4 of the optimum after its rounds)
            slack = 1e-4 if name == "l1" else 1e-6
            for da, db in ((1e-3, 0), (-1e-3, 0), (0, 1e-3), (0, -1e-3)):
                f = (a + da) + (b + db) * pred[i] - data.y
                assert np.sum(w * rho_reference(name, f, d)) / np.sum(w) >= got.loss[i] * (
                    1 - slack)


@pytest.mark.parametrize("name", BUILTIN)
@pytest.mark.parametrize("which", ["numpy", "numba"])
def test_builtin_losses_in_the_loss_path(name, which):
    check_losses_path(name, NumpyBackend() if which == "numpy" else numba_backend())


def test_float32_data_under_a_robust_loss():
    batch = random_programs(5, 20)
    d64 = outlier_data(6, "huber", 0.3)
    d32 = Dataset.from_arrays(d64.Xt.T, d64.y, None, dtype=np.float32, loss=d64.loss)
    a = numba_backend().losses(batch, d64, True).loss
    b = numba_backend().losses(batch, d32, True).loss
    np.testing.assert_allclose(b, a, rtol=1e-4)


def check_constant_fits(name: str, backend, d: float = 0.3) -> None:
    from scipy.optimize import minimize

    data = outlier_data(7, name, d)
    texts = ["1.1*sin(0.8*x0)*x1", "0.5*x1*exp(0.1*x0)", "1.0*x0 + 0.2*x1*x2"]
    for ls in (False, True):
        batch = ProgramBatch.from_programs([parse(t, ["x0", "x1", "x2"]) for t in texts])
        res = fit_constants(batch, data, backend, max_iter=100, linear_scaling=ls, tol=1e-12)
        for i, t in enumerate(texts):
            p = parse(t, ["x0", "x1", "x2"])
            k = p.n_consts

            def objective(c, p=p, k=k, ls=ls):
                f = eval_program(p.with_consts(c[:k]), data.Xt)
                if ls:
                    f = c[k] + c[k + 1] * f
                return float(np.mean(rho_reference(name, f - data.y, d)))

            start = np.r_[p.consts, [0.0, 1.0]] if ls else p.consts
            best = minimize(objective, start, method="Nelder-Mead",
                            options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": 20000,
                                     "maxfev": 20000})
            # IRLS-LM reaches the minimiser's optimum (or better), and reports its loss exactly
            assert res.loss[i] <= best.fun * (1 + 1e-4)
            a, b = res.consts[batch.const_offsets[i]:batch.const_offsets[i + 1]], None
            c = np.r_[a, res.scale[i]] if ls else a
            b = objective(c)
            np.testing.assert_allclose(res.loss[i], b, rtol=1e-9)


@pytest.mark.parametrize("name", BUILTIN)
def test_builtin_losses_fit_constants(name):
    check_constant_fits(name, numba_backend())


def test_irls_fit_with_the_reference_backend():
    check_constant_fits("huber", NumpyBackend())


def test_robust_fit_ignores_outliers_that_pull_least_squares():
    data = outlier_data(8, "huber", 0.1)
    batch = ProgramBatch.from_programs([parse("1.0*sin(x0)*x1", ["x0", "x1", "x2"])])
    robust = fit_constants(batch, data, NumpyBackend(), max_iter=50, linear_scaling=False)
    l2 = fit_constants(batch, Dataset(data.Xt, data.y, None), NumpyBackend(), max_iter=50,
                       linear_scaling=False)
    assert abs(robust.consts[0] - 1.0) < 0.02 < abs(l2.consts[0] - 1.0)


def test_user_registered_loss_everywhere(scratch_losses):
    register_loss("pseudo_l1_5", numpy=pseudo_numpy,
                  scalar="(r * r + d * d) ** 0.75 - d ** 1.5")
    assert [lo.name for lo in losses_module.custom_losses()] == ["pseudo_l1_5"]
    check_losses_path("pseudo_l1_5", NumpyBackend())
    check_losses_path("pseudo_l1_5", numba_backend())  # compiles a kernel with the new loss
    check_constant_fits("pseudo_l1_5", NumpyBackend())  # IRLS weights: central differences


def test_weights_are_the_irls_weights_of_each_loss():
    r = np.array([-3.0, -0.2, 1e-7, 0.05, 0.7, 4.0])
    for name in ("l2", "huber", "logcosh"):
        lo = get_loss(name)
        h = 1e-6
        slope = (rho_reference(name, r + h, 0.5) - rho_reference(name, r - h, 0.5)) / (2 * h)
        np.testing.assert_allclose(lo.weights(r, 0.5)[np.abs(r) > 1e-3],
                                   (slope / (2 * r))[np.abs(r) > 1e-3], rtol=1e-5)


def test_loss_registration_errors(scratch_losses):
    with pytest.raises(ValueError, match="unknown loss 'nope'.*huber"):
        get_loss("nope")
    with pytest.raises(TypeError, match="name of a loss"):
        get_loss(3)
    with pytest.raises(ValueError, match="exists already"):
        register_loss("huber", numpy=pseudo_numpy, scalar="r * r")
    with pytest.raises(ValueError, match="lower-case identifier"):
        register_loss("Bad Name", numpy=pseudo_numpy, scalar="r * r")
    with pytest.raises(ValueError, match="non-negative"):
        register_loss("negative", numpy=lambda r, d: -r * r, scalar="-r * r")
    with pytest.raises(ValueError, match="top level"):
        register_loss("lam", numpy=pseudo_numpy, scalar=lambda r, d: r * r)
    with pytest.raises(TypeError, match="numpy must be"):
        register_loss("nonum", numpy="r * r", scalar="r * r")
    with pytest.raises(TypeError, match="LossSpec"):
        Dataset.from_arrays(np.ones((3, 1)), np.ones(3), loss="huber")


def test_default_loss_scale_reads_the_noise_not_the_spread():
    rng = np.random.default_rng(0)
    X = rng.uniform(1, 3, (2000, 2))
    law = 100 * X[:, 0] * X[:, 1]
    spread = 1.4826 * np.median(np.abs(law - np.median(law)))
    for sigma in (20.0, 0.01):
        y = law + sigma * rng.normal(size=2000)
        clean = default_loss_scale(y, X)
        y[:100] *= 10  # gross outliers hardly move it
        d = default_loss_scale(y, X)
        assert abs(d / clean - 1) < 0.2
        # an upper bound of the noise (neighbours differ by the law's slope too), well
        # below the spread of y; close to 1.345 sigma once the noise dominates
        assert 1.345 * sigma < d < 0.3 * spread
        if sigma > 1:
            assert d < 1.345 * sigma * 1.5
    assert clean < 0.1 * spread
    # without X: a thousandth of the robust spread of y
    y = rng.normal(size=1001)
    assert 0 < default_loss_scale(y) < 1e-2


def test_linear_scale_follows_the_loss():
    from eurisko.fit import linear_scale

    data = outlier_data(9, "huber", 0.05)
    f = np.sin(data.Xt[0]) * data.Xt[1]
    a2, b2 = linear_scale(f, data.y)
    a, b = linear_scale(f, data.y, loss=data.loss)
    assert abs(b - 1) < 0.02 and abs(a) < 0.05  # the law, outliers ignored
    assert abs(a2) > 0.2  # least squares is pulled (into its offset here)
    aa, bb = linear_scale(np.vstack([f, 2 * f]), data.y, loss=data.loss)
    np.testing.assert_allclose([aa[0], bb[0]], [a, b])
    np.testing.assert_allclose(bb[1], b / 2, rtol=1e-6)
