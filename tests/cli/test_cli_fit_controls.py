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
