"""Closed forms of constants: eurisko.constants.identify against mpmath.identify.

Each constant of `CONSTANTS` (with its known true form) is given to both tools as the same 60
significant digits, with the same time limit. A tool's first answer is *correct* if its value
agrees with the true value to 100 digits (far more than the 60 given: a formula that fits 60
digits by chance does not fit 100); an answer that does not is a *false claim*; no answer is
"nothing" (not correct, not false). mpmath runs in a forked process killed at the time limit.

mpmath gets the same 26 constants as eurisko's default basis (``DEFAULT_BASIS``); a second
mpmath column uses a small basis (pi, e, log 2, zeta(3), EulerGamma, Catalan), on which
mpmath.identify is much faster, to show the trade-off.

Usage::

    python benchmarks/constants_vs_mpmath.py --out docs/results/2026-11-23-constants
    python benchmarks/constants_vs_mpmath.py --time-limit 5 --only pi "pi*E" --no-small
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp_proc
import platform
import queue as queue_mod
import sys
import time
from pathlib import Path

import mpmath
import sympy

from eurisko.atomic import atomic_write_bytes
from eurisko.constants import DEFAULT_BASIS, identify, parse_constant

DIGITS = 60
CHECK_DIGITS = 100
SMALL_BASIS = ("pi", "E", "log(2)", "zeta(3)", "EulerGamma", "Catalan")

# (name, true form). Chosen to span the kinds of closed forms that occur in practice: the bar of
# issue 4 first, then classical constants, products, sums, special values, and a few that
# neither tool's shapes can express (2^sqrt(2), log(3)/log(2)).
CONSTANTS: tuple[tuple[str, str], ...] = (
    ("e", "E"), ("phi", "(1+sqrt(5))/2"), ("sqrt2+sqrt3", "sqrt(2)+sqrt(3)"),
    ("cbrt2", "2^(1/3)"), ("ln2", "log(2)"), ("pi^2/6", "pi^2/6"), ("e/(e-2)", "E/(E-2)"),
    ("tan1", "tan(1)"), ("coth1", "coth(1)"), ("ln(1+sqrt2)", "log(1+sqrt(2))"),
    ("e^pi", "exp(pi)"), ("pi*e", "pi*E"),
    ("pi", "pi"), ("sqrt2", "sqrt(2)"), ("zeta3", "zeta(3)"), ("catalan", "Catalan"),
    ("euler_gamma", "EulerGamma"), ("pi+e", "pi+E"), ("sqrt(2pi)", "sqrt(2*pi)"),
    ("1/ln10", "1/log(10)"), ("pi^4/90", "pi^4/90"), ("7zeta3/8", "7*zeta(3)/8"),
    ("gamma(1/4)", "gamma(1/4)"), ("lemniscate", "gamma(1/4)^2/sqrt(2*pi)"),
    ("sum(-1)^n/(3n+1)", "pi/(3*sqrt(3)) + log(2)/3"), ("Li2(1/2)", "pi^2/12 - log(2)^2/2"),
    ("2^sqrt2", "2^sqrt(2)"), ("sin1", "sin(1)"), ("i^i", "exp(-pi/2)"), ("sqrt(e)", "sqrt(E)"),
    ("3-2sqrt2", "3-2*sqrt(2)"), ("ln6", "log(6)"), ("gompertz", "E*E1(1)"),
    ("zeta5", "zeta(5)"), ("pi^3/32", "pi^3/32"), ("catalan/pi", "Catalan/pi"),
    ("log(3)/log(2)", "log(3)/log(2)"), ("cos(1)^2", "cos(1)^2"),
)


# Numbers with no known closed form: any answer is a false claim. Feigenbaum's delta from OEIS
# A006890; the random ones are fixed digit strings (seeded).
FEIGENBAUM = ("4.669201609102990671853203820466201617258185577475768632745651343004134330211314"
              "737138689744023948013817165984855189815134408627142027932522312442988890890859944")


def no_form_cases() -> list[tuple[str, str]]:
    import random

    with mpmath.workdps(DIGITS + 10):
        khinchin = mpmath.nstr(+mpmath.khinchin, DIGITS, strip_zeros=False)
    cases = [("khinchin", khinchin), ("feigenbaum", FEIGENBAUM[:DIGITS + 1])]
    for seed in (1, 2, 3):
        rng = random.Random(seed)
        cases.append((f"random-{seed}", str(rng.randint(1, 9)) + "." +
                      "".join(rng.choice("0123456789") for _ in range(DIGITS - 1))))
    return cases


def digits_of(expr: sympy.Expr, n: int = DIGITS) -> str:
    """The first n significant digits of the true value, as a string."""
    with mpmath.workdps(n + 30):
        v = mpmath.mpf(str(sympy.N(expr, n + 30)))
        return mpmath.nstr(v, n, min_fixed=-100, max_fixed=100, strip_zeros=False)


def correct(answer: sympy.Expr | None, truth: sympy.Expr) -> bool:
    if answer is None:
        return False
    try:
        a = sympy.N(answer, CHECK_DIGITS + 10)
        t = sympy.N(truth, CHECK_DIGITS + 10)
        return bool(abs(a - t) <= abs(t) * sympy.Float(10, CHECK_DIGITS + 10) ** -CHECK_DIGITS)
    except (TypeError, ValueError, ArithmeticError):
        return False


def run_eurisko(text: str, time_limit: float) -> dict:
    t0 = time.perf_counter()
    res = identify(text, time_limit=time_limit)
    elapsed = time.perf_counter() - t0
    first = res[0].formula if res else None
    return {"answer": None if first is None else str(first), "expr": first,
            "time": elapsed, "timed_out": res.timed_out}


def _mpmath_worker(text: str, names: list[str], queue) -> None:
    mpmath.mp.dps = DIGITS
    x = mpmath.mpf(text)
    constants = {}
    for name in names:
        with mpmath.workdps(DIGITS + 10):
            constants[name] = mpmath.mpf(str(sympy.N(parse_constant(name), DIGITS + 10)))
    queue.put("ready")  # the clock starts now: setting up the constants is not timed
    t0 = time.perf_counter()
    answer = mpmath.identify(x, constants)
    queue.put((answer, time.perf_counter() - t0))


def run_mpmath(text: str, names: list[str], time_limit: float) -> dict:
    ctx = mp_proc.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_mpmath_worker, args=(text, names, queue), daemon=True)
    proc.start()
    queue.get(timeout=120)  # "ready"
    t0 = time.perf_counter()
    proc.join(time_limit)
    if proc.is_alive():
        proc.kill()
        proc.join()
        return {"answer": None, "expr": None, "time": time.perf_counter() - t0,
                "timed_out": True}
    try:
        answer, elapsed = queue.get(timeout=5)
    except queue_mod.Empty:  # the worker died without an answer
        answer, elapsed = None, time.perf_counter() - t0
    timed_out = elapsed > time_limit
    if timed_out:
        answer = None  # finished, but after the limit: treated as the limit reached
    expr = None
    if answer is not None:
        try:
            expr = parse_constant(answer)
        except ValueError:
            expr = None
    return {"answer": answer, "expr": expr, "time": min(elapsed, time_limit),
            "timed_out": timed_out}


def verdict(r: dict, truth: sympy.Expr) -> str:
    if r["answer"] is None:
        return "timeout" if r["timed_out"] else "nothing"
    return "correct" if correct(r["expr"], truth) else "FALSE"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--time-limit", type=float, default=10.0,
                    help="seconds per constant and tool (default 10)")
    ap.add_argument("--only", nargs="+", metavar="NAME", help="run only these constants")
    ap.add_argument("--no-small", action="store_true",
                    help="skip the mpmath run with the small basis")
    ap.add_argument("--out", metavar="DIR", help="write constants_vs_mpmath.json/.txt here")
    args = ap.parse_args(argv)
    todo = [c for c in CONSTANTS if not args.only or c[0] in args.only]
    full = [str(c.expr) for c in DEFAULT_BASIS]
    tools = [("eurisko", None), ("mpmath", full)] + ([] if args.no_small else
                                                     [("mpmath-6", list(SMALL_BASIS))])
    rows, lines = [], []

    def say(line: str = "") -> None:
        print(line, flush=True)
        lines.append(line)

    say(f"# eurisko.identify vs mpmath.identify: {len(todo)} constants, {DIGITS} digits each, "
        f"{args.time_limit:g} s per constant and tool; correct = equal to the truth to "
        f"{CHECK_DIGITS} digits")
    say(f"# python {platform.python_version()}, mpmath {mpmath.__version__}, "
        f"sympy {sympy.__version__}, {platform.machine()}; basis: eurisko and mpmath "
        f"{len(full)} constants, mpmath-6: {', '.join(SMALL_BASIS)}")
    say()
    header = "| constant | true form | " + " | ".join(
        f"{t} answer | {t} | {t} s" for t, _ in tools) + " |"
    say(header)
    say("|" + "---|" * (2 + 3 * len(tools)))
    for name, form in todo:
        truth = parse_constant(form)
        text = digits_of(truth)
        row = {"name": name, "truth": form, "digits": text}
        cells = [name, form]
        for tool, basis in tools:
            r = run_eurisko(text, args.time_limit) if basis is None else \
                run_mpmath(text, basis, args.time_limit)
            v = verdict(r, truth)
            row[tool] = {"answer": r["answer"], "verdict": v, "time": round(r["time"], 3)}
            cells += [f"`{r['answer']}`" if r["answer"] else "-", v, f"{r['time']:.2f}"]
        rows.append(row)
        say("| " + " | ".join(cells) + " |")
    say()
    say("No known closed form (any answer is a false claim):")
    say()
    say("| number | digits | " + " | ".join(f"{t} answer | {t} | {t} s" for t, _ in tools)
        + " |")
    say("|" + "---|" * (2 + 3 * len(tools)))
    for name, text in no_form_cases() if not args.only else []:
        row = {"name": name, "truth": None, "digits": text}
        cells = [name, text[:12] + "..."]
        for tool, basis in tools:
            r = run_eurisko(text, args.time_limit) if basis is None else \
                run_mpmath(text, basis, args.time_limit)
            v = "nothing" if r["answer"] is None else "FALSE"
            if r["answer"] is None and r["timed_out"]:
                v = "timeout"
            row[tool] = {"answer": r["answer"], "verdict": v, "time": round(r["time"], 3)}
            cells += [f"`{r['answer']}`" if r["answer"] else "-", v, f"{r['time']:.2f}"]
        rows.append(row)
        say("| " + " | ".join(cells) + " |")
    say()
    summary = {}
    known = [r for r in rows if r["truth"] is not None]
    unknown = [r for r in rows if r["truth"] is None]
    say(f"Totals over {len(known)} constants with a known form (+ {len(unknown)} without):")
    for tool, _ in tools:
        verdicts = [r[tool]["verdict"] for r in known]
        summary[tool] = {
            "correct": verdicts.count("correct"), "false_claims": verdicts.count("FALSE"),
            "nothing": verdicts.count("nothing"), "timeouts": verdicts.count("timeout"),
            "total_time": round(sum(r[tool]["time"] for r in known), 2),
            "no_form_false_claims": sum(r[tool]["verdict"] == "FALSE" for r in unknown)}
        s = summary[tool]
        say(f"{tool:9s} correct {s['correct']:2d}/{len(known)}   false claims "
            f"{s['false_claims']:2d}   nothing {s['nothing']:2d}   time limit reached "
            f"{s['timeouts']:2d}   total {s['total_time']:.1f} s   false claims on numbers "
            f"without a closed form: {s['no_form_false_claims']}/{len(unknown)}")
    if args.out:
        out = Path(args.out)
        payload = {"digits": DIGITS, "check_digits": CHECK_DIGITS,
                   "time_limit": args.time_limit, "rows": rows, "summary": summary,
                   "python": platform.python_version(), "mpmath": mpmath.__version__,
                   "argv": sys.argv[1:]}
        atomic_write_bytes(out / "constants_vs_mpmath.json",
                           json.dumps(payload, indent=1).encode())
        atomic_write_bytes(out / "constants_vs_mpmath.txt", ("\n".join(lines) + "\n").encode())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
