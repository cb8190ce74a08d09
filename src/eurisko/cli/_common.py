"""What the commands share: exit codes, `UsageError`, the parser with one-line errors, number
options, the console, the CSV table loader and the live view of a running search.

Nothing heavy is imported at module level (pandas, numpy and rich load inside the functions that
use them), so that ``eurisko --help`` starts quickly.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from rich.console import Console

EXIT_OK = 0
EXIT_FAILED = 1  # the work itself failed (e.g. a search that found no finite formula)
EXIT_USAGE = 2  # a problem with the input or the options
EXIT_INTERRUPTED = 130  # stopped by Ctrl-C; what was found is kept

PLAIN_PROGRESS_EVERY = 2.0  # seconds between plain progress lines


class UsageError(Exception):
    """A problem with the user's input or options: printed as one line, exit code 2."""


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors in the same style as the rest of the command."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"error: {message} (see `{self.prog} --help`)\n")


def number_option(kind: type[int] | type[float], name: str, minimum: float = 0.0,
                  strict: bool = True) -> Callable[[str], Any]:
    """An argparse ``type`` for a number option: ``kind`` (int or float) above ``minimum``
    (or at it, when not ``strict``), with a one-line message naming the option otherwise."""
    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            what = "an integer" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"{name} must be {what}, got {text!r}") from None
        if not (value > minimum or (not strict and value == minimum)):
            sign = ">" if strict else ">="
            raise argparse.ArgumentTypeError(f"{name} must be {sign} {minimum:g}, got {text!r}")
        return value
    return parse


def make_console() -> Console:
    """A rich console for a command's output: the terminal's width on a terminal; otherwise
    ``$COLUMNS`` characters (120 when unset), so that log files are not squeezed."""
    from rich.console import Console

    if sys.stdout.isatty():
        return Console(highlight=False)
    columns = os.environ.get("COLUMNS", "")
    return Console(highlight=False, width=int(columns) if columns.isdigit() else 120)


# --- reading a table -----------------------------------------------------------------------


@dataclass(frozen=True)
class Columns:
    """The columns a command reads from a CSV file, as its options and messages name them."""

    target: str  # the option naming the main column
    target_noun: str  # what that column is, in messages
    features: str  # the option listing the input columns (default: every other column)
    feature_noun: str  # what an input column is, in messages
    extra: str  # the option naming one more column, not an input
    extra_noun: str
    extra_numeric: bool  # that column holds numbers (row weights) or labels (any values)
    dropna: str | None  # the option that skips rows with missing values, if the command has one


FIT_COLUMNS = Columns("--target", "the column to predict", "--features", "feature",
                      "--weights", "the weights column", True, "--dropna")
ODE_COLUMNS = Columns("--time", "the time column", "--states", "state",
                      "--trajectory", "the trajectory column", False, None)


@dataclass
class Table:
    """The columns a command uses, checked: present, numeric and finite (labels: present)."""

    path: Path
    frame: pd.DataFrame  # the columns used, numbers as float64, rows numbered 0 .. n-1
    target: str
    features: list[str]
    extra: str | None = None
    n_dropped: int = 0  # rows skipped for missing values (--dropna)
    more_targets: list[str] = field(default_factory=list)  # fit's second, third... --target

    @property
    def targets(self) -> list[str]:
        """Every column to predict: the target, then the other ones (``fit --target`` again)."""
        return [self.target, *self.more_targets]

    @cached_property
    def X(self) -> pd.DataFrame:
        """The input columns (their names become variable names)."""
        return self.frame[self.features]

    @cached_property
    def y(self) -> np.ndarray:
        """The target (fit) or time (ode) column."""
        return self.frame[self.target].to_numpy(dtype="float64")

    @cached_property
    def w(self) -> np.ndarray | None:
        """The row weights (fit's --weights), or None."""
        return None if self.extra is None else self.frame[self.extra].to_numpy(dtype="float64")


def columns_hint(columns: list[str]) -> str:
    """The column names for a message, at most 30 of them."""
    shown = ", ".join(columns[:30])
    return shown + (f", ... ({len(columns)} in all)" if len(columns) > 30 else "")


def read_csv(path: str | os.PathLike) -> pd.DataFrame:
    """The CSV file as a DataFrame with str column names; `UsageError` saying what is wrong
    with the file otherwise (missing, a directory, empty, not CSV, not UTF-8)."""
    import pandas as pd

    p = Path(path)
    if not p.exists():
        raise UsageError(f"data file {str(path)!r} not found (working directory: {os.getcwd()})")
    if p.is_dir():
        raise UsageError(f"{str(path)!r} is a directory; give the path of a CSV file")
    try:
        df = pd.read_csv(p)
    except pd.errors.EmptyDataError:
        raise UsageError(f"{str(path)!r} is empty; it needs a header line and rows of "
                         "numbers") from None
    except pd.errors.ParserError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "unreadable"
        raise UsageError(f"could not read {str(path)!r} as CSV ({first}); check the separators "
                         "and quoting") from None
    except UnicodeDecodeError:
        raise UsageError(f"{str(path)!r} is not UTF-8 text; save it as a UTF-8 CSV file") from None
    df.columns = [str(c) for c in df.columns]
    return df


def load_table(path: str | os.PathLike, target: str | None,
               features: Sequence[str] | None = None, extra: str | None = None, *,
               dropna: bool = False, columns: Columns = FIT_COLUMNS,
               more_targets: Sequence[str] = ()) -> Table:
    """Read a CSV file and pick out the target (or time), input and extra columns.

    ``columns`` says how the command names them (`FIT_COLUMNS`: --target, --features and
    --weights; `ODE_COLUMNS`: --time, --states and --trajectory). Raises `UsageError` with a
    one-line message on any problem; rows with missing or infinite numbers are an error unless
    ``dropna`` skips them. ``more_targets``: further columns to predict (``fit``'s repeated
    ``--target``), checked like the target and left out of the default inputs.
    """
    import numpy as np

    c = columns
    p = Path(path)
    df = read_csv(p)
    names = list(df.columns)
    where = f"in {p.name}"

    if target is None:
        raise UsageError(f"name {c.target_noun} with {c.target}; the columns {where} are: "
                         f"{columns_hint(names)}")
    more_targets = list(more_targets)
    twice = [n for i, n in enumerate([target, *more_targets]) if n in [target, *more_targets][:i]]
    if twice:
        raise UsageError(f"column {twice[0]!r} is named twice with {c.target}")
    for name, option in ([(target, c.target)] + [(n, c.target) for n in more_targets]
                         + ([(extra, c.extra)] if extra is not None else [])):
        if name not in names:
            raise UsageError(f"no column {name!r} {where} ({option}); the columns are: "
                             f"{columns_hint(names)}")
    if extra is not None and extra in (target, *more_targets):
        raise UsageError(f"{c.extra_noun} {extra!r} is also {c.target_noun}; name another column "
                         f"with {c.extra}")
    chosen = features is not None
    if features is None:
        features = [n for n in names if n not in (target, extra, *more_targets)]
    else:
        features = list(features)
        missing = [n for n in features if n not in names]
        if missing:
            raise UsageError(f"no column(s) {', '.join(map(repr, missing))} {where} "
                             f"({c.features}); the columns are: {columns_hint(names)}")
        for name, noun in ([(target, c.target_noun), (extra, c.extra_noun)]
                           + [(n, c.target_noun) for n in more_targets]):
            if name is not None and name in features:
                raise UsageError(f"{noun} {name!r} is also listed in {c.features}; leave it out "
                                 f"of {c.features}")
        twice = [n for i, n in enumerate(features) if n in features[:i]]
        if twice:
            raise UsageError(f"column {twice[0]!r} is listed twice in {c.features}")
    if not features:
        raise UsageError(f"no {c.feature_noun} columns left {where} besides {c.target_noun}; "
                         "the file needs at least one input column")
    if len(df) == 0:
        raise UsageError(f"{str(path)!r} has a header but no rows of data")

    numeric = list(dict.fromkeys(features + [target] + more_targets
                                 + ([extra] if extra and c.extra_numeric else [])))
    _check_numeric(df, numeric, features if not chosen else None, where, c)
    if extra is not None and not c.extra_numeric and df[extra].isna().any():
        unlabelled = df[extra].isna().to_numpy()
        raise UsageError(f"{int(unlabelled.sum())} row(s) {where} have no label in "
                         f"{c.extra_noun} {extra!r} (first: data row "
                         f"{int(np.flatnonzero(unlabelled)[0]) + 1}); fill them in")

    values = df[numeric].to_numpy(dtype=np.float64)
    bad_rows = ~np.isfinite(values).all(axis=1)
    n_dropped = 0
    if bad_rows.any():
        if not dropna:
            cols = [numeric[j] for j in np.flatnonzero((~np.isfinite(values)).any(axis=0))]
            first = int(np.flatnonzero(bad_rows)[0]) + 1
            skip = f", or pass {c.dropna} to skip those rows" if c.dropna else ""
            raise UsageError(
                f"{int(bad_rows.sum())} row(s) {where} have missing (NaN) or infinite values in "
                f"column(s) {', '.join(map(repr, cols))} (first: data row {first}); fill or "
                f"remove them{skip}")
        n_dropped = int(bad_rows.sum())
        df = df.loc[~bad_rows]
        if len(df) < 2:
            raise UsageError(f"only {len(df)} row(s) {where} remain after dropping the rows "
                             "with missing values; a fit needs at least 2")
    used = list(dict.fromkeys(numeric + ([extra] if extra else [])))
    frame = df[used].astype({n: np.float64 for n in numeric}).reset_index(drop=True)
    return Table(p, frame, target, features, extra, n_dropped, more_targets)


def _check_numeric(df: pd.DataFrame, used: list[str], defaulted: list[str] | None, where: str,
                   c: Columns) -> None:
    """Booleans become 0/1 (in place); any other column that is not numeric is a `UsageError`
    that names an offending value and its row. ``defaulted``: the inputs, when the user did not
    name them (then the advice shows how to leave the bad ones out)."""
    import numpy as np
    import pandas as pd

    bad = []
    for name in used:
        col = df[name]
        if pd.api.types.is_bool_dtype(col):
            df[name] = col.astype(np.float64)
        elif not pd.api.types.is_numeric_dtype(col):
            numbers = pd.to_numeric(col, errors="coerce")
            wrong = numbers.isna() & col.notna()
            first = int(np.flatnonzero(wrong.to_numpy())[0]) if wrong.any() else 0
            bad.append((name, col.iloc[first], first + 1))
    if not bad:
        return
    names = ", ".join(repr(n) for n, _, _ in bad)
    name, value, row = bad[0]
    advice = "convert them to numbers"
    bad_inputs = [b for b, _, _ in bad if defaulted is not None and b in defaulted]
    keep = " ".join(f for f in defaulted or [] if f not in bad_inputs)
    if bad_inputs and keep:
        advice += f" or leave them out by naming the {c.feature_noun} columns: {c.features} {keep}"
    raise UsageError(f"column(s) {names} {where} are not numeric (e.g. {str(value)!r} in "
                     f"column {name!r}, data row {row}); {advice}")


# --- the live view of a search -------------------------------------------------------------


def _fmt_count(n: float) -> str:
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= div:
            return f"{n / div:.3g}{suffix}"
    return f"{n:.0f}"


class ProgressView:
    """Shows `SearchProgress` reports: a rich live panel on a terminal, plain lines otherwise.

    Plain lines start with ``progress:``; the first is printed as soon as the first report
    arrives, later ones at most every ``PLAIN_PROGRESS_EVERY`` seconds.
    """

    def __init__(self, console: Console, time_limit: float | None,
                 live: bool | None = None) -> None:
        self.console = console
        self.time_limit = time_limit
        self.live_mode = console.is_terminal if live is None else live
        self._live: Any = None
        self._last_plain = -math.inf
        self.started = time.monotonic()
        self.first_report: float | None = None
        self.latest: Any = None

    def __enter__(self) -> ProgressView:
        if self.live_mode:
            from rich.live import Live

            self._live = Live(self._render(None), console=self.console, refresh_per_second=4,
                              transient=True, redirect_stdout=False, redirect_stderr=False)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(*exc)
            self._live = None

    def __call__(self, p: Any) -> None:
        self.latest = p
        now = time.monotonic()
        if self.first_report is None:
            self.first_report = now - self.started
        if self._live is not None:
            self._live.update(self._render(p))
        elif (not p.done or self._last_plain == -math.inf) and \
                now - self._last_plain >= PLAIN_PROGRESS_EVERY:
            self._last_plain = now
            print(self.plain_line(p), flush=True)

    @staticmethod
    def plain_line(p: Any) -> str:
        """One ``progress:`` line for a report (used when the output is not a terminal)."""
        best = p.front[-1][2] if p.front else "-"
        return (f"progress: {p.elapsed:6.1f}s  evals {p.n_evals:>9d}  "
                f"{p.evals_per_second:>9.0f}/s  best loss {p.best_loss:.4g}  "
                f"front {len(p.front)}  best: {best}")

    def _render(self, p: Any) -> Any:
        from rich.console import Group
        from rich.text import Text

        from eurisko.report.front import front_table

        if p is None:
            return Text("starting the search (loading the compiled kernels, starting workers)"
                        "...  Ctrl-C stops and keeps results", style="dim")
        limit = f" / {self.time_limit:.0f} s" if self.time_limit else " s"
        status = Text.assemble(
            ("elapsed ", "dim"), f"{p.elapsed:.1f}{limit}",
            ("   evals ", "dim"), _fmt_count(p.n_evals),
            (" (", "dim"), f"{_fmt_count(p.evals_per_second)}/s", (")", "dim"),
            ("   best loss ", "dim"), (f"{p.best_loss:.4g}", "bold"),
            ("   Ctrl-C stops and keeps results", "dim"),
        )
        height = self.console.size.height
        table = front_table(p.front, title="current Pareto front", max_rows=max(3, height - 8))
        return Group(status, table)
