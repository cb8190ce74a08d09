"""The Feynman Symbolic Regression Database as benchmark problems: formula, ranges, sampled data.

The definitions are PMLB's metadata files (EpistasisLab/pmlb, ``datasets/feynman_*/metadata.yaml``,
MIT licence), which restate the AI Feynman database (Udrescu & Tegmark 2019, arXiv:1905.11481).
They are read from a folder of YAML files: ``$EURISKO_FEYNMAN_DIR`` if set, else the copy
shipped in the package (``eurisko/bench/data/feynman``), else the first
``shared/benchmarks/feynman`` found above this file or the working directory.

The formula and the sampling ranges live in each file's free-text ``description``
(``f = exp(-theta**2/2)/sqrt(2*pi)``, ``theta in [1.0,3.0]``). Formulas are parsed by SymPy's
parser with a whitelist namespace (the variables and a few math names, no builtins), never
evaluated as Python. A problem makes one benchmark run's data with `FeynmanProblem.split` (the
SRBench protocol of `eurisko.bench.problem`); `FeynmanProblem.sample` draws plain rows.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from tokenize import TokenError
from typing import ClassVar

import numpy as np
import sympy as sp
from sympy.parsing.sympy_parser import auto_number, convert_xor, parse_expr

from eurisko.bench.problem import NOISE_HINT, Problem, finite_rows
from eurisko.validation import check_instance, check_int, check_number

ENV_VAR = "EURISKO_FEYNMAN_DIR"

# Names a formula may use besides its variables. PMLB writes arcsin/ln; Operon writes square.
FUNCTIONS: dict[str, object] = {
    "exp": sp.exp, "sqrt": sp.sqrt, "sin": sp.sin, "cos": sp.cos, "tan": sp.tan,
    "tanh": sp.tanh, "asin": sp.asin, "arcsin": sp.asin, "acos": sp.acos, "arccos": sp.acos,
    "atan": sp.atan, "arctan": sp.atan, "log": sp.log, "ln": sp.log, "pi": sp.pi, "E": sp.E,
}

_FORMULA_LINE = re.compile(r"^\s*([A-Za-z_]\w*)\s*=\s*(\S.*?)\s*$")
_RANGE_LINE = re.compile(
    r"^\s*([A-Za-z_]\w*)\s+in\s+\[\s*([-+0-9.eE]+)\s*,\s*([-+0-9.eE]+)\s*\]\s*$")


def feynman_dir(directory: str | os.PathLike | None = None) -> Path:
    """The folder of ``feynman_*.yaml`` files: argument, env var, the copy shipped in the
    package (``eurisko/bench/data/feynman``), then a ``shared/benchmarks/feynman`` above."""
    if directory is None and os.environ.get(ENV_VAR):
        directory = os.environ[ENV_VAR]
    if directory is not None:
        path = Path(directory)
        if not path.is_dir():
            raise FileNotFoundError(f"Feynman problem folder {path} does not exist")
        return path
    packaged = Path(__file__).resolve().parent / "data" / "feynman"
    if packaged.is_dir() and any(packaged.glob("feynman_*.yaml")):
        return packaged
    starts = [Path(__file__).resolve(), Path.cwd().resolve()]
    for start in starts:
        for parent in start.parents if start.is_file() else [start, *start.parents]:
            for candidate in (parent / "shared" / "benchmarks" / "feynman",
                              parent / "benchmarks" / "feynman"):
                if candidate.is_dir() and any(candidate.glob("feynman_*.yaml")):
                    return candidate
    raise FileNotFoundError(
        "could not find the Feynman problem definitions (a folder of feynman_*.yaml files); "
        f"set {ENV_VAR}=/path/to/benchmarks/feynman")


def parse_formula(text: str, variables: Iterable[str], *, rational: bool = False,
                  assumptions: Mapping[str, bool] | None = None,
                  functions: Mapping[str, object] | None = None) -> sp.Expr:
    """Parse a formula that may use only ``variables`` and the names in ``FUNCTIONS``.

    ``^`` means power (Operon prints it). ``rational=True`` turns decimal literals into exact
    rationals (for true laws); the variables are real Symbols unless ``assumptions`` says more.
    ``functions`` whitelists more names (SymPy callables), e.g. ``{"pow": sympy.Pow}`` for the
    DSO benchmark files.
    """
    check_instance(text, "formula", str, expected="a string")
    assumptions = {"real": True} if assumptions is None else dict(assumptions)
    local = {}
    for v in variables:
        if not re.fullmatch(r"[A-Za-z_]\w*", v) or v in ("lambda", "import", "def", "class"):
            raise ValueError(f"variable name {v!r} is not an identifier the parser accepts")
        local[v] = sp.Symbol(v, **assumptions)
    names = {**FUNCTIONS, **(functions or {})}
    namespace = {"__builtins__": {}, "Integer": sp.Integer, "Float": sp.Float,
                 "Rational": sp.Rational, **names}
    try:
        expr = parse_expr(text, local_dict=local, global_dict=namespace,
                          transformations=(auto_number, convert_xor), evaluate=True)
    except NameError as e:
        raise ValueError(f"formula {text!r} uses a name that is neither a variable "
                         f"({', '.join(local) or 'none'}) nor one of {', '.join(names)}: "
                         f"{e}") from None
    except (SyntaxError, TypeError, TokenError) as e:
        raise ValueError(f"could not parse formula {text!r}: {e}") from None
    if not isinstance(expr, sp.Expr):
        raise ValueError(f"formula {text!r} is not an expression")
    if rational and expr.atoms(sp.Float):
        expr = expr.xreplace({f: sp.Rational(str(f)) for f in expr.atoms(sp.Float)})
    return expr


@dataclass(frozen=True)
class FeynmanProblem(Problem):
    """One Feynman equation: ``target = formula(variables)``, each variable uniform in a range.

    `split` (from `Problem`) draws 1000 rows by default, 750 to train and 250 to test.
    """

    suite: ClassVar[str] = "feynman"
    default_rows: ClassVar[int] = 1000

    name: str  # "I.6.2a"
    dataset: str  # "feynman_I_6_2a"
    target: str
    formula: sp.Expr
    variables: tuple[str, ...]  # column order, as in PMLB
    ranges: dict[str, tuple[float, float]] = field(compare=False)
    path: Path | None = field(default=None, compare=False)
    # PMLB's unit descriptions ("Velocity, m^1 * s^(-1)") of the variables and the target
    unit_texts: dict[str, str] = field(default_factory=dict, compare=False)
    target_unit_text: str | None = field(default=None, compare=False)

    def units(self) -> tuple[dict[str, str], str] | None:
        """``(X_units, y_units)`` as SI unit strings for `SymbolicRegressor.fit`, or None
        when the metadata give no units."""
        if self.target_unit_text is None or set(self.unit_texts) != set(self.variables):
            return None
        from eurisko.physics import pmlb_unit

        return ({v: pmlb_unit(self.unit_texts[v]).si for v in self.variables},
                pmlb_unit(self.target_unit_text).si)

    @property
    def family(self) -> str:
        """The volume of the Feynman lectures: ``I``, ``II`` or ``III``."""
        return self.name.split(".")[0]

    def _rows(self, n: int | None, rng: np.random.Generator):
        import pandas as pd

        n = self.default_rows if n is None else int(n)
        X = pd.DataFrame({v: rng.uniform(*self.ranges[v], n) for v in self.variables})
        return finite_rows(X, self.evaluate(X))

    def sample(self, n: int, seed: int | None = None, noise: float = 0.0):
        """``n`` rows uniform in the ranges: ``(X DataFrame, y ndarray)``.

        ``noise`` adds Gaussian noise of standard deviation ``noise * RMS(y)`` to y, as SRBench
        does to training targets.
        """
        import pandas as pd

        n = check_int(n, "n", low=1, what="rows")
        noise = check_number(noise, "noise", low=0, hint=NOISE_HINT)
        rng = np.random.default_rng(check_int(seed, "seed", low=0, none_ok=True))
        X = pd.DataFrame({v: rng.uniform(*self.ranges[v], n) for v in self.variables})
        y = self.evaluate(X)
        if noise > 0:
            y = y + rng.normal(0.0, noise * float(np.sqrt(np.mean(y**2))), y.shape)
        return X, y


def problem_name(dataset: str) -> str:
    """``feynman_I_6_2a`` -> ``I.6.2a``."""
    return dataset.removeprefix("feynman_").replace("_", ".")


def _dataset_name(name: str) -> str:
    """``I.6.2a``, ``I_6_2a`` or ``feynman_I_6_2a`` -> ``feynman_I_6_2a``."""
    name = name.strip()
    if name.endswith(".yaml"):
        name = name[:-5]
    return "feynman_" + name.removeprefix("feynman_").replace(".", "_")


def read_pmlb_metadata(path: str | os.PathLike) -> tuple[dict, str]:
    """A PMLB ``metadata.yaml`` (Feynman and Strogatz alike): the mapping and its dataset name."""
    import yaml

    path = Path(path)
    with open(path, encoding="utf-8") as fh:
        meta = yaml.safe_load(fh)
    if not isinstance(meta, dict) or "description" not in meta:
        raise ValueError(f"{path} is not a PMLB metadata file (no description)")
    return meta, str(meta.get("dataset") or path.stem)


def read_problem(path: str | os.PathLike) -> FeynmanProblem:
    """Parse one PMLB metadata YAML file."""
    path = Path(path)
    meta, dataset = read_pmlb_metadata(path)
    features = [str(f["name"]) for f in meta.get("features") or []]
    formula_line, ranges = None, {}
    for line in str(meta["description"]).splitlines():
        if (m := _RANGE_LINE.match(line)):
            ranges[m.group(1)] = (float(m.group(2)), float(m.group(3)))
        elif formula_line is None and (m := _FORMULA_LINE.match(line)):
            formula_line = (m.group(1), m.group(2))
    if formula_line is None:
        raise ValueError(f"{path}: no 'target = formula' line in the description")
    variables = tuple(features) or tuple(ranges)
    missing = [v for v in variables if v not in ranges]
    if missing:
        raise ValueError(f"{path}: no sampling range for {missing}")
    formula = parse_formula(formula_line[1], variables, rational=True)
    units = {str(f["name"]): str(f["description"]) for f in meta.get("features") or []
             if f.get("description")}
    target = meta.get("target") or {}
    return FeynmanProblem(name=problem_name(dataset), dataset=dataset, target=formula_line[0],
                          formula=formula, variables=variables, ranges=ranges, path=path,
                          unit_texts=units,
                          target_unit_text=(str(target["description"])
                                            if isinstance(target, dict)
                                            and target.get("description") else None))


def load_problem(name: str, directory: str | os.PathLike | None = None) -> FeynmanProblem:
    """One problem by name: ``"I.6.2a"`` (also ``I_6_2a``, ``feynman_I_6_2a``)."""
    folder = feynman_dir(directory)
    path = folder / f"{_dataset_name(name)}.yaml"
    if not path.is_file():
        known = sorted(problem_name(p.stem) for p in folder.glob("feynman_*.yaml"))
        raise ValueError(f"no Feynman problem {name!r} in {folder}; known: {', '.join(known)}")
    return read_problem(path)


def load_problems(names: Sequence[str] | None = None,
                  directory: str | os.PathLike | None = None) -> list[FeynmanProblem]:
    """The named problems in that order, or all of them sorted by name."""
    if names is not None:
        return [load_problem(n, directory) for n in names]
    folder = feynman_dir(directory)
    return [read_problem(p) for p in sorted(folder.glob("feynman_*.yaml"))]
