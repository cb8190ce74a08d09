"""Constants inside a formula: Levenberg-Marquardt over whole batches, and linear scaling."""

from eurisko.fit.lm import FitResult, fit_constants, fit_program
from eurisko.fit.scaling import linear_scale

__all__ = ["FitResult", "fit_constants", "fit_program", "linear_scale"]
