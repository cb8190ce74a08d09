"""``eurisko ode``: a run end to end in a subprocess, and its one-line errors."""

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

