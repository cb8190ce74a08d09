"""Checking parameters at the door: one small family of helpers, one way to word the error.

Every public function of eurisko validates its parameters before it does any work, so that a
mistake reads as advice rather than as a traceback from deep inside numba or mpmath. Written
by hand in each module, the same checks drifted apart: one accepted ``True`` as a count,
another refused a numpy integer, a third let NaN through ``not x > 0``, and each worded its
message its own way. These helpers make one call per parameter and give every message the
same shape.

A message names the argument, says what is expected in words a user understands, shows the
value received, and ends with advice when there is any::

    time_limit must be a positive number of seconds or None, got -1
    digits must be an integer from 12 to 20000, got 5; 60 is a good start

``what=`` names the unit of a count or a quantity ("seconds", "formula evaluations") and
``hint=`` adds the advice after a semicolon. The helpers return the value in a plain Python
type (``int``, ``float``, ``bool``), so the caller can use what they return.

The rules they share:

* ``bool`` is refused where a number is expected: ``True`` is not a count. numpy integer and
  float scalars are accepted (and anything registered as ``numbers.Integral`` or
  ``numbers.Real``).
* A value of the wrong type raises `ParameterTypeError`, which is both a ``TypeError`` and a
  ``ValueError``, so callers (and tests) that catch either keep working; a value of the right
  type out of range, or not among the choices, raises ``ValueError``.
* ``None`` is refused unless ``none_ok=True``; then it is returned as it is.

This is a bottom utility module: the standard library and numpy only, nothing from eurisko,
so that any layer may use it.
"""

from __future__ import annotations

import math
import numbers
import reprlib
from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = ["ParameterTypeError", "check_bool", "check_choice", "check_instance", "check_int",
           "check_number"]


class ParameterTypeError(TypeError, ValueError):
    """A parameter of the wrong type: both a ``TypeError`` and a ``ValueError``."""


# Its public name, also when this file is imported on its own (``python -m doctest``).
ParameterTypeError.__module__ = "eurisko.validation"


_repr = reprlib.Repr()
_repr.maxstring = 60
_repr.maxother = 60
_repr.maxlist = _repr.maxtuple = _repr.maxdict = _repr.maxset = 6


def _message(name: str, expected: str, got: str, hint: str | None) -> str:
    text = f"{name} must be {expected}, got {got}"
    return f"{text}; {hint}" if hint else text


def _a(noun: str) -> str:
    return ("an " if noun[0] in "aeiou" else "a ") + noun


def _is_bool(value: Any) -> bool:
    return isinstance(value, (bool, np.bool_))


def _int_words(low: int | None, high: int | None, what: str | None) -> str:
    noun = f"whole number of {what}" if what else "integer"
    if low is not None and high is not None:
        return f"{_a(noun)} from {low} to {high}"
    if low == 1:
        return f"a positive {noun}"
    if low == 0:
        return f"a non-negative {noun}"
    if low is not None:
        return f"{_a(noun)} >= {low}"
    if high is not None:
        return f"{_a(noun)} <= {high}"
    return _a(noun)


def _number_words(low: float | None, high: float | None, low_open: bool, high_open: bool,
                  what: str | None, finite: bool) -> str:
    noun = ("finite " if finite else "") + (f"number of {what}" if what else "number")
    if low == 0 and low_open and high is None:
        return f"a positive {noun}"
    parts = []
    if low is not None:
        parts.append(f"{'>' if low_open else '>='} {low}")
    if high is not None:
        parts.append(f"{'<' if high_open else '<='} {high}")
    if len(parts) == 2 and not low_open and not high_open:
        return f"{_a(noun)} from {low} to {high}"
    return " ".join([_a(noun), " and ".join(parts)]) if parts else _a(noun)


def check_int(value: Any, name: str, *, low: int | None = None, high: int | None = None,
              none_ok: bool = False, what: str | None = None, hint: str | None = None
              ) -> int | None:
    """``value`` as an ``int``, checked to lie in ``[low, high]``.

    Accepts Python and numpy integers; refuses bools, floats (even whole ones) and text with a
    `ParameterTypeError`, and an integer out of range with a ``ValueError``. ``what`` names
    what is counted ("rows", "formula evaluations"); ``hint`` is advice added to the message.

    >>> check_int(3, "n", low=1)
    3
    >>> check_int(np.int64(8), "lm_rows", low=8, none_ok=True)
    8
    >>> check_int(None, "lm_rows", low=8, none_ok=True) is None
    True
    >>> check_int(0, "symbolic_evals", low=1, what="formula evaluations")
    Traceback (most recent call last):
    ...
    ValueError: symbolic_evals must be a positive whole number of formula evaluations, got 0
    >>> check_int(True, "max_size", low=1)
    Traceback (most recent call last):
    ...
    eurisko.validation.ParameterTypeError: max_size must be a positive integer, got True
    """
    if value is None and none_ok:
        return None
    expected = _int_words(low, high, what) + (" or None" if none_ok else "")
    if _is_bool(value) or not isinstance(value, numbers.Integral):
        if isinstance(value, float | np.floating) and math.isfinite(value) \
                and float(value).is_integer():
            hint = f"write it as an int, e.g. {int(value)}" + (f"; {hint}" if hint else "")
        raise ParameterTypeError(_message(name, expected, _repr.repr(value), hint))
    out = int(value)
    if (low is not None and out < low) or (high is not None and out > high):
        raise ValueError(_message(name, expected, _repr.repr(value), hint))
    return out


def check_number(value: Any, name: str, *, low: float | None = None, high: float | None = None,
                 low_open: bool = False, high_open: bool = False, finite: bool = True,
                 none_ok: bool = False, what: str | None = None, hint: str | None = None
                 ) -> float | None:
    """``value`` as a ``float``, checked to lie between ``low`` and ``high``.

    The bounds are included unless ``low_open`` / ``high_open``; ``low=0, low_open=True`` reads
    "a positive number". NaN and infinities are refused unless ``finite=False``. Integers and
    numpy scalars are accepted; bools, text and complex numbers raise `ParameterTypeError`,
    a number out of range ``ValueError``.

    >>> check_number(2, "time_limit", low=0, low_open=True, what="seconds")
    2.0
    >>> check_number(np.float32(0.5), "optimize_probability", low=0, high=1)
    0.5
    >>> check_number(-1, "time_limit", low=0, low_open=True, none_ok=True, what="seconds")
    Traceback (most recent call last):
    ...
    ValueError: time_limit must be a positive number of seconds or None, got -1
    >>> check_number(float("nan"), "tol", low=0)
    Traceback (most recent call last):
    ...
    ValueError: tol must be a finite number >= 0, got nan
    """
    if value is None and none_ok:
        return None
    if _is_bool(value) or not isinstance(value, numbers.Real):
        expected = _number_words(low, high, low_open, high_open, what, False)
        raise ParameterTypeError(_message(name, expected + (" or None" if none_ok else ""),
                                          _repr.repr(value), hint))
    try:
        out = float(value)
    except OverflowError:  # an int beyond the float range
        out = math.inf if value > 0 else -math.inf
    bad_finite = finite and not math.isfinite(out)
    if bad_finite or math.isnan(out) \
            or (low is not None and (out <= low if low_open else out < low)) \
            or (high is not None and (out >= high if high_open else out > high)):
        expected = _number_words(low, high, low_open, high_open, what, bad_finite)
        raise ValueError(_message(name, expected + (" or None" if none_ok else ""),
                                  _repr.repr(value), hint))
    return out


def _same(value: Any, choice: Any) -> bool:
    if isinstance(choice, bool) or _is_bool(value):  # True == 1, but 1 is not True
        return _is_bool(value) and isinstance(choice, bool) and bool(value) is choice
    try:
        eq = value == choice
    except Exception:  # noqa: BLE001 - an object whose == raises is simply not a match
        return False
    return eq is True or (isinstance(eq, np.bool_) and bool(eq))


def _or_list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def check_choice(value: Any, name: str, choices: Iterable[Any], *, hint: str | None = None
                 ) -> Any:
    """The one of ``choices`` that ``value`` equals, else ``ValueError`` listing them.

    ``True`` and ``1`` are told apart (``1`` does not match ``True``).

    >>> check_choice("weak", "formulation", ("auto", "weak", "derivative"))
    'weak'
    >>> check_choice("integral", "formulation", ("auto", "weak", "derivative"))
    Traceback (most recent call last):
    ...
    ValueError: formulation must be 'auto', 'weak' or 'derivative', got 'integral'
    """
    choices = list(choices)
    for choice in choices:
        if _same(value, choice):
            return choice
    raise ValueError(_message(name, _or_list([repr(c) for c in choices]), _repr.repr(value),
                              hint))


def check_bool(value: Any, name: str, *, hint: str | None = None) -> bool:
    """``value`` as a ``bool``; Python and numpy bools only (``1`` and ``"yes"`` are refused).

    >>> check_bool(np.True_, "warm_start")
    True
    >>> check_bool("yes", "linear_scaling")
    Traceback (most recent call last):
    ...
    eurisko.validation.ParameterTypeError: linear_scaling must be True or False, got 'yes'
    """
    if not _is_bool(value):
        raise ParameterTypeError(_message(name, "True or False", _repr.repr(value), hint))
    return bool(value)


def check_instance(value: Any, name: str, types: type | tuple[type, ...], *,
                   expected: str | None = None, none_ok: bool = False,
                   hint: str | None = None) -> Any:
    """``value`` unchanged if it is an instance of ``types``, else `ParameterTypeError`.

    The message shows the type received rather than the value: the repr of an object such
    as a batch of programs is long and says less. ``expected`` words what is wanted ("a SymPy
    expression"); the default names the types.

    >>> check_instance("x0 + 1", "formula", str)
    'x0 + 1'
    >>> check_instance(3, "formula", str, expected="text", hint="e.g. 'x0 + 1'")
    Traceback (most recent call last):
    ...
    eurisko.validation.ParameterTypeError: formula must be text, got int; e.g. 'x0 + 1'
    """
    if value is None and none_ok:
        return None
    if not isinstance(value, types):
        if expected is None:
            names = [t.__name__ for t in (types if isinstance(types, tuple) else (types,))]
            expected = "an instance of " + _or_list(names)
        expected += " or None" if none_ok else ""
        got = "None" if value is None else type(value).__name__
        raise ParameterTypeError(_message(name, expected, got, hint))
    return value
