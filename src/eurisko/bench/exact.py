"""Did a search find the law itself? SRBench's symbolic-solution rule, run so it cannot hang.

SRBench (La Cava et al. 2021, ``assess_symbolic_model.py``) counts a model as a symbolic solution
when, after rounding its floats (``|c| < 1e-4`` becomes 0, the rest 3 decimal places),
``model - truth`` simplifies to 0 or to a constant, or ``model / truth`` is a constant; a model
equal to 0 never counts. This module applies that rule with two deliberate differences, both
stated so that results can be read against SRBench's:

* a second rounding, to 4 significant digits, may also pass (3 decimals turn small true
  constants such as 1/(4*pi*3) = 0.0265 into 0.027, which no exact law matches);
* the rounded floats become exact rationals (0.399 -> 399/1000) before SymPy sees them, so that
  float residue such as ``1.0e-17*x`` cannot make an exact match look inexact.

Constancy means "free of the variables" after SymPy's ``simplify``, or ``Expr.is_constant``
(derivatives that simplify to 0), which is what SRBench calls. Inner constants must round to the
true ones: ``exp(-0.49*x**2)`` is not ``exp(-x**2/2)``.

SymPy's ``simplify`` can take minutes on an unlucky expression, so the check runs in a persistent
worker process (a fresh ``python``, expressions sent as ``srepr`` text) that is killed and
restarted when a check exceeds its time; a timeout reads as "not recovered", never as an error.
Numeric evaluation at random points (30 digits, mpmath) rejects hopeless candidates before any
simplification.
"""

from __future__ import annotations

import atexit
import importlib
import json
import os
import queue
import random
import subprocess
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass

import sympy as sp

from eurisko.validation import check_instance, check_number

_CHECK_TARGET = "eurisko.bench.exact:_check_payload"
_STARTUP_TIMEOUT = 120.0
_ZERO_BELOW = 1e-4  # SRBench's round_floats: smaller floats become 0
_SCREEN_POINTS = 12
_SCREEN_TOL = 1e-12


@dataclass(frozen=True)
class RecoveryCheck:
    """Verdict of one exact-recovery check and the reason, for reports."""

    exact: bool
    reason: str

    def __bool__(self) -> bool:
        return self.exact


def symbols_of(expr: sp.Basic) -> dict[str, sp.Symbol]:
    """The free symbols of ``expr`` by name (models and truths match variables by name)."""
    return {s.name: s for s in expr.free_symbols if isinstance(s, sp.Symbol)}


def is_exact_recovery(model: sp.Expr, truth: sp.Expr, timeout: float | None = 30, *,
                      ranges: Mapping[str, tuple[float, float]] | None = None,
                      positive: bool = False) -> bool:
    """True when ``model`` is ``truth`` up to an additive or a non-zero multiplicative constant.

    Parameters
    ----------
    model, truth : SymPy expressions; variables are matched by name, whatever their assumptions.
    timeout : seconds for the whole check (``None``: run in this process, no limit). Running
        out of time counts as not recovered.
    ranges : ``{name: (low, high)}`` where the variables live; the numeric screen samples there
        (default (1, 3) for every variable). Only the screen uses it: it can reject, never accept.
    positive : treat the variables as positive instead of real, e.g. so that
        ``sqrt(c**2 - v**2)/c`` equals ``sqrt(1 - v**2/c**2)``. SRBench does not.
    """
    return check_recovery(model, truth, timeout, ranges=ranges, positive=positive).exact


def check_recovery(model: sp.Expr, truth: sp.Expr, timeout: float | None = 30, *,
                   ranges: Mapping[str, tuple[float, float]] | None = None,
                   positive: bool = False) -> RecoveryCheck:
    """Like `is_exact_recovery`, with the reason (which rounding and which rule matched)."""
    for name, e in (("model", model), ("truth", truth)):
        check_instance(e, name, sp.Basic, expected="a SymPy expression",
                       hint="convert text with eurisko.bench.parse_formula first")
    timeout = check_number(timeout, "timeout", low=0, low_open=True, none_ok=True,
                           what="seconds")
    payload = {
        "model": sp.srepr(model),
        "truth": sp.srepr(truth),
        "ranges": None if ranges is None else {str(k): [float(v[0]), float(v[1])]
                                               for k, v in ranges.items()},
        "positive": bool(positive),
    }
    if timeout is None:
        try:
            out = _check_payload(payload)
        except Exception as e:  # same contract as the worker: a failed check is not a match
            out = {"error": f"{type(e).__name__}: {e}"}
    else:
        out = _WORKER.call(payload, float(timeout))
    if out is None:
        return RecoveryCheck(False, f"timed out after {timeout:g} s")
    if "error" in out:
        return RecoveryCheck(False, f"check failed: {out['error']}")
    return RecoveryCheck(bool(out["exact"]), str(out["reason"]))


# --- the check itself (runs in the worker) ------------------------------------------------


def round_decimals(v: float) -> sp.Rational:
    """SRBench's rounding: below 1e-4 in size is 0, else 3 decimal places."""
    return sp.Integer(0) if abs(v) < _ZERO_BELOW else sp.Rational(f"{v:.3f}")


def _round_significant(v: float) -> sp.Rational:
    return sp.Integer(0) if v == 0 else sp.Rational(f"{v:.3e}")


_ROUNDINGS = (("3 decimals", round_decimals), ("4 significant digits", _round_significant))


def _rounded(expr: sp.Expr, rule) -> sp.Expr:
    floats = expr.atoms(sp.Float)
    if not floats:
        return expr
    return expr.xreplace({f: rule(float(f)) for f in floats})


def _numeric_values(expr: sp.Expr, symbols: list[sp.Symbol], points: list[list]) -> list:
    """Values at the points, 30 digits; None where undefined or clearly complex."""
    import mpmath

    out = []
    with mpmath.workdps(30):
        try:
            f = sp.lambdify(symbols, expr, modules="mpmath")
        except Exception:
            return [None] * len(points)
        for p in points:
            try:
                v = mpmath.mpmathify(f(*p))
            except Exception:
                out.append(None)
                continue
            if not mpmath.isfinite(v):
                out.append(None)
                continue
            if isinstance(v, mpmath.mpc):
                if abs(v.imag) > 1e-20 * max(1, abs(v.real)):
                    out.append(None)
                    continue
                v = v.real
            out.append(v)
    return out


def _screen(model: sp.Expr, truth: sp.Expr, symbols: list[sp.Symbol],
            ranges: Mapping[str, tuple[float, float]] | None) -> tuple[bool, bool]:
    """Could the difference / the ratio be constant? Numbers can say no, never yes."""
    import mpmath

    rng = random.Random(20211202)
    points = []
    for _ in range(_SCREEN_POINTS):
        p = []
        for s in symbols:
            lo, hi = (ranges or {}).get(s.name, (1.0, 3.0))
            p.append(mpmath.mpf(rng.uniform(lo, hi)))
        points.append(p)
    m = _numeric_values(model, symbols, points)
    t = _numeric_values(truth, symbols, points)
    pairs = [(a, b) for a, b in zip(m, t, strict=True) if a is not None and b is not None]
    defined = sum(b is not None for b in t)
    if defined >= 4 and 2 * len(pairs) < defined:
        return False, False  # undefined or complex where the law is real: not the law
    if len(pairs) < 4:
        return True, True
    scale = max(max(abs(a), abs(b)) for a, b in pairs) or 1
    diffs = [a - b for a, b in pairs]
    diff_ok = max(abs(d - diffs[0]) for d in diffs) <= _SCREEN_TOL * scale
    ratios = [a / b for a, b in pairs if abs(b) > 1e-25 * scale]
    ratio_ok = True
    if len(ratios) >= 4:
        r0 = ratios[0]
        ratio_ok = r0 != 0 and max(abs(r - r0) for r in ratios) <= _SCREEN_TOL * abs(r0)
    return diff_ok, ratio_ok


def _undefined(e: sp.Expr) -> bool:
    return e.has(sp.nan, sp.zoo, sp.oo, -sp.oo)


def _is_free_constant(e: sp.Expr, variables: set, nonzero: bool) -> bool:
    if e.free_symbols & variables:
        return False
    if _undefined(e):
        return False
    return not (nonzero and e.is_zero is not False)


def _check_payload(payload: dict) -> dict:
    """Worker side: the rule on srepr'd expressions; returns ``{exact, reason}``."""
    model = sp.sympify(payload["model"])
    truth = sp.sympify(payload["truth"])
    assumptions = {"positive": True} if payload.get("positive") else {"real": True}
    names = sorted({s.name for s in model.free_symbols | truth.free_symbols
                    if isinstance(s, sp.Symbol)})
    common = {n: sp.Symbol(n, **assumptions) for n in names}
    rename = {s: common[s.name] for s in model.free_symbols | truth.free_symbols
              if isinstance(s, sp.Symbol)}
    model = model.xreplace(rename)
    truth = truth.xreplace(rename)
    variables = set(common.values())
    symbols = [common[n] for n in names]
    if model.has(sp.nan, sp.zoo) or truth.has(sp.nan, sp.zoo):
        return {"exact": False, "reason": "model is undefined (nan/zoo)"}

    # (rounding, kind, expression) candidates that survive the numeric screen
    candidates = []
    for label, rule in _ROUNDINGS:
        m = _rounded(model, rule)
        if m == 0 or m.is_zero or _undefined(m):
            continue  # 0, or undefined once rounded (log of a constant rounded to 0)
        diff_ok, ratio_ok = _screen(m, truth, symbols, payload.get("ranges"))
        if diff_ok:
            candidates.append((label, "difference", m - truth))
        if ratio_ok:
            candidates.append((label, "ratio", m / truth))
    if all(_rounded(model, rule) == 0 for _, rule in _ROUNDINGS):
        return {"exact": False, "reason": "model is 0 (after rounding)"}
    if not candidates:
        return {"exact": False, "reason": "numerically neither difference nor ratio is constant"}

    def verdict(label: str, kind: str, e: sp.Expr, how: str) -> dict:
        return {"exact": True, "reason": f"{kind} {how} is constant {e} ({label})"}

    for label, kind, e in candidates:  # cheapest first: as built
        if _is_free_constant(e, variables, kind == "ratio"):
            return verdict(label, kind, e, "as built")
    simplified = []
    for label, kind, e in candidates:
        s = sp.simplify(e)
        if _is_free_constant(s, variables, kind == "ratio"):
            return verdict(label, kind, s, "after simplify")
        simplified.append((label, kind, s))
    for label, kind, s in simplified:  # SRBench's is_constant: derivatives that vanish
        if _undefined(s):
            continue  # nan is "constant" to SymPy, never a recovered law
        if s.is_constant(*symbols) is True:
            at_two = _numeric_values(s, symbols, [[2] * len(symbols)])[0]
            if kind == "ratio" and at_two in (None, 0):
                continue
            return verdict(label, kind, s, "by is_constant")
    return {"exact": False, "reason": "difference and ratio do not simplify to constants"}


# --- the worker process -----------------------------------------------------------------------


class _Worker:
    """One persistent checker process; killed and replaced when a check overruns."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._replies: queue.Queue | None = None

    def _start(self) -> None:
        env = dict(os.environ)
        paths = [p for p in sys.path if p]
        if env.get("PYTHONPATH"):
            paths.append(env["PYTHONPATH"])
        env["PYTHONPATH"] = os.pathsep.join(paths)
        self._proc = subprocess.Popen(
            [sys.executable, "-c", "from eurisko.bench.exact import _serve; _serve()"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True, bufsize=1,
        )
        self._replies = queue.Queue()
        threading.Thread(target=_pump, args=(self._proc.stdout, self._replies),
                         daemon=True).start()
        try:
            ready = self._replies.get(timeout=_STARTUP_TIMEOUT)
        except queue.Empty:
            ready = None
        if ready != {"ready": True}:
            self.stop()
            raise RuntimeError("the exact-recovery worker process did not start; run "
                               f"`{sys.executable} -c 'import eurisko.bench.exact'` to see why")

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            try:
                proc.kill()
            except OSError:
                pass
            proc.wait()
            for f in (proc.stdin, proc.stdout):
                try:
                    f.close()
                except OSError:
                    pass

    def call(self, payload: dict, timeout: float, target: str | None = None) -> dict | None:
        """The worker's reply, or None when it ran out of time (the worker is then replaced)."""
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self.stop()
                self._start()
            request = {"target": target or _CHECK_TARGET, "payload": payload}
            try:
                self._proc.stdin.write(json.dumps(request) + "\n")
                self._proc.stdin.flush()
                reply = self._replies.get(timeout=timeout)
            except queue.Empty:
                self.stop()
                return None
            except (BrokenPipeError, OSError) as e:
                self.stop()
                return {"error": f"worker died ({e})"}
            if reply is None:  # the worker exited mid-check (crash, out of memory)
                self.stop()
                return {"error": "worker exited during the check"}
            return reply


def _pump(stream, replies: queue.Queue) -> None:
    for line in stream:
        try:
            replies.put(json.loads(line))
        except ValueError:
            continue
    replies.put(None)


def _serve() -> None:
    """Worker loop: one JSON request per line in, one JSON reply per line out."""
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    sys.stdout = sys.stderr  # stray prints must not corrupt the protocol
    out.write(json.dumps({"ready": True}) + "\n")
    for line in sys.stdin:
        try:
            request = json.loads(line)
            module, _, name = request["target"].partition(":")
            func = getattr(importlib.import_module(module), name)
            reply = func(request["payload"])
        except Exception as e:  # report, keep serving
            reply = {"error": f"{type(e).__name__}: {e}"[:500]}
        out.write(json.dumps(reply, default=str) + "\n")


_WORKER = _Worker()
atexit.register(_WORKER.stop)


def shutdown_worker() -> None:
    """Stop the checker process now (a later check starts a new one)."""
    with _WORKER._lock:
        _WORKER.stop()
