"""SymPy views of a found rule: closed forms in n and generating functions in x.

Each is derived from a rule that already passed its checks, then checked again against the
given terms (exactly where cheap), so a view can be missing (None) but is never wrong:

- C-finite recurrences: ``sum_roots poly_root(n) * root**n`` from the roots of the
  characteristic polynomial, when it splits into factors of degree at most 2 (radicals that read
  well; Fibonacci gives Binet's formula, ``(z - 1)**3`` a quadratic polynomial in n).
- first-order recurrences ``P1(n) a(n+1) + P0(n) a(n) = 0``: the hypergeometric term
  ``a(n0) prod R(k)`` written with factorials, powers and central binomials (Catalan:
  ``binomial(2*n, n)/(n + 1)``), rising factorials where the roots are not (half-)integers.
- rational generating functions from C-finite recurrences; algebraic ones solved in radicals
  for degree 2 in G, with the branch whose power series matches the terms.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from eurisko.sequences.algebraic import AlgebraicGF
from eurisko.sequences.recurrence import Recurrence

MAX_VERIFY = 30  # closed forms are re-checked on at most this many of the given terms


def symbols():
    import sympy as sp

    return sp.Symbol("n", integer=True), sp.Symbol("x")


def _sample(count: int) -> list[int]:
    """Indices of the terms to re-check: all of them, or an even spread with both ends."""
    if count <= MAX_VERIFY:
        return list(range(count))
    step = (count - 1) / (MAX_VERIFY - 1)
    return sorted({round(i * step) for i in range(MAX_VERIFY)})


def _matches(expr, terms: list[int], offset: int, exact: bool = True) -> bool:
    import sympy as sp

    n, _ = symbols()
    for k in _sample(len(terms)):
        value = expr.subs(n, offset + k)
        if exact:
            value = sp.expand(value)
            if value == terms[k]:
                continue
            if value.is_Rational:
                return False
        digits = len(str(abs(terms[k]))) + 30
        got = sp.N(value, digits)
        if not got.is_number or got.has(sp.zoo, sp.nan):
            return False
        if abs(complex(got - terms[k])) > 1e-20 * max(1.0, float(abs(terms[k]))):
            return False
    return True


# --- closed forms -------------------------------------------------------------------------


def cfinite_closed_form(rec: Recurrence, terms: list[int]) -> Any | None:
    """``sum C(n) root**n`` for a recurrence with constant coefficients, or None."""
    import sympy as sp
    from sympy.matrices.exceptions import NonInvertibleMatrixError

    n, _ = symbols()
    r = rec.order
    if r == 0:
        return sp.Integer(0)
    c = [p[0] if p else 0 for p in rec.coeffs]
    if c[0] == 0:
        return None  # a zero root: the rule has a different shape for the first few terms
    z = sp.Symbol("z")
    chi = sp.Poly(list(reversed(c)), z)
    _, factors = chi.factor_list()
    if any(f.degree() > 2 for f, _ in factors):
        return None  # roots of cubics and beyond do not read as a formula
    roots = sp.roots(chi)
    if sum(roots.values()) != r:
        return None
    basis = [n ** j * rho ** n for rho, mult in roots.items() for j in range(mult)]
    rows = [[b.subs(n, rec.offset + k) for b in basis] for k in range(r)]
    try:
        sol = sp.Matrix(rows).LUsolve(sp.Matrix(terms[:r]))
    except (ValueError, ZeroDivisionError, NonInvertibleMatrixError):
        return None
    expr = sp.Add(*(sp.expand(sp.radsimp(sp.expand(s))) * b
                    for s, b in zip(sol, basis, strict=True)))
    if all(rho.is_Rational for rho in roots):  # (-1)**n*n + (-1)**n -> (-1)**n*(n + 1)
        expr = min((expr, sp.factor(sp.expand(expr))), key=sp.count_ops)
    if not _matches(expr, terms, rec.offset):
        return None
    return expr


def _linear_factors(poly) -> tuple[Any, list[tuple[Any, int]]] | None:
    """``poly = lead * prod (n + s)**m`` over the rationals: (lead, [(s, m)]), or None."""
    import sympy as sp

    content, factors = poly.factor_list()
    lead = sp.Rational(content)
    shifts = []
    for f, m in factors:
        if f.degree() == 0:
            lead *= f.as_expr() ** m
            continue
        if f.degree() > 1:
            return None
        alpha, beta = f.all_coeffs()
        lead *= alpha ** m
        shifts.append((sp.Rational(beta, alpha), m))
    return lead, shifts


def _shift_poly(n, b: int):
    """factorial(n + b) / factorial(n) for an integer b, as a rational function of n."""
    import sympy as sp

    if b >= 0:
        return sp.Mul(*(n + t for t in range(1, b + 1)))
    return 1 / sp.Mul(*(n + t for t in range(b + 1, 1)))


def _rising(n, s, h: int):
    """Gamma(n + s + h) / Gamma(n + s) for an integer h, as a rational function of n."""
    import sympy as sp

    if h >= 0:
        return sp.Mul(*(n + s + t for t in range(h)))
    return 1 / sp.Mul(*(n + s + t for t in range(h, 0)))


def _binomials(fac: Counter) -> Counter:
    """Pair factorial(j n) / (factorial(i n) factorial((j-i) n)) into binomial(j n, i n)."""
    out: Counter = Counter()
    changed = True
    while changed:
        changed = False
        for j in sorted(fac, reverse=True):
            for sign in (1, -1):
                if sign * fac[j] <= 0:
                    continue
                for i in range(1, j // 2 + 1):
                    need = 2 if i == j - i else 1
                    if sign * fac[i] <= -need and (i == j - i or sign * fac[j - i] <= -1):
                        fac[j] -= sign
                        fac[i] += sign
                        fac[j - i] += sign
                        out[(j, i)] += sign
                        changed = True
                        break
    return out


def hypergeometric_closed_form(rec: Recurrence, terms: list[int]) -> Any | None:
    """The product formula of a first-order recurrence, with factorials and binomials.

    ``a(n) = a(n0) F(n) / F(n0)`` for any F with ``F(n+1)/F(n) = R(n) = -P0(n)/P1(n)``. With
    ``R(n) = c prod (n + s)**e``: an integer s gives a factorial, and the shifts p/q (p = 1..q-1)
    together give ``factorial(q n) / (q**(q n) factorial(n))`` (Gauss's multiplication formula);
    what is left over stays as ``gamma``.
    """
    import sympy as sp

    n, _ = symbols()
    if rec.order != 1:
        return None
    p1 = sp.Poly(list(reversed(rec.coeffs[1])), n)
    p0 = sp.Poly(list(reversed(rec.coeffs[0])), n)
    if p0.is_zero:
        return None
    for p in (p0, p1):  # a zero of either at some k >= offset breaks the product
        for root in sp.roots(p, filter="Q"):
            if root.is_integer and root >= rec.offset:
                return None
    num, den = _linear_factors(p0), _linear_factors(p1)
    if num is None or den is None:
        return None
    base = -num[0] / den[0]  # R(n) = base * prod(n + s)**m / prod(n + t)**m
    fac: Counter = Counter()  # factorial(j n) ** e
    ratio = sp.Integer(1)
    others = sp.Integer(1)
    groups: dict[int, list[tuple[Any, int, int]]] = {}
    for shifts, sign in ((num[1], 1), (den[1], -1)):
        for s, m in shifts:
            e = sign * m
            if s.q == 1:  # Gamma(n + s) = factorial(n + s - 1)
                fac[1] += e
                ratio *= _shift_poly(n, int(s) - 1) ** e
            else:
                h = int(sp.floor(s))
                groups.setdefault(int(s.q), []).append((s - h, h, e))
    for q, entries in groups.items():
        total: Counter = Counter()
        for frac, _, e in entries:
            total[frac] += e
        wanted = {sp.Rational(p, q) for p in range(1, q)}
        exps = {total[f] for f in wanted}
        if set(total) - wanted or len(exps) != 1 or 0 in exps:
            for frac, h, e in entries:
                others *= sp.gamma(n + frac + h) ** e
            continue
        (e_q,) = exps  # prod_p Gamma(n + p/q) ~ factorial(q n) / (q**(q n) factorial(n))
        fac[q] += e_q
        fac[1] -= e_q
        base /= sp.Integer(q) ** (q * e_q)
        for frac, h, e in entries:
            ratio *= _rising(n, frac, h) ** e
    binoms = _binomials(fac)
    rest = (sp.Mul(*(sp.factorial(j * n) ** e for j, e in fac.items() if e))
            * sp.Mul(*(sp.binomial(j * n, i * n) ** e for (j, i), e in binoms.items() if e))
            * others)
    shape = base ** n * ratio * rest
    at_start = shape.subs(n, rec.offset)
    if at_start == 0 or at_start.has(sp.zoo, sp.nan, sp.oo) or not at_start.is_finite:
        return None
    scale = sp.nsimplify(sp.simplify(sp.Integer(terms[0]) / at_start))
    power = base ** n
    if base.is_Rational and base not in (0, 1, -1) and scale.is_Rational:
        for t in range(-3, 4):  # fold a power of the base into the scale: 2**n / 2 = 2**(n - 1)
            if t and base ** t == scale:
                power, scale = base ** (n + t), sp.Integer(1)
                break
    expr = power * sp.factor(scale * ratio) * rest
    if not _matches(expr, terms, rec.offset, exact=not others.has(sp.gamma)):
        return None
    return expr


# --- generating functions -----------------------------------------------------------------


def rational_gf(rec: Recurrence, terms: list[int]) -> Any | None:
    """``x**offset * N(x)/Q(x)`` from a recurrence with constant coefficients."""
    import sympy as sp

    _, x = symbols()
    r = rec.order
    if r == 0:
        return sp.Integer(0)
    q = [rec.coeffs[r - t][0] for t in range(r + 1)]  # Q(x) = sum_t P_{r-t} x**t
    num = [sum(q[t] * terms[m - t] for t in range(m + 1)) for m in range(r)]
    N = sp.Poly(list(reversed(num)), x)
    Q = sp.Poly(list(reversed(q)), x)
    g = sp.gcd(N, Q)
    N, Q = N.quo(g), Q.quo(g)
    lc = Q.eval(0)
    if lc == 0:
        return None
    return x ** rec.offset * sp.expand(N.as_expr() / lc) / sp.expand(Q.as_expr() / lc)


def _sqrt_poly(disc) -> Any | None:
    """sqrt of an integer polynomial as ``s*sqrt(poly)`` with poly(0) > 0, or None."""
    import sympy as sp

    _, x = symbols()
    content, prim = disc.primitive()
    if prim.eval(0) < 0:
        prim, content = -prim, -content
    if content <= 0 or prim.eval(0) <= 0:
        return None
    return sp.sqrt(sp.Integer(content)) * sp.sqrt(prim.as_expr())


def _series_agrees(expr, terms: list[int]) -> bool:
    """Whether expr(x) = sum a_k x**k at a small x, to far more digits than the truncation."""
    import sympy as sp

    _, x = symbols()
    growth = max(abs(t) ** (1.0 / k) for k, t in enumerate(terms) if k and t) if any(terms[1:]) \
        else 1.0
    at = sp.Rational(1, 1000 * max(1, int(growth) + 1))  # |a_k at**k| <= 1000**-k
    digits = 3 * len(terms)  # the neglected tail is about 1000**-len(terms)
    value = sp.N(expr.subs(x, at), digits + 10)
    partial = sp.N(sum(sp.Integer(t) * at ** k for k, t in enumerate(terms)), digits + 10)
    try:
        return abs(complex(value - partial)) < 10.0 ** (-digits + 5) * max(1.0, abs(terms[0]))
    except (TypeError, ValueError):
        return False


def _shortest(expr):
    """The shortest of a few rewritings (simplify turns sqrt(1-4x)/(1-4x) into 1/sqrt(1-4x))."""
    import sympy as sp

    options = [expr, sp.factor_terms(expr)]
    try:
        options.append(sp.simplify(expr))
    except (ValueError, TypeError, NotImplementedError):
        pass
    return min(options, key=lambda e: (sp.count_ops(e), len(str(e))))


def algebraic_gf(alg: AlgebraicGF, terms: list[int]) -> tuple[Any | None, Any]:
    """(explicit G(x) or None, the implicit equation P(x, G(x)) = 0 for G = sum a(n) x**n)."""
    import sympy as sp

    _, x = symbols()
    G = sp.Function("G")(x)
    o = alg.offset
    polys = [sp.Poly(list(reversed(p)), x) for p in alg.coeffs]
    A = G * x ** (-o)  # G(x) = x**o A(x)
    D = alg.degree
    lhs = sp.Add(*(p.as_expr() * A ** j for j, p in enumerate(polys)))
    if o > 0:
        lhs = sp.expand(lhs * x ** (o * D))
    elif o < 0:
        lhs = sp.expand(lhs)
    y = sp.Symbol("y")
    P = sp.Poly(sp.expand(lhs).subs(G, y), y)
    common = sp.gcd_list(list(P.coeffs()))  # e.g. a power of x
    lhs = sp.collect(sp.expand(sp.Add(*(sp.cancel(c / common) * G ** k
                                        for (k,), c in P.terms()))), G)
    equation = sp.Eq(lhs, 0)
    explicit = None
    if D == 1:
        N, Q = -polys[0], polys[1]
        g = sp.gcd(N, Q)
        explicit = x ** o * N.quo(g).as_expr() / Q.quo(g).as_expr()
    elif D == 2:
        p0, p1, p2 = polys
        disc = p1 ** 2 - 4 * p2 * p0
        root = None if disc.is_zero else _sqrt_poly(disc)
        if root is not None:
            # The power series root is the branch analytic at 0 with value a0 there: where
            # p2(0) != 0, the sign that gives a0; where p2(0) = 0, the one whose numerator
            # vanishes at 0. A numerical check at a small x confirms it.
            r0 = root.subs(x, 0)
            for sign in (-1, 1):
                top = -p1.eval(0) + sign * r0
                ok = (sp.simplify(top / (2 * p2.eval(0)) - terms[0]) == 0 if p2.eval(0) != 0
                      else sp.simplify(top) == 0)
                if not ok:
                    continue
                cand = (-p1.as_expr() + sign * root) / (2 * p2.as_expr())
                if _series_agrees(cand, terms):
                    explicit = x ** o * _shortest(cand)
                break
    return explicit, equation
