"""Run many formulas on many rows. Backends share the contract in `base`."""

from eurisko.evaluate.base import Backend, Dataset, Losses, scaled_losses
from eurisko.evaluate.numba_backend import NumbaBackend
from eurisko.evaluate.reference import NumpyBackend

__all__ = ["Backend", "Dataset", "Losses", "NumbaBackend", "NumpyBackend", "scaled_losses"]
