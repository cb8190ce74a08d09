"""``eurisko fit``: end-to-end runs, each in a fresh subprocess, and its one-line errors.

Searches run for a few seconds with one worker; the assertions are about files, exit codes and
messages, never about wall-clock times.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

TIMEOUT = 180  # generous: the first run in a fresh environment compiles the numba kernels


@pytest.fixture
def data_csv(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    a = rng.uniform(1, 3, 60)
    b = rng.uniform(1, 3, 60)
    df = pd.DataFrame({"a": a, "b": b, "noise": rng.normal(size=60), "y": a * b + 2 * a})
    path = tmp_path / "data.csv"
    df.to_csv(path, index=False)
    return path


@pytest.fixture
def noisy_csv(tmp_path: Path) -> Path:
    """Data no formula fits exactly, so a run goes on until it is stopped from outside.

    On exact data the search may meet its exact-fit rule and finish within a second, before
    the test gets to kill or interrupt it."""
    rng = np.random.default_rng(1)
    a = rng.uniform(1, 3, 60)
    b = rng.uniform(1, 3, 60)
    y = a * b + 2 * a + rng.normal(scale=0.1, size=60)
    path = tmp_path / "noisy.csv"
    pd.DataFrame({"a": a, "b": b, "y": y}).to_csv(path, index=False)
    return path


def test_fit_writes_results(tmp_path: Path, data_csv: Path, run_cli, check_fit_results) -> None:
    out = tmp_path / "run"
    r = run_cli("fit", str(data_csv), "--target", "y", "--features", "a", "b", "noise",
                "--time-limit", "3", "--n-jobs", "1", "--out", str(out), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert any(line.startswith("progress:") for line in r.stdout.splitlines())
    assert "selected: y = " in r.stdout
    assert str(out) in r.stdout
    info = check_fit_results(out)
    assert info["feature_names"] == ["a", "b", "noise"]
    assert info["interrupted"] is False
    assert info["cli"]["target"] == "y"
    cli = json.loads((out / "cli.json").read_text())
    assert cli["data_path"] == str(data_csv.resolve())
    assert (out / "state.json").is_file()
    # the selected formula, for use without eurisko: formula.py (numpy) and formula.c
    assert "formula.py" in r.stdout and "formula.c" in r.stdout
    from eurisko import SymbolicRegressor

    model = SymbolicRegressor.from_run(out)
    X = pd.read_csv(data_csv)[["a", "b", "noise"]]
    namespace: dict = {}
    exec(compile((out / "formula.py").read_text(), "formula.py", "exec"), namespace)
    np.testing.assert_allclose(namespace["f"](X.to_numpy()), model.predict(X), rtol=1e-12)
    c_text = (out / "formula.c").read_text()
    assert "double f(const double *x)" in c_text and "#include <math.h>" in c_text


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("case, args, needle", [
    ("missing file", ["fit", "nope.csv", "--target", "y"], "not found"),
    ("missing target", ["fit", "{data}", "--target", "q"], "columns are: a, b, noise, y"),
    ("no target given", ["fit", "{data}"], "--target"),
    ("non-numeric", ["fit", "{text}", "--target", "y"], "'name'"),
    ("NaN rows", ["fit", "{nan}", "--target", "y"], "--dropna"),
    ("bad option value", ["fit", "{data}", "--target", "y", "--time-limit", "soon"],
     "--time-limit"),
    ("unknown operator", ["fit", "{data}", "--target", "y", "--operators", "add,frobnicate",
                          "--time-limit", "1"], "frobnicate"),
    ("resume without run", ["fit", "--resume", "nowhere"], "no checkpoint"),
])
def test_bad_input_is_one_line(tmp_path: Path, data_csv: Path, case: str, args: list[str],
                               needle: str, run_cli) -> None:
    files = {
        "data": str(data_csv),
        "text": str(_write(tmp_path, "text.csv", "x,name,y\n1,a,2\n2,b,3\n3,c,4\n")),
        "nan": str(_write(tmp_path, "nan.csv", "x,y\n1,2\n,3\n4,5\n5,nan\n")),
    }
    r = run_cli(*[a.format(**files) for a in args], cwd=tmp_path)
    assert r.returncode == 2, (case, r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, (case, r.stderr)
    assert lines[0].startswith("error: "), (case, r.stderr)
    assert needle in lines[0], (case, lines[0])
    assert "Traceback" not in r.stderr


def _wait_for(path: Path, proc: subprocess.Popen, timeout: float = TIMEOUT) -> None:
    end = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"the run ended before writing {path}: {proc.stderr.read()}")
        if time.monotonic() > end:
            proc.kill()
            raise AssertionError(f"{path} did not appear within {timeout} s")
        time.sleep(0.05)


def test_resume_after_kill(tmp_path: Path, noisy_csv: Path, run_cli, start_cli,
                           check_fit_results) -> None:
    out = tmp_path / "run"
    proc = start_cli("fit", str(noisy_csv), "--target", "y", "--time-limit", "60", "--n-jobs", "1",
                     "--checkpoint-every", "0.3", "--out", str(out),
                     cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_for(out / "state.json", proc)
        time.sleep(0.5)  # let it run on a little past its first checkpoint
    finally:
        proc.kill()  # SIGKILL: no chance to clean up
        proc.wait()
    saved = json.loads((out / "state.json").read_text())
    assert not (out / "front.json").exists()

    r = run_cli("fit", "--resume", str(out), "--time-limit", "2", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "resuming" in r.stdout
    info = check_fit_results(out)
    assert info["n_evals"] > saved["n_evals"]
    assert info["cli"]["target"] == "y"  # read back from cli.json


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child needs POSIX")
def test_ctrl_c_keeps_results(tmp_path: Path, noisy_csv: Path, start_cli,
                              check_fit_results) -> None:
    out = tmp_path / "run"
    proc = start_cli(
        "fit", str(noisy_csv), "--target", "y", "--time-limit", "60", "--n-jobs", "1",
        "--out", str(out), cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        # A shell without job control starts background jobs with SIGINT ignored; undo that
        # so the child gets Python's KeyboardInterrupt, as under a terminal.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        line = proc.stdout.readline()
        while line and not line.startswith("progress:"):
            line = proc.stdout.readline()
        assert line.startswith("progress:"), proc.stderr.read()
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, stderr
    assert "interrupted: keeping what was found" in stdout
    info = check_fit_results(out)
    assert info["interrupted"] is True


@pytest.mark.parametrize("case, text, args, needle", [
    ("target is the only column", "y\n1\n2\n", ["--target", "y"],
     "no feature columns left in only.csv besides the column to predict"),
    ("weights are the target", "a,y\n1,2\n2,3\n", ["--target", "y", "--weights", "y"],
     "the weights column 'y' is also the column to predict"),
    ("target among the features", "a,y\n1,2\n2,3\n", ["--target", "y", "--features", "a", "y"],
     "the column to predict 'y' is also listed in --features"),
    ("feature twice", "a,y\n1,2\n2,3\n", ["--target", "y", "--features", "a", "a"],
     "column 'a' is listed twice in --features"),
    ("missing weights", "a,y\n1,2\n2,3\n", ["--target", "y", "--weights", "w"],
     "no column 'w' in only.csv (--weights); the columns are: a, y"),
    ("not CSV", 'a,y\n1,2\n"3,4\n', ["--target", "y"], "could not read"),
])
def test_table_errors_in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, main_cli,
                                 one_line_error, case: str, text: str, args: list[str],
                                 needle: str) -> None:
    (tmp_path / "only.csv").write_text(text)
    monkeypatch.chdir(tmp_path)
    code, _, err = main_cli("fit", "only.csv", *args, "--out", "out")
    one_line_error(code, err, needle)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("units, needle", [
    (["a=m", "b=m"], "no unit for y"),
    (["a=m", "b=m", "y=m^2", "q=s"], "'q', which is not the target"),
    (["a=m", "b=m", "y"], "COLUMN=UNIT pairs"),
    (["a=m", "b=m", "y=m/sek"], "unknown unit 'm/sek'"),
])
def test_units_errors_in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, main_cli,
                                 one_line_error, units: list[str], needle: str) -> None:
    (tmp_path / "d.csv").write_text("a,b,y\n1,2,2\n2,3,6\n3,1,3\n")
    monkeypatch.chdir(tmp_path)
    code, _, err = main_cli("fit", "d.csv", "--target", "y", "--units", *units, "--out", "out")
    one_line_error(code, err, needle)


def test_fit_with_units_prints_the_dimensionless_form(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      main_cli) -> None:
    rng = np.random.default_rng(0)
    a, b = rng.uniform(1, 3, 60), rng.uniform(1, 3, 60)
    pd.DataFrame({"a": a, "b": b, "y": a * b + a**2}).to_csv(tmp_path / "d.csv", index=False)
    monkeypatch.chdir(tmp_path)
    code, out, _ = main_cli("fit", "d.csv", "--target", "y", "--units", "a=m", "b=m",
                            "y=m^2", "--max-evals", "20000", "--n-jobs", "1", "--out", "out")
    assert code == 0
    assert "units:    y/b**2 = f(a/b)" in out
    saved = json.loads((tmp_path / "out" / "front.json").read_text())
    first = next(b for b in saved["decomposition"]["branches"] if b["kind"] == "dimensionless")
    assert first["problem"] == "y/b**2 = f(a/b)"


def test_unknown_loss_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, main_cli,
                                  one_line_error) -> None:
    (tmp_path / "d.csv").write_text("a,y\n1,2\n2,3\n3,5\n")
    monkeypatch.chdir(tmp_path)
    code, _, err = main_cli("fit", "d.csv", "--target", "y", "--loss", "hubber", "--out", "out")
    one_line_error(code, err, "unknown loss 'hubber'")
