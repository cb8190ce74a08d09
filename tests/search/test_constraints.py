"""Constraints, complexities, batching and the selection rules, below the estimator."""

from __future__ import annotations

import random

import numpy as np
import pytest

from eurisko.evaluate.base import Dataset
from eurisko.evaluate.reference import NumpyBackend
from eurisko.expr.operators import complexities, complexities_in_force, complexity_table
from eurisko.expr.parser import parse
from eurisko.search.constraints import Constraints
from eurisko.search.front import select_index
from eurisko.search.island import Island, SearchConfig, evaluate_batch, mini_batch
from eurisko.search.mutation import Grammar

OPS = ("add", "sub", "mul", "div", "pow", "sin", "cos", "exp", "square")
NAMES = ["x", "y"]


def p(text: str):
    return parse(text, NAMES)


@pytest.mark.parametrize(("text", "ok"), [
    ("sin(x) + cos(y)", True),
    ("sin(cos(x))", False),           # cos inside sin
    ("sin(x + sin(y))", False),       # sin inside sin, not at the top of the argument
    ("sin(x) * sin(y)", True),        # side by side is not nested
    ("exp(exp(x))", True),            # one exp inside an exp is allowed
    ("exp(x * exp(exp(y)))", False),  # two
    ("x ^ 2.5", True),                # pow's exponent of size 1
    ("x ^ (y + 1)", False),           # exponent of size 3
    ("(x + y + x) ^ 2", True),        # the base is unlimited
])
def test_constraints_follow_pysr_meaning(text, ok):
    c = Constraints.of(None, {"pow": (-1, 1)},
                       {"sin": {"sin": 0, "cos": 0}, "exp": {"exp": 1}})
    assert c.allows(p(text)) is ok
    assert (c.violation(p(text)) is None) is ok


def test_max_depth_counts_levels_and_argument_sizes_use_complexities():
    c = Constraints.of(3)
    assert c.allows(p("sin(x) + y"))          # add -> sin -> x: 3 levels
    assert not c.allows(p("sin(x * y) + y"))  # 4 levels
    size = Constraints.of(None, {"sin": 3})
    assert size.allows(p("sin(x * y)"))
    with complexities_in_force(complexities(variables=2)):  # x * y now costs 5
        assert not size.allows(p("sin(x * y)"))
        assert p("sin(x * y)").complexity() == 6
    assert p("sin(x * y)").complexity() == 4  # the cached count follows the table in force


@pytest.mark.parametrize(("kw", "message"), [
    ({"constraints": {"nope": 1}}, "unknown operator 'nope'"),
    ({"constraints": {"pow": 3}}, "pair"),
    ({"constraints": {"sin": (1, 2)}}, "one argument"),
    ({"constraints": {"pow": (-2, 1)}}, "constraints['pow'][0]"),
    ({"constraints": ["pow"]}, "must be a dict"),
    ({"nested_constraints": {"sin": ["cos"]}}, "must be a dict"),
    ({"nested_constraints": {"sin": {"cos": -1}}}, "nested_constraints['sin']['cos']"),
    ({"max_depth": 0}, "max_depth"),
])
def test_bad_constraints_fail_at_the_door(kw, message):
    with pytest.raises((ValueError, TypeError)) as err:
        Constraints.of(**kw)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_complexity_overrides_validated():
    table = complexities({"exp": 3}, variables=2, constants=1)
    assert table[0] == 2 and table[1] == 1
    with complexities_in_force(table):
        assert p("exp(x) + 1").complexity() == 3 + 2 + 1 + 1
        assert complexity_table()[0] == 2
    assert complexity_table()[0] == 1
    with pytest.raises(ValueError, match="unknown operator 'expp'"):
        complexities({"expp": 3})
    with pytest.raises(ValueError, match=r"complexity_of_operators\['exp'\]"):
        complexities({"exp": 0})
    with pytest.raises(TypeError, match="complexity_of_variables"):
        complexities(variables=1.5)
    assert complexities() is None


def _island(config: SearchConfig, seed: int = 0) -> Island:
    rng = np.random.default_rng(seed)
    X = rng.uniform(0.5, 2, (60, 2))
    data = Dataset.from_arrays(X, np.sin(X[:, 0]) * np.exp(X[:, 1]))
    isl = Island(config, Grammar(config.operators, 2), data, NumpyBackend(),
                 random.Random(seed), float(np.var(data.y)))
    isl.seed([p("sin(sin(x))"), p("x * y")])  # the first breaks the constraints
    return isl


def test_every_child_keeps_the_constraints():
    cons = Constraints.of(4, {"pow": (-1, 1), "div": (-1, 3)},
                          {"sin": {"sin": 0, "cos": 0}, "exp": {"exp": 0}})
    cfg = SearchConfig(operators=OPS, max_size=12, population_size=30, n_islands=1,
                       constraints=cons, crossover_rate=0.3)
    isl = _island(cfg)
    assert all(cons.allows(q) for q in isl.programs)
    children = []
    for _ in range(15):
        brood = isl.breed()
        children += brood
        progs, losses, scales, _ = evaluate_batch(brood, isl.data, isl.backend, cfg, isl.rng)
        isl.absorb(progs, losses, scales)
    assert len(children) == 15 * cfg.children_per_step
    bad = [q for q in children if not cons.allows(q) or q.complexity() > cfg.max_size]
    assert not bad
    # and the same search without constraints does make such children, so the check can fail
    free = _island(SearchConfig(operators=OPS, max_size=12, population_size=30, n_islands=1,
                                crossover_rate=0.3))
    made = [q for _ in range(15) for q in free.breed()]
    assert any(not cons.allows(q) for q in made)


def test_max_size_counts_complexity():
    table = complexities({"exp": 4, "sin": 4})
    cfg = SearchConfig(operators=OPS, max_size=9, population_size=30, n_islands=1,
                       complexities=table)
    with complexities_in_force(None):
        isl = _island(cfg)  # the island puts the table in force in its process
        try:
            kids = [q for _ in range(10) for q in isl.breed()]
            assert all(q.complexity() <= 9 for q in kids)
            assert any(len(q) < q.complexity() for q in kids)  # exp or sin counted at 4
        finally:
            from eurisko.expr.operators import set_complexities

            set_complexities(None)


def test_mini_batches_are_fresh_and_counted_as_their_share():
    rng = np.random.default_rng(1)
    X = rng.uniform(1, 2, (5000, 2))
    data = Dataset.from_arrays(X, X[:, 0] * X[:, 1])
    r = random.Random(0)
    a, b = mini_batch(data, 100, r), mini_batch(data, 100, r)
    assert a.n_rows == 100 and not np.array_equal(a.y, b.y)
    assert np.all(np.isin(a.y, data.y))
    # a batch is scored under the data's loss, not least squares
    from eurisko.evaluate.losses import LossSpec
    huber = Dataset.from_arrays(X, X[:, 0] * X[:, 1], loss=LossSpec("huber", 0.1))
    assert mini_batch(huber, 100, r).loss == huber.loss
    cfg = SearchConfig(operators=OPS, batch_size=500, optimize_probability=0.0)
    progs = [p("x * y"), p("x + y"), p("x")] * 20
    _, losses, _, n = evaluate_batch(progs, data, NumpyBackend(), cfg, r)
    assert losses[0] == 0 and losses[1] > 0
    assert n in (6, 7)  # 60 programs on a tenth of the rows: 6 passes over all rows
    full = evaluate_batch(progs, data, NumpyBackend(), SearchConfig(operators=OPS,
                          optimize_probability=0.0), r)
    assert full[3] == 60


def test_selection_rules():
    losses = np.array([1.0, 0.1, 0.011, 0.0105, 0.0100])
    comps = np.array([1, 3, 7, 15, 25])
    assert select_index(losses, comps, 1.0, "accuracy") == 4
    assert select_index(losses, comps, 1.0, "best") == 2
    assert select_index(losses, comps, 1.0, "score") == 1
    assert select_index(losses, comps, 1.0, "bic", n_rows=20) == 2
    assert select_index(losses, comps, 1.0, "bic", n_rows=10**6) == 4
    assert select_index(losses, comps, 1.0, "auto", n_rows=20) == 2
    # MDL charges each node log(n) + 2 log(n_symbols): on 20 rows and 13 symbols (8.1 a
    # node) the 9x drop from 3 to 7 nodes (20 log 9 = 44) pays for 4 more (32.5); with 400
    # symbols (15.0 a node, 60 for 4) it does not
    assert select_index(losses, comps, 1.0, "mdl", n_rows=20, n_symbols=13) == 2
    assert select_index(losses, comps, 1.0, "mdl", n_rows=20, n_symbols=400) == 1
    assert select_index(losses, comps, 1.0, "auto", n_rows=20, n_symbols=400) == 1
    with pytest.raises(ValueError, match="n_symbols"):
        select_index(losses, comps, 1.0, "mdl", n_rows=20)
    # from 100 rows, BIC inside PySR's window: on 150 rows 5% and 10% gains do not pay for 8
    # and 18 more nodes; on 5000 rows the 10% gain is evidence
    assert select_index(losses, comps, 1.0, "auto", n_rows=150) == 2
    assert select_index(losses, comps, 1.0, "auto", n_rows=5000) == 4
    assert select_index(losses, comps, 1.0, "auto") == 2
    with pytest.raises(ValueError, match="model_selection must be one of"):
        select_index(losses, comps, 1.0, "aic")
    with pytest.raises(ValueError, match="n_rows"):
        select_index(losses, comps, 1.0, "bic")
