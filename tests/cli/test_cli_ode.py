"""``eurisko ode``: a run end to end in a subprocess, and the one-line errors about the CSV (the
same table loader as ``eurisko fit``: each message names the column, value and row at fault)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.integrate import solve_ivp


def test_ode_writes_results(tmp_path: Path, run_cli) -> None:
    def lotka_volterra(_t, v):
        x, y = v
        return [1.1 * x - 0.4 * x * y, 0.1 * x * y - 0.4 * y]

    t = np.linspace(0, 30, 1500)
    X = solve_ivp(lotka_volterra, (t[0], t[-1]), [10.0, 5.0], t_eval=t, rtol=1e-11, atol=1e-11,
                  method="DOP853").y.T
    rows = ["time,prey,predator"] + [f"{a:.6f},{b:.10g},{c:.10g}"
                                     for a, (b, c) in zip(t, X, strict=True)]
    (tmp_path / "lv.csv").write_text("\n".join(rows) + "\n")
    r = run_cli("ode", "lv.csv", "--time", "time", "--degree", "2", "--out", "out",
                cwd=tmp_path, COLUMNS="200")
    assert r.returncode == 0, r.stderr
    assert "dprey/dt = " in r.stdout and "dpredator/dt = " in r.stdout
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == ["equations.txt", "model.json",
                                                     "simulation.png"]
    info = json.loads((out / "model.json").read_text())
    assert info["model"]["names"] == ["prey", "predator"]
    assert info["derivative_r2"] > 0.9999
    assert (out / "simulation.png").read_bytes()[:4] == b"\x89PNG"
    assert "predator" in (out / "equations.txt").read_text()


@pytest.mark.parametrize("args, message", [
    (["ode", "missing.csv", "--time", "t"], "not found"),
    (["ode", "bad.csv", "--time", "when"], "no column 'when'"),
    (["ode", "bad.csv", "--time", "t"], "strictly increasing"),
])
def test_ode_errors_are_one_line(tmp_path: Path, args: list[str], message: str, run_cli) -> None:
    (tmp_path / "bad.csv").write_text("t,x\n0,1\n1,2\n0.5,3\n2,4\n")
    r = run_cli(*args, cwd=tmp_path, COLUMNS="200")
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], r.stderr


# In this process (fast): each problem with the CSV stops the command before any work, with one
# line that says what is wrong and where.
CSV = {
    "text.csv": "t,x,y\n0,1,2\n1,2,two\n2,3,4\n",
    "labels.csv": "t,x,run\n0,1,a\n1,2,a\n2,3,\n",
    "nan.csv": "t,x,y\n0,1,2\n1,,3\n2,3,inf\n",
    "name.csv": "t,x,pi\n0,1,2\n1,2,3\n2,3,4\n",
    "header.csv": "t,x\n",
    "empty.csv": "",
}


@pytest.mark.parametrize("case, args, needles", [
    ("non-numeric", ["text.csv", "--time", "t"],
     ["column(s) 'y' in text.csv are not numeric", "e.g. 'two' in column 'y', data row 2",
      "--states x"]),
    ("non-numeric state named", ["text.csv", "--time", "t", "--states", "x", "y"],
     ["'two' in column 'y', data row 2"]),
    ("NaN rows", ["nan.csv", "--time", "t"],
     ["2 row(s) in nan.csv have missing (NaN) or infinite values", "'x', 'y'", "data row 2"]),
    ("unlabelled rows", ["labels.csv", "--time", "t", "--trajectory", "run"],
     ["1 row(s) in labels.csv have no label in the trajectory column 'run'", "data row 3"]),
    ("missing states", ["text.csv", "--time", "t", "--states", "x", "q", "z"],
     ["no column(s) 'q', 'z' in text.csv (--states); the columns are: t, x, y"]),
    ("missing trajectory", ["text.csv", "--time", "t", "--trajectory", "run"],
     ["no column 'run' in text.csv (--trajectory); the columns are: t, x, y"]),
    ("time as a state", ["text.csv", "--time", "t", "--states", "x", "t"],
     ["the time column 't' is also listed in --states"]),
    ("state twice", ["text.csv", "--time", "t", "--states", "x", "x"],
     ["column 'x' is listed twice"]),
    ("reserved name", ["name.csv", "--time", "t"], ["state name 'pi'", "rename the column"]),
    ("no rows", ["header.csv", "--time", "t"], ["'header.csv' has a header but no rows"]),
    ("empty file", ["empty.csv", "--time", "t"], ["'empty.csv' is empty"]),
    ("missing file", ["missing.csv", "--time", "t"],
     ["data file 'missing.csv' not found (working directory: "]),
    ("directory", [".", "--time", "t"], ["'.' is a directory"]),
])
def test_ode_csv_errors_name_what_and_where(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            main_cli, one_line_error, case: str,
                                            args: list[str], needles: list[str]) -> None:
    for name, text in CSV.items():
        (tmp_path / name).write_text(text)
    monkeypatch.chdir(tmp_path)
    code, out, err = main_cli("ode", *args, "--out", "out")
    line = one_line_error(code, err, needles[0])
    for needle in needles[1:]:
        assert needle in line, (needle, line)
    assert not (tmp_path / "out").exists() and out == ""
