"""What rule makes this integer sequence? Recurrences, closed forms, generating functions.

Example::

    from eurisko.sequences import guess

    g = guess([1, 1, 2, 5, 14, 42, 132, 429, 1430, 4862, 16796, 58786])
    g[0].recurrence           # Eq((n + 1)*a(n), 2*(2*n - 1)*a(n - 1)), for n >= 1
    g[0].closed_form          # binomial(2*n, n)/(n + 1)
    g[0].generating_function  # (1 - sqrt(1 - 4*x))/(2*x)
    g[0].extend(3)            # [208012, 742900, 2674440]

Every rule is exact (integer and rational arithmetic, no floating point), fitted on the first
terms and checked on at least 5 terms it did not see; rules are ranked by their number of
unknowns. The first term is a(0) unless ``offset`` says otherwise.
"""

from eurisko.sequences._input import MIN_TERMS, parse_terms
from eurisko.sequences.algebraic import AlgebraicGF
from eurisko.sequences.guess import Guess, Guesses, guess
from eurisko.sequences.recurrence import Recurrence

__all__ = ["guess", "Guess", "Guesses", "Recurrence", "AlgebraicGF", "parse_terms", "MIN_TERMS"]
