"""eurisko.sequences.guess against SymPy's sequence guessers, on sequences with known rules.

    python benchmarks/sequences_vs_sympy.py [--terms 20] [--extend 10] [--time-limit 10]
                                            [--out results.json]

Every tool gets the same first ``--terms`` terms of each sequence and the same wall-clock limit
per call (each call runs in a forked child that is stopped at the limit). A tool's answer is
turned into its prediction of the next ``--extend`` terms and compared with the true terms,
computed here from the definitions (sums, products, lattice-path counts, a sieve), never from
the rules being tested:

- right:   the predicted terms equal the true ones;
- wrong:   the tool claimed a rule whose predictions differ (or that does not even reproduce
           the terms it was given) -- a false claim;
- nothing: no rule, no answer within the time limit ("timeout"), an exception ("error"), or
           an answer that could not be expanded into terms within 30 s ("undecoded").

Times are those of the guessing calls (for eurisko: guess() plus building its SymPy views);
expanding an answer into predicted terms is not timed.

SymPy's guessers (sympy.concrete.guess): find_simple_recurrence (constant-coefficient
recurrence), guess_generating_function_rational, guess_generating_function (types 'all':
ordinary, exponential, logarithmic and log-derivative generating functions, with square roots;
retried one type at a time when SymPy 1.14 raises IndexError, as it does on some sequences
starting with 0)
and guess (products of rational functions, iterated). The Bell numbers, the partition numbers
and the primes have no rule of the kinds any tool looks for: there, any answer is a false claim.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import os
import sys
import time
from collections.abc import Callable
from fractions import Fraction

import sympy as sp
from sympy.concrete import guess as sg

# --- the truth, from the definitions ------------------------------------------------------


def _linear(init: list[int], coeffs: list[int], count: int) -> list[int]:
    """a(n) = sum coeffs[i] a(n-1-i), for the classic C-finite sequences."""
    a = list(init)
    while len(a) < count:
        a.append(sum(c * a[-1 - i] for i, c in enumerate(coeffs)))
    return a[:count]


def fibonacci(c):
    return _linear([0, 1], [1, 1], c)


def lucas(c):
    return _linear([2, 1], [1, 1], c)


def pell(c):
    return _linear([0, 1], [2, 1], c)


def jacobsthal(c):
    return _linear([0, 1], [1, 2], c)


def tribonacci(c):
    return _linear([0, 0, 1], [1, 1, 1], c)


def padovan(c):
    return _linear([1, 1, 1], [0, 1, 1], c)


def powers_of_2(c):
    return [2 ** n for n in range(c)]


def squares(c):
    return [n * n for n in range(c)]


def triangular(c):
    return [n * (n + 1) // 2 for n in range(c)]


def n_times_2n(c):
    return [n * 2 ** n for n in range(c)]


def two_n_plus_n(c):
    return [2 ** n + n for n in range(c)]


def catalan(c):
    return [math.comb(2 * n, n) // (n + 1) for n in range(c)]


def motzkin(c):  # sum over the number k of up steps
    return [sum(math.comb(n, 2 * k) * (math.comb(2 * k, k) // (k + 1))
                for k in range(n // 2 + 1)) for n in range(c)]


def central_binomial(c):
    return [math.comb(2 * n, n) for n in range(c)]


def apery(c):
    return [sum(math.comb(n, k) ** 2 * math.comb(n + k, k) ** 2 for k in range(n + 1))
            for n in range(c)]


def franel(c):
    return [sum(math.comb(n, k) ** 3 for k in range(n + 1)) for n in range(c)]


def derangements(c):  # inclusion-exclusion
    return [sum((-1) ** k * math.factorial(n) // math.factorial(k) for k in range(n + 1))
            for n in range(c)]


def factorial(c):
    return [math.factorial(n) for n in range(c)]


def double_factorial_odd(c):  # (2n-1)!! = 1*3*5*...*(2n-1)
    return [math.prod(range(1, 2 * n, 2)) for n in range(c)]


def schroeder(c):  # large Schroeder numbers: paths with steps (1,0), (0,1), (1,1) above y = x
    return [_lattice_paths(n, diagonal=True, above=True) for n in range(c)]


def delannoy(c):  # central Delannoy numbers: paths with steps (1,0), (0,1), (1,1)
    return [_lattice_paths(n, diagonal=True, above=False) for n in range(c)]


def _lattice_paths(n: int, diagonal: bool, above: bool) -> int:
    ways = [[0] * (n + 1) for _ in range(n + 1)]
    ways[0][0] = 1
    for i in range(n + 1):
        for j in range(n + 1):
            if (i, j) == (0, 0) or (above and j > i):
                continue
            w = (ways[i - 1][j] if i else 0) + (ways[i][j - 1] if j else 0)
            if diagonal and i and j:
                w += ways[i - 1][j - 1]
            ways[i][j] = w
    return ways[n][n]


def bell(c):  # the Bell triangle
    row, out = [1], [1]
    while len(out) < c:
        new = [row[-1]]
        for v in row:
            new.append(new[-1] + v)
        row = new
        out.append(row[0])
    return out[:c]


def partitions(c):
    p = [1] + [0] * c
    for k in range(1, c + 1):
        for m in range(k, c + 1):
            p[m] += p[m - k]
    return p[:c]


def primes(c):
    out, k = [], 2
    while len(out) < c:
        if all(k % q for q in out if q * q <= k):
            out.append(k)
        k += 1
    return out


SEQUENCES: list[tuple[str, Callable[[int], list[int]], bool]] = [
    # (name, terms, has a rule of the kinds searched)
    ("Fibonacci", fibonacci, True),
    ("Lucas", lucas, True),
    ("Pell", pell, True),
    ("Jacobsthal", jacobsthal, True),
    ("tribonacci", tribonacci, True),
    ("Padovan", padovan, True),
    ("powers of 2", powers_of_2, True),
    ("squares", squares, True),
    ("triangular", triangular, True),
    ("n*2^n", n_times_2n, True),
    ("2^n + n", two_n_plus_n, True),
    ("Catalan", catalan, True),
    ("Motzkin", motzkin, True),
    ("central binomial", central_binomial, True),
    ("Apery", apery, True),
    ("Franel", franel, True),
    ("derangements", derangements, True),
    ("factorial", factorial, True),
    ("double factorial (2n-1)!!", double_factorial_odd, True),
    ("Schroeder (large)", schroeder, True),
    ("central Delannoy", delannoy, True),
    ("Bell (control)", bell, False),
    ("partitions (control)", partitions, False),
    ("primes (control)", primes, False),
]

# --- the tools: each returns its prediction of the next k terms, or None ------------------

X = sp.Symbol("x")


def _series_coeffs(expr, count: int) -> list:
    """Taylor coefficients 0..count-1 of an expression in X (exactly for rational functions)."""
    if expr.is_rational_function(X):
        return [sp.Rational(c.numerator, c.denominator) for c in _rational_coeffs(expr, count)]
    ser = sp.series(expr, X, 0, count).removeO()
    return [sp.nsimplify(ser.coeff(X, k)) for k in range(count)]


def _exp_integral_coeffs(f, a0, count: int) -> list:
    """Coefficients of a0 * exp(integral of f): E' = f E, so m e_m = sum_k f_(k-1) e_(m-k)."""
    fc = _series_coeffs(f, count)
    e = [sp.Integer(a0)]
    for m in range(1, count):
        e.append(sum(fc[k - 1] * e[m - k] for k in range(1, m + 1)) / m)
    return e


def _rational_coeffs(expr, count: int) -> list[Fraction]:
    """Power series coefficients of a rational function, exactly (long division)."""
    num, den = sp.fraction(sp.together(expr))
    N = [Fraction(str(c)) for c in reversed(sp.Poly(num, X).all_coeffs())]
    Q = [Fraction(str(c)) for c in reversed(sp.Poly(den, X).all_coeffs())]
    out: list[Fraction] = []
    for m in range(count):
        s = N[m] if m < len(N) else Fraction(0)
        s -= sum(Q[t] * out[m - t] for t in range(1, min(m, len(Q) - 1) + 1))
        out.append(s / Q[0])
    return out


def _check_and_cut(coeffs: list, terms: list[int], k: int) -> list | None:
    """The k coefficients after the given terms, if the first ones reproduce the terms."""
    try:
        if [sp.Rational(c) for c in coeffs[:len(terms)]] != [sp.Integer(t) for t in terms]:
            return None
        return [sp.Rational(c) for c in coeffs[len(terms):len(terms) + k]]
    except (TypeError, ValueError):  # not rational numbers: no usable prediction
        return None


def run_eurisko(terms: list[int], k: int, time_limit: float):
    from eurisko.sequences import guess

    g = guess(terms, time_limit=time_limit)
    if g:  # the SymPy views count in the time too, as SymPy's tools return SymPy expressions
        views = (g[0].recurrence, g[0].closed_form, g[0].generating_function)
    _mark_guessed()
    if not g:
        return None, ""
    return g[0].extend(k), "; ".join(str(v) for v in views if v is not None)


def run_sympy_recurrence(terms, k, time_limit):
    rel = sg.find_simple_recurrence(terms)
    _mark_guessed()
    if rel == 0:
        return None, ""
    a, n = sp.Function("a"), sp.Symbol("n")
    order = max(int(f.args[0].subs(n, 0)) for f in rel.atoms(sp.Function))
    c = [rel.coeff(a(n + i)) for i in range(order + 1)]
    seq = [sp.Integer(t) for t in terms]
    for m in range(len(terms), len(terms) + k):
        seq.append(-sum(c[i] * seq[m - order + i] for i in range(order)) / c[order])
    ok = all(sum(c[i] * seq[s + i] for i in range(order + 1)) == 0
             for s in range(len(terms) - order))
    return (seq[len(terms):] if ok else ["does not fit"]), str(rel)


def run_sympy_rational_gf(terms, k, time_limit):
    g = sg.guess_generating_function_rational(terms, X=X)
    _mark_guessed()
    if g is None:
        return None, ""
    coeffs = _rational_coeffs(g, len(terms) + k)
    pred = _check_and_cut(coeffs, terms, k)
    return (pred if pred is not None else ["does not fit"]), str(g)


def _decode_gf(kind: str, expr, count: int) -> list | None:
    if kind == "ogf":
        return _series_coeffs(expr, count)
    if kind == "egf":
        return [c * sp.factorial(i) for i, c in enumerate(_series_coeffs(expr, count))]
    if kind in ("lgdogf", "lgdegf"):  # f = (log A)'  =>  A = a0 * exp(integral of f)
        return None  # needs a0; handled by the caller
    if kind == "hlgf":  # sum_{k>=1} a_k x^k / k, first term is index 1
        return [c * i for i, c in enumerate(_series_coeffs(expr, count + 1))][1:]
    if kind == "lgf":  # sum_{k>=1} (-1)^(k+1) a_k x^k / k
        return [c * i * (-1) ** (i + 1) for i, c in enumerate(_series_coeffs(expr, count + 1))][1:]
    return None


def run_sympy_gf(terms, k, time_limit):
    try:
        found = sg.guess_generating_function(terms, X=X, types=["all"])
    except IndexError:  # SymPy 1.14 fails so on some sequences starting with 0: one type at a time
        found = {}
        for kind in ("ogf", "egf", "lgf", "hlgf", "lgdogf", "lgdegf"):
            try:
                found.update(sg.guess_generating_function(terms, X=X, types=[kind]))
            except IndexError:
                pass
    _mark_guessed()
    if not found:
        return None, ""
    count = len(terms) + k
    text = "; ".join(f"{key}: {v}" for key, v in found.items())
    for kind in ("ogf", "egf", "lgdogf", "lgdegf", "hlgf", "lgf"):
        if kind not in found:
            continue
        expr = found[kind]
        try:
            if kind in ("lgdogf", "lgdegf"):
                coeffs = _exp_integral_coeffs(expr, terms[0], count)
                if kind == "lgdegf":
                    coeffs = [c * sp.factorial(i) for i, c in enumerate(coeffs)]
            else:
                coeffs = _decode_gf(kind, expr, count)
        except (ValueError, NotImplementedError, TypeError, ZeroDivisionError):
            continue
        pred = _check_and_cut(coeffs, terms, k) if coeffs else None
        if pred is not None:
            return pred, text
    return ["does not fit"], text


def run_sympy_guess(terms, k, time_limit):
    found = sg.guess(terms)
    _mark_guessed()
    if not found:
        return None, ""
    i0 = sp.Symbol("i0")
    formula = found[0]
    values = [sp.simplify(formula.subs(i0, i).doit()) for i in range(1, len(terms) + k + 1)]
    pred = _check_and_cut(values, terms, k)
    return (pred if pred is not None else ["does not fit"]), str(formula)


TOOLS: list[tuple[str, Callable]] = [
    ("eurisko", run_eurisko),
    ("sympy recurrence", run_sympy_recurrence),
    ("sympy rational gf", run_sympy_rational_gf),
    ("sympy gf", run_sympy_gf),
    ("sympy guess", run_sympy_guess),
]

# --- running one call under a time limit ----------------------------------------------------


def _child(conn, fn, terms, k, time_limit):
    # fn guesses and then decodes its answer into terms; _timed marks the end of the guess
    try:
        t0 = time.perf_counter()
        _timed.start, _timed.conn = t0, conn
        pred, text = fn(terms, k, time_limit)
        if _timed.conn is not None:  # fn did not mark the end of its guess: all of it counts
            _mark_guessed()
        out = None if pred is None else [str(p) for p in pred]
        conn.send(("ok", out, text[:300]))
    except Exception as exc:  # a tool that crashes has found nothing
        if _timed.conn is not None:
            _mark_guessed()
        conn.send(("error", None, f"{type(exc).__name__}: {exc}"[:300]))
    finally:
        conn.close()


class _timed:
    start = 0.0
    conn = None


def _mark_guessed() -> None:
    """Called by a tool when its guess is done and only decoding remains."""
    if _timed.conn is not None:
        _timed.conn.send(time.perf_counter() - _timed.start)
        _timed.conn = None


DECODE_ALLOWANCE = 30.0  # seconds to turn an answer into predicted terms (not timed)


def run_one(fn, terms: list[int], k: int, time_limit: float) -> dict:
    """One tool on one sequence in a forked child, stopped at the time limit."""
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, fn, terms, k, time_limit))
    proc.start()
    child.close()
    try:
        if not parent.poll(time_limit + 0.5):
            return {"status": "timeout", "seconds": time_limit, "prediction": None, "text": ""}
        elapsed = parent.recv()
        if elapsed > time_limit:
            return {"status": "timeout", "seconds": elapsed, "prediction": None, "text": ""}
        if not parent.poll(DECODE_ALLOWANCE):
            return {"status": "undecoded", "seconds": elapsed, "prediction": None, "text": ""}
        status, pred, text = parent.recv()
        return {"status": status, "seconds": elapsed, "prediction": pred, "text": text}
    except EOFError:  # the child died
        return {"status": "error", "seconds": 0.0, "prediction": None, "text": "child died"}
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join()


def verdict(result: dict, truth: list[int]) -> str:
    if result["prediction"] is None:
        return "nothing"
    return "right" if result["prediction"] == [str(t) for t in truth] else "wrong"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--terms", type=int, default=20, help="terms given to each tool (20)")
    ap.add_argument("--extend", type=int, default=10, help="terms predicted and checked (10)")
    ap.add_argument("--time-limit", type=float, default=10.0,
                    help="seconds per tool and sequence (10)")
    ap.add_argument("--only", nargs="*", help="run only sequences whose name contains one of these")
    ap.add_argument("--out", help="write all results as JSON to this file")
    args = ap.parse_args(argv)

    import eurisko.sequences  # imported before forking, like sympy

    seqs = [s for s in SEQUENCES
            if not args.only or any(o.lower() in s[0].lower() for o in args.only)]
    names = [t for t, _ in TOOLS]
    rows = []
    print(f"{len(seqs)} sequences, first {args.terms} terms given, next {args.extend} checked, "
          f"{args.time_limit:g} s per call; Python {sys.version.split()[0]}, SymPy "
          f"{sp.__version__}, {os.cpu_count()} CPUs\n")
    width = 26
    header = f"{'sequence':<{width}}" + "".join(f"{t:>20}" for t in names)
    print(header)
    print("-" * len(header))
    for name, make, has_rule in seqs:
        all_terms = make(args.terms + args.extend)
        given, truth = all_terms[:args.terms], all_terms[args.terms:]
        row = {"sequence": name, "has_rule": has_rule, "tools": {}}
        t0 = time.perf_counter()  # eurisko's search alone, without building SymPy views
        eurisko.sequences.guess(given, time_limit=args.time_limit)
        row["eurisko_search_seconds"] = time.perf_counter() - t0
        cells = []
        for tool, fn in TOOLS:
            res = run_one(fn, given, args.extend, args.time_limit)
            res["verdict"] = verdict(res, truth)
            row["tools"][tool] = res
            mark = res["verdict"] if res["status"] == "ok" else res["status"]
            cells.append(f"{mark} {res['seconds']:6.2f}s")
        rows.append(row)
        print(f"{name:<{width}}" + "".join(f"{c:>20}" for c in cells), flush=True)

    print("-" * len(header))
    summary = {}
    for tool in names:
        v = [r["tools"][tool]["verdict"] for r in rows]
        secs = sum(r["tools"][tool]["seconds"] for r in rows)
        controls_wrong = sum(1 for r in rows
                             if not r["has_rule"] and r["tools"][tool]["verdict"] == "wrong")
        summary[tool] = {"right": v.count("right"), "wrong": v.count("wrong"),
                         "nothing": v.count("nothing"), "seconds": secs,
                         "false_claims_on_controls": controls_wrong,
                         "timeouts": sum(r["tools"][tool]["status"] == "timeout" for r in rows)}
    n_rule = sum(r["has_rule"] for r in rows)
    any_sympy = sum(1 for r in rows if any(r["tools"][t]["verdict"] == "right"
                                           for t in names if t.startswith("sympy")))
    print(f"{'right (of ' + str(n_rule) + ' with a rule)':<{width}}"
          + "".join(f"{summary[t]['right']:>20}" for t in names))
    print(f"{'wrong = false claims':<{width}}"
          + "".join(f"{summary[t]['wrong']:>20}" for t in names))
    print(f"{'  of them on the controls':<{width}}"
          + "".join(f"{summary[t]['false_claims_on_controls']:>20}" for t in names))
    print(f"{'nothing (timeouts)':<{width}}"
          + "".join(f"{str(summary[t]['nothing']) + ' (' + str(summary[t]['timeouts']) + ')':>20}"
                    for t in names))
    print(f"{'total seconds':<{width}}"
          + "".join(f"{summary[t]['seconds']:>19.2f}s" for t in names))
    search = sum(r["eurisko_search_seconds"] for r in rows)
    print(f"\nany SymPy guesser right: {any_sympy} of {n_rule}; eurisko right: "
          f"{summary['eurisko']['right']} of {n_rule}")
    print(f"eurisko's search alone (guess() without its SymPy views, in this process): "
          f"{search:.2f} s for all {len(rows)} sequences, at most "
          f"{max(r['eurisko_search_seconds'] for r in rows):.3f} s for one")
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"settings": vars(args), "rows": rows, "summary": summary}, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
