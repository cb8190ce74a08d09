"""Benchmark reports: tables and plots from a saved ``results.jsonl``, as HTML, PNG and CSV.

    eurisko bench report bench/feynman

writes into that folder (atomically, so an open report is never half-written):

* ``report.html``: one self-contained page (plots embedded as base64 PNG, no scripts, no
  network) with the summary by method and noise level, the plots and a per-problem table
  of which method recovered which law (hover a cell for the formulas found);
* ``recovery.png``: exact-recovery and accuracy-solution rates against the noise level;
* ``r2_size.png``: test R^2 (as 1 - R^2, log scale) against model size, one dot per run;
* ``summary.csv`` and ``problems.csv``: the two tables as data.

Rates count every run of a (method, noise) pair, failed runs included (a failure recovers
nothing). Medians of size, time and evaluations are over the runs that finished.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from eurisko.atomic import atomic_write_bytes

ACCURACY_R2 = 0.999
_METHOD_COLORS = {"eurisko": "#1f77b4", "pyoperon": "#d62728", "gplearn": "#2ca02c"}
_EXTRA_COLORS = ("#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


def load_bench(folder: str | os.PathLike) -> tuple[Any, dict[str, Any]]:
    """The runs of a benchmark folder as a DataFrame (one row per run) and its manifest."""
    import pandas as pd

    from eurisko.bench.run import MANIFEST_FILE, RESULTS_FILE, read_results

    folder = Path(folder)
    if not (folder / RESULTS_FILE).exists():
        raise FileNotFoundError(f"no {RESULTS_FILE} in {folder}: run `eurisko bench SUITE "
                                f"--out {folder}` first")
    records = read_results(folder)
    if not records:
        raise ValueError(f"{folder / RESULTS_FILE} holds no finished run yet")
    manifest: dict[str, Any] = {}
    if (folder / MANIFEST_FILE).exists():
        try:
            manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
        except ValueError:
            manifest = {}
    df = pd.DataFrame.from_records(records)
    for col, default in (("status", "ok"), ("exact", False), ("accuracy_solution", False),
                         ("r2_test", math.nan), ("size", math.nan), ("seconds", math.nan),
                         ("n_evals", math.nan), ("model", ""), ("truth", "")):
        if col not in df:
            df[col] = default
    df["ok"] = df["status"].eq("ok")
    df["exact"] = df["exact"].fillna(False).astype(bool) & df["ok"]
    df["r2_test"] = pd.to_numeric(df["r2_test"], errors="coerce")
    df["accuracy_solution"] = df["r2_test"].gt(ACCURACY_R2) & df["ok"]
    for col in ("size", "seconds", "n_evals"):
        df[col] = pd.to_numeric(df[col], errors="coerce")
    df["noise"] = df["noise"].astype(float)
    return df, manifest


def method_order(methods) -> list[str]:
    """eurisko first, then the peers in their registry order, then any other name."""
    from eurisko.bench.methods import METHODS

    known = list(METHODS)
    return sorted(dict.fromkeys(methods),
                  key=lambda m: (known.index(m) if m in known else len(known), m))


def summary_table(df) -> Any:
    """Rates and medians by method and noise level (and suite, when there are several)."""
    keys = (["suite"] if df["suite"].nunique() > 1 else []) + ["method", "noise"]
    rows = []
    for key, g in df.groupby(keys, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        ok = g[g["ok"]]
        rows.append({
            **dict(zip(keys, key, strict=True)),
            "runs": len(g), "problems": g["problem"].nunique(), "seeds": g["seed"].nunique(),
            "recovery_rate": float(g["exact"].mean()),
            "accuracy_rate": float(g["accuracy_solution"].mean()),
            "median_r2": float(ok["r2_test"].median()) if len(ok) else math.nan,
            "median_size": float(ok["size"].median()) if len(ok) else math.nan,
            "median_seconds": float(ok["seconds"].median()) if len(ok) else math.nan,
            "median_evals": float(ok["n_evals"].median()) if len(ok) else math.nan,
            "errors": int((~g["ok"]).sum()),
        })
    import pandas as pd

    out = pd.DataFrame(rows)
    rank = {m: i for i, m in enumerate(method_order(out["method"]))}
    lead = ["suite"] if "suite" in out else []
    out["_rank"] = out["method"].map(rank)
    return (out.sort_values([*lead, "_rank", "noise"]).drop(columns="_rank")
            .reset_index(drop=True))


def problem_table(df) -> Any:
    """Per problem and (method, noise): runs, exact recoveries, accuracy solutions."""
    import pandas as pd

    rows = []
    for (suite, problem, method, noise), g in df.groupby(
            ["suite", "problem", "method", "noise"], sort=True):
        models = [f"seed {int(r.seed)}: {r.model if r.ok else 'error: ' + str(r.error)}"
                  for r in g.sort_values("seed").itertuples()]
        rows.append({"suite": suite, "problem": problem, "truth": g["truth"].iloc[0],
                     "method": method, "noise": float(noise), "runs": len(g),
                     "exact": int(g["exact"].sum()),
                     "accurate": int(g["accuracy_solution"].sum()),
                     "models": "\n".join(models)})
    out = pd.DataFrame(rows)
    if len(out):  # I.6.2a before I.12.11, Nguyen-2 before Nguyen-10
        order = sorted(range(len(out)), key=lambda i: (out["suite"].iloc[i],
                                                       _natural(out["problem"].iloc[i])))
        out = out.iloc[order].reset_index(drop=True)
    return out


def _natural(name: str) -> tuple:
    return tuple(int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", str(name)))


# --- plots -----------------------------------------------------------------------------------


def _colors(methods) -> dict[str, str]:
    out, extra = {}, iter(_EXTRA_COLORS)
    for m in methods:
        out[m] = _METHOD_COLORS.get(m) or next(extra, "#333333")
    return out


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def recovery_png(summary) -> bytes:
    """Exact recovery (solid) and accuracy solution (dashed) rates by noise level, per method."""
    fig = _figure(6.4, 4.0)
    ax = fig.add_subplot()
    levels = sorted(summary["noise"].unique())
    pos = {lvl: i for i, lvl in enumerate(levels)}
    methods = method_order(summary["method"])
    colors = _colors(methods)
    # several suites: pool their runs (rates weighted by runs)
    w = summary.assign(rec=summary["recovery_rate"] * summary["runs"],
                       acc=summary["accuracy_rate"] * summary["runs"])
    agg = w.groupby(["method", "noise"])[["rec", "acc", "runs"]].sum()
    for m in methods:
        have = [lvl for lvl in levels if (m, lvl) in agg.index]
        xs = [pos[lvl] for lvl in have]
        rec = [100 * agg.loc[(m, lvl), "rec"] / agg.loc[(m, lvl), "runs"] for lvl in have]
        ac = [100 * agg.loc[(m, lvl), "acc"] / agg.loc[(m, lvl), "runs"] for lvl in have]
        ax.plot(xs, rec, "-o", color=colors[m], lw=2, label=f"{m}: exact recovery")
        ax.plot(xs, ac, "--s", color=colors[m], lw=1.2, alpha=0.7, mfc="none",
                label=f"{m}: R² > {ACCURACY_R2}")
    ax.set_xticks(range(len(levels)), [f"{lvl:g}" for lvl in levels])
    ax.set_xlim(-0.3, max(0.3, len(levels) - 0.7))
    ax.set_ylim(-3, 103)
    ax.set_xlabel("noise level (std / RMS(y_train))")
    ax.set_ylabel("share of runs (%)")
    ax.set_title("Recovery by noise level", fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    return _png(fig)


def r2_size_png(df) -> bytes:
    """One dot per finished run: model size against 1 - test R^2 (log); filled when exact."""
    import numpy as np

    fig = _figure(6.4, 4.0)
    ax = fig.add_subplot()
    ok = df[df["ok"] & df["size"].notna()]
    methods = method_order(df["method"])
    colors = _colors(methods)
    floor, ceil = 1e-16, 10.0
    rng = np.random.default_rng(0)
    for m in methods:
        g = ok[ok["method"] == m]
        if g.empty:
            continue
        r2 = g["r2_test"].to_numpy(dtype=float)
        y = np.clip(np.where(np.isfinite(r2), 1.0 - r2, ceil), floor, ceil)
        x = g["size"].to_numpy(dtype=float) + rng.uniform(-0.2, 0.2, len(g))  # unstack ties
        ex = g["exact"].to_numpy(dtype=bool)
        if ex.any():
            ax.scatter(x[ex], y[ex], s=28, color=colors[m], alpha=0.85, label=f"{m} (exact)")
        if (~ex).any():
            ax.scatter(x[~ex], y[~ex], s=28, facecolors="none", edgecolors=colors[m],
                       alpha=0.85, label=f"{m} (not exact)")
    ax.axhline(1 - ACCURACY_R2, color="0.4", ls=":", lw=1)
    ax.annotate(f"R² = {ACCURACY_R2}", (0.99, 1 - ACCURACY_R2), xycoords=("axes fraction",
                "data"), ha="right", va="bottom", fontsize=7, color="0.3")
    ax.set_yscale("log")
    ax.set_ylim(floor / 3, ceil * 3)
    ax.set_xlabel("model size (nodes after simplification)")
    ax.set_ylabel("1 − R² on the test set (R² = 1 at the bottom)")
    ax.set_title("Accuracy against size, one dot per run", fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    return _png(fig)


# --- HTML -------------------------------------------------------------------------------------


_CSS = """
body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:24px auto;
max-width:1180px;color:#222;padding:0 16px}
h1{font-size:22px;margin-bottom:4px} h2{font-size:17px;margin-top:28px}
.meta{color:#555;font-size:13px;line-height:1.5}
table{border-collapse:collapse;font-size:13px;margin:8px 0}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:right;white-space:nowrap}
th{background:#f4f4f4} td.l,th.l{text-align:left} th[colspan]{text-align:center}
td.truth{font-family:monospace;font-size:12px;text-align:left;white-space:normal;
max-width:320px}
.plots{display:flex;flex-wrap:wrap;gap:12px} .plots img{max-width:560px;width:100%;
border:1px solid #eee}
.note{color:#666;font-size:12px;max-width:900px}
.skip{color:#a15c00}
"""


def _fmt(v: Any, kind: str = "") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if kind == "pct":
        return f"{100 * v:.1f}%"
    if kind == "int":
        return f"{v:,.0f}"
    if kind == "r2":
        return f"{v:.6f}" if v > -1e6 else "-inf"
    if kind == "s":
        return f"{v:.1f}"
    return html.escape(str(v))


def _cell_color(exact: int, accurate: int, runs: int) -> str:
    if runs == 0:
        return "#fff"
    if exact:
        share = exact / runs
        return f"rgba(44,160,44,{0.25 + 0.6 * share:.2f})"
    if accurate:
        return f"rgba(31,119,180,{0.15 + 0.35 * accurate / runs:.2f})"
    return "#fff"


def _summary_html(summary) -> str:
    has_suite = "suite" in summary
    head = (["suite"] if has_suite else []) + [
        "method", "noise", "runs", "problems", "seeds", "exact recovery",
        f"R² > {ACCURACY_R2}", "median R²", "median size", "median seconds",
        "median evaluations", "errors"]
    out = ["<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr>"]
    for r in summary.itertuples():
        cells = ([f"<td class=l>{_fmt(r.suite)}</td>"] if has_suite else []) + [
            f"<td class=l><b>{_fmt(r.method)}</b></td>", f"<td>{r.noise:g}</td>",
            f"<td>{r.runs}</td>", f"<td>{r.problems}</td>", f"<td>{r.seeds}</td>",
            f"<td><b>{_fmt(r.recovery_rate, 'pct')}</b></td>",
            f"<td>{_fmt(r.accuracy_rate, 'pct')}</td>", f"<td>{_fmt(r.median_r2, 'r2')}</td>",
            f"<td>{_fmt(r.median_size, 'int')}</td>", f"<td>{_fmt(r.median_seconds, 's')}</td>",
            f"<td>{_fmt(r.median_evals, 'int')}</td>", f"<td>{r.errors}</td>"]
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def _problems_html(problems) -> str:
    cols = {(m, n) for m, n in zip(problems["method"], problems["noise"], strict=True)}
    methods = method_order(problems["method"])
    cols = sorted(cols, key=lambda c: (methods.index(c[0]), c[1]))
    head = ("<tr><th class=l rowspan=2>problem</th><th class=l rowspan=2>law</th>"
            + "".join(f"<th colspan={sum(1 for c in cols if c[0] == m)}>{html.escape(m)}</th>"
                      for m in methods) + "</tr><tr>"
            + "".join(f"<th>noise {n:g}</th>" for _, n in cols) + "</tr>")
    by = {(r.suite, r.problem, r.method, r.noise): r for r in problems.itertuples()}
    out = ["<table>", head]
    for (suite, problem), g in problems.groupby(["suite", "problem"], sort=False):
        truth = g["truth"].iloc[0]
        cells = [f"<td class=l>{html.escape(str(problem))}</td>",
                 f"<td class=truth>{html.escape(str(truth))}</td>"]
        for m, n in cols:
            r = by.get((suite, problem, m, n))
            if r is None:
                cells.append("<td>–</td>")
                continue
            color = _cell_color(r.exact, r.accurate, r.runs)
            text = f"{r.exact}/{r.runs}"
            if not r.exact and r.accurate:
                text += f" <small>(R² {r.accurate}/{r.runs})</small>"
            cells.append(f'<td style="background:{color}" title="{html.escape(r.models)}">'
                         f"{text}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def _settings_html(manifest: Mapping[str, Any], df) -> str:
    proto = manifest.get("protocol", {})
    bits = []
    if proto:
        tl = proto.get("time_limit")
        bits.append(f"time limit {tl:g} s per fit" if tl else "no time limit")
        if proto.get("max_evals"):
            bits.append(f"at most {proto['max_evals']:,} evaluations")
        bits.append(f"{proto.get('threads', 1)} thread(s) per run")
        bits.append(f"rows: {proto.get('rows') or 'suite default'}")
        bits.append(f"SymPy check timeout {proto.get('check_timeout', 30):g} s")
    bits.append(f"seeds {', '.join(str(s) for s in sorted(df['seed'].unique()))}")
    bits.append(f"noise {', '.join(f'{n:g}' for n in sorted(df['noise'].unique()))}")
    machine = manifest.get("machine", {})
    if machine:
        bits.append(f"{machine.get('cpus', '?')} CPUs, Python {machine.get('python', '?')}, "
                    f"eurisko {manifest.get('eurisko_version', '?')}")
    text = " · ".join(html.escape(b) for b in bits)
    for name, why in (manifest.get("skipped_methods") or {}).items():
        text += f"<br><span class=skip>skipped {html.escape(name)}: {html.escape(why)}</span>"
    evals = {m: info.get("evaluations") for m, info in (manifest.get("methods") or {}).items()}
    if evals:
        text += "<br>evaluations counted as: " + "; ".join(
            f"{html.escape(m)}: {html.escape(str(e))}" for m, e in evals.items())
    return text


_PROTOCOL_NOTE = (
    "Protocol (SRBench): 75/25 train/test split (classic problems: their own train and test "
    "specs); Gaussian noise of standard deviation level × RMS(y_train) on the training target "
    "only. <b>Exact recovery</b>: the selected formula, constants rounded to 3 decimals or 4 "
    "significant digits, differs from the law by a constant or is a non-zero constant multiple "
    "of it (SymPy; a model of 0 never counts; a check past its time counts as not recovered). "
    "<b>Accuracy solution</b>: R² on the noise-free test set above 0.999. <b>Size</b>: nodes of "
    "the rounded, simplified model. Every method gets the same wall time and threads; their "
    "evaluation counts are not comparable one for one. Cells of the per-problem table: runs "
    "that recovered the law / runs (green), with the R² solutions when none did (blue); hover "
    "a cell for the formulas found.")


def bench_html(df, manifest: Mapping[str, Any], summary, problems,
               images: Mapping[str, bytes]) -> str:
    """The whole report page, images embedded."""
    suites = ", ".join(sorted(df["suite"].unique()))
    imgs = "".join(
        f'<img alt="{html.escape(name)}" src="data:image/png;base64,'
        f'{base64.b64encode(data).decode("ascii")}">' for name, data in images.items())
    errors = df[~df["ok"]]
    err_html = ""
    if len(errors):
        items = "".join(
            f"<li>{html.escape(str(r.problem))} · {html.escape(str(r.method))} · noise "
            f"{r.noise:g} · seed {r.seed}: {html.escape(str(r.error))}</li>"
            for r in errors.head(50).itertuples())
        more = f"<p>… and {len(errors) - 50} more</p>" if len(errors) > 50 else ""
        err_html = f"<h2>Failed runs ({len(errors)})</h2><ul class=note>{items}</ul>{more}"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>eurisko benchmark: {html.escape(suites)}</title>
<style>{_CSS}</style></head><body>
<h1>eurisko benchmark: {html.escape(suites)}</h1>
<div class=meta>{len(df)} runs of {df['problem'].nunique()} problems ·
{_settings_html(manifest, df)}</div>
<h2>Summary</h2>
{_summary_html(summary)}
<div class=plots>{imgs}</div>
<p class=note>{_PROTOCOL_NOTE}</p>
<h2>Which method found which law</h2>
{_problems_html(problems)}
{err_html}
</body></html>
"""


def write_bench_report(folder: str | os.PathLike,
                       out: str | os.PathLike | None = None) -> dict[str, Path]:
    """Write ``report.html``, the two PNGs and the two CSVs for a benchmark folder.

    Returns the paths written, by kind (``html``, ``recovery``, ``r2_size``, ``summary``,
    ``problems``).
    """
    df, manifest = load_bench(folder)
    out = Path(out) if out is not None else Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    summary = summary_table(df)
    problems = problem_table(df)
    images = {"recovery by noise": recovery_png(summary), "R² vs size": r2_size_png(df)}
    paths = {"html": out / "report.html", "recovery": out / "recovery.png",
             "r2_size": out / "r2_size.png", "summary": out / "summary.csv",
             "problems": out / "problems.csv"}
    atomic_write_bytes(paths["recovery"], images["recovery by noise"])
    atomic_write_bytes(paths["r2_size"], images["R² vs size"])
    atomic_write_bytes(paths["summary"], summary.to_csv(index=False).encode("utf-8"))
    atomic_write_bytes(paths["problems"],
                       problems.drop(columns=["models"]).to_csv(index=False).encode("utf-8"))
    page = bench_html(df, manifest, summary, problems, images)
    atomic_write_bytes(paths["html"], page.encode("utf-8"))
    return paths


def summary_rich_table(summary, title: str | None = None):
    """The summary as a rich ``Table`` for the terminal."""
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    has_suite = "suite" in summary
    if has_suite:
        table.add_column("suite")
    for col, just in (("method", "left"), ("noise", "right"), ("runs", "right"),
                      ("exact", "right"), (f"R²>{ACCURACY_R2}", "right"),
                      ("median size", "right"), ("median s", "right"),
                      ("median evals", "right"), ("errors", "right")):
        table.add_column(col, justify=just, no_wrap=True)
    for r in summary.itertuples():
        cells = ([str(r.suite)] if has_suite else []) + [
            str(r.method), f"{r.noise:g}", str(r.runs), f"{100 * r.recovery_rate:.1f}%",
            f"{100 * r.accuracy_rate:.1f}%", _plain(r.median_size, "{:.0f}"),
            _plain(r.median_seconds, "{:.1f}"), _plain(r.median_evals, "{:,.0f}"),
            str(r.errors)]
        table.add_row(*cells)
    return table


def _plain(v: float, fmt: str) -> str:
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else fmt.format(v)
