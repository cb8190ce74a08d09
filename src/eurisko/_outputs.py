"""Several targets: a 2-D ``y`` is fitted as one search per output, on the same ``X``.

`SymbolicRegressor.fit` with ``y`` of shape ``(n, k)``, ``k >= 2``, runs its single-output fit
once per column, one after the other, each with every worker (``n_jobs``, ``cluster``) and a
share of the budget: ``time_limit`` and ``max_evals`` are for the whole fit, and each output
gets an equal part of what the outputs before it left (one that stops early on an exact fit
hands its rest on). Each output has its own front, decomposition, units and loss scale.

Why not one search with shared islands: every piece of the engine that decides something (the
hall of fame, the exact-fit stop, linear scaling, the loss scale, the decomposition, the
dimensionless groups) is about one target, and separate searches keep all of them as they are;
docs/benchmarks.md#several-targets measures what splitting the budget costs.

This module holds what does not need the estimator: reading ``y``, ``sample_weight``,
``y_units`` and ``guesses`` per output, the budgets, and the run directory's layout.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from eurisko.atomic import atomic_write_json

LAYOUT = "outputs.json"  # in a multi-output run directory: which sub-directory holds which output
LAYOUT_FORMAT = 1


def split_targets(y: object) -> tuple[object, list[str] | None]:
    """``(y, None)`` for a single-output fit (a ``(n, 1)`` table becomes its one column, as
    scikit-learn's trees do), ``(y, names)`` for ``k >= 2`` outputs: the DataFrame's column
    names, else ``y0 .. y{k-1}``."""
    if isinstance(y, pd.DataFrame):
        if y.shape[1] == 0:
            raise ValueError("y is a DataFrame without columns; give one column per output")
        if y.shape[1] == 1:
            return y.iloc[:, 0], None
        names = [str(c) for c in y.columns]
        twice = [n for i, n in enumerate(names) if n in names[:i]]
        if twice:
            raise ValueError(f"y has the column {twice[0]!r} twice; give each output its own name")
        return y, names
    if isinstance(y, (str, bytes)) or not hasattr(y, "__len__") and not hasattr(y, "shape"):
        return y, None  # (the single-output fit's validation says what is wrong)
    shape = getattr(y, "shape", None)
    if shape is None:
        try:
            shape = np.shape(y)
        except ValueError:  # ragged lists: the single-output fit's validation says so
            return y, None
    if len(shape) <= 1:
        return y, None
    if len(shape) > 2:
        raise ValueError(f"y has shape {tuple(shape)}; give a 1-D array (one output) or a 2-D "
                         "array of shape (n_samples, n_outputs)")
    if shape[1] == 0:
        raise ValueError(f"y has shape {tuple(shape)}, no output column; give at least one")
    if shape[1] == 1:
        a = np.asarray(y)
        return (pd.Series(a[:, 0], name=str(y.columns[0])) if hasattr(y, "columns")
                else a[:, 0]), None
    return y, [f"y{j}" for j in range(shape[1])]


def per_output_weights(sample_weight: object, n: int, k: int) -> list[np.ndarray | None]:
    """``sample_weight`` for each output: one weight per row shared by all (1-D), or one per
    row and output (``(n, k)``)."""
    if sample_weight is None:
        return [None] * k
    w = np.asarray(sample_weight, dtype=np.float64)
    if w.ndim == 2 and w.shape[1] == 1:
        w = w[:, 0]
    if w.ndim == 1 and w.shape[0] == n:
        return [w] * k
    if w.ndim == 2 and w.shape == (n, k):
        return [np.ascontiguousarray(w[:, j]) for j in range(k)]
    raise ValueError(f"sample_weight has shape {w.shape} but y has shape ({n}, {k}); give one "
                     f"weight per row ({n},) shared by the outputs, or one per row and output "
                     f"({n}, {k})")


def per_output_units(y_units: object, names: Sequence[str]) -> list[object]:
    """``y_units`` for each output: a list (one per output, in order), a dict by output name,
    or one unit shared by all."""
    k = len(names)
    if y_units is None or isinstance(y_units, str):
        return [y_units] * k
    if isinstance(y_units, dict):
        missing = [n for n in names if n not in y_units]
        extra = [str(u) for u in y_units if u not in names]
        if missing or extra:
            raise ValueError(f"y_units must give a unit for each output {list(names)}"
                             + (f"; missing {missing}" if missing else "")
                             + (f"; unknown {extra}" if extra else ""))
        return [y_units[n] for n in names]
    if isinstance(y_units, (list, tuple)):
        if len(y_units) != k:
            raise ValueError(f"y_units has {len(y_units)} entries but y has {k} outputs; give "
                             "one unit per output")
        return list(y_units)
    return [y_units] * k  # a pint unit object, shared


def per_output_guesses(guesses: object, k: int) -> list[object]:
    """``guesses`` for each output: a list of k lists (PySR's form, one list per output), or
    formulas shared by all outputs (each output's search rates them on its own data)."""
    if isinstance(guesses, (list, tuple)) and guesses and \
            all(g is None or isinstance(g, (list, tuple)) for g in guesses):
        if len(guesses) != k:
            raise ValueError(f"guesses has {len(guesses)} lists but y has {k} outputs; give one "
                             "list per output, or one list of formulas shared by all")
        return [None if g is None else list(g) for g in guesses]
    return [guesses] * k


def budget(limit: float | None, spent: Sequence[float], j: int, floor: float) -> float | None:
    """Output ``j``'s limit, counted like a single-output fit's (its own earlier fits
    included): what it has spent plus an equal share of what the whole fit has left among
    the outputs from ``j`` on (at least ``floor``)."""
    if limit is None:
        return None
    left = (float(limit) - float(sum(spent))) / (len(spent) - j)
    return spent[j] + max(left, floor)


def directories(names: Sequence[str]) -> list[str]:
    """A sub-directory name per output: the output's name as an identifier, unique."""
    from eurisko.expr.parser import identifiers

    return identifiers(names, taken=("outputs",), prefix="y")


def write_layout(run_dir: str | os.PathLike, names: Sequence[str], dirs: Sequence[str],
                 meta: dict[str, Any]) -> None:
    """``outputs.json``: which sub-directory holds which output's run, and the estimator's
    settings (written before the first output starts, so a killed run can be resumed)."""
    atomic_write_json(Path(run_dir) / LAYOUT, {
        "format": LAYOUT_FORMAT, "outputs": [{"name": str(n), "dir": str(d)}
                                             for n, d in zip(names, dirs, strict=True)],
        **meta})


def read_layout(run_dir: str | os.PathLike) -> dict[str, Any] | None:
    """The layout of a multi-output run directory, or None for a single-output run."""
    path = Path(run_dir) / LAYOUT
    if not path.is_file():
        return None
    try:
        layout = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"could not read {path} ({exc}); the run directory is damaged") from None
    if not isinstance(layout, dict) or layout.get("format") != LAYOUT_FORMAT \
            or not isinstance(layout.get("outputs"), list):
        raise ValueError(f"{path} is not a multi-output layout this version of eurisko reads")
    return layout
