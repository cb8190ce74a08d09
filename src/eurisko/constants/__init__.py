"""What closed form has this number? Integer relations, algebraic numbers, continued fractions."""

from eurisko.constants._numbers import parse_constant
from eurisko.constants.basis import DEFAULT_BASIS, POWER_ATOMS, BasisConstant
from eurisko.constants.cf import continued_fraction, find_continued_fractions
from eurisko.constants.relations import identify
from eurisko.constants.results import ContinuedFraction, Identification, Progress, Results

__all__ = ["identify", "find_continued_fractions", "continued_fraction", "parse_constant",
           "Identification", "ContinuedFraction", "Results", "Progress", "BasisConstant",
           "DEFAULT_BASIS", "POWER_ATOMS"]
