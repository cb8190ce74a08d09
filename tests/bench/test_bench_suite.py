"""bench/ suites, runner and report: sampling protocols, resume, missing peers, end to end.

Searches are tiny (a few thousand evaluations, one thread); assertions are about the protocol,
files and consistency between what was saved and what it claims, never about wall-clock time.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import sympy as sp

from eurisko.bench import check_recovery, load_suite, parse_formula, read_results, run_suite
from eurisko.bench import methods as methods_mod
from eurisko.bench.classic import Axis, SamplingSpec, family_of, load_classic
from eurisko.bench.judge import model_size, node_count
from eurisko.bench.methods import Method, MethodFit, r2_score, resolve_abs
from eurisko.bench.problem import rms
from eurisko.bench.run import ResultsLog
from eurisko.bench.strogatz import load_strogatz, simulate, simulation_spec

# --- classic: sampling specs -----------------------------------------------------------------


def test_evenly_spaced_specs_follow_the_step_and_dsos_count_convention():
    spec = SamplingSpec.parse('{"all":{"E":[-1,1,0.1]}}', 1)
    grid = spec.axes[0].grid()
    assert spec.kind == "E" and spec.size == 21 == len(grid)
    assert grid[0] == -1 and math.isclose(grid[-1], 1) and np.allclose(np.diff(grid), 0.1)
    # a "step" larger than the span is a number of points (R1-R3, Nonic)
    assert SamplingSpec.parse('{"all":{"E":[-1,1,20]}}', 1).size == 20
    # per-variable E specs make the full grid
    spec = SamplingSpec.parse('{"x1":{"E":[0.05,10,0.1]},"x2":{"E":[0.05,10.05,2]}}', 2)
    assert [a.count for a in spec.axes] == [100, 6] and spec.size == 600
    X, y = spec.draw(np.random.default_rng(0), lambda X: X[:, 0] + X[:, 1])
    assert X.shape == (600, 2) and len({tuple(r) for r in X}) == 600


def test_uniform_specs_per_variable_and_undefined_points_redrawn():
    spec = SamplingSpec.parse('{"x1":{"U":[-1,1,50]},"x2":{"U":[1,2,50]}}', 3)
    assert [a.low for a in spec.axes] == [-1, 1, -1]  # x3 falls back to x1's spec (DSO)
    with np.errstate(invalid="ignore"):  # half the points are undefined: they are redrawn
        X, y = spec.draw(np.random.default_rng(1), lambda X: np.sqrt(X[:, 0]))
    assert X.shape == (50, 3) and np.all(X[:, 0] >= 0) and np.all(np.isfinite(y))
    assert np.all((X[:, 1] >= 1) & (X[:, 1] <= 2))
    with pytest.raises(ValueError, match="mixes U and E"):
        SamplingSpec.parse('{"x1":{"U":[0,1,5]},"x2":{"E":[0,1,0.5]}}', 2)
    with pytest.raises(ValueError, match="not JSON"):
        SamplingSpec.parse("{'all': __import__('os')}", 1)
    with pytest.raises(ValueError, match="U\\[a,b,n\\]"):
        SamplingSpec.parse('{"all":{"N":[0,1,5]}}', 1)
    assert SamplingSpec.parse("None", 2) is None
    assert Axis("U", 0, 1, 7).count == 7


def test_classic_problems_use_their_own_train_and_test_specs():
    nguyen = load_suite("nguyen")
    assert nguyen.names == load_suite("classic:nguyen").names
    assert all(n.startswith("Nguyen-") for n in nguyen.names) and len(nguyen) >= 12
    p = nguyen["Nguyen-7"]  # log(x1+1)+log(x1^2+1), U[0,2,20], no test spec
    x1 = sp.Symbol("x1", real=True)
    assert sp.simplify(p.formula - (sp.log(x1 + 1) + sp.log(x1**2 + 1))) == 0
    s = p.split(seed=3, noise=0.0)
    assert len(s.y_train) == len(s.y_test) == 20
    assert not np.allclose(s.X_train, s.X_test)  # test spec None: a fresh draw
    assert s.X_train["x1"].between(0, 2).all()
    k4 = load_suite("classic:keijzer")["Keijzer-4"]  # E[0,10,0.1] train, E[0.05,10.05,0.1] test
    s = k4.split(seed=0)
    assert len(s.y_train) == 101 and len(s.y_test) == 101
    assert math.isclose(s.X_test["x1"].iloc[0], 0.05)
    assert np.allclose(s.y_test, k4.evaluate(s.X_test))
    assert family_of("R2a") == "r" and family_of("Livermore2-Vars3-1") == "livermore2"
    problems = load_classic()
    assert len(problems) == 268 and len({p.name for p in problems}) == 268
    with pytest.raises(ValueError, match="unknown suite"):
        load_suite("nosuch")


# --- the SRBench split and noise -------------------------------------------------------------


def test_split_is_75_25_with_noise_on_the_training_target_only():
    p = load_suite("feynman")["I.6.2a"]
    s = p.split(seed=0, noise=0.1)
    assert (len(s.y_train), len(s.y_test)) == (750, 250)
    assert np.allclose(s.y_test, p.evaluate(s.X_test))  # the test target is exact
    assert np.allclose(s.y_train_clean, p.evaluate(s.X_train))
    resid = s.y_train - s.y_train_clean
    assert 0.85 < np.std(resid) / (0.1 * rms(s.y_train_clean)) < 1.15
    again = p.split(seed=0, noise=0.1)
    assert np.array_equal(again.y_train, s.y_train)
    other = p.split(seed=1, noise=0.1)
    assert not np.allclose(other.X_train["theta"], s.X_train["theta"])
    assert np.array_equal(p.split(seed=0, noise=0.0).y_train, p.split(0, 0.0).y_train_clean)


# --- strogatz: simulated data match the ODE --------------------------------------------------


def test_strogatz_targets_are_the_derivative_of_the_simulated_trajectories():
    problems = load_strogatz()
    assert len(problems) == 14
    by_system: dict[str, dict] = {}
    for p in problems:
        by_system.setdefault(p.system, {})[p.state] = p
    assert set(by_system) == set(simulation_spec()["systems"])
    for system, pair in by_system.items():
        traj = simulate(system, 8001)  # a fine grid, so that differences are accurate
        dt = traj.times[1] - traj.times[0]
        for states in traj.states:
            for j, state in enumerate(("x", "y")):
                p = pair[state]
                f = p.evaluate(pd.DataFrame({"x": states[:, 0], "y": states[:, 1]}))
                u = states[:, j]  # five-point central difference, error O(dt^4)
                fd = (-u[4:] + 8 * u[3:-1] - 8 * u[1:-3] + u[:-4]) / (12 * dt)
                err = np.max(np.abs(fd - f[2:-2])) / max(1.0, np.max(np.abs(f)))
                assert err < 1e-3, f"{p.name}: d{state}/dt differs from the ODE by {err:.2g}"
    p = by_system["lv"]["x"]
    s = p.split(seed=0)
    assert len(s.y_train) + len(s.y_test) == 400
    assert np.allclose(s.y_test, p.evaluate(s.X_test))


# --- judging ----------------------------------------------------------------------------------


def test_model_size_counts_the_rounded_simplified_model():
    x, y = sp.symbols("x y", real=True)
    assert node_count(x * y) == 3
    assert model_size(x * (y + 1) - x, timeout=None) == (3, True)
    assert model_size(1.0000001 * x + 0.00001, timeout=None) == (1, True)
    assert model_size(sp.sin(x) ** 2 + sp.cos(x) ** 2 + x, timeout=20) == (3, True)
    assert r2_score(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, np.nan])) == -math.inf


def test_protected_functions_of_gplearn_keep_their_sign_only_where_needed():
    x = sp.Symbol("x", real=True)
    pos = {"x": np.linspace(1, 2, 20)}
    assert resolve_abs(sp.sqrt(sp.Abs(x)), pos) == sp.sqrt(x)
    assert resolve_abs(sp.log(sp.Abs(-x - 1)), pos) == sp.log(x + 1)
    both = {"x": np.linspace(-1, 1, 20)}
    assert resolve_abs(sp.sqrt(sp.Abs(x)), both) == sp.sqrt(sp.Abs(x))
    gplearn = pytest.importorskip("gplearn.functions")
    fs = gplearn._function_map
    program = [fs["mul"], fs["sqrt"], 0, 1.5]  # mul(sqrt(X0), 1.5)
    expr = methods_mod.gplearn_sympy(program, ["x"], pos)
    assert sp.simplify(expr - 1.5 * sp.sqrt(x)) == 0


# --- the runner: resume, missing peers, end to end -------------------------------------------

CALLS: list[tuple] = []


def _fit_mean(X, y, *, time_limit, seed, threads=1, max_evals=None) -> MethodFit:
    """A stand-in method: the mean of y, instantly (counts its calls)."""
    CALLS.append((tuple(X.columns), len(y), seed))
    c = float(np.mean(y))
    return MethodFit(method="mean", equation=f"{c}", model=sp.Float(c), front=[sp.Float(c)],
                     front_equations=[f"{c}"], selected=0, complexity=1, seconds=0.0,
                     n_evals=1, predict=lambda Xn: np.full(len(Xn), c))


@pytest.fixture
def mean_method(monkeypatch):
    monkeypatch.setitem(methods_mod.METHODS, "mean", Method("mean", _fit_mean))
    CALLS.clear()
    yield
    CALLS.clear()


def test_resume_never_reruns_finished_work(tmp_path, mean_method):
    suite = load_suite("strogatz:lv")
    kw = dict(methods=["mean"], noise=[0.0, 0.1], seeds=2, time_limit=1.0, out=tmp_path,
              jobs=1, progress=False)
    first = run_suite(suite, **kw)
    assert first.n_new == len(CALLS) == 8 and not first.interrupted
    assert len(read_results(tmp_path)) == 8
    again = run_suite(suite, **kw)
    assert again.n_new == 0 and again.n_resumed == 8 and len(CALLS) == 8
    # a kill in the middle of writing: the last line is cut short; that run is redone, once
    path = tmp_path / "results.jsonl"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:-1]) + "\n" + lines[-1][: len(lines[-1]) // 2])
    third = run_suite(suite, **kw)
    assert third.n_new == 1 and len(CALLS) == 9
    records = read_results(tmp_path)
    keys = {(r["problem"], r["noise"], r["seed"]) for r in records}
    assert len(records) == len(keys) == 8
    assert all(json.loads(line) for line in path.read_text().splitlines()[-1:])
    # another protocol in the same folder is refused, not mixed; so is a second writer
    with pytest.raises(ValueError, match="another protocol"):
        run_suite(suite, **{**kw, "time_limit": 2.0})
    log = ResultsLog(path)
    try:
        with pytest.raises(ValueError, match="another benchmark is writing"):
            run_suite(suite, **{**kw, "seeds": 3})
    finally:
        log.close()
    assert len(CALLS) == 9


def test_a_missing_peer_is_reported_and_skipped(tmp_path, mean_method, monkeypatch):
    monkeypatch.setitem(methods_mod.METHODS, "gplearn",
                        Method("gplearn", methods_mod.fit_gplearn, "eurisko_no_such_module",
                               "pip install 'eurisko[bench]'"))
    res = run_suite("strogatz:vdp", methods=["mean", "gplearn"], time_limit=1.0, jobs=1,
                    out=tmp_path, progress=False)
    assert "gplearn" in res.skipped_methods
    assert "not available" in res.skipped_methods["gplearn"]
    assert {r["method"] for r in res.records} == {"mean"} and len(res.records) == 2
    manifest = json.loads((tmp_path / "bench.json").read_text())
    assert "gplearn" in manifest["skipped_methods"]
    with pytest.raises(ValueError, match="unknown method"):
        run_suite("strogatz:vdp", methods=["nosuch"], time_limit=1.0, progress=False)


def test_tiny_suite_end_to_end(tmp_path):
    """Two problems, eurisko with a small evaluation budget, one thread; what each saved
    record claims is recomputed from the saved model."""
    suite = load_suite("feynman:I.6.2a,I.12.1")
    res = run_suite(suite, methods=["eurisko"], seeds=1, time_limit=None, max_evals=8000,
                    out=tmp_path, jobs=1, threads=1, check_timeout=20, progress=False)
    assert res.n_new == 2 and not res.interrupted
    records = read_results(tmp_path)
    assert sorted(r["problem"] for r in records) == ["I.12.1", "I.6.2a"]
    for rec in records:
        assert rec["status"] == "ok", rec.get("error")
        p = suite[rec["problem"]]
        model = parse_formula(rec["model"], p.variables)
        split = p.split(seed=rec["seed"], noise=rec["noise"])
        f = sp.lambdify([sp.Symbol(v, real=True) for v in p.variables], model, "numpy")
        pred = np.broadcast_to(f(*[split.X_test[v].to_numpy() for v in p.variables]),
                               split.y_test.shape)
        assert math.isclose(r2_score(split.y_test, pred), rec["r2_test"], abs_tol=1e-6)
        assert rec["accuracy_solution"] == (rec["r2_test"] > 0.999)
        assert check_recovery(model, p.formula, 20, ranges=p.ranges).exact == rec["exact"]
        # the whole budget is spent, unless the law was found and the exact-fit rule stopped
        assert rec["size"] >= 1 and rec["n_train"] == 750
        assert rec["n_evals"] >= 8000 or (rec["exact"] and 0 < rec["n_evals"] < 8000)

    from eurisko.report.bench import load_bench, summary_table, write_bench_report

    paths = write_bench_report(tmp_path)
    page = paths["html"].read_text()
    assert page.count("data:image/png;base64,") == 2 and "I.12.1" in page
    for key in ("recovery", "r2_size"):
        assert paths[key].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    df, _ = load_bench(tmp_path)
    row = summary_table(df).iloc[0]
    assert row["runs"] == 2 and row["recovery_rate"] == np.mean([r["exact"] for r in records])


def test_feynman_problems_carry_their_units_and_a_run_with_units_uses_them(tmp_path):
    suite = load_suite("feynman:I.10.7,I.12.1")
    X_units, y_units = suite["I.10.7"].units()
    assert X_units == {"m_0": "kg", "v": "m/s", "c": "m/s"} and y_units == "kg"
    res = run_suite(suite, methods=["eurisko"], seeds=1, time_limit=None, max_evals=20000,
                    out=tmp_path, jobs=1, threads=1, check_timeout=20, progress=False,
                    units=True)
    records = {r["problem"]: r for r in read_results(tmp_path)}
    assert res.n_new == 2 and all(r["status"] == "ok" for r in records.values())
    assert all(r["units"] for r in records.values())
    assert records["I.10.7"]["extra"]["reduced"] == ["y/m_0 = f(v/c)"]
    # a run with units is another protocol: the folder refuses a run without them
    with pytest.raises(ValueError):
        run_suite(suite, methods=["eurisko"], seeds=1, time_limit=None, max_evals=20000,
                  out=tmp_path, jobs=1, threads=1, progress=False)
