"""``eurisko demo`` (Kepler's third law) and ``eurisko demo ode`` (the Lorenz equations), end to
end in a subprocess."""

from __future__ import annotations

from pathlib import Path


def test_demo(tmp_path: Path, run_cli, check_fit_results) -> None:
    out = tmp_path / "demo"
    r = run_cli("demo", "--time-limit", "5", "--out", str(out), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "Kepler" in r.stdout
    assert "discovered:" in r.stdout
    info = check_fit_results(out)
    assert info["feature_names"] == ["semi_major_axis_au", "mass_earths"]


def test_demo_ode(tmp_path: Path, run_cli) -> None:
    r = run_cli("demo", "ode", "--out", "demo", cwd=tmp_path, COLUMNS="200")
    assert r.returncode == 0, r.stderr
    assert "Lorenz's equations, rediscovered." in r.stdout
    assert (tmp_path / "demo" / "model.json").is_file()
