"""The operator registry: every operator is declared once, here or by `register_operator`.

An entry carries everything each layer needs: the numpy function (reference evaluator),
the SymPy function (printing, simplification, exact checks), and scalar source code that the
compiled kernels paste into their generated interpreter, with the partial derivatives the
Jacobian kernels use. No other module keeps its own list of operators.

Op codes: 0 is a variable, 1 a constant, and operator ``i`` of the registry has code ``i + 2``.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import re
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from eurisko.validation import check_choice, check_int

if TYPE_CHECKING:  # sympy costs ~0.4 s to import: only printing and exact checks need it
    import sympy as sp

VAR = 0
CONST = 1
FIRST_OP = 2

#: what `Operator.exports` may name: the targets of `eurisko.expr.export`
EXPORT_TARGETS = ("numpy", "c", "torch", "jax")

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
    exports : ``(target, code)`` pairs: the operator as an expression in ``a`` (and ``b``) for
        the exports of `eurisko.expr.export` (targets ``numpy``, ``c``, ``torch``, ``jax``);
        a target left out is derived where that is safe (see `export_code`).
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
    exports: tuple[tuple[str, str], ...] = field(default=())

    def export_code(self, target: str) -> str | None:
        """This operator as an expression of ``a`` (and ``b``) in ``target``, or None."""
        return dict(self.exports).get(target)


def _sympy_function(name: str) -> Callable[..., sp.Expr]:
    """SymPy's function ``name``, imported on first use."""

    def build(*args):
        import sympy

        return getattr(sympy, name)(*args)

    build.__name__ = f"sympy_{name}"
    return build


def _pow_numpy(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.power(a, b)


def _erf_numpy(a: np.ndarray) -> np.ndarray:
    from scipy.special import erf

    return erf(a)


def _gamma_numpy(a: np.ndarray) -> np.ndarray:
    from scipy.special import gamma

    return gamma(a)


#: digamma(a) = d log(gamma(a)) / da as one expression that numba compiles on scalars and numpy
#: runs on arrays (the derivative of gamma is y * digamma(a)): reflection below 1/2
#: (z = 1 - a there, selected arithmetically: np.where is an array in numba), six steps of the
#: recurrence psi(z) = psi(z + 1) - 1/z, then the asymptotic series at w = z + 6 >= 6.5
#: (truncation error below 1e-12)
_Z = "(a + (a < 0.5) * (1.0 - 2.0 * a))"
_W2 = f"({_Z} + 6.0) ** 2"
_DIGAMMA = (
    f"(a < 0.5) * (-np.pi / np.tan(np.pi * a)) + np.log({_Z} + 6.0) - 0.5 / ({_Z} + 6.0)"
    f" - (1.0 / 12.0 - (1.0 / 120.0 - (1.0 / 252.0 - (1.0 / 240.0 - (1.0 / 132.0"
    f" - 691.0 / 32760.0 / {_W2}) / {_W2}) / {_W2}) / {_W2}) / {_W2}) / {_W2}"
    + "".join(f" - 1.0 / ({_Z} + {k}.0)" for k in range(6))
)


def _x(**targets: str) -> tuple[tuple[str, str], ...]:
    return tuple(targets.items())


# exports: how the exports (`eurisko.expr.export`) write each operator; numpy code is derived
# from the numpy function where that is a numpy ufunc, C / torch / jax code is given here
_BUILTINS: list[Operator] = [
    Operator("add", 2, np.add, lambda a, b: a + b, "a + b", ("1.0", "1.0"), infix="+",
             exports=_x(c="a + b", torch="a + b", jax="a + b")),
    Operator("sub", 2, np.subtract, lambda a, b: a - b, "a - b", ("1.0", "-1.0"), infix="-",
             exports=_x(c="a - b", torch="a - b", jax="a - b")),
    Operator("mul", 2, np.multiply, lambda a, b: a * b, "a * b", ("b", "a"), infix="*",
             exports=_x(c="a * b", torch="a * b", jax="a * b")),
    Operator("div", 2, np.divide, lambda a, b: a / b, "a / b", ("1.0 / b", "-y / b"), infix="/",
             exports=_x(c="a / b", torch="a / b", jax="a / b")),
    Operator(
        "pow", 2, _pow_numpy, lambda a, b: a**b, "a ** b",
        ("b * a ** (b - 1.0)", "y * np.log(a)"), infix="^",
        exports=_x(numpy="np.power(a, b)", c="pow(a, b)", torch="torch.pow(a, b)",
                   jax="jnp.power(a, b)"),
    ),
    Operator("neg", 1, np.negative, lambda a: -a, "-a", ("-1.0",),
             exports=_x(c="-a", torch="-a", jax="-a")),
    Operator("inv", 1, np.reciprocal, lambda a: 1 / a, "1.0 / a", ("-y * y",),
             exports=_x(c="1.0 / a", torch="1.0 / a", jax="1.0 / a")),
    Operator("square", 1, np.square, lambda a: a**2, "a * a", ("2.0 * a",),
             exports=_x(c="a * a", torch="a * a", jax="a * a")),
    Operator("cube", 1, lambda a: a * a * a, lambda a: a**3, "a * a * a", ("3.0 * a * a",),
             exports=_x(numpy="a * a * a", c="a * a * a", torch="a * a * a", jax="a * a * a")),
    Operator("sqrt", 1, np.sqrt, _sympy_function("sqrt"), "np.sqrt(a)", ("0.5 / y",),
             exports=_x(c="sqrt(a)", torch="torch.sqrt(a)", jax="jnp.sqrt(a)")),
    Operator("exp", 1, np.exp, _sympy_function("exp"), "np.exp(a)", ("y",),
             exports=_x(c="exp(a)", torch="torch.exp(a)", jax="jnp.exp(a)")),
    Operator("log", 1, np.log, _sympy_function("log"), "np.log(a)", ("1.0 / a",),
             exports=_x(c="log(a)", torch="torch.log(a)", jax="jnp.log(a)")),
    Operator("sin", 1, np.sin, _sympy_function("sin"), "np.sin(a)", ("np.cos(a)",),
             exports=_x(c="sin(a)", torch="torch.sin(a)", jax="jnp.sin(a)")),
    Operator("cos", 1, np.cos, _sympy_function("cos"), "np.cos(a)", ("-np.sin(a)",),
             exports=_x(c="cos(a)", torch="torch.cos(a)", jax="jnp.cos(a)")),
    Operator("tan", 1, np.tan, _sympy_function("tan"), "np.tan(a)", ("1.0 + y * y",),
             exports=_x(c="tan(a)", torch="torch.tan(a)", jax="jnp.tan(a)")),
    Operator("tanh", 1, np.tanh, _sympy_function("tanh"), "np.tanh(a)", ("1.0 - y * y",),
             exports=_x(c="tanh(a)", torch="torch.tanh(a)", jax="jnp.tanh(a)")),
    Operator("abs", 1, np.abs, _sympy_function("Abs"), "abs(a)", ("np.sign(a)",),
             exports=_x(c="fabs(a)", torch="torch.abs(a)", jax="jnp.abs(a)")),
    # appended after the older operators so that their op codes stay what they were; outside
    # [-1, 1] asin and acos are NaN (as sqrt of a negative), their slopes at +-1 infinite.
    # (sqrt(1/u), not 1/sqrt(u): fast-math turns the latter into a float32 reciprocal-sqrt
    # estimate whose Newton step gives NaN, not inf, at u = 0)
    Operator("asin", 1, np.arcsin, _sympy_function("asin"), "np.arcsin(a)",
             ("np.sqrt(1.0 / ((1.0 - a) * (1.0 + a)))",),
             exports=_x(c="asin(a)", torch="torch.asin(a)", jax="jnp.arcsin(a)")),
    Operator("acos", 1, np.arccos, _sympy_function("acos"), "np.arccos(a)",
             ("-np.sqrt(1.0 / ((1.0 - a) * (1.0 + a)))",),
             exports=_x(c="acos(a)", torch="torch.acos(a)", jax="jnp.arccos(a)")),
    Operator("atan", 1, np.arctan, _sympy_function("atan"), "np.arctan(a)",
             ("1.0 / (1.0 + a * a)",),
             exports=_x(c="atan(a)", torch="torch.atan(a)", jax="jnp.arctan(a)")),
    Operator("sinh", 1, np.sinh, _sympy_function("sinh"), "np.sinh(a)", ("np.cosh(a)",),
             exports=_x(c="sinh(a)", torch="torch.sinh(a)", jax="jnp.sinh(a)")),
    Operator("cosh", 1, np.cosh, _sympy_function("cosh"), "np.cosh(a)", ("np.sinh(a)",),
             exports=_x(c="cosh(a)", torch="torch.cosh(a)", jax="jnp.cosh(a)")),
    # available by name, not in the default set. erf(a): 2/sqrt(pi) exp(-a^2) is its slope.
    Operator("erf", 1, _erf_numpy, _sympy_function("erf"), "math.erf(a)",
             ("1.1283791670955126 * np.exp(-a * a)",),
             exports=_x(numpy="scipy.special.erf(a)", c="erf(a)", torch="torch.special.erf(a)",
                        jax="jax.scipy.special.erf(a)")),
    Operator("asinh", 1, np.arcsinh, _sympy_function("asinh"), "np.arcsinh(a)",
             ("np.sqrt(1.0 / (1.0 + a * a))",),
             exports=_x(c="asinh(a)", torch="torch.asinh(a)", jax="jnp.arcsinh(a)")),
    # max and min propagate NaN (numpy's maximum / minimum); at a tie the slope goes to a
    Operator("max", 2, np.maximum, _sympy_function("Max"), "np.maximum(a, b)",
             ("(a >= b) * 1.0", "(a < b) * 1.0"),
             exports=_x(c="(isnan(a) || isnan(b) ? NAN : fmax(a, b))",
                        torch="torch.maximum(a, b)", jax="jnp.maximum(a, b)")),
    Operator("min", 2, np.minimum, _sympy_function("Min"), "np.minimum(a, b)",
             ("(a <= b) * 1.0", "(a > b) * 1.0"),
             exports=_x(c="(isnan(a) || isnan(b) ? NAN : fmin(a, b))",
                        torch="torch.minimum(a, b)", jax="jnp.minimum(a, b)")),
    Operator("sign", 1, np.sign, _sympy_function("sign"), "np.sign(a)", ("0.0 * a",),
             exports=_x(c="(isnan(a) ? NAN : (double)((a > 0.0) - (a < 0.0)))",
                        torch="torch.where(torch.isnan(a), a, torch.sign(a))",
                        jax="jnp.sign(a)")),
    # gamma: inf at 0 (signed), NaN at the negative integers, as scipy.special.gamma
    Operator("gamma", 1, _gamma_numpy, _sympy_function("gamma"), "math.gamma(a)",
             (f"y * ({_DIGAMMA})",),
             exports=_x(numpy="scipy.special.gamma(a)", c="tgamma(a)",
                        torch="_torch_gamma(a)", jax="jax.scipy.special.gamma(a)")),
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


_TABLES: dict[str, Any] = {}
_IN_FORCE: dict[str, Any] = {"table": None, "key": None}  # set_complexities' table, checksum
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
    """Complexity of every op code (leaves cost 1): the registry's, or the table put in force
    by `set_complexities` for the search running in this process. Treat as read-only."""
    if _IN_FORCE["table"] is not None:
        return _IN_FORCE["table"]
    t = _TABLES.get("complexity")
    if t is None:
        t = _TABLES["complexity"] = np.array(
            [1, 1] + [op.complexity for op in _REGISTRY], dtype=np.int32)
    return t


def complexity_key() -> int:
    """A checksum of `complexity_table`: programs cache their complexity under it, so a cached
    count is never read under another table (another search's, or a re-registered operator)."""
    key = _IN_FORCE["key"] if _IN_FORCE["table"] is not None else _TABLES.get("complexity_key")
    if key is None:  # the registry's table, after start-up or a registration
        key = _TABLES["complexity_key"] = zlib.crc32(complexity_table().tobytes())
    return key


def complexities(operators: Mapping[str, int] | None = None, variables: int | None = None,
                 constants: int | None = None) -> tuple[int, ...] | None:
    """The complexity of every op code with a user's overrides (PySR's
    ``complexity_of_operators``, ``complexity_of_variables``, ``complexity_of_constants``), or
    None when nothing is overridden. Validated here: unknown operator names and values that are
    not positive integers raise a one-line error."""
    if operators is None and variables is None and constants is None:
        return None
    table = [1, 1] + [op.complexity for op in _REGISTRY]
    if variables is not None:
        table[VAR] = check_int(variables, "complexity_of_variables", low=1)
    if constants is not None:
        table[CONST] = check_int(constants, "complexity_of_constants", low=1)
    if operators is not None:
        if not isinstance(operators, Mapping):
            raise TypeError(f"complexity_of_operators must be a dict such as {{'exp': 3}}, got "
                            f"{type(operators).__name__}")
        for name, value in operators.items():
            if not isinstance(name, str):
                raise TypeError(f"complexity_of_operators keys must be operator names, got "
                                f"{name!r}")
            get_operator(name)
            table[op_code(name)] = check_int(value, f"complexity_of_operators[{name!r}]", low=1)
    return tuple(table)


def set_complexities(table: Sequence[int] | None) -> None:
    """Put a complexity table (from `complexities`) in force in this process; None restores the
    registry's. A search sets its own on every island, so worker processes count alike."""
    t = None if table is None else np.asarray(table, dtype=np.int32)
    _IN_FORCE["table"], _IN_FORCE["key"] = t, None if t is None else zlib.crc32(t.tobytes())


@contextlib.contextmanager
def complexities_in_force(table: Sequence[int] | None) -> Iterator[None]:
    """`set_complexities` for the duration of a block, then what was in force before."""
    saved = dict(_IN_FORCE)
    set_complexities(table)
    try:
        yield
    finally:
        _IN_FORCE.update(saved)


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
    exports: Mapping[str, str] | None = None,
) -> Operator:
    """Declare a custom operator once; every backend, the printer and the SymPy bridge use it.

    ``scalar`` is either a numba-compilable expression in ``a`` (and ``b``), e.g.
    ``"a / (1.0 + abs(a))"``, or a function defined at the top level of an importable
    module (it is jitted by the kernel). ``grad`` gives the partial derivatives as expressions
    in ``a``, ``b`` and ``y``; when omitted they are derived from ``sympy`` with SymPy.
    ``exports`` maps export targets (``numpy``, ``c``, ``torch``, ``jax``) to the operator as
    an expression in ``a`` (and ``b``) there, e.g. ``{"c": "a / (1.0 + fabs(a))"}``, for
    `eurisko.expr.export`; C code is otherwise derived from ``sympy``.

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
    if exports is None:
        exports = {}
    if not isinstance(exports, Mapping) or not all(
            k in EXPORT_TARGETS and isinstance(v, str) for k, v in exports.items()):
        raise ValueError(f"exports must map targets among {EXPORT_TARGETS} to code strings "
                         f"in a and b, e.g. {{'c': 'a / (1.0 + fabs(a))'}}; got {exports!r}")
    if len(grads) != arity:
        raise ValueError(f"operator {name!r} has arity {arity} but {len(grads)} derivatives")
    op = Operator(name, arity, numpy, sympy, scalar_src, grads, int(complexity), None, imports,
                  tuple(exports.items()))
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
