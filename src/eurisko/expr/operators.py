"""The operator registry: every operator is declared once, here or by `register_operator`.

An entry carries everything each layer needs: the numpy function (reference evaluator),
the SymPy function (printing, simplification, exact checks), and scalar source code that the
compiled kernels paste into their generated interpreter, with the partial derivatives the
Jacobian kernels use. No other module keeps its own list of operators.

Op codes: 0 is a variable, 1 a constant, and operator ``i`` of the registry has code ``i + 2``.
"""

from __future__ import annotations

import hashlib
import importlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from eurisko.validation import check_choice, check_int

if TYPE_CHECKING:  # sympy costs ~0.4 s to import: only printing and exact checks need it
    import sympy as sp

VAR = 0
CONST = 1
FIRST_OP = 2

_NAME_RE = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass(frozen=True)
class Operator:
    """One operator of the registry.

    Attributes
    ----------
    name : lower-case identifier used in operator lists, printing and saved runs.
    arity : 1 or 2.
    numpy : vectorised numpy function, ``f(a)`` or ``f(a, b)``.
    sympy : function building the SymPy counterpart from SymPy arguments.
    scalar : numba-compilable expression of the scalar arguments ``a`` (and ``b``); may use
        ``math``, ``np`` and the names in ``imports``.
    grad : expressions of the partial derivatives with respect to ``a`` (and ``b``); may use
        ``a``, ``b`` and ``y`` (the operator's value).
    complexity : cost of one node of this operator in the complexity count.
    infix : symbol for infix printing of binary operators (``+``), else None.
    imports : ``(module, name)`` pairs the generated kernel imports (custom operators).
    """

    name: str
    arity: int
    numpy: Callable[..., np.ndarray]
    sympy: Callable[..., sp.Expr]
    scalar: str
    grad: tuple[str, ...]
    complexity: int = 1
    infix: str | None = None
    imports: tuple[tuple[str, str], ...] = field(default=())


def _sympy_function(name: str) -> Callable[..., sp.Expr]:
    """SymPy's function ``name``, imported on first use."""

    def build(*args):
        import sympy

        return getattr(sympy, name)(*args)

    build.__name__ = f"sympy_{name}"
    return build


def _pow_numpy(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.power(a, b)


_BUILTINS: list[Operator] = [
    Operator("add", 2, np.add, lambda a, b: a + b, "a + b", ("1.0", "1.0"), infix="+"),
    Operator("sub", 2, np.subtract, lambda a, b: a - b, "a - b", ("1.0", "-1.0"), infix="-"),
    Operator("mul", 2, np.multiply, lambda a, b: a * b, "a * b", ("b", "a"), infix="*"),
    Operator("div", 2, np.divide, lambda a, b: a / b, "a / b", ("1.0 / b", "-y / b"), infix="/"),
    Operator(
        "pow", 2, _pow_numpy, lambda a, b: a**b, "a ** b",
        ("b * a ** (b - 1.0)", "y * np.log(a)"), infix="^",
    ),
    Operator("neg", 1, np.negative, lambda a: -a, "-a", ("-1.0",)),
    Operator("inv", 1, np.reciprocal, lambda a: 1 / a, "1.0 / a", ("-y * y",)),
    Operator("square", 1, np.square, lambda a: a**2, "a * a", ("2.0 * a",)),
    Operator("cube", 1, lambda a: a * a * a, lambda a: a**3, "a * a * a", ("3.0 * a * a",)),
    Operator("sqrt", 1, np.sqrt, _sympy_function("sqrt"), "np.sqrt(a)", ("0.5 / y",)),
    Operator("exp", 1, np.exp, _sympy_function("exp"), "np.exp(a)", ("y",)),
    Operator("log", 1, np.log, _sympy_function("log"), "np.log(a)", ("1.0 / a",)),
    Operator("sin", 1, np.sin, _sympy_function("sin"), "np.sin(a)", ("np.cos(a)",)),
    Operator("cos", 1, np.cos, _sympy_function("cos"), "np.cos(a)", ("-np.sin(a)",)),
    Operator("tan", 1, np.tan, _sympy_function("tan"), "np.tan(a)", ("1.0 + y * y",)),
    Operator("tanh", 1, np.tanh, _sympy_function("tanh"), "np.tanh(a)", ("1.0 - y * y",)),
    Operator("abs", 1, np.abs, _sympy_function("Abs"), "abs(a)", ("np.sign(a)",)),
    # appended after the older operators so that their op codes stay what they were; outside
    # [-1, 1] asin and acos are NaN (as sqrt of a negative), their slopes at +-1 infinite.
    # (sqrt(1/u), not 1/sqrt(u): fast-math turns the latter into a float32 reciprocal-sqrt
    # estimate whose Newton step gives NaN, not inf, at u = 0)
    Operator("asin", 1, np.arcsin, _sympy_function("asin"), "np.arcsin(a)",
             ("np.sqrt(1.0 / ((1.0 - a) * (1.0 + a)))",)),
    Operator("acos", 1, np.arccos, _sympy_function("acos"), "np.arccos(a)",
             ("-np.sqrt(1.0 / ((1.0 - a) * (1.0 + a)))",)),
    Operator("atan", 1, np.arctan, _sympy_function("atan"), "np.arctan(a)",
             ("1.0 / (1.0 + a * a)",)),
    Operator("sinh", 1, np.sinh, _sympy_function("sinh"), "np.sinh(a)", ("np.cosh(a)",)),
    Operator("cosh", 1, np.cosh, _sympy_function("cosh"), "np.cosh(a)", ("np.sinh(a)",)),
]

_BUILTIN_BY_NAME: dict[str, Operator] = {op.name: op for op in _BUILTINS}
_REGISTRY: list[Operator] = list(_BUILTINS)
_BY_NAME: dict[str, Operator] = {op.name: op for op in _REGISTRY}
_CODE_BY_NAME: dict[str, int] = {op.name: FIRST_OP + i for i, op in enumerate(_REGISTRY)}

DEFAULT_OPERATORS: tuple[str, ...] = (
    "add", "sub", "mul", "div", "neg", "square", "sqrt", "exp", "log", "sin", "cos",
)


def registry() -> tuple[Operator, ...]:
    """All registered operators, in op-code order (code = index + 2)."""
    return tuple(_REGISTRY)


def is_operator(name: str) -> bool:
    """Whether an operator called ``name`` is registered (built in or custom)."""
    return name in _BY_NAME


def operator_names() -> tuple[str, ...]:
    """Names of all registered operators, in op-code order."""
    return tuple(_BY_NAME)


def builtin_operators() -> tuple[Operator, ...]:
    """The operators eurisko ships with, as declared in this module."""
    return tuple(_BUILTINS)


def custom_operators() -> tuple[Operator, ...]:
    """Operators registered by the user: new ones and built-ins replaced with ``replace=True``.

    They live in the user's code, so worker processes must import it to have them.
    """
    return tuple(op for op in _REGISTRY if op is not _BUILTIN_BY_NAME.get(op.name))


def get_operator(name: str) -> Operator:
    """The operator called ``name``; a ValueError lists the known names otherwise."""
    try:
        return _BY_NAME[name]
    except KeyError:
        known = ", ".join(op.name for op in _REGISTRY)
        raise ValueError(
            f"unknown operator {name!r}; known operators are: {known} "
            "(declare new ones with eurisko.register_operator)"
        ) from None


def op_code(name: str) -> int:
    """The op code of the operator called ``name``."""
    code = _CODE_BY_NAME.get(name)
    if code is None:
        get_operator(name)  # raises the error that lists the known names
        raise AssertionError(name)  # pragma: no cover - registry and code table disagree
    return code


def operator_of(code: int) -> Operator:
    """The operator with op code ``code`` (codes 0 and 1 are leaves, not operators)."""
    return _REGISTRY[code - FIRST_OP]


_TABLES: dict[str, np.ndarray] = {}
_FINGERPRINT: dict[str, str] = {}


def arity_table() -> np.ndarray:
    """Arity of every op code, as an int8 array indexed by code (leaves have arity 0).

    Cached (the search asks for it per mutation); `register_operator` clears the cache.
    Treat the returned array as read-only.
    """
    t = _TABLES.get("arity")
    if t is None:
        t = _TABLES["arity"] = np.array([0, 0] + [op.arity for op in _REGISTRY], dtype=np.int8)
    return t


def complexity_table() -> np.ndarray:
    """Complexity of every op code (leaves cost 1); cached like `arity_table`."""
    t = _TABLES.get("complexity")
    if t is None:
        t = _TABLES["complexity"] = np.array(
            [1, 1] + [op.complexity for op in _REGISTRY], dtype=np.int32)
    return t


def registry_fingerprint() -> str:
    """A hash of what the kernels compile, so generated kernels are rebuilt when it changes."""
    fp = _FINGERPRINT.get("fp")
    if fp is None:
        text = "\n".join(
            f"{op.name}|{op.arity}|{op.scalar}|{'|'.join(op.grad)}|{op.imports}"
            for op in _REGISTRY
        )
        fp = _FINGERPRINT["fp"] = hashlib.sha1(text.encode()).hexdigest()[:16]
    return fp


def resolve_operators(names: Sequence[str] | None) -> tuple[str, ...]:
    """Validate a user's operator list (None means the defaults); duplicates are dropped."""
    if names is None:
        return DEFAULT_OPERATORS
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    out: list[str] = []
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"operator names must be strings, got {name!r}")
        get_operator(name)
        if name not in out:
            out.append(name)
    if not out:
        raise ValueError("the operator list is empty; give at least one operator, e.g. ['add']")
    return tuple(out)


def _callable_import(fn: Callable) -> tuple[str, str]:
    module, qualname = getattr(fn, "__module__", None), getattr(fn, "__qualname__", "")
    if not module or module == "__main__" or "." in qualname or "<" in qualname:
        raise ValueError(
            f"the scalar function {fn!r} of a custom operator must be defined at the top level "
            "of an importable module (not __main__, not a lambda), so compiled kernels can "
            "import it; or give the scalar body as a string such as 'a * a + b'"
        )
    if getattr(importlib.import_module(module), qualname, None) is not fn:
        raise ValueError(f"{module}.{qualname} does not resolve to {fn!r}")
    return module, qualname


def _sympy_grad(sympy_fn: Callable, arity: int) -> tuple[str, ...]:
    import sympy as sp

    a, b = sp.symbols("a b", real=True)  # real: d|a|/da is sign(a), not a complex Derivative
    args = (a, b)[:arity]
    expr = sympy_fn(*args)
    printer = sp.printing.numpy.NumPyPrinter({"fully_qualified_modules": True})
    out = []
    for s in args:
        code = printer.doprint(sp.diff(expr, s))
        out.append(code.replace("numpy.", "np."))
    return tuple(out)


def register_operator(
    name: str,
    arity: int,
    *,
    numpy: Callable[..., np.ndarray],
    sympy: Callable[..., sp.Expr],
    scalar: str | Callable,
    grad: Sequence[str] | None = None,
    complexity: int = 1,
    replace: bool = False,
) -> Operator:
    """Declare a custom operator once; every backend, the printer and the SymPy bridge use it.

    ``scalar`` is either a numba-compilable expression in ``a`` (and ``b``), e.g.
    ``"a / (1.0 + abs(a))"``, or a function defined at the top level of an importable
    module (it is jitted by the kernel). ``grad`` gives the partial derivatives as expressions
    in ``a``, ``b`` and ``y``; when omitted they are derived from ``sympy`` with SymPy.

    Example
    -------
    Registering changes the kernels for the rest of the process, so this one is not run as a
    doctest (``tests/test_backends.py`` runs it):

    >>> import numpy as np, sympy as sp
    >>> register_operator("softsign", 1, numpy=lambda a: a / (1 + np.abs(a)),
    ...                   sympy=lambda a: a / (1 + sp.Abs(a)),
    ...                   scalar="a / (1.0 + abs(a))")  # doctest: +SKIP
    """
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ValueError(f"operator name {name!r} must be a lower-case identifier like 'softsign'")
    arity = check_choice(arity, "arity", (1, 2), hint="an operator takes one or two arguments")
    check_int(complexity, "complexity", low=1)
    if name in _BY_NAME and not replace:
        raise ValueError(f"operator {name!r} exists already; pass replace=True to redefine it")
    imports: tuple[tuple[str, str], ...] = ()
    if callable(scalar):
        module, qual = _callable_import(scalar)
        imports = ((module, qual),)
        alias = f"_user_{name}"
        scalar_src = f"{alias}({', '.join('ab'[:arity])})"
    else:
        scalar_src = str(scalar)
    grads = tuple(grad) if grad is not None else _sympy_grad(sympy, arity)
    if len(grads) != arity:
        raise ValueError(f"operator {name!r} has arity {arity} but {len(grads)} derivatives")
    op = Operator(name, arity, numpy, sympy, scalar_src, grads, int(complexity), None, imports)
    if name in _BY_NAME:
        _REGISTRY[[o.name for o in _REGISTRY].index(name)] = op
    else:
        _REGISTRY.append(op)
        _CODE_BY_NAME[name] = FIRST_OP + len(_REGISTRY) - 1
    _BY_NAME[name] = op
    _TABLES.clear()
    _FINGERPRINT.clear()
    return op


def install_operators(custom: Sequence[Operator]) -> None:
    """Make the registry the built-ins plus ``custom``, in order (what `custom_operators`
    returned in another process), so that op codes mean the same on both sides.

    A worker on another host calls this with the driver's custom operators before it reads
    any program; registering them one by one could number them differently."""
    for op in custom:
        if not isinstance(op, Operator):
            raise TypeError(f"install_operators takes Operator entries, got {type(op).__name__}")
    _REGISTRY[:] = list(_BUILTINS)
    for op in custom:
        if op.name in _BUILTIN_BY_NAME:
            _REGISTRY[[o.name for o in _REGISTRY].index(op.name)] = op
        else:
            _REGISTRY.append(op)
    _BY_NAME.clear()
    _BY_NAME.update({op.name: op for op in _REGISTRY})
    _CODE_BY_NAME.clear()
    _CODE_BY_NAME.update({op.name: FIRST_OP + i for i, op in enumerate(_REGISTRY)})
    _TABLES.clear()
    _FINGERPRINT.clear()
