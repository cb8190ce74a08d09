"""Fixtures of the command-line tests: ``python -m eurisko ...`` run as a user runs it, in a
subprocess, or ``eurisko.cli.main([...])`` in this process where only the exit code and the
messages matter (it is much faster: no new interpreter, the imports are already done)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

TIMEOUT = 180  # generous: the first run in a fresh environment compiles the numba kernels


def cli_env(**extra: str) -> dict[str, str]:
    """The environment of a command run: no ``EURISKO_TRACEBACK``, unbuffered output."""
    env = dict(os.environ)
    env.pop("EURISKO_TRACEBACK", None)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def cli_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "eurisko", *args]


@pytest.fixture
def run_cli() -> Callable[..., subprocess.CompletedProcess]:
    """``run_cli(*args, cwd=None, timeout=TIMEOUT, **env)``: ``python -m eurisko ARGS`` to its
    end, output captured; keyword arguments other than cwd and timeout set environment
    variables."""
    def run(*args: str, cwd: Path | None = None, timeout: float = TIMEOUT,
            **env: str) -> subprocess.CompletedProcess:
        return subprocess.run(cli_command(*args), cwd=cwd, capture_output=True, text=True,
                              timeout=timeout, env=cli_env(**env))
    return run


@pytest.fixture
def start_cli() -> Callable[..., subprocess.Popen]:
    """``start_cli(*args, cwd=None, **popen)``: ``python -m eurisko ARGS`` started, not waited
    for (text mode; pass stdout/stderr as for `subprocess.Popen`)."""
    def start(*args: str, cwd: Path | None = None, **popen) -> subprocess.Popen:
        return subprocess.Popen(cli_command(*args), cwd=cwd, env=cli_env(), text=True, **popen)
    return start


@pytest.fixture
def main_cli(monkeypatch: pytest.MonkeyPatch,
             capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """``main_cli(*args)``: ``eurisko.cli.main(args)`` in this process; returns the exit code
    (also when argparse exits), stdout and stderr."""
    from eurisko.cli import main

    monkeypatch.delenv("EURISKO_TRACEBACK", raising=False)

    def run(*args: str) -> tuple[int, str, str]:
        try:
            code = main(list(args))
        except SystemExit as exc:
            code = exc.code
        captured = capsys.readouterr()
        return code, captured.out, captured.err
    return run


def assert_one_line_error(code: int, err: str, needle: str) -> str:
    """Exit code 2 and exactly one line ``error: ...`` containing ``needle``; returns it."""
    lines = err.strip().splitlines()
    assert code == 2, (code, err)
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert needle in lines[0], (needle, lines[0])
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture
def one_line_error() -> Callable[[int, str, str], str]:
    """`assert_one_line_error`, as a fixture."""
    return assert_one_line_error


def _check_fit_results(out: Path) -> dict:
    front = pd.read_csv(out / "front.csv")
    assert len(front) >= 1
    assert {"complexity", "loss", "r2", "equation", "selected"} <= set(front.columns)
    assert front["selected"].sum() == 1
    info = json.loads((out / "front.json").read_text())
    assert len(info["front"]) == len(front)
    assert 0 <= info["selected_index"] < len(front)
    assert info["n_evals"] > 0
    assert {"feature_names", "settings", "elapsed", "interrupted"} <= set(info)
    assert (out / "front.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return info


@pytest.fixture
def check_fit_results() -> Callable[[Path], dict]:
    """``check_fit_results(out)``: the files a fit (or the Kepler demo) writes into ``out`` are
    complete and consistent; returns ``front.json``."""
    return _check_fit_results
