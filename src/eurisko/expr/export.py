"""Formulas for use without eurisko: numpy functions, C code, PyTorch modules, JAX functions,
LaTeX tables.

Every export is written from the program itself, one statement per operator node, from the
code each registry entry gives for the target (`Operator.exports`), so an export computes what
`eurisko.evaluate.reference` (and `SymbolicRegressor.predict`) computes, operation by
operation, in double precision. SymPy is not involved at call time, and never rewrites the
formula on the way.

Columns: a program reads columns by index; ``names`` names them (default x0, x1, ...).
Columns named in ``fixed`` (physical constants, say) are bound to their values; the others are
the inputs, in order: ``X[:, j]`` is the ``j``-th name not in ``fixed``.

torch and jax are optional (``pip install eurisko[torch]``, ``eurisko[jax]``) and imported
only by `to_pytorch` and `to_jax`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from eurisko.expr.operators import CONST, VAR, Operator, operator_of
from eurisko.expr.program import Program
from eurisko.expr.tree import variable_names

if TYPE_CHECKING:
    import torch

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ARGS = re.compile(r"\b[ab]\b")


# ----------------------------------------------------------------------------------------------
# checks and the shared lowering


def _columns(program: Program, names: Sequence[str] | None,
             fixed: Mapping[str, float] | None) -> tuple[list[str], list[str], dict[str, float]]:
    """All column names, the input names (in order) and the fixed values, checked."""
    if not isinstance(program, Program):
        raise TypeError(f"expected a Program, got {type(program).__name__}")
    program.validate()
    if names is not None and isinstance(names, str):
        raise TypeError("names must be a list of column names, e.g. ['a', 'b'], not a str")
    names = variable_names(program, names)
    for n in names:
        if not _IDENT.match(n):
            raise ValueError(f"column name {n!r} is not an identifier (letters, digits, _); "
                             "name columns as SymbolicRegressor does (eurisko.expr.parser."
                             "identifiers)")
    fixed = {} if fixed is None else dict(fixed)
    for k, v in fixed.items():
        if k not in names:
            raise ValueError(f"fixed names {k!r}, which is not a column ({', '.join(names)})")
        if isinstance(v, bool) or not isinstance(v, int | float | np.floating | np.integer):
            raise TypeError(f"the fixed value of {k!r} must be a number, got {v!r}")
    inputs = [n for n in names if n not in fixed]
    return names, inputs, {k: float(v) for k, v in fixed.items()}


def _code(op: Operator, target: str) -> str | None:
    """``op`` as an expression of ``a`` (and ``b``) in ``target``, or None if unknown."""
    code = op.export_code(target)
    if code is not None:
        return code
    args = ", ".join("ab"[: op.arity])
    if target == "numpy" and isinstance(op.numpy, np.ufunc) \
            and getattr(np, op.numpy.__name__, None) is op.numpy:
        return f"np.{op.numpy.__name__}({args})"
    if target == "c":  # a custom operator: C code from its SymPy function
        import sympy as sp

        try:
            a, b = sp.symbols("a b", real=True)
            text = sp.ccode(op.sympy(*(a, b)[: op.arity]))
        except Exception:  # noqa: BLE001 - SymPy raises many kinds for what it cannot print
            return None
        return None if "Not supported" in text else text
    return None


def _missing(op: Operator, target: str) -> ValueError:
    return ValueError(
        f"operator {op.name!r} has no {target} code; register it with "
        f"register_operator(..., exports={{{target!r}: '...'}}, replace=True)"
    )


def _substitute(code: str, operands: Sequence[str]) -> str:
    table = dict(zip("ab", operands, strict=False))
    return _ARGS.sub(lambda m: table[m.group(0)], code)


def _lower(program: Program, names: list[str], inputs: list[str], fixed: dict[str, float],
           target: str, leaf: Callable[[str, int | float], str],
           bind: Callable[[Operator], str] | None = None) -> tuple[list[tuple[str, str]], str]:
    """One ``(temp, expression)`` per operator node, and the operand that is the output.

    ``leaf(kind, x)`` writes a leaf: ``("x", j)`` input column j, ``("c", k)`` constant k,
    ``("k", value)`` a fixed value. ``bind(op)`` names a function for an operator that has no
    code in ``target`` (in-process exports only).
    """
    stmts: list[tuple[str, str]] = []
    stack: list[str] = []
    for code, arg in zip(program.codes.tolist(), program.args.tolist(), strict=True):
        if code == VAR:
            name = names[arg]
            stack.append(leaf("k", fixed[name]) if name in fixed
                         else leaf("x", inputs.index(name)))
        elif code == CONST:
            stack.append(leaf("c", arg))
        else:
            op = operator_of(code)
            text = _code(op, target)
            if text is None:
                if bind is None:
                    raise _missing(op, target)
                text = f"{bind(op)}({', '.join('ab'[: op.arity])})"
            operands = stack[len(stack) - op.arity:]
            del stack[len(stack) - op.arity:]
            temp = f"t{len(stmts)}"
            stmts.append((temp, _substitute(text, operands)))
            stack.append(temp)
    return stmts, stack[0]


def _formula_text(program: Program, names: list[str]) -> str:
    from eurisko.expr.printing import to_string

    return to_string(program, names)


def _py_float(v: float) -> str:
    return repr(float(v)) if math.isfinite(v) else f"float({str(float(v))!r})"


# ----------------------------------------------------------------------------------------------
# numpy


class NumpyFormula:
    """A formula as a plain numpy function of a table: ``f(X) -> y``.

    ``X`` is 2-D with one column per input (an ndarray, a DataFrame, nested lists); the result
    is a float64 array with one value per row. ``source`` is the text of a standalone Python
    module defining the same function (numpy, and scipy for erf or gamma), what
    ``eurisko fit`` writes to ``formula.py``.
    """

    def __init__(self, fn: Callable[[np.ndarray], np.ndarray], source: str,
                 inputs: list[str], feature_names: Sequence[str] | None, formula: str):
        self._fn = fn
        self.source = source
        self.inputs = list(inputs)
        self.feature_names = None if feature_names is None else [str(c) for c in feature_names]
        self.formula = formula

    def __call__(self, X: Any) -> np.ndarray:
        cols = getattr(X, "columns", None)
        if cols is not None and self.feature_names is not None \
                and [str(c) for c in cols] != self.feature_names:
            raise ValueError(f"X has the columns {[str(c) for c in cols]}, the formula was "
                             f"fitted on {self.feature_names}; pass those, in that order")
        return self._fn(X)

    def __repr__(self) -> str:
        return f"NumpyFormula(y = {self.formula}; inputs: {', '.join(self.inputs) or 'none'})"


def numpy_source(program: Program, names: Sequence[str] | None = None, *,
                 fixed: Mapping[str, float] | None = None, function_name: str = "f") -> str:
    """The text of a standalone Python module defining ``function_name(X) -> y`` with numpy.

    Every operator needs numpy code (built-ins have it); the module imports only numpy, and
    scipy.special where the formula holds erf or gamma.
    """
    return _numpy_parts(program, names, fixed, function_name, bind=None)[0]


def _numpy_parts(program, names, fixed, function_name, bind):
    if not isinstance(function_name, str) or not _IDENT.match(function_name):
        raise ValueError(f"function_name must be a Python identifier, got {function_name!r}")
    names, inputs, fixed = _columns(program, names, fixed)
    stmts, out = _lower(program, names, inputs, fixed, "numpy",
                        lambda kind, x: {"x": f"X[:, {x}]", "c": f"_C[{x}]",
                                         "k": f"np.float64({_py_float(x)})"}[kind], bind)
    formula = _formula_text(program, names)
    body = "\n".join(f"        {t} = {e}" for t, e in stmts)
    uses_scipy = any("scipy." in e for _, e in stmts)
    n = len(inputs)
    consts = ", ".join(_py_float(v) for v in program.consts.tolist())
    src = f'''"""y = {formula}

Written by eurisko from its formula; needs numpy{' and scipy' if uses_scipy else ''} only.
Inputs, the columns of X in order: {', '.join(inputs) or 'none'}.{_fixed_note(fixed)}
"""

import numpy as np
{'import scipy.special' + chr(10) if uses_scipy else ''}
_C = np.array([{consts}], dtype=np.float64)


def {function_name}(X):
    """y = {formula} for every row of X ({n} column(s): {', '.join(inputs) or 'none'})."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != {n}:
        raise ValueError(f"X must be a 2-D table with {n} column(s) "
                         f"({', '.join(inputs) or 'none'}), got shape {{X.shape}}")
    with np.errstate(all="ignore"):
{body or '        pass'}
        y = {out}
    return np.array(np.broadcast_to(y, (X.shape[0],)), dtype=np.float64)
'''
    return src, inputs, formula


def _fixed_note(fixed: dict[str, float]) -> str:
    if not fixed:
        return ""
    return "\nFixed values: " + ", ".join(f"{k} = {v!r}" for k, v in fixed.items()) + "."


def to_numpy(program: Program, names: Sequence[str] | None = None, *,
             fixed: Mapping[str, float] | None = None,
             feature_names: Sequence[str] | None = None) -> NumpyFormula:
    """The formula as a `NumpyFormula`: a plain callable ``f(X) -> y`` (no SymPy, no eurisko
    evaluator at call time). ``feature_names``: the DataFrame columns ``X`` must have, if
    it is a DataFrame (as ``predict`` checks them).

    >>> from eurisko.expr import parse
    >>> f = to_numpy(parse("2*a + sin(b)", ["a", "b"]), ["a", "b"])
    >>> f([[1.0, 0.0], [2.0, 0.0]]).tolist()
    [2.0, 4.0]
    """
    bound: dict[str, Callable] = {}

    def bind(op: Operator) -> str:  # custom operators without numpy code: their function
        key = f"_op_{op.name}"
        bound[key] = op.numpy
        return key

    src, inputs, formula = _numpy_parts(program, names, fixed, "f", bind)
    namespace: dict[str, Any] = {"__name__": "eurisko_export", **bound}
    # the text is written here from registry code and numbers; names are identifiers only
    exec(compile(src, "<eurisko numpy export>", "exec"), namespace)  # noqa: S102
    return NumpyFormula(namespace["f"], src, inputs, feature_names, formula)


# ----------------------------------------------------------------------------------------------
# C


def _c_float(v: float) -> str:
    if math.isnan(v):
        return "NAN"
    if math.isinf(v):
        return "INFINITY" if v > 0 else "(-INFINITY)"
    text = repr(float(v))
    return f"({text})" if text.startswith("-") else text


def to_c(program: Program, names: Sequence[str] | None = None, *,
         fixed: Mapping[str, float] | None = None, function_name: str = "f") -> str:
    """C99 source of the formula: ``double f(const double *x)`` on one row, and
    ``void f_rows(const double *X, long n, double *y)`` on ``n`` rows of a row-major table.

    Needs only ``<math.h>`` (link with ``-lm``). Constants are written with 17 significant
    digits, so the C function computes what the program does, operation by operation.
    """
    if not isinstance(function_name, str) or not _IDENT.match(function_name):
        raise ValueError(f"function_name must be a C identifier, got {function_name!r}")
    names, inputs, fixed = _columns(program, names, fixed)
    consts = program.consts.tolist()

    def leaf(kind: str, x: int | float) -> str:
        if kind == "x":
            return f"x[{x}]"
        return _c_float(consts[int(x)] if kind == "c" else x)

    stmts, out = _lower(program, names, inputs, fixed, "c", leaf)
    formula = _formula_text(program, names)
    n = len(inputs)
    cols = "\n".join(f" *   x[{j}] = {name}" for j, name in enumerate(inputs)) or " *   (none)"
    fixed_lines = "".join(f"\n *   {k} = {v!r} (fixed)" for k, v in fixed.items())
    body = "\n".join(f"    const double {t} = {e};" for t, e in stmts)
    return f"""/*
 * y = {formula}
 *
 * Written by eurisko from its formula. Inputs, one row:
{cols}{fixed_lines}
 * Build: cc -O2 -c {function_name}.c  (link with -lm)
 */
#include <math.h>

double {function_name}(const double *x)
{{
    (void)x;
{body}
    return {out};
}}

/* {function_name} on n rows of a row-major table X (n x {n}), into y */
void {function_name}_rows(const double *X, long n, double *y)
{{
    for (long i = 0; i < n; i++)
        y[i] = {function_name}(X + i * {n});
}}
"""


# ----------------------------------------------------------------------------------------------
# PyTorch and JAX


def _py_parts(program, names, fixed, target):
    names, inputs, fixed = _columns(program, names, fixed)
    kidx: dict[float, int] = {}

    def leaf(kind, x):
        if kind == "x":
            return f"X[:, {x}]"
        if kind == "c":
            return f"c[{x}]"
        kidx.setdefault(x, len(kidx))
        return f"k[{kidx[x]}]"

    stmts, out = _lower(program, names, inputs, fixed, target, leaf)
    kvals = sorted(kidx, key=kidx.get)
    body = "\n".join(f"    {t} = {e}" for t, e in stmts)
    src = f"def _formula(X, c, k):\n{body}\n    return {out}\n" if body else \
        f"def _formula(X, c, k):\n    return {out}\n"
    return src, inputs, [float(v) for v in kvals], _formula_text(program, names)


def _torch_gamma(a: torch.Tensor) -> torch.Tensor:
    """Gamma(a) from lgamma: torch has no gamma. NaN at the negative integers (as scipy)."""
    import torch

    sign = torch.where((a < 0) & (torch.remainder(torch.floor(a), 2.0) == 1.0), -1.0, 1.0)
    out = sign.to(a.dtype) * torch.exp(torch.lgamma(a))
    pole = (a < 0) & (a == torch.floor(a))
    return torch.where(pole, torch.full_like(a, math.nan), out)


def to_pytorch(program: Program, names: Sequence[str] | None = None, *,
               fixed: Mapping[str, float] | None = None,
               dtype: torch.dtype | None = None) -> torch.nn.Module:
    """The formula as a ``torch.nn.Module``: ``module(X) -> y`` with the program's constants
    as one trainable parameter, ``module.constants`` (float64 unless ``dtype``).

    Train it like any module (the operators are torch functions, so autograd runs through
    them); ``module.formula()`` writes the formula with the current constants.
    """
    try:
        import torch
    except ImportError as e:
        raise ImportError("the PyTorch export needs torch: pip install 'eurisko[torch]'") from e
    src, inputs, kvals, _ = _py_parts(program, names, fixed, "torch")
    dtype = torch.float64 if dtype is None else dtype
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating torch dtype such as torch.float64, "
                        f"got {dtype!r}")
    namespace: dict[str, Any] = {"torch": torch, "_torch_gamma": _torch_gamma}
    exec(compile(src, "<eurisko torch export>", "exec"), namespace)  # noqa: S102
    module_names = variable_names(program, names)
    return _torch_module_class()(namespace["_formula"], program, module_names, inputs,
                                 kvals, dtype)


_TORCH_CLASS: list[type] = []


def _torch_module_class() -> type:
    """The module class, defined on first use (torch is optional)."""
    if _TORCH_CLASS:
        return _TORCH_CLASS[0]
    import torch

    class SymbolicModule(torch.nn.Module):
        """A eurisko formula as a torch module; its constants are ``self.constants``."""

        def __init__(self, fn, program, names, inputs, fixed_values, dtype):
            super().__init__()
            self._fn = fn
            self._program = program
            self._names = list(names)
            self.inputs = list(inputs)
            self.constants = torch.nn.Parameter(
                torch.tensor(program.consts.tolist(), dtype=dtype))
            self.register_buffer("fixed_values", torch.tensor(fixed_values, dtype=dtype))

        def forward(self, X):
            X = torch.as_tensor(X, dtype=self.constants.dtype, device=self.constants.device)
            if X.ndim != 2 or X.shape[1] != len(self.inputs):
                raise ValueError(f"X must be a 2-D tensor with {len(self.inputs)} column(s) "
                                 f"({', '.join(self.inputs) or 'none'}), got shape "
                                 f"{tuple(X.shape)}")
            y = self._fn(X, self.constants, self.fixed_values)
            return torch.as_tensor(y, dtype=X.dtype, device=X.device).expand(X.shape[0])

        def formula(self, precision: int | None = None) -> str:
            from eurisko.expr.printing import to_string

            consts = self.constants.detach().cpu().double().numpy()
            return to_string(self._program.with_consts(consts), self._names, precision)

        def extra_repr(self) -> str:
            return f"y = {self.formula(4)}"

    _TORCH_CLASS.append(SymbolicModule)
    return SymbolicModule


def to_jax(program: Program, names: Sequence[str] | None = None, *,
           fixed: Mapping[str, float] | None = None) -> tuple[Callable, Any]:
    """The formula as ``(fn, params)``: a pure JAX function ``fn(X, params) -> y`` (jit- and
    grad-able) and the program's constants as a JAX array.

    JAX computes in float32 unless ``jax.config.update("jax_enable_x64", True)`` was called
    first; with it, ``fn`` agrees with ``predict`` to double precision.
    """
    try:
        import jax
        import jax.numpy as jnp
        import jax.scipy.special  # noqa: F401 - erf, gamma
    except ImportError as e:
        raise ImportError("the JAX export needs jax: pip install 'eurisko[jax]'") from e
    src, inputs, kvals, _ = _py_parts(program, names, fixed, "jax")
    namespace: dict[str, Any] = {"jax": jax, "jnp": jnp}
    exec(compile(src, "<eurisko jax export>", "exec"), namespace)  # noqa: S102
    formula = namespace["_formula"]
    dtype = jnp.float64 if jax.config.jax_enable_x64 else jnp.float32
    k = jnp.asarray(kvals, dtype=dtype)
    n = len(inputs)

    def fn(X, params):
        X = jnp.asarray(X, dtype=dtype)
        if X.ndim != 2 or X.shape[1] != n:
            raise ValueError(f"X must be a 2-D array with {n} column(s) "
                             f"({', '.join(inputs) or 'none'}), got shape {X.shape}")
        return jnp.broadcast_to(formula(X, params, k), (X.shape[0],))

    fn.__doc__ = f"y = {_formula_text(program, variable_names(program, names))}"
    return fn, jnp.asarray(program.consts.tolist(), dtype=dtype)


# ----------------------------------------------------------------------------------------------
# LaTeX table


def _latex_number(v: float, precision: int) -> str:
    if isinstance(v, int | np.integer):
        return str(int(v))
    v = float(v)
    if not math.isfinite(v):
        return {"nan": "NaN", "inf": r"$\infty$", "-inf": r"$-\infty$"}[str(v)]
    text = f"{v:.{precision}g}"
    if "e" in text:
        mant, exp = text.split("e")
        return f"${mant} \\cdot 10^{{{int(exp)}}}$"
    return text


def latex_table(programs: Sequence[Program], names: Sequence[str] | None = None, *,
                columns: Mapping[str, Sequence[float]] | None = None, precision: int = 3,
                y_name: str = "y") -> str:
    """A booktabs LaTeX table, one row per formula: the equation, then ``columns`` (e.g.
    ``{"Complexity": [...], "Loss": [...]}``). Needs ``\\usepackage{booktabs}``."""
    from eurisko.expr.printing import to_latex
    from eurisko.validation import check_int

    precision = check_int(precision, "precision", low=1, what="digits")
    programs = list(programs)
    if not programs:
        raise ValueError("latex_table needs at least one formula")
    columns = {} if columns is None else dict(columns)
    for head, values in columns.items():
        if len(values) != len(programs):
            raise ValueError(f"column {head!r} has {len(values)} values for "
                             f"{len(programs)} formulas; give one per formula")
    head = " & ".join(["Equation", *columns]) + r" \\"
    lines = [r"\begin{table}[h]", r"\centering", r"\begin{tabular}{@{}l" + "r" * len(columns)
             + "@{}}", r"\toprule", head, r"\midrule"]
    for i, p in enumerate(programs):
        eq = f"${y_name} = {to_latex(p, names, precision)}$"
        cells = [_latex_number(v[i], precision) for v in columns.values()]
        lines.append(" & ".join([eq, *cells]) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(lines) + "\n"
