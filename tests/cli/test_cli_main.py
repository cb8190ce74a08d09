"""The ``eurisko`` command itself."""

from __future__ import annotations

from pathlib import Path


def test_version(tmp_path: Path, run_cli) -> None:
    r = run_cli("--version", cwd=tmp_path)
    assert r.returncode == 0
    assert r.stdout.startswith("eurisko ")

