"""The parameter checks: the helper family, and every public entry point refusing bad values.

All fast: every call here fails at the door, before any search, fit or compilation.
"""

from __future__ import annotations

import doctest
import re
from fractions import Fraction

import numpy as np
import pytest

import eurisko.validation
from eurisko.validation import (
    ParameterTypeError,
    check_bool,
    check_choice,
    check_instance,
    check_int,
    check_number,
)


def test_module_doctests_pass():
    result = doctest.testmod(eurisko.validation)
    assert result.attempted >= 10 and result.failed == 0


def test_a_type_error_is_both_kinds_and_a_range_error_is_a_value_error():
    assert issubclass(ParameterTypeError, TypeError) and issubclass(ParameterTypeError, ValueError)
    with pytest.raises(ValueError) as err:
        check_int(0, "n", low=1)
    assert not isinstance(err.value, TypeError)


# --- check_int --------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [3, np.int64(3), np.int32(3), np.uint8(3)])
def test_check_int_accepts_python_and_numpy_integers(value):
    out = check_int(value, "n", low=1, high=5)
    assert out == 3 and type(out) is int


@pytest.mark.parametrize("value", [True, np.True_, 3.0, 2.5, "3", None, [3], 3 + 0j])
def test_check_int_refuses_other_types(value):
    with pytest.raises(ParameterTypeError, match=r"^n must be a positive integer, got "):
        check_int(value, "n", low=1)


def test_check_int_bounds_and_none():
    assert check_int(None, "lm_rows", low=8, none_ok=True) is None
    assert check_int(8, "lm_rows", low=8) == 8 and check_int(20, "d", low=12, high=20) == 20
    with pytest.raises(ValueError, match=r"^lm_rows must be an integer >= 8 or None, got 7; "
                                         r"None fits on all rows$"):
        check_int(7, "lm_rows", low=8, none_ok=True, hint="None fits on all rows")
    with pytest.raises(ValueError, match=r"^digits must be an integer from 12 to 20, got 21$"):
        check_int(21, "digits", low=12, high=20)
    with pytest.raises(ValueError, match=r"^degree must be a non-negative integer, got -1$"):
        check_int(-1, "degree", low=0)
    with pytest.raises(ValueError, match=r"^k must be an integer <= 3, got 4$"):
        check_int(4, "k", high=3)


def test_check_int_words_a_unit_and_explains_a_whole_float():
    with pytest.raises(ValueError, match=r"^symbolic_evals must be a positive whole number of "
                                         r"formula evaluations, got 0$"):
        check_int(0, "symbolic_evals", low=1, what="formula evaluations")
    with pytest.raises(ParameterTypeError, match=r"got 200000\.0; write it as an int, e\.g\. "
                                                 r"200000; it is a budget$"):
        check_int(2e5, "max_evals", low=1, hint="it is a budget")


# --- check_number -----------------------------------------------------------------------------


@pytest.mark.parametrize("value", [2, 2.0, np.float32(2.0), np.float64(2.0), np.int64(2),
                                   Fraction(2)])
def test_check_number_accepts_reals_and_returns_a_float(value):
    out = check_number(value, "x", low=0, low_open=True)
    assert out == 2.0 and type(out) is float


@pytest.mark.parametrize("value", [True, np.False_, "1", b"1", 1j, None, [1.0]])
def test_check_number_refuses_other_types(value):
    with pytest.raises(ParameterTypeError, match=r"^time_limit must be a positive number of "
                                                 r"seconds, got "):
        check_number(value, "time_limit", low=0, low_open=True, what="seconds")


def test_check_number_bounds_open_and_closed():
    assert check_number(0, "tol", low=0) == 0.0
    assert check_number(1, "p", low=0, high=1) == 1.0
    with pytest.raises(ValueError, match=r"^time_limit must be a positive number of seconds or "
                                         r"None, got 0$"):
        check_number(0, "time_limit", low=0, low_open=True, none_ok=True, what="seconds")
    with pytest.raises(ValueError, match=r"^p must be a number from 0 to 1, got 1\.5$"):
        check_number(1.5, "p", low=0, high=1)
    with pytest.raises(ValueError, match=r"^p must be a number >= 0 and < 1, got 1$"):
        check_number(1, "p", low=0, high=1, high_open=True)
    assert check_number(None, "time_limit", none_ok=True) is None


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -np.inf, 10**400, -(10**400)])
def test_check_number_refuses_non_finite_values(value):
    with pytest.raises(ValueError, match=r"^x must be a finite number, got "):
        check_number(value, "x")


def test_check_number_takes_infinities_when_told_but_never_nan():
    assert check_number(float("inf"), "x", finite=False) == float("inf")
    assert check_number(-(10**400), "x", finite=False) == float("-inf")
    with pytest.raises(ValueError, match=r"^x must be a number, got nan$"):
        check_number(float("nan"), "x", finite=False)


# --- check_choice, check_bool, check_instance -------------------------------------------------


def test_check_choice_returns_the_choice_and_tells_true_from_one():
    assert check_choice(np.str_("weak"), "f", ("auto", "weak")) == "weak"
    assert check_choice(np.True_, "symbolic", (True, False, "auto")) is True
    assert check_choice(False, "symbolic", (0, False)) is False
    with pytest.raises(ValueError, match=r"^symbolic must be True, False or 'auto', got 1$"):
        check_choice(1, "symbolic", (True, False, "auto"))
    with pytest.raises(ValueError, match=r"^search must be 'pcf', 'cf' or 'all', got 'PCF'; "
                                         r"lower case$"):
        check_choice("PCF", "search", ("pcf", "cf", "all"), hint="lower case")
    with pytest.raises(ValueError, match=r"got array"):  # == gives an array: no match, no crash
        check_choice(np.arange(3), "family", ("general",))


def test_check_bool():
    assert check_bool(True, "b") is True and check_bool(np.False_, "b") is False
    for bad in (1, 0, "yes", None, 1.0):
        with pytest.raises(ParameterTypeError, match=r"^warm_start must be True or False, got "):
            check_bool(bad, "warm_start")


def test_check_instance_shows_the_type_not_the_value():
    assert check_instance("x", "formula", str) == "x"
    assert check_instance(None, "formula", str, none_ok=True) is None
    with pytest.raises(ParameterTypeError, match=r"^batch must be an instance of int or str, "
                                                 r"got list$"):
        check_instance([1, 2], "batch", (int, str))
    with pytest.raises(ParameterTypeError, match=r"^model must be a SymPy expression, got None; "
                                                 r"parse it first$"):
        check_instance(None, "model", int, expected="a SymPy expression", hint="parse it first")


def test_a_long_value_is_shortened_in_the_message():
    with pytest.raises(ParameterTypeError) as err:
        check_int("x" * 10_000, "n")
    assert len(str(err.value)) < 120 and "..." in str(err.value)


# --- every public entry point refuses a bad parameter at the door -----------------------------


def _regressor(**kw):
    from eurisko import SymbolicRegressor

    return SymbolicRegressor(**kw).fit(np.ones((5, 1)), np.ones(5))


def _ode(**kw):
    from eurisko.dynamics import discover_ode

    t = np.linspace(0, 1, 50)
    return discover_ode(t, np.c_[np.sin(t), np.cos(t)], **kw)


def _identify(**kw):
    from eurisko.constants import identify

    return identify("1.6449340668482264364724151666460251892189499012067984377", **kw)


def _cf(**kw):
    from eurisko.constants import find_continued_fractions, parse_constant

    return find_continued_fractions(parse_constant("pi"), **kw)


def _continued_fraction(**kw):
    from eurisko.constants import continued_fraction

    return continued_fraction("3.14159265358979323846264338327950288", **kw)


def _pcf_space(**kw):
    from eurisko.constants.pcf import PCFSpace

    return PCFSpace(**{"family": "general", "a_degree": 1, "b_degree": 2, "bound": 5, **kw})


def _guess(**kw):
    from eurisko.sequences import guess

    return guess([1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144], **kw)


def _suite(**kw):
    from eurisko.bench.run import run_suite

    return run_suite("strogatz:vdp", **{"time_limit": 1.0, "progress": False, **kw})


def _feynman_sample(**kw):
    from eurisko.bench.feynman import load_problem

    return load_problem("I.6.2a").sample(**{"n": 10, **kw})


def _split(**kw):
    from eurisko.bench.feynman import load_problem

    return load_problem("I.6.2a").split(**kw)


def _recovery(**kw):
    import sympy as sp

    from eurisko.bench.exact import check_recovery

    x = sp.Symbol("x")
    return check_recovery(kw.pop("model", x), x, **kw)


def _fit(**kw):
    from eurisko.evaluate.base import Dataset
    from eurisko.expr import parse
    from eurisko.fit.lm import fit_program

    X = np.linspace(1, 2, 10)[:, None]
    return fit_program(kw.pop("program", parse("1.5 * x0")), Dataset.from_arrays(X, X[:, 0]), **kw)


def _numba(**kw):
    from eurisko.evaluate.numba_backend import NumbaBackend

    return NumbaBackend(**kw)


def _to_sympy(**kw):
    from eurisko.expr import parse
    from eurisko.expr.sympy_bridge import to_sympy

    return to_sympy(parse("1.5 * x0"), **kw)


def _to_string(**kw):
    from eurisko.expr import parse
    from eurisko.expr.printing import to_string

    return to_string(parse("1.5 * x0"), **kw)


def _simulate(**kw):
    import sympy as sp

    from eurisko.dynamics.model import Equation, ODEModel

    x = sp.Symbol("x", real=True)
    model = ODEModel(["x"], [Equation(-x, "given")])
    if "threshold" in kw:
        t = np.linspace(0, 1, 20)
        return model.valid_prediction_time(t, np.exp(-t)[:, None], **kw)
    return model.simulate([1.0], np.linspace(0, 1, 5), **kw)


def _register_operator(**kw):
    from eurisko.expr.operators import register_operator

    return register_operator("never_registered", **{
        "arity": 1, "numpy": np.negative, "sympy": lambda a: -a, "scalar": "-a", **kw})


def _dynamics_part(cls_name):
    def make(**kw):
        import eurisko.dynamics.differentiation as d
        import eurisko.dynamics.library as lib
        import eurisko.dynamics.sparse as sparse
        import eurisko.dynamics.symbolic as sym
        import eurisko.dynamics.weak as weak

        for module in (d, lib, sparse, sym, weak):
            if hasattr(module, cls_name):
                return getattr(module, cls_name)(**kw)
        raise AssertionError(cls_name)
    make.__name__ = cls_name
    return make


ENTRY_POINTS = [
    (_regressor, {"time_limit": -1}, "time_limit"),
    (_regressor, {"max_evals": 1.5e5}, "max_evals"),
    (_regressor, {"max_size": 0}, "max_size"),
    (_regressor, {"population_size": True}, "population_size"),
    (_regressor, {"n_jobs": 0}, "n_jobs"),
    (_regressor, {"n_islands": 0}, "n_islands"),
    (_regressor, {"loss_threshold": -1.0}, "loss_threshold"),
    (_regressor, {"exact_fit_tol": float("nan")}, "exact_fit_tol"),
    (_regressor, {"optimize_probability": 1.5}, "optimize_probability"),
    (_regressor, {"parsimony": -0.1}, "parsimony"),
    (_regressor, {"lm_rows": 4}, "lm_rows"),
    (_regressor, {"migration_interval": 2.5}, "migration_interval"),
    (_regressor, {"checkpoint_every": 0}, "checkpoint_every"),
    (_regressor, {"random_state": -1}, "random_state"),
    (_regressor, {"linear_scaling": "yes"}, "linear_scaling"),
    (_regressor, {"warm_start": 1}, "warm_start"),
    (_ode, {"degree": -1}, "degree"),
    (_ode, {"formulation": "integral"}, "formulation"),
    (_ode, {"symbolic": "yes"}, "symbolic"),
    (_ode, {"symbolic_evals": 0}, "symbolic_evals"),
    (_ode, {"symbolic_time": -1.0}, "symbolic_time"),
    (_ode, {"random_state": 1.5}, "random_state"),
    (_dynamics_part("FiniteDifference"), {"order": 0}, "order"),
    (_dynamics_part("SavitzkyGolay"), {"window": 1}, "window"),
    (_dynamics_part("SavitzkyGolay"), {"polyorder": 0}, "polyorder"),
    (_dynamics_part("SmoothingSpline"), {"lam": -1.0}, "lam"),
    (_dynamics_part("Tikhonov"), {"order": 0}, "order"),
    (_dynamics_part("AutoDifferentiator"), {"clean_below": -1.0}, "clean_below"),
    (_dynamics_part("PolynomialLibrary"), {"degree": -1}, "degree"),
    (_dynamics_part("PolynomialLibrary"), {"include_bias": "no"}, "include_bias"),
    (_dynamics_part("SparseRegression"), {"n_folds": 1}, "n_folds"),
    (_dynamics_part("SparseRegression"), {"se_factor": -1}, "se_factor"),
    (_dynamics_part("SymbolicSearch"), {"max_evals": 0}, "max_evals"),
    (_dynamics_part("SymbolicSearch"), {"restarts": -1}, "restarts"),
    (_dynamics_part("WeakForm"), {"scales": (1.0, -1.0)}, "scales[1]"),
    (_dynamics_part("WeakForm"), {"power": 0}, "power"),
    (_simulate, {"method": "euler"}, "method"),
    (_simulate, {"time_limit": 0}, "time_limit"),
    (_simulate, {"threshold": -1}, "threshold"),
    (_identify, {"time_limit": 0}, "time_limit"),
    (_identify, {"margin": -1}, "margin"),
    (_identify, {"max_degree": 1}, "max_degree"),
    (_identify, {"max_results": 0}, "max_results"),
    (_identify, {"exhaustive": "yes"}, "exhaustive"),
    (_cf, {"digits": 5}, "digits"),
    (_cf, {"digits": 60.0}, "digits"),
    (_cf, {"search": "everything"}, "search"),
    (_cf, {"family": "nope"}, "family"),
    (_cf, {"a_degree": -1, "family": "general"}, "a_degree"),
    (_cf, {"coeff_bound": 0, "family": "general"}, "coeff_bound"),
    (_cf, {"mobius_bound": 21}, "mobius_bound"),
    (_cf, {"margin": float("inf")}, "margin"),
    (_cf, {"time_limit": -5}, "time_limit"),
    (_continued_fraction, {"max_terms": 0}, "max_terms"),
    (_pcf_space, {"bound": 0}, "bound"),
    (_pcf_space, {"family": "odd"}, "family"),
    (_guess, {"min_checks": 0}, "min_checks"),
    (_guess, {"max_unknowns": 0}, "max_unknowns"),
    (_guess, {"time_limit": -1}, "time_limit"),
    (_guess, {"offset": 1.5}, "offset"),
    (_suite, {"seeds": 0}, "seeds"),
    (_suite, {"seeds": [0, -1]}, "seed"),
    (_suite, {"noise": [0.0, -0.1]}, "noise level"),
    (_suite, {"time_limit": 0}, "time_limit"),
    (_suite, {"threads": 0}, "threads"),
    (_suite, {"jobs": 0}, "jobs"),
    (_suite, {"rows": 2}, "rows"),
    (_suite, {"check_timeout": 0}, "check_timeout"),
    (_suite, {"max_evals": 0}, "max_evals"),
    (_feynman_sample, {"n": 0}, "n"),
    (_feynman_sample, {"noise": -1}, "noise"),
    (_feynman_sample, {"seed": -1}, "seed"),
    (_split, {"n": 2}, "n"),
    (_split, {"seed": -1}, "seed"),
    (_recovery, {"timeout": 0}, "timeout"),
    (_recovery, {"model": "x"}, "model"),
    (_fit, {"max_iter": -1}, "max_iter"),
    (_fit, {"tol": float("nan")}, "tol"),
    (_fit, {"linear_scaling": None}, "linear_scaling"),
    (_fit, {"program": "x0"}, "program"),
    (_numba, {"block_size": 0}, "block_size"),
    (_numba, {"n_threads": 2.0}, "n_threads"),
    (_to_sympy, {"precision": 0}, "precision"),
    (_to_string, {"precision": True}, "precision"),
    (_register_operator, {"arity": 3}, "arity"),
    (_register_operator, {"arity": True}, "arity"),
    (_register_operator, {"complexity": 0}, "complexity"),
]


@pytest.mark.parametrize(
    "call, kwargs, name", ENTRY_POINTS,
    ids=[f"{c.__name__.strip('_')}-{n}" for c, _, n in ENTRY_POINTS])
def test_entry_points_refuse_bad_parameters_naming_them(call, kwargs, name):
    with pytest.raises((ValueError, TypeError)) as err:
        call(**kwargs)
    message = str(err.value)
    assert re.match(rf"(a )?{re.escape(name)} must be ", message), message
    assert "\n" not in message
