"""eurisko: discover the mathematical laws hidden in data.

Importing the package loads nothing heavy: the estimator (pandas, scikit-learn) and the
operator registry (numpy) load when first asked for, so the command line starts quickly.
"""

from eurisko.version import __version__

__all__ = ["SymbolicRegressor", "register_loss", "register_operator", "__version__"]


def __getattr__(name: str):
    if name == "SymbolicRegressor":
        from eurisko.regressor import SymbolicRegressor

        return SymbolicRegressor
    if name == "register_loss":
        from eurisko.evaluate.losses import register_loss

        return register_loss
    if name == "register_operator":
        from eurisko.expr.operators import register_operator

        return register_operator
    raise AttributeError(f"module 'eurisko' has no attribute {name!r}")
