"""Small built-in data sets for demos, docs and tests.

``kepler.csv``: the eight planets and five dwarf planets of the Solar System, with semi-major
axis (AU), sidereal orbital period (years) and, as a distractor, mass (Earth masses). Sources:
JPL approximate planetary elements (J2000), the NASA Planetary Fact Sheet and the JPL Small-Body
Database; see ``README.md`` next to this file.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas is imported when a table is loaded, not with this module
    import pandas as pd

__all__ = ["data_path", "load_kepler", "DATASETS"]

DATASETS = ("kepler",)


def data_path(name: str) -> Path:
    """Path of a built-in data file, e.g. ``data_path("kepler")`` -> ``.../kepler.csv``."""
    if name not in DATASETS:
        raise ValueError(f"no built-in data set {name!r}; choose one of {list(DATASETS)}")
    ref = resources.files(__name__).joinpath(f"{name}.csv")
    return Path(str(ref))


def load_kepler() -> pd.DataFrame:
    """Kepler's third law data: one row per body.

    Columns: ``body`` (name), ``semi_major_axis_au``, ``period_years``, ``mass_earths``.
    ``period_years ** 2`` is proportional to ``semi_major_axis_au ** 3``; mass plays no part.

    Examples
    --------
    >>> from eurisko.data import load_kepler
    >>> df = load_kepler()
    >>> list(df.columns)
    ['body', 'semi_major_axis_au', 'period_years', 'mass_earths']
    """
    import pandas as pd

    with resources.files(__name__).joinpath("kepler.csv").open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh)
