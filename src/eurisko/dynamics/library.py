"""Candidate terms for the right-hand side: dx/dt is sought as a sparse sum of these.

A library is bound to the state names with ``fit(names)``; then ``transform(X)`` gives the
``(n_samples, n_terms)`` matrix, ``names_`` the printed terms and ``sympy_terms()`` the SymPy
form of each. Libraries add up with ``+`` (a `ConcatLibrary`), e.g.
``PolynomialLibrary(3) + CustomLibrary(["sin(x)", "x/(1+y)"])``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

import numpy as np
import sympy as sp

from eurisko.validation import check_bool, check_int

__all__ = ["Library", "PolynomialLibrary", "CustomLibrary", "ConcatLibrary"]


class Library:
    """Base class: a list of named functions of the states."""

    names_: list[str]

    def fit(self, names: Sequence[str]) -> Library:
        """Bind to the state names; returns self."""
        raise NotImplementedError

    def transform(self, X: np.ndarray) -> np.ndarray:
        """The terms evaluated on states ``X`` (n_samples, n_states)."""
        raise NotImplementedError

    def sympy_terms(self) -> list[sp.Expr]:
        """Each term as a SymPy expression of real symbols named after the states."""
        raise NotImplementedError

    def __add__(self, other: Library) -> ConcatLibrary:
        return ConcatLibrary([self, other])

    @property
    def n_terms(self) -> int:
        return len(self.names_)


def _symbols(names: Sequence[str]) -> list[sp.Symbol]:
    return [sp.Symbol(n, real=True) for n in names]


class PolynomialLibrary(Library):
    """All monomials of the states up to ``degree`` (with the constant 1 if ``include_bias``).

    Parameters
    ----------
    degree : int, default 3
        Highest total degree. Three covers most polynomial flows (Lorenz, Rossler and
        the Sprott systems are quadratic; Duffing-like and Hindmarsh-Rose terms are cubic).
    include_bias : bool, default True
        Include the constant term.
    """

    def __init__(self, degree: int = 3, include_bias: bool = True):
        self.degree = check_int(degree, "degree", low=0)
        self.include_bias = check_bool(include_bias, "include_bias")

    def fit(self, names: Sequence[str]) -> PolynomialLibrary:
        self.state_names_ = list(names)
        d = len(names)
        powers: list[tuple[int, ...]] = []
        for deg in range(0 if self.include_bias else 1, self.degree + 1):
            for combo in itertools.combinations_with_replacement(range(d), deg):
                p = [0] * d
                for j in combo:
                    p[j] += 1
                powers.append(tuple(p))
        self.powers_ = np.array(powers, dtype=np.int64).reshape(len(powers), d)
        self.names_ = [self._name(p) for p in self.powers_]
        return self

    def _name(self, p: np.ndarray) -> str:
        parts = []
        for name, k in zip(self.state_names_, p, strict=True):
            if k == 1:
                parts.append(name)
            elif k > 1:
                parts.append(f"{name}^{k}")
        return "*".join(parts) or "1"

    def transform(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.shape[0] <= 16:  # one state at a time (simulation): one vectorised power
            return np.prod(X[:, None, :] ** self.powers_[None, :, :], axis=2)
        out = np.ones((X.shape[0], len(self.powers_)))
        for j in range(X.shape[1]):
            col = self.powers_[:, j]
            for k in range(1, int(col.max(initial=0)) + 1):
                out[:, col == k] *= (X[:, j] ** k)[:, None]
        return out

    def sympy_terms(self) -> list[sp.Expr]:
        syms = _symbols(self.state_names_)
        return [sp.Mul(*[s**int(k) for s, k in zip(syms, p, strict=True)]) for p in self.powers_]


class CustomLibrary(Library):
    """User terms: formulas as text (``"sin(x)"``, ``"x/(1+y)"``), ``(name, function)`` pairs or
    SymPy expressions of symbols named after the states.

    Text is parsed by eurisko's own safe parser (never ``eval``), so any operator of
    ``eurisko.expr.registry()`` can appear. A function receives the state columns as separate
    1-D arrays, ``f(x, y, z)``, and must return one array of the same length.
    """

    def __init__(self, terms: Sequence[str | tuple[str, Callable[..., np.ndarray]]]):
        if isinstance(terms, str):
            raise TypeError("terms must be a list, e.g. ['sin(x)', 'x/(1+y)'], not one str")
        self.terms = list(terms)

    def fit(self, names: Sequence[str]) -> CustomLibrary:
        from eurisko.expr.parser import parse
        from eurisko.expr.sympy_bridge import to_sympy

        self.state_names_ = list(names)
        self._programs: list[object] = []
        self._sympy: list[sp.Expr] = []
        self.names_ = []
        for term in self.terms:
            if isinstance(term, str):
                try:
                    prog = parse(term, self.state_names_)
                except ValueError as exc:
                    raise ValueError(f"library term {term!r}: {exc} (the states are "
                                     f"{', '.join(self.state_names_)})") from None
                self._programs.append(prog)
                self._sympy.append(to_sympy(prog, self.state_names_))
                self.names_.append(term.replace(" ", ""))
            elif isinstance(term, sp.Expr):
                syms = _symbols(self.state_names_)
                term = term.xreplace({sp.Symbol(s.name): s for s in syms})
                unknown = term.free_symbols - set(syms)
                if unknown:
                    raise ValueError(f"library term {term} uses {sorted(map(str, unknown))}, "
                                     f"which are not states ({', '.join(self.state_names_)})")
                self._programs.append(sp.lambdify(syms, term, modules="numpy"))
                self._sympy.append(term)
                self.names_.append(sp.sstr(term))
            elif (isinstance(term, tuple) and len(term) == 2 and isinstance(term[0], str)
                  and callable(term[1])):
                self._programs.append(term[1])
                self._sympy.append(sp.Function(term[0])(*_symbols(self.state_names_)))
                self.names_.append(term[0])
            else:
                raise TypeError(f"a library term must be a formula string, a (name, function) "
                                f"pair or a SymPy expression, got {term!r}")
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        from eurisko.evaluate.reference import eval_program
        from eurisko.expr.program import Program

        X = np.asarray(X, dtype=np.float64)
        cols = []
        for term, prog in zip(self.names_, self._programs, strict=True):
            if isinstance(prog, Program):
                v = eval_program(prog, np.ascontiguousarray(X.T))
            else:
                with np.errstate(all="ignore"):
                    v = np.asarray(prog(*X.T), dtype=np.float64)
            v = np.broadcast_to(v, (X.shape[0],)) if np.ndim(v) == 0 else v
            if v.shape != (X.shape[0],):
                raise ValueError(f"library term {term!r} returned shape {v.shape}; it must "
                                 f"return one value per sample ({X.shape[0]})")
            cols.append(v)
        return np.column_stack(cols) if cols else np.empty((X.shape[0], 0))

    def sympy_terms(self) -> list[sp.Expr]:
        return list(self._sympy)


class ConcatLibrary(Library):
    """Several libraries side by side; duplicate term names are kept once."""

    def __init__(self, libraries: Sequence[Library]):
        self.libraries = list(libraries)

    def fit(self, names: Sequence[str]) -> ConcatLibrary:
        self.names_ = []
        self._keep: list[np.ndarray] = []
        seen: set[str] = set()
        for lib in self.libraries:
            lib.fit(names)
            keep = []
            for i, n in enumerate(lib.names_):
                if n not in seen:
                    seen.add(n)
                    keep.append(i)
                    self.names_.append(n)
            self._keep.append(np.array(keep, dtype=np.int64))
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        return np.hstack([lib.transform(X)[:, k] for lib, k in
                          zip(self.libraries, self._keep, strict=True)])

    def sympy_terms(self) -> list[sp.Expr]:
        out: list[sp.Expr] = []
        for lib, keep in zip(self.libraries, self._keep, strict=True):
            terms = lib.sympy_terms()
            out.extend(terms[i] for i in keep)
        return out
