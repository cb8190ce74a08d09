"""Checking the terms at the door: exact integers, enough of them, not absurdly many."""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Iterable
from fractions import Fraction
from typing import Any

MIN_TERMS = 8  # fewer cannot fit even a first-order rule and still check it on 5 unseen terms
MAX_TERMS = 1000  # the exact checks cost about (terms)**2 big-integer products
MAX_DIGITS = 4000  # below Python's 4300-digit limit on int <-> str conversions
_MAX_BITS = int(MAX_DIGITS / math.log10(2))


def check_terms(terms: Any) -> list[int]:
    """The terms as Python ints; TypeError/ValueError with advice for anything else."""
    if isinstance(terms, (str, bytes)):
        raise TypeError("give the terms as a list of integers, e.g. guess([1, 1, 2, 3, 5, 8, 13, "
                        "21, 34, 55]); to read them from text use "
                        "eurisko.sequences.parse_terms(text)")
    if not isinstance(terms, Iterable):
        raise TypeError(f"give the terms as a list of integers, not {type(terms).__name__}")
    items = list(terms)
    if len(items) > MAX_TERMS:
        raise ValueError(f"{len(items)} terms is more than the {MAX_TERMS} this guesser takes; "
                         "the first few hundred terms are plenty to find a rule")
    out: list[int] = []
    for i, t in enumerate(items):
        out.append(_as_int(t, i))
    if len(out) < MIN_TERMS:
        raise ValueError(f"only {len(out)} terms given; give at least {MIN_TERMS} (20 or more "
                         "is better): every rule is fitted on some terms and must then predict "
                         "at least 5 terms it did not see")
    for i, t in enumerate(out):
        if t.bit_length() > _MAX_BITS:
            digits = int(t.bit_length() * math.log10(2)) + 1
            raise ValueError(f"term {i} has about {digits} digits, more than the {MAX_DIGITS} "
                             "this guesser takes; give fewer terms")
    return out


def _as_int(t: Any, i: int) -> int:
    where = f"term {i} ({t!r})"
    if isinstance(t, bool):
        raise TypeError(f"{where} is a bool; give the terms as integers")
    if isinstance(t, numbers.Integral):
        return int(t)
    if isinstance(t, (str, bytes)):
        raise TypeError(f"{where} is text; convert the terms to integers first (int(...)), or "
                        "use eurisko.sequences.parse_terms")
    if isinstance(t, numbers.Real):
        if isinstance(t, Fraction) or getattr(t, "is_Rational", False):
            q = Fraction(int(t.numerator), int(t.denominator))
            if q.denominator == 1:
                return int(q)
            raise ValueError(f"{where} is not an integer; eurisko.sequences finds rules of "
                             "integer sequences (multiply by a common denominator first)")
        try:
            f = float(t)
        except (TypeError, ValueError, OverflowError):
            raise TypeError(f"{where} is not a number") from None
        if not math.isfinite(f) or not f.is_integer():
            raise ValueError(f"{where} is not an integer; eurisko.sequences finds rules of "
                             "integer sequences")
        if abs(f) > 2 ** 53:
            raise ValueError(f"{where} is a float too large to hold an exact integer; pass the "
                             "terms as Python ints")
        return int(f)
    raise TypeError(f"{where} is a {type(t).__name__}; give the terms as integers")


_SPLIT = re.compile(r"[\s,;]+")
_INT = re.compile(r"[+-]?\d+")


def parse_terms(text: str | Iterable[str]) -> list[int]:
    """Integers from text such as ``"1, 1, 2, 5, 14"`` (commas, spaces or semicolons)."""
    if isinstance(text, str):
        tokens = [text]
    else:
        tokens = list(text)
    out = []
    for chunk in tokens:
        for tok in _SPLIT.split(str(chunk).strip()):
            if not tok:
                continue
            if not _INT.fullmatch(tok):
                raise ValueError(f"{tok!r} is not an integer; give the terms as integers "
                                 "separated by spaces or commas, e.g. 1 1 2 5 14 42")
            if len(tok) > MAX_DIGITS + 1:
                raise ValueError(f"a term has {len(tok)} digits, more than the {MAX_DIGITS} "
                                 "this guesser takes")
            out.append(int(tok))
    return out
