"""search.enumerate: brute force over small formulas finds the laws evolution misses."""

from __future__ import annotations

import numpy as np
import pytest

from eurisko.evaluate.reference import eval_program
from eurisko.expr.operators import op_code
from eurisko.expr.printing import to_string
from eurisko.search.enumerate import enumerate_formulas, enumerate_targets


def _check_exact(res, X, y, w=None):
    """The first exact formula reproduces y on every row, and its loss is the one reported."""
    assert res.exact, f"no exact formula; best: {[to_string(f.program) for f in res.best]}"
    p, loss, (a, b) = res.exact[0]
    pred = eval_program(p, np.ascontiguousarray(X.T))
    ww = np.ones_like(y) if w is None else w
    mse = float(np.sum(ww * (pred - y) ** 2) / np.sum(ww))
    var = float(np.average((y - np.average(y, weights=ww)) ** 2, weights=ww))
    assert mse <= 1e-14 * var
    assert loss == pytest.approx(mse, rel=1e-6, abs=1e-30)
    return p


def _uses(program, name):
    return bool(np.any(program.codes == op_code(name)))


def test_relativistic_mass_is_found():
    z = np.linspace(0.1, 0.67, 200)
    X, y = z[:, None], 1 / np.sqrt(1 - z**2)
    res = enumerate_formulas(X, y)
    p = _check_exact(res, X, y)
    assert _uses(p, "sqrt") and p.complexity() <= 8
    assert res.stop_reason == "exact" and not res.timed_out


@pytest.mark.parametrize("f", [lambda z: z / (np.exp(z) - 1), lambda z: 1 / (np.exp(z) - 1)],
                         ids=["planck", "bose"])
def test_planck_forms_are_found(f):
    z = np.random.default_rng(0).uniform(0.1, 5, 300)
    X, y = z[:, None], f(z)
    p = _check_exact(enumerate_formulas(X, y), X, y)
    assert _uses(p, "exp") and p.complexity() <= 7


def test_two_variables():
    X = np.random.default_rng(1).uniform(-2, 2, (300, 2))
    y = np.sqrt(X[:, 0] ** 2 + X[:, 1] ** 2)
    p = _check_exact(enumerate_formulas(X, y), X, y)
    assert to_string(p) == "sqrt(x0^2 + x1^2)"


def test_linear_scaling_gives_offset_and_scale():
    z = np.random.default_rng(2).uniform(0.1, 5, 300)
    X, y = z[:, None], 3.7 * z**2 + 1.2
    res = enumerate_formulas(X, y)
    p = _check_exact(res, X, y)
    a, b = res.exact[0].scale
    assert (a, b) == (pytest.approx(1.2), pytest.approx(3.7))
    assert sorted(p.consts.tolist()) == [1.2, 3.7]  # folded in, and snapped
    assert res.sizes[-1].size == 2  # z^2 has two nodes: nothing larger was enumerated


def test_weights_and_zero_weight_rows():
    """Rows of weight 0 neither count nor enter the subsample (a reduction's weights)."""
    rng = np.random.default_rng(3)
    z = rng.uniform(0.1, 0.67, 300)
    y = 1 / np.sqrt(1 - z**2)
    w = rng.uniform(0.5, 2, 300)
    w[:40] = 0.0
    y[:40] = rng.normal(size=40)  # garbage where the weight is zero
    X = z[:, None]
    _check_exact(enumerate_formulas(X, y, w, max_size=7, n_sample=32), X, y, w)


def test_noisy_data_gives_nothing_exact():
    rng = np.random.default_rng(4)
    z = rng.uniform(0.1, 5, 300)
    y = 3.7 * z**2 + 1.2 + rng.normal(0, 0.01, 300)
    res = enumerate_formulas(z[:, None], y, max_size=6)
    assert res.exact == [] and res.stop_reason == "max_size"
    assert res.best, "the best inexact formulas are returned as seeds"
    best = min(res.best, key=lambda f: f.loss)
    assert best.loss < 1e-3  # about the noise: 0.01**2
    assert [f.program.complexity() for f in res.best] == sorted(
        f.program.complexity() for f in res.best)


def test_function_outside_the_space_gives_nothing_exact():
    z = np.random.default_rng(5).uniform(0.1, 2, 300)
    y = z**7 + np.sin(5 * z)
    res = enumerate_formulas(z[:, None], y, max_size=5)
    assert res.exact == []
    assert [s.size for s in res.sizes] == [1, 2, 3, 4, 5]
    for f in res.best:
        assert np.isfinite(f.loss) and f.loss > 1e-14 * np.var(y)


def test_operator_list_is_respected():
    z = np.linspace(0.1, 0.67, 200)
    y = 1 / np.sqrt(1 - z**2)
    ops = ["add", "sub", "mul", "div", "square", "exp", "log"]
    res = enumerate_formulas(z[:, None], y, operators=ops, max_size=7)
    assert res.exact == []  # 1/sqrt(1 - z^2) needs more than 7 nodes without sqrt
    allowed = {op_code(n) for n in ops} | {0, 1}
    for f in res.exact + res.best:
        assert set(f.program.codes.tolist()) <= allowed, to_string(f.program)


def test_time_limit_cuts_the_enumeration():
    z = np.random.default_rng(6).uniform(0.1, 2, 200)
    y = z**7 + np.sin(5 * z)
    res = enumerate_formulas(z[:, None], y, max_size=12, time_limit=0.5)
    assert res.timed_out and res.stop_reason == "time_limit"
    assert not res.sizes[-1].complete and res.sizes[-1].size < 12
    assert res.max_size_done == res.sizes[-1].size - 1
    assert res.best  # what was found before the cut comes back


def test_stats_and_results_shape():
    z = np.random.default_rng(7).uniform(0.1, 5, 100)
    y = z / (np.exp(z) - 1)
    res = enumerate_formulas(z[:, None], y, max_size=6, stop_at_exact=False, n_best=2)
    assert [s.size for s in res.sizes] == [1, 2, 3, 4, 5, 6]
    assert all(0 < s.n_distinct <= s.n_candidates for s in res.sizes)
    assert res.sizes[1].n_distinct == 7  # -z, z^2, sqrt, exp, log, sin, cos of z
    assert res.n_sample == 32
    program, loss, (a, b) = res.exact[0]  # a Found unpacks as a tuple
    assert program.complexity() <= 6 and loss >= 0 and np.isfinite([a, b]).all()


def test_constant_target():
    z = np.linspace(0, 1, 20)
    res = enumerate_formulas(z[:, None], np.full(20, 2.5))
    assert len(res.exact) == 1 and res.exact[0].program.consts.tolist() == [2.5]


@pytest.mark.parametrize("kwargs, match", [
    ({"X": np.arange(10.0)}, "2-D"),
    ({"y": np.arange(9.0)}, "one value per row"),
    ({"y": np.r_[np.nan, np.arange(9.0)]}, "finite"),
    ({"w": -np.ones(10)}, "non-negative"),
    ({"w": np.ones(3)}, "one weight per row"),
    ({"max_size": 0}, "max_size"),
    ({"time_limit": -1}, "time_limit"),
    ({"exact_tol": float("nan")}, "exact_tol"),
    ({"n_best": -1}, "n_best"),
    ({"constants": "12"}, "constants"),
    ({"constants": [1.0, "pi"]}, r"constants\[1\]"),
    ({"operators": ["add", "frobnicate"]}, "unknown operator"),
    ({"stop_at_exact": 1}, "stop_at_exact"),
])
def test_parameters_are_checked(kwargs, match):
    args = {"X": np.linspace(1, 2, 10)[:, None], "y": np.arange(10.0)} | kwargs
    with pytest.raises(ValueError, match=match):
        enumerate_formulas(**args)


def test_a_spent_time_limit_starts_no_size():
    z = np.random.default_rng(8).uniform(0.1, 2, 50)
    res = enumerate_formulas(z[:, None], z**7 + np.sin(5 * z), max_size=12, time_limit=1e-9)
    assert res.timed_out and res.sizes == [] and res.max_size_done == 0
    assert res.exact == [] and res.best == []


def _summary(res):
    return ([to_string(f.program) for f in res.exact], [to_string(f.program) for f in res.best],
            [(s.size, s.n_candidates, s.n_distinct) for s in res.sizes], res.stop_reason)


def test_several_targets_in_one_walk_give_each_its_own_result():
    # 30 rows, all in the subsample: each target's result is the single-target walk's
    z = np.linspace(0.1, 0.67, 30)
    y = 1 / np.sqrt(1 - z**2)
    targets = [y, 1 / y**2, np.log(y), np.sin(3 * z) + z**3, np.full(30, 2.0)]
    many = enumerate_targets(z[:, None], targets, max_size=6)
    assert len(many) == len(targets)
    for t, res in zip(targets, many, strict=True):
        assert _summary(res) == _summary(enumerate_formulas(z[:, None], t, max_size=6))
    # 1/y^2 = 1 - z^2 is small: it stops early while the walk goes on for the others
    assert many[1].stop_reason == "exact" and len(many[1].sizes) < len(many[0].sizes)
    assert many[3].exact == [] and many[3].stop_reason == "max_size"
    # a 2-D array of targets is the same as the list
    again = enumerate_targets(z[:, None], np.column_stack(targets), max_size=6)
    assert [_summary(r) for r in again] == [_summary(r) for r in many]


def test_targets_are_checked():
    z = np.linspace(1, 2, 10)[:, None]
    with pytest.raises(ValueError, match="targets must be"):
        enumerate_targets(z, [np.arange(9.0)])
    with pytest.raises(ValueError, match="targets must be finite"):
        enumerate_targets(z, [np.r_[np.inf, np.arange(9.0)]])


def test_stop_with_first_ends_the_walk_when_the_first_target_is_exact():
    z = np.linspace(0.1, 0.67, 30)
    y = z / np.sqrt(1 - z**2)
    each = enumerate_targets(z[:, None], [y, 1 / y**2])
    assert len(each[0].sizes) > len(each[1].sizes) == 4  # 1/y^2 = 1/z^2 - 1, scaled
    # a transform exact first does not end the walk: the first target is the question
    first = enumerate_targets(z[:, None], [y, 1 / y**2], stop_with_first=True)
    assert first[0].exact and first[1].exact
    assert [r.stop_reason for r in first] == ["exact", "exact"]
    assert len(first[0].sizes) == len(each[0].sizes)
    # ... and where the first target is exact first, the others stop with it
    flipped = enumerate_targets(z[:, None], [1 / y**2, y], stop_with_first=True)
    assert len(flipped[1].sizes) == len(flipped[0].sizes) == 4 and flipped[1].exact == []
    # a constant first target is exact at once: nothing is walked for the others
    const = enumerate_targets(z[:, None], [np.ones(30), y], stop_with_first=True)
    assert const[1].sizes == [] and const[1].exact == [] and const[0].exact


def test_a_candidate_budget_bounds_the_walk_the_same_way_every_time():
    z = np.linspace(0.1, 0.67, 40)
    y = np.exp(z) * np.sin(3 * z) + z**3  # nothing small is exact: the walk would go on
    full = enumerate_formulas(z[:, None], y, max_size=6)
    budget = sum(s.n_candidates for s in full.sizes[:4]) + 10
    a = enumerate_formulas(z[:, None], y, max_size=6, max_candidates=budget)
    b = enumerate_formulas(z[:, None], y, max_size=6, max_candidates=budget)
    assert a.stop_reason == "budget" and sum(s.n_candidates for s in a.sizes) <= budget
    assert [s.n_candidates for s in a.sizes] == [s.n_candidates for s in b.sizes]
    assert a.max_size_done == 4 < full.max_size_done
    with pytest.raises(ValueError, match="max_candidates"):
        enumerate_formulas(z[:, None], y, max_candidates=0)
