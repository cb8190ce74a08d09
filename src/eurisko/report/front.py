"""Results of a symbolic regression, for people: CSV, JSON and PNG files, and rich tables.

Files are written atomically (temp file, fsync, rename), so a reader or a crash never sees half
a file. Heavy libraries (pandas, matplotlib, rich) are imported inside the functions that need
them, so importing this module stays cheap.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eurisko.atomic import atomic_write_bytes, atomic_write_json

if TYPE_CHECKING:
    from rich.table import Table

__all__ = ["atomic_write_bytes", "atomic_write_json", "front_table", "front_rows",
           "results_dict", "write_results"]


# --- what a fitted model found -------------------------------------------------------------


def front_rows(model) -> list[tuple[int, float, float, str]]:
    """The fitted model's front as ``(complexity, loss, r2, equation)`` tuples."""
    df = model.pareto_front_
    return [(int(c), float(loss), float(r2), str(eq)) for c, loss, r2, eq in zip(
        df["complexity"], df["loss"], df["r2"], df["equation"], strict=True)]


def results_dict(model, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Everything ``front.json`` holds: rows, selected row, names, settings, counters."""
    rows = []
    for i, (c, loss, r2, eq) in enumerate(front_rows(model)):
        row: dict[str, Any] = {"complexity": c, "loss": loss, "r2": r2, "equation": eq}
        try:
            row["latex"] = model.latex(i)
        except (AttributeError, NotImplementedError, ValueError):
            pass
        rows.append(row)
    best = int(model.best_index_)
    names = getattr(model, "feature_names_in_", None)
    if names is None:
        names = getattr(model, "variable_names_", None)
    settings = {k: v for k, v in model.get_params().items() if k != "progress"}
    from eurisko import __version__

    out = {
        "eurisko_version": __version__,
        "front": rows,
        "selected_index": best,
        "selected_equation": rows[best]["equation"] if rows else None,
        "feature_names": [str(n) for n in names] if names is not None else None,
        "variable_names": list(getattr(model, "variable_names_", []) or []),
        "settings": settings,
        "n_evals": int(getattr(model, "n_evals_", 0)),
        "elapsed": float(getattr(model, "elapsed_", 0.0)),
        "interrupted": bool(getattr(model, "interrupted_", False)),
    }
    if extra:
        out.update(extra)
    return out


def write_results(model, out_dir: str | os.PathLike,
                  extra: Mapping[str, Any] | None = None) -> dict[str, Path]:
    """Write ``front.csv``, ``front.json`` and ``front.png`` for a fitted model into ``out_dir``.

    ``front.csv`` has one row per complexity (``complexity, loss, r2, equation`` and a
    ``selected`` flag); ``front.json`` adds the selected index, feature names, the estimator's
    settings, ``n_evals``, ``elapsed`` and ``interrupted`` (plus anything in ``extra``);
    ``front.png`` plots loss against complexity on a log scale with the selected formula marked.
    The selected formula is also written for use without eurisko: ``formula.py`` (a numpy
    function ``f(X)``) and ``formula.c`` (C99, ``double f(const double *x)``), unless a custom
    operator in it has no code for that language.
    Returns the paths written, by kind (``"csv"``, ``"json"``, ``"png"``, ``"py"``, ``"c"``).
    """
    if not hasattr(model, "pareto_front_"):
        raise ValueError("the model is not fitted: call fit (or SymbolicRegressor.from_run) "
                         "before writing results")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    info = results_dict(model, extra)
    paths = {"csv": out / "front.csv", "json": out / "front.json", "png": out / "front.png"}

    df = model.pareto_front_.copy()
    df["selected"] = [i == info["selected_index"] for i in range(len(df))]
    atomic_write_bytes(paths["csv"], df.to_csv(index=False).encode("utf-8"))
    atomic_write_json(paths["json"], info)
    atomic_write_bytes(paths["png"], _front_png(info))
    exports = (("py", "formula.py", lambda: model.numpy().source),
               ("c", "formula.c", lambda: model.c_code()))
    for kind, name, write in exports if hasattr(model, "c_code") else ():
        try:
            text = write()
        except ValueError:  # a custom operator without numpy / C code: no such file
            continue
        paths[kind] = out / name
        atomic_write_bytes(paths[kind], text.encode("utf-8"))
    return paths


def _front_png(info: Mapping[str, Any]) -> bytes:
    """Loss against complexity (log scale), the selected formula highlighted, as PNG bytes."""
    # The object-oriented API with the Agg canvas: no pyplot, no global backend switch.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    rows = info["front"]
    comps = [r["complexity"] for r in rows]
    raw = [r["loss"] if r["loss"] is not None else math.nan for r in rows]
    positive = [v for v in raw if v > 0 and math.isfinite(v)]
    # A loss of exactly 0 has no place on a log scale: draw it on a floor below the rest.
    floor = min(positive) / 100 if positive else 1e-300
    losses = [max(v, floor) if math.isfinite(v) else math.nan for v in raw]
    zeros = [i for i, v in enumerate(raw) if v == 0]

    fig = Figure(figsize=(7, 4.2), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.step(comps, losses, where="post", color="0.6", lw=1, zorder=1)
    ax.scatter(comps, losses, s=22, color="tab:blue", zorder=2, label="Pareto front")
    if zeros and positive:
        ax.scatter([comps[i] for i in zeros], [floor] * len(zeros), s=50, marker="v",
                   color="tab:blue", zorder=2, label="loss 0 (drawn at the floor)")
    k = info["selected_index"]
    if rows and 0 <= k < len(rows):
        ax.scatter([comps[k]], [losses[k]], s=160, marker="*", color="tab:red", zorder=3,
                   label="selected")
        eq = rows[k]["equation"]
        eq = eq if len(eq) <= 60 else eq[:57] + "..."
        right_half = len(comps) > 1 and comps[k] > (comps[0] + comps[-1]) / 2
        ax.annotate(eq, (comps[k], losses[k]), xytext=(-8 if right_half else 8, 8),
                    textcoords="offset points", fontsize=8, color="tab:red",
                    ha="right" if right_half else "left")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if positive:
        ax.set_yscale("log")
    ax.set_xlabel("complexity (nodes)")
    ax.set_ylabel("loss (mean squared error)")
    status = " (interrupted)" if info.get("interrupted") else ""
    ax.set_title(f"Pareto front: {info['n_evals']:,} evaluations in "
                 f"{info['elapsed']:.1f} s{status}", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


# --- rich tables -----------------------------------------------------------------------------


def front_table(front_rows: Iterable[Sequence[Any]], selected: int | None = None,
                title: str | None = None, max_rows: int | None = None) -> Table:
    """A rich ``Table`` of a Pareto front.

    ``front_rows`` holds ``(complexity, loss, equation)`` tuples, as in
    ``SearchProgress.front``, or ``(complexity, loss, r2, equation)`` tuples, as from
    :func:`front_rows`. The row at index ``selected`` is marked. With ``max_rows``, only the
    most accurate (last) rows are shown.
    """
    from rich.table import Table
    from rich.text import Text

    rows = list(front_rows)
    with_r2 = bool(rows) and len(rows[0]) >= 4
    table = Table(title=title, title_justify="left", expand=False)
    table.add_column("", width=1, no_wrap=True)
    table.add_column("complexity", justify="right", no_wrap=True)
    table.add_column("loss", justify="right", no_wrap=True)
    if with_r2:
        table.add_column("r²", justify="right", no_wrap=True)
    table.add_column("equation", overflow="fold")
    start = 0
    if max_rows is not None and len(rows) > max_rows:
        start = len(rows) - max_rows
        table.caption = f"{start} simpler formula(s) not shown"
    for i, row in enumerate(rows[start:], start):
        mark = "▶" if i == selected else ""
        cells = [mark, str(int(row[0])), f"{float(row[1]):.4g}"]
        if with_r2:
            cells.append(f"{float(row[2]):.6f}")
        cells.append(Text(str(row[-1])))  # an equation is text, never rich markup
        table.add_row(*cells, style="bold green" if i == selected else None)
    return table
