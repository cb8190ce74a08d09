"""Which differential equations drive this motion? Discover dx/dt = f(x) from trajectories.

    >>> from eurisko.dynamics import discover_ode
    >>> model = discover_ode(t, X, names=["x", "y", "z"])   # doctest: +SKIP
    >>> print(model)                                       # doctest: +SKIP
    dx/dt = -10.0*x + 10.0*y
    ...

The parts are small classes that can be swapped (as in PySINDy): differentiators
(`FiniteDifference`, `SavitzkyGolay`, `SmoothingSpline`, `Tikhonov`, `AutoDifferentiator`),
libraries (`PolynomialLibrary`, `CustomLibrary`), the weak formulation (`WeakForm`), the sparse
regression (`SparseRegression`) and the symbolic fallback (`SymbolicSearch`).
`check_state_names` checks names for the states before a long run, as `discover_ode` would.
"""

from collections.abc import Sequence

from eurisko.dynamics._validation import state_names as _state_names
from eurisko.dynamics.differentiation import (
    AutoDifferentiator,
    Differentiator,
    FiniteDifference,
    SavitzkyGolay,
    SmoothingSpline,
    Tikhonov,
    estimate_noise,
)
from eurisko.dynamics.discover import discover_ode
from eurisko.dynamics.library import ConcatLibrary, CustomLibrary, Library, PolynomialLibrary
from eurisko.dynamics.model import ODEModel
from eurisko.dynamics.simulate import SimulationResult, SimulationWarning
from eurisko.dynamics.sparse import SparseRegression
from eurisko.dynamics.symbolic import SymbolicSearch
from eurisko.dynamics.weak import WeakForm

__all__ = [
    "AutoDifferentiator", "ConcatLibrary", "CustomLibrary", "Differentiator", "FiniteDifference",
    "Library", "ODEModel", "PolynomialLibrary", "SavitzkyGolay", "SimulationResult",
    "SimulationWarning", "SmoothingSpline", "SparseRegression", "SymbolicSearch", "Tikhonov",
    "WeakForm", "check_state_names", "discover_ode", "estimate_noise",
]


def check_state_names(names: Sequence[str]) -> list[str]:
    """The state names as `discover_ode` takes them in ``names``, checked the same way.

    Each must be usable in an equation (letters, digits and underscores, starting with a letter,
    not a reserved name such as ``t``) and all must differ. Returns them as a list of str;
    raises ``ValueError`` (or ``TypeError`` for a single str) whose message says what to change.
    """
    return _state_names(names, len(names))
