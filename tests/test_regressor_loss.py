"""``SymbolicRegressor(loss=...)``: robust losses find a law that gross outliers hide from
least squares; errors for unknown losses; scikit-learn's checks with a robust loss."""

from __future__ import annotations

import numpy as np
import pytest

from eurisko import SymbolicRegressor, register_loss


def outliers(seed: int = 0, n: int = 200):
    rng = np.random.default_rng(seed)
    X = rng.uniform(1, 3, (n, 2))
    law = X[:, 0] * X[:, 1] ** 2
    y = law.copy()
    bad = rng.choice(n, n // 20, replace=False)
    y[bad] *= 10  # 5% gross outliers
    return X, y, law, np.setdiff1d(np.arange(n), bad)


def fit(loss: str, X, y, **kw) -> SymbolicRegressor:
    params = dict(loss=loss, max_evals=30000, time_limit=None, n_jobs=1, random_state=0)
    params.update(kw)
    return SymbolicRegressor(**params).fit(X, y)


def test_huber_recovers_the_law_that_outliers_hide_from_l2():
    X, y, law, good = outliers()
    robust = fit("huber", X, y)
    plain = fit("l2", X, y)
    # the selected formula reproduces the law on the clean rows (and hence everywhere)
    np.testing.assert_allclose(robust.predict(X)[good], law[good], rtol=1e-6)
    np.testing.assert_allclose(robust.predict(X), law, rtol=1e-6)
    assert not np.allclose(plain.predict(X), law, rtol=1e-2)
    # the front reports the huber loss; r2 is the plain R^2 on the training rows
    sel = robust.pareto_front_.iloc[robust.best_index_]
    assert sel["r2"] == pytest.approx(1 - np.sum((law - y) ** 2) / np.sum((y - y.mean()) ** 2))
    d = robust.get_params()["loss_scale"]
    assert d is None


def test_l1_recovers_it_too_and_reports_mean_absolute_error():
    X, y, law, _ = outliers()
    m = fit("l1", X, y)
    np.testing.assert_allclose(m.predict(X), law, rtol=1e-6)
    sel = m.pareto_front_.iloc[m.best_index_]
    assert sel["loss"] == pytest.approx(np.mean(np.abs(law - y)), rel=1e-6)


def test_a_robust_loss_on_huge_targets_reports_user_units():
    X, y, law, _ = outliers(1)
    m = fit("l1", X, 1e200 * y, max_evals=20000)
    sel = m.pareto_front_.iloc[m.best_index_]
    ref = np.mean(np.abs(m.predict(X) - 1e200 * y))
    assert sel["loss"] == pytest.approx(ref, rel=1e-6)


def test_unknown_loss_and_bad_scale_fail_before_the_search():
    X, y, _, _ = outliers()
    with pytest.raises(ValueError, match="unknown loss 'hubber'.*l1, huber, logcosh"):
        SymbolicRegressor(loss="hubber").fit(X, y)
    with pytest.raises(ValueError, match="loss_scale"):
        SymbolicRegressor(loss="huber", loss_scale=-1.0).fit(X, y)
    with pytest.raises(TypeError, match="name of a loss"):
        SymbolicRegressor(loss=None).fit(X, y)


def test_register_loss_is_public():
    with pytest.raises(ValueError, match="exists already"):
        register_loss("l1", numpy=np.abs, scalar="abs(r)")


def test_passes_scikit_learn_checks_with_a_robust_loss():
    from sklearn.utils.estimator_checks import check_estimator

    skipped = {  # as for the default loss (tests/test_regressor.py says why)
        "check_sample_weights_invariance": "search path depends on round-off of weighted sums",
        "check_sample_weight_equivalence_on_dense_data": "same reason",
    }
    est = SymbolicRegressor(loss="huber", time_limit=None, max_evals=1500, n_jobs=1,
                            random_state=0, population_size=20, n_islands=1)
    check_estimator(est, expected_failed_checks=skipped)
