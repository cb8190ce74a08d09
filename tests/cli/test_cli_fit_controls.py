"""``eurisko fit --guess --max-depth --model-selection``, in this process (fast)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest


@pytest.fixture
def rel_csv(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"m_0": rng.uniform(1, 5, 120), "v": rng.uniform(1, 2, 120),
                       "c": rng.uniform(3, 10, 120)})
    df["m"] = df["m_0"] / np.sqrt(1 - df["v"] ** 2 / df["c"] ** 2)
    path = tmp_path / "rel.csv"
    df.to_csv(path, index=False)
    return path


def test_guess_depth_and_selection_reach_the_fit(tmp_path: Path, rel_csv: Path,
                                                 monkeypatch: pytest.MonkeyPatch, main_cli):
    monkeypatch.chdir(tmp_path)
    code, out, err = main_cli("fit", str(rel_csv), "--target", "m", "--max-evals", "2000",
                              "--n-jobs", "1", "--guess", "2*m_0/sqrt(1 - 0.5*v^2/c^2)",
                              "--guess", "m_0", "--max-depth", "7",
                              "--model-selection", "accuracy", "--out", "out")
    assert code == 0, err
    saved = json.loads((tmp_path / "out" / "front.json").read_text())
    params = saved["settings"]
    assert params["max_depth"] == 7 and params["model_selection"] == "accuracy"
    front = pd.read_csv(tmp_path / "out" / "front.csv")
    assert front["r2"].max() > 1 - 1e-12  # the guess, its constants fitted to 1 and 1
    assert bool(front["selected"].iloc[-1])  # "accuracy": the last row

    code, _, err = main_cli("fit", "--resume", "out", "--guess", "m_0", "--max-evals", "10")
    assert code == 2 and "--guess" in err


@pytest.mark.parametrize(("args", "needle"), [
    (["--guess", "m_0 * w"], "guess 'm_0 * w' could not be read: unknown name 'w'"),
    (["--guess", "tanh(v)"], "guess 'tanh(v)' uses tanh, not among the operators"),
    (["--model-selection", "knee"], "model_selection must be"),
    (["--max-depth", "0"], "--max-depth must be > 0"),
])
def test_bad_controls_are_one_line_errors(tmp_path: Path, rel_csv: Path,
                                          monkeypatch: pytest.MonkeyPatch, main_cli,
                                          one_line_error, args, needle):
    monkeypatch.chdir(tmp_path)
    code, _, err = main_cli("fit", str(rel_csv), "--target", "m", "--max-evals", "500",
                            "--n-jobs", "1", *args, "--out", "out")
    one_line_error(code, err, needle)


def test_two_targets_write_one_directory_each_and_resume(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         main_cli):
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"a": rng.uniform(1, 3, 100), "b": rng.uniform(1, 3, 100)})
    df["p"], df["q"] = df["a"] * df["b"], df["a"] / df["b"]
    df.to_csv(tmp_path / "d.csv", index=False)
    code, out, err = main_cli("fit", "d.csv", "--target", "p", "--target", "q",
                              "--max-evals", "3000", "--n-jobs", "1", "--out", "out")
    assert code == 0, err
    from eurisko import SymbolicRegressor

    model = SymbolicRegressor.from_run(tmp_path / "out")
    assert model.output_names_ == ["p", "q"]
    X = df[["a", "b"]]
    for j, name in enumerate(["p", "q"]):
        saved = json.loads((tmp_path / "out" / name / "front.json").read_text())
        assert saved["cli"]["target"] == name
        assert saved["feature_names"] == ["a", "b"]  # the other target is not an input
        assert saved["selected_equation"] in out and f"selected: {name} = " in out
        ns: dict = {}
        exec(compile((tmp_path / "out" / name / "formula.py").read_text(), "formula.py",
                     "exec"), ns)
        np.testing.assert_allclose(ns["f"](X.to_numpy()), model.predict(X)[:, j], rtol=1e-12)
        assert "double f(" in (tmp_path / "out" / name / "formula.c").read_text()
    assert json.loads((tmp_path / "out" / "cli.json").read_text())["targets"] == ["p", "q"]
    code, out, err = main_cli("fit", "--resume", "out", "--max-evals", "500")
    assert code == 0, err
    assert "resuming out" in out and "selected: q = " in out
    code, _, err = main_cli("fit", "--resume", "out", "--target", "p", "--max-evals", "10")
    assert code == 2 and "fitted on --target p --target q" in err, err


@pytest.mark.parametrize(("args", "needle"), [
    (["--target", "p", "--target", "p"], "column 'p' is named twice with --target"),
    (["--target", "p", "--target", "nope"], "no column 'nope'"),
    (["--target", "p", "--target", "q", "--features", "a", "q"], "is also listed in --features"),
])
def test_bad_targets_are_one_line_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         main_cli, args, needle):
    monkeypatch.chdir(tmp_path)
    pd.DataFrame({"a": [1.0, 2.0, 3.0], "p": [1.0, 2.0, 3.0],
                  "q": [2.0, 3.0, 4.0]}).to_csv(tmp_path / "d.csv", index=False)
    code, _, err = main_cli("fit", "d.csv", *args, "--max-evals", "10", "--n-jobs", "1")
    assert code == 2 and needle in err and err.count("\n") == 1, err


def test_template_reaches_the_fit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, main_cli,
                                  one_line_error):
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(2)
    df = pd.DataFrame({"a": rng.uniform(0.5, 2, 150), "b": rng.uniform(0.5, 2, 150),
                       "s": rng.uniform(0.5, 2, 150)})
    df["y"] = (df["a"] + df["b"] ** 2) * np.exp(-0.5 * df["s"])
    df.to_csv(tmp_path / "d.csv", index=False)
    code, out, err = main_cli("fit", "d.csv", "--target", "y", "--template",
                              "f(a, b) * exp(?*g(s))", "--max-evals", "20000", "--n-jobs", "1",
                              "--seed", "0", "--out", "out")
    assert code == 0, err
    saved = json.loads((tmp_path / "out" / "front.json").read_text())
    assert saved["settings"]["template"] == "f(a, b) * exp(?*g(s))"
    from eurisko import SymbolicRegressor
    from eurisko.expr.template import Template

    model = SymbolicRegressor.from_run(tmp_path / "out")
    t = Template.parse("f(a, b) * exp(?*g(s))", ["a", "b", "s"])
    assert all(t.matches(p) for p in model.programs_)  # the form in every row
    assert model.pareto_front_["r2"].max() > 0.9
    code, _, err = main_cli("fit", "d.csv", "--target", "y", "--template", "f(a) * f(b)",
                            "--max-evals", "10", "--n-jobs", "1", "--out", "bad")
    one_line_error(code, err, "'f' appears more than once")
    code, _, err = main_cli("fit", "--resume", "out", "--template", "f(a)", "--max-evals", "10")
    assert code == 2 and "template" in err, err
