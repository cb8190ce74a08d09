"""``eurisko constant``: a closed form with its LaTeX, a continued-fraction search, and its
one-line errors, in a subprocess. The number given is computed here with mpmath."""

from __future__ import annotations

import mpmath


def test_identifies_a_number_and_prints_latex(run_cli) -> None:
    with mpmath.workdps(70):
        digits = mpmath.nstr(mpmath.pi ** 2 / 6, 50, min_fixed=-100, max_fixed=100,
                             strip_zeros=False)
    out = run_cli("constant", digits, "--latex")
    assert out.returncode == 0, out.stderr
    assert "pi**2/6" in out.stdout and "\\frac{\\pi^{2}}{6}" in out.stdout


def test_pcf_search_and_bad_input(run_cli) -> None:
    out = run_cli("constant", "--expr", "zeta(3)", "--digits", "80", "--search", "pcf",
                  "--family", "symmetric", "--a-degree", "3")
    assert out.returncode == 0, out.stderr
    assert "6/zeta(3)" in out.stdout and "17*n**2" in out.stdout
    for bad in (["3.14"], ["--expr", "zeta(3"], [], ["2.718281828459045", "--digits", "50"]):
        res = run_cli("constant", *bad)
        assert res.returncode == 2, (bad, res.stdout, res.stderr)
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
