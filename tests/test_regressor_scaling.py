"""Data of any finite magnitude: the search works on scaled data, the front is in the user's
units, and ordinary data are searched exactly as before."""

from __future__ import annotations

import numpy as np
import pytest

from eurisko import SymbolicRegressor


def quick(**kw) -> SymbolicRegressor:
    params = dict(time_limit=None, max_evals=8000, n_jobs=1, random_state=0,
                  population_size=40, n_islands=2)
    params.update(kw)
    return SymbolicRegressor(**params)


def _ordinary_data():
    rng = np.random.default_rng(3)
    X = rng.uniform(1, 3, (200, 2))
    y = X[:, 0] * X[:, 1] ** 2 + rng.normal(0, 0.05, 200)
    # columns and target at the edges of the magnitudes left unscaled
    X2 = np.column_stack([rng.uniform(300, 900, 200), rng.uniform(0.002, 0.006, 200)])
    y2 = X2[:, 0] * X2[:, 1] ** 2 * (1 + rng.normal(0, 0.01, 200))
    return [(X, y), (X2, y2)]


# What the search gave on these data (seed 0, n_jobs=1, max_evals=8000) before the data were
# scaled (commit d0d8132): ordinary magnitudes must be searched exactly as then.
PINNED = [
    ([[1, 26.51412583713681, "8.767599677401153"],
      [3, 12.008986954616212, "4.554797647314814*x1"],
      [4, 8.081792838206015, "1.9890504140057492*x1^2"],
      [5, 0.0023356354394303293, "x1*(x0*x1)"],
      [7, 0.0022840464068782356, "(x1 + 0.0016518437518008658)*(x0*x1)"],
      [9, 0.002277145978521803, "(x1 + 0.003182483855808347)*(x0*x1) - 0.007155176019923751"],
      [11, 0.002271367246688325,
       "0.9985206049719494*((x1 + 0.007717828837477387)*(x0*x1)) - 0.012490222823243502"],
      [16, 0.0022483590312162216,
       "(24439.466688593406 - (-11243121.978258342*x0))/(3345.3906248560925/x1"
       " - (0.30793709894100646 - x1))^2 - 0.019237427878752565"]], 3, 8019),
    ([[1, 7.334435887660692e-05, "x1"],
      [3, 1.8998890181051064e-05, "2.744355618623662*x1"],
      [4, 1.4386346529313384e-08, "x0*x1^2"],
      [5, 1.4336361564701728e-08, "sin(x0*x1^2)"],
      [6, 1.4193693666309529e-08, "0.9988809583685286*(x0*x1^2)"],
      [7, 1.4164148701373427e-08, "0.9989419217987331*sin(x0*x1^2)"],
      [8, 1.3998407630953494e-08, "0.9970921618660857*(x0*x1^2) + 2.6221321816112606e-05"],
      [9, 1.3978143657011052e-08,
       "0.9971959380668548*sin(x0*x1^2) + 2.5591749824255664e-05"],
      [11, 1.3779602095003792e-08,
       "(1.018390855152997 - sqrt(0.07574974498632396*x1))*(x0*x1^2)"],
      [12, 1.3670702046366798e-08,
       "(1.0053972959465085 - 248.27310711086292*x1*x1)*(x0*x1^2)"],
      [14, 1.365543178484627e-08,
       "(1.007310109941684 - 293.34542187789265*x1*x1)*(x0*x1^2) - 1.0698119151928917e-05"],
      [16, 1.365543178484619e-08,
       "-0.026692509810657662*((-37.737556970056424 - (-10989.802593276967*x1*x1))"
       "*(x0*x1^2)) - 1.0698118142465562e-05"],
      [20, 1.3543869023078187e-08,
       "0.02317615621352706*((43.953813462622016 - log(log(x0^2*x0)^2*x1))*(x0*x1^2))"
       " - 7.35172723704392e-05"]], 2, 8276),
]


@pytest.mark.parametrize("case", [0, 1])
def test_ordinary_magnitudes_are_searched_as_before(case):
    X, y = _ordinary_data()[case]
    rows, best, n_evals = PINNED[case]
    model = quick().fit(X, y)
    front = model.pareto_front_
    assert list(front["equation"]) == [r[2] for r in rows]
    assert list(front["complexity"]) == [r[0] for r in rows]
    np.testing.assert_allclose(front["loss"], [r[1] for r in rows], rtol=1e-9)
    assert model.best_index_ == best
    assert model.n_evals_ == n_evals
