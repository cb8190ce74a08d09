"""The ``eurisko`` command itself: version, help, and a start-up that loads no heavy library."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

# Libraries that take a noticeable time to import; a command imports them when it runs.
HEAVY = ("numpy", "pandas", "sympy", "numba", "matplotlib", "sklearn", "scipy")


def test_version(tmp_path: Path, run_cli) -> None:
    r = run_cli("--version", cwd=tmp_path)
    assert r.returncode == 0
    assert r.stdout.startswith("eurisko ")


def test_help_names_the_program_eurisko_and_lists_every_command(run_cli) -> None:
    r = run_cli("--help")  # `python -m eurisko`: argparse would say `__main__.py`
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("usage: eurisko ")
    for command in ("fit", "demo", "ode", "constant", "sequence", "bench"):
        assert f"\n    {command} " in r.stdout, command


def test_no_command_prints_help_and_exit_code_2(main_cli) -> None:
    code, out, _ = main_cli()
    assert code == 2
    assert out.startswith("usage: eurisko ")


def test_importing_the_command_line_and_building_its_parser_loads_no_heavy_library() -> None:
    code = ("import sys, eurisko.cli.main; eurisko.cli.build_parser(); "
            f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "", f"imported at start-up: {r.stdout.strip()}"
