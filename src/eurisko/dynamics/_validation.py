"""Checks at the door of `discover_ode` and the model's methods: clear advice, not tracebacks."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RESERVED = {"t", "pi", "e", "inf", "nan", "E", "I", "S", "N", "O", "Q"}


def _array(a: object, what: str) -> np.ndarray:
    if hasattr(a, "to_numpy"):
        a = a.to_numpy()
    try:
        out = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be numbers; convert the columns to numeric "
                         "values first") from None
    return out


def as_trajectories(t: object, X: object) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """``(ts, Xs)``: lists of time vectors and ``(n, d)`` state arrays, all checked.

    ``X`` is one array ``(n_times, n_states)`` with ``t`` of length n_times, or a list of such
    arrays with ``t`` a list of time vectors (one per trajectory; a single shared time vector
    is accepted when every trajectory has its length).
    """
    multi = isinstance(X, (list, tuple))
    if multi:
        Xs = [_array(x, f"trajectory {i} of X") for i, x in enumerate(X)]
        if len(Xs) == 0:
            raise ValueError("X is an empty list; give at least one trajectory")
        if isinstance(t, (list, tuple)) and len(t) > 0 and np.ndim(t[0]) >= 1:
            if len(t) != len(Xs):
                raise ValueError(f"X has {len(Xs)} trajectories but t has {len(t)} time "
                                 "vectors; give one time vector per trajectory")
            ts = [_array(ti, f"time vector {i}") for i, ti in enumerate(t)]
        else:
            tv = _array(t, "t")
            ts = [tv] * len(Xs)
    else:
        if isinstance(t, (list, tuple)) and len(t) > 0 and np.ndim(t[0]) >= 1:
            raise ValueError("t is a list of time vectors but X is a single array; pass X as "
                             "a list of trajectories too")
        Xs = [_array(X, "X")]
        ts = [_array(t, "t")]
    d = None
    for i, (ti, xi) in enumerate(zip(ts, Xs, strict=True)):
        where = f" (trajectory {i})" if multi else ""
        if xi.ndim == 1:
            xi = xi[:, None]
            Xs[i] = xi
        if xi.ndim != 2:
            raise ValueError(f"X{where} must be 2-D, (n_times, n_states); got shape {xi.shape}")
        if ti.ndim != 1:
            raise ValueError(f"t{where} must be a 1-D vector of times; got shape {ti.shape}")
        if len(ti) != xi.shape[0]:
            raise ValueError(f"t{where} has {len(ti)} times but X has {xi.shape[0]} rows; "
                             "give one time per row (X is (n_times, n_states); transpose it "
                             "if the states are rows)")
        if len(ti) < 2:
            raise ValueError(f"trajectory{where} has {len(ti)} sample(s); derivatives need many "
                             "samples per trajectory (a few dozen at least)")
        if d is None:
            d = xi.shape[1]
        elif xi.shape[1] != d:
            raise ValueError(f"trajectory {i} has {xi.shape[1]} states but trajectory 0 has "
                             f"{d}; every trajectory needs the same state columns")
        if not np.isfinite(ti).all():
            raise ValueError(f"t{where} contains NaN or inf; drop those rows first")
        bad = ~np.isfinite(xi)
        if bad.any():
            rows = np.flatnonzero(bad.any(axis=1))
            raise ValueError(f"X{where} contains NaN or inf in {rows.size} row(s) (first: row "
                             f"{rows[0]}); drop or interpolate those rows, or split the "
                             "trajectory at the gap and pass a list of trajectories")
        dt = np.diff(ti)
        if (dt <= 0).any():
            k = int(np.flatnonzero(dt <= 0)[0])
            what = "repeats" if dt[k] == 0 else "goes backwards"
            raise ValueError(f"time{where} {what} at row {k + 1} (t={ti[k]:g} then "
                             f"{ti[k + 1]:g}); times must be strictly increasing: sort the "
                             "rows by time, drop duplicates, or pass separate trajectories "
                             "as lists")
    return ts, Xs


def state_names(names: Sequence[str] | None, d: int) -> list[str]:
    """Default ``x0, x1, ...``; given names are checked to be usable identifiers."""
    if names is None:
        return [f"x{i}" for i in range(d)]
    if isinstance(names, str):
        raise TypeError("names must be a list of state names, e.g. ['x', 'y'], not one str")
    names = [str(n) for n in names]
    if len(names) != d:
        raise ValueError(f"{len(names)} names given for {d} state columns; give one per column")
    for n in names:
        if not _NAME.match(n) or n in _RESERVED:
            raise ValueError(f"state name {n!r} cannot be used in equations; use letters, "
                             f"digits and underscores, starting with a letter, and not one of "
                             f"{sorted(_RESERVED)}")
    if len(set(names)) != len(names):
        raise ValueError("two states have the same name; names must be distinct")
    return names
