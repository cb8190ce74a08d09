"""Reading a constant: digit strings, floats, mpmath numbers and whitelisted expressions.

Everything is checked at the door, so that the searches behind it can trust what they get: a real,
non-zero, finite number, with a known count of correct significant digits (a digit string) or a
SymPy expression that can be computed to any precision (``--expr``). Expressions are read by
walking Python's syntax tree of the text, never by ``eval``: only numbers, ``+ - * / ** ^``,
parentheses and the names in `FUNCTIONS` and `CONSTANTS` are accepted.
"""

from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import mpmath
import sympy

from eurisko.validation import check_int

MIN_DIGITS = 12
MAX_DIGITS = 10_000
MAX_EXPONENT = 1_000  # |log10 |x|| above this is refused: scale the number first
MAX_EXPR_CHARS = 1_000
MAX_EXPR_NODES = 300
FLOAT_DIGITS = 15  # a float holds 15 decimal digits that survive a round trip

ADVICE_FORMS = ("give the digits as a string, e.g. '2.718281828459045235360287471352', "
                "or an expression with --expr / parse_constant('zeta(3)')")


def _E1(z):
    return sympy.expint(1, z)


# Names an expression may use. Every entry is a SymPy object; nothing else is reachable.
FUNCTIONS: dict[str, Any] = {
    "sqrt": sympy.sqrt, "cbrt": sympy.cbrt, "root": sympy.root, "exp": sympy.exp,
    "log": sympy.log, "ln": sympy.log, "sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan,
    "cot": sympy.cot, "sec": sympy.sec, "csc": sympy.csc, "asin": sympy.asin,
    "acos": sympy.acos, "atan": sympy.atan, "acot": sympy.acot, "sinh": sympy.sinh,
    "cosh": sympy.cosh, "tanh": sympy.tanh, "coth": sympy.coth, "asinh": sympy.asinh,
    "acosh": sympy.acosh, "atanh": sympy.atanh, "gamma": sympy.gamma,
    "loggamma": sympy.loggamma, "digamma": sympy.digamma, "zeta": sympy.zeta,
    "polylog": sympy.polylog, "Ei": sympy.Ei, "E1": _E1, "expint": sympy.expint,
    "erf": sympy.erf, "erfc": sympy.erfc, "beta": sympy.beta, "factorial": sympy.factorial,
    "binomial": sympy.binomial, "besselj": sympy.besselj, "bessely": sympy.bessely,
    "besseli": sympy.besseli, "besselk": sympy.besselk, "elliptic_k": sympy.elliptic_k,
    "elliptic_e": sympy.elliptic_e, "LambertW": sympy.LambertW, "abs": sympy.Abs,
    "Abs": sympy.Abs, "Li": sympy.Li, "li": sympy.li, "catalan": sympy.catalan,
}
CONSTANTS: dict[str, Any] = {
    "pi": sympy.pi, "e": sympy.E, "E": sympy.E, "EulerGamma": sympy.EulerGamma,
    "euler_gamma": sympy.EulerGamma, "Catalan": sympy.Catalan, "G": sympy.Catalan,
    "phi": sympy.GoldenRatio, "GoldenRatio": sympy.GoldenRatio,
}
_BINOPS = {ast.Add: sympy.Add, ast.Sub: lambda a, b: a - b, ast.Mult: sympy.Mul,
           ast.Div: lambda a, b: a / b, ast.Pow: sympy.Pow}


def parse_constant(text: str) -> sympy.Expr:
    """Read an expression such as ``"zeta(3)"`` or ``"pi^2/6"`` into a SymPy number.

    Only arithmetic, numbers and whitelisted names (`FUNCTIONS`, `CONSTANTS`) are allowed;
    anything else raises a `ValueError` that names the offending part.
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_constant() takes a string, got {type(text).__name__}")
    src = text.strip()
    if not src:
        raise ValueError("the expression is empty; write e.g. 'zeta(3)' or 'pi**2/6'")
    if len(src) > MAX_EXPR_CHARS:
        raise ValueError(f"the expression is {len(src)} characters long; at most "
                         f"{MAX_EXPR_CHARS} are accepted")
    try:
        # ^ means power here (with the precedence of **, not of Python's xor)
        tree = ast.parse(src.replace("^", "**"), mode="eval")
    except SyntaxError:
        raise ValueError(f"could not read {src!r} as an expression; write it like "
                         "'zeta(3)', 'pi**2/6' or 'log(1+sqrt(2))'") from None
    if sum(1 for _ in ast.walk(tree)) > MAX_EXPR_NODES:
        raise ValueError(f"the expression has more than {MAX_EXPR_NODES} parts; simplify it")
    expr = _build(tree.body, src.replace("^", "**"))
    if not isinstance(expr, sympy.Expr) or expr.free_symbols:
        raise ValueError(f"{src!r} is not a number")
    if expr.has(sympy.zoo, sympy.nan, sympy.oo):
        raise ValueError(f"{src!r} is not a finite number (a division by zero or a pole)")
    return expr


def _build(node: ast.AST, src: str) -> Any:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise ValueError(f"{ast.get_source_segment(src, node)!r} is not a number")
        token = ast.get_source_segment(src, node) or repr(node.value)
        if len(token) > 1000:
            raise ValueError("a number in the expression has more than 1000 characters")
        return sympy.Integer(node.value) if isinstance(node.value, int) else \
            sympy.Rational(token.replace("_", ""))
    if isinstance(node, ast.Name):
        if node.id in CONSTANTS:
            return CONSTANTS[node.id]
        hint = " (a function: call it, e.g. zeta(3))" if node.id in FUNCTIONS else ""
        raise ValueError(f"unknown name {node.id!r} in the expression{hint}; known constants: "
                         f"{', '.join(sorted(CONSTANTS))}")
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        inner = _build(node.operand, src)
        return -inner if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        left, right = _build(node.left, src), _build(node.right, src)
        if isinstance(node.op, ast.Pow):
            _check_power(left, right)
        try:
            return _BINOPS[type(node.op)](left, right)
        except ZeroDivisionError:
            raise ValueError("the expression divides by zero") from None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        name = node.func.id
        if name not in FUNCTIONS:
            raise ValueError(f"unknown function {name!r}; known functions: "
                             f"{', '.join(sorted(FUNCTIONS))}")
        args = [_build(a, src) for a in node.args]
        if name in ("factorial", "binomial") and any(
                a.is_Number and abs(a) > 10_000 for a in args):
            raise ValueError(f"{name} of a number above 10000 is too large here")
        try:
            return FUNCTIONS[name](*args)
        except TypeError:
            raise ValueError(f"wrong number of arguments for {name}()") from None
    segment = ast.get_source_segment(src, node) or type(node).__name__
    raise ValueError(f"{segment!r} is not allowed in an expression: use numbers, + - * / ** "
                     "and the functions and constants listed in `eurisko constant --help`")


def _check_power(base: Any, exponent: Any) -> None:
    """Refuse powers of plain numbers whose exact value would have more than 10000 digits."""
    if getattr(base, "is_Rational", False) and getattr(exponent, "is_Integer", False):
        size = max(abs(base.p), abs(base.q), 2)
        if abs(int(exponent)) * math.log10(size) > 10_000:
            raise ValueError("a power in the expression is too large (more than 10000 digits)")


def to_mpf(value: Any) -> mpmath.mpf:
    """A SymPy Float or number as an mpmath mpf at the current mpmath precision."""
    if isinstance(value, sympy.Float):
        return mpmath.mpf(value._mpf_)
    return mpmath.mpf(str(value))


@dataclass
class Target:
    """The number asked about: its magnitude, its sign, how many digits are known, its expression.

    ``digits`` is the count of significant digits given (digit strings) or requested (expressions);
    ``expr`` is None for digit strings, whose precision is final.
    """

    text: str
    negative: bool
    digits: int
    expr: sympy.Expr | None = None
    mantissa: int = 0  # digit strings: |x| = mantissa * 10**exp10 exactly
    exp10: int = 0
    _cache: dict[int, mpmath.mpf] = field(default_factory=dict, repr=False)

    @property
    def computable(self) -> bool:
        return self.expr is not None

    def magnitude(self, dps: int) -> mpmath.mpf:
        """|x| at ``dps`` digits (a digit string is exact; more digits than given add nothing)."""
        if dps not in self._cache:
            with mpmath.workdps(dps + 10):
                if self.expr is None:
                    value = mpmath.mpf(self.mantissa) * mpmath.mpf(10) ** self.exp10
                else:
                    value = abs(_evaluate(self.expr, dps + 10, self.text))
            self._cache[dps] = value
        return self._cache[dps]

    def interval(self, dps: int) -> tuple[Any, Any]:
        """Exact rationals (Fractions) bracketing |x| using only its first ``dps`` digits."""
        from fractions import Fraction

        if self.expr is None:
            keep = min(dps, self.digits)
            drop = self.digits - keep
            m = self.mantissa // 10 ** drop
            scale = Fraction(10) ** (self.exp10 + drop)
            return (m - 1) * scale, (m + 2) * scale
        man, exp = self.magnitude(dps + 10).man_exp
        center = Fraction(man) * Fraction(2) ** exp
        width = center / 10 ** dps
        return center - width, center + width

    def signed(self, dps: int) -> mpmath.mpf:
        """x itself (with its sign) at ``dps`` digits."""
        v = self.magnitude(dps)
        return -v if self.negative else v

    def uncertainty(self, known: int) -> mpmath.mpf:
        """How far the true |x| may be from `magnitude(known)`: the last digit's unit."""
        if self.expr is None:
            return self.ulp()
        return self.magnitude(known) * mpmath.mpf(10) ** (-known)

    def transform(self, f, known: int) -> tuple[mpmath.mpf, mpmath.mpf]:
        """(f(x), how much f(x) moves within the uncertainty of x), at the current precision."""
        x = self.signed(known)
        y = f(x)
        return y, abs(f(x + self.uncertainty(known)) - y)

    def ulp(self) -> mpmath.mpf:
        """One unit in the last given digit of a digit string (the uncertainty of |x|)."""
        with mpmath.workdps(self.digits + 10):
            return mpmath.mpf(10) ** self.exp10


def _evaluate(expr: sympy.Expr, dps: int, text: str) -> mpmath.mpf:
    try:
        value = sympy.N(expr, dps)
    except (ValueError, TypeError, ArithmeticError, RecursionError) as exc:
        raise ValueError(f"could not compute {text!r} to {dps} digits ({exc})") from None
    if value.has(sympy.zoo, sympy.nan, sympy.oo):
        raise ValueError(f"{text!r} is not a finite number")
    re_part, im_part = value.as_real_imag()
    if not re_part.is_Number or not im_part.is_Number:
        raise ValueError(f"could not compute {text!r} as a number (SymPy left {value})")
    if im_part != 0 and abs(im_part) > abs(re_part) * sympy.Float(10) ** (-dps + 5):
        raise ValueError(f"{text!r} is not real (it is about {sympy.N(value, 8)}); "
                         "only real constants can be identified")
    if not re_part.is_finite:
        raise ValueError(f"{text!r} is not finite")
    with mpmath.workdps(dps):
        return to_mpf(re_part)


_DIGITS_RE = re.compile(r"^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$")


def _from_digits(text: str, what: str) -> Target:
    s = re.sub(r"[\s_]", "", text)
    s = s.removesuffix("...").removesuffix("…")
    m = _DIGITS_RE.match(s)
    if not s or m is None or not (m.group(2) or m.group(3)):
        advice = " (for an expression use --expr, or parse_constant())" \
            if re.search(r"[a-zA-Z(]", s) else ""
        raise ValueError(f"{what} {text[:60]!r} is not a number written in decimal digits, "
                         f"e.g. '1.2020569031595942853997381615114'{advice}")
    sign, ip, fp, ex = m.group(1), m.group(2) or "", m.group(3) or "", m.group(4)
    exponent = int(ex) if ex else 0
    if abs(exponent) > 10 ** 6:
        raise ValueError(f"the exponent of {what} is out of range")
    alldigits = (ip + fp).lstrip("0")
    if not alldigits:
        raise ValueError(f"{what} is zero; there is nothing to identify")
    digits = len(alldigits)
    if digits < MIN_DIGITS:
        raise ValueError(f"{what} has only {digits} significant digit(s); at least {MIN_DIGITS} "
                         "are needed to tell a closed form from chance (30-60 is typical; "
                         "more digits allow more complex answers)")
    if digits > MAX_DIGITS:
        raise ValueError(f"{what} has {digits} significant digits; at most {MAX_DIGITS} are "
                         f"used here: pass the first {MAX_DIGITS}")
    exp10 = exponent - len(fp)
    mantissa = int(alldigits)
    magnitude = math.log10(mantissa) + exp10
    if abs(magnitude) > MAX_EXPONENT:
        raise ValueError(f"{what} is about 1e{magnitude:.0f}, out of the range handled "
                         f"(1e-{MAX_EXPONENT} to 1e{MAX_EXPONENT}); scale it by a power of 10")
    return Target(text=s, negative=sign == "-", digits=digits, mantissa=mantissa, exp10=exp10)


def make_target(x: Any, digits: int | None = None, what: str = "the number") -> Target:
    """Check the input of `identify` / `find_continued_fractions` and describe it as a Target."""
    digits = check_int(digits, "digits", low=MIN_DIGITS, high=MAX_DIGITS, none_ok=True,
                       hint="60 is a good start")
    if isinstance(x, bool) or isinstance(x, int):
        raise TypeError(f"{what} is an integer ({x!r}), which is exact; {ADVICE_FORMS}")
    if isinstance(x, str):
        if digits is not None:
            raise ValueError("digits= only applies to expressions; a digit string is used with "
                             "the digits it has (cut the string to use fewer)")
        return _from_digits(x, what)
    if isinstance(x, float):
        if not math.isfinite(x):
            raise ValueError(f"{what} is {x!r}; give a finite number")
        if digits is not None:
            raise ValueError("digits= only applies to expressions; a float has 15 digits")
        return _from_digits(f"{x:.{FLOAT_DIGITS - 1}e}", what)
    if isinstance(x, Decimal):
        if not x.is_finite():
            raise ValueError(f"{what} is {x}; give a finite number")
        return _from_digits(str(x), what)
    if type(x).__module__.startswith("mpmath") and hasattr(x, "_mpf_"):
        x = +mpmath.mpf(x)  # an mpf, or a constant such as mpmath.pi at the current precision
        if not mpmath.isfinite(x):
            raise ValueError(f"{what} is {x}; give a finite number")
        n = mpmath.mp.dps if digits is None else digits
        return _from_digits(mpmath.nstr(x, n, min_fixed=-1, max_fixed=-1, strip_zeros=False),
                            what)
    if isinstance(x, sympy.Basic):
        if not isinstance(x, sympy.Expr) or x.free_symbols:
            raise ValueError(f"{what} {x} is not a number (it has free symbols)")
        return _from_expr(x, str(x), digits, what)
    raise TypeError(f"{what} must be a string of digits, a float, a Decimal, an mpmath mpf or "
                    f"a SymPy expression, not {type(x).__name__}; {ADVICE_FORMS}")


def _from_expr(expr: sympy.Expr, text: str, digits: int | None, what: str) -> Target:
    if digits is None:
        digits = 60
    probe = _evaluate(expr, 30, text)
    if probe == 0:
        raise ValueError(f"{what} {text} is zero; there is nothing to identify")
    magnitude = float(mpmath.log10(abs(probe)))
    if abs(magnitude) > MAX_EXPONENT:
        raise ValueError(f"{what} {text} is about 1e{magnitude:.0f}, out of the range handled")
    return Target(text=text, negative=probe < 0, digits=digits, expr=expr)
