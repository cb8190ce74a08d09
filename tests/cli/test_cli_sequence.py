"""``eurisko sequence``: rules found and printed, and its one-line errors, in a subprocess.

The terms are computed here from their definitions (or SymPy), never by the code under test."""

from __future__ import annotations

import math

import sympy


def catalan(count: int) -> list[int]:
    return [math.comb(2 * k, k) // (k + 1) for k in range(count)]


def test_finds_catalan_and_extends(run_cli) -> None:
    r = run_cli("sequence", *map(str, catalan(11)), "--extend", "3")
    assert r.returncode == 0, r.stderr
    assert "binomial(2*n, n)/(n + 1)" in r.stdout
    assert "a(0)" in r.stdout  # says which index the first term has
    assert ", ".join(map(str, catalan(14)[11:])) in r.stdout


def test_offset_latex_and_nothing_found(run_cli) -> None:
    r = run_cli("sequence", ",".join(str(math.factorial(k)) for k in range(1, 11)), "--offset",
                "1", "--latex")
    assert r.returncode == 0, r.stderr
    assert "n!" in r.stdout and "a(1)" in r.stdout
    r = run_cli("sequence", *(str(sympy.prime(k)) for k in range(1, 21)))  # 2, 3, 5, ..., 71
    assert r.returncode == 0
    assert "no rule found" in r.stdout


def test_bad_input_is_one_line_and_exit_2(run_cli) -> None:
    for args in (["1", "2", "x", "4"], ["1", "2", "3"], ["1", "2", "3", "4", "5", "6", "7", "8",
                                                          "--time-limit", "0"]):
        r = run_cli("sequence", *args)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert r.stderr.startswith("error: ") and r.stderr.count("\n") == 1, r.stderr
        assert "Traceback" not in r.stderr
