"""The numpy reference evaluator: slow and plain, the yardstick every backend is tested against."""

from __future__ import annotations

import numpy as np

from eurisko.evaluate.base import Dataset, Losses, scaled_losses
from eurisko.expr.operators import CONST, VAR, operator_of
from eurisko.expr.program import Program, ProgramBatch

_GRAD_NS = {"np": np, "math": np}
_GRAD_CODE: dict[str, object] = {}


def _grad(src: str, env: dict) -> np.ndarray:
    """Value of a registry derivative expression (operator source code, never user data)."""
    code = _GRAD_CODE.get(src)
    if code is None:
        code = _GRAD_CODE[src] = compile(src, "<operator derivative>", "eval")
    return eval(code, _GRAD_NS, env)


def eval_program(p: Program, Xt: np.ndarray) -> np.ndarray:
    """Output of one program on columns ``Xt`` (n_features, n_rows)."""
    n = Xt.shape[1]
    stack: list[np.ndarray] = []
    with np.errstate(all="ignore"):
        for code, arg in zip(p.codes.tolist(), p.args.tolist(), strict=True):
            if code == VAR:
                stack.append(Xt[arg].astype(np.float64))
            elif code == CONST:
                stack.append(np.full(n, p.consts[arg]))
            else:
                op = operator_of(code)
                if op.arity == 1:
                    stack.append(np.asarray(op.numpy(stack.pop()), dtype=np.float64))
                else:
                    b = stack.pop()
                    a = stack.pop()
                    stack.append(np.asarray(op.numpy(a, b), dtype=np.float64))
    return stack[0]


def jacobian_program(p: Program, Xt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Output and forward-mode derivatives with respect to each constant of ``p``."""
    n = Xt.shape[1]
    k = p.n_consts
    stack: list[tuple[np.ndarray, np.ndarray]] = []
    with np.errstate(all="ignore"):
        for code, arg in zip(p.codes.tolist(), p.args.tolist(), strict=True):
            if code == VAR:
                stack.append((Xt[arg].astype(np.float64), np.zeros((k, n))))
            elif code == CONST:
                d = np.zeros((k, n))
                d[arg] = 1.0
                stack.append((np.full(n, p.consts[arg]), d))
            else:
                op = operator_of(code)
                if op.arity == 1:
                    a, da = stack.pop()
                    y = np.asarray(op.numpy(a), dtype=np.float64)
                    ga = _grad(op.grad[0], {"a": a, "y": y})
                    stack.append((y, da * ga))
                else:
                    b, db = stack.pop()
                    a, da = stack.pop()
                    y = np.asarray(op.numpy(a, b), dtype=np.float64)
                    env = {"a": a, "b": b, "y": y}
                    ga = _grad(op.grad[0], env)
                    gb = _grad(op.grad[1], env)
                    stack.append((y, da * ga + db * gb))
    return stack[0]


class NumpyBackend:
    """Reference backend: one numpy call per node, per program."""

    name = "numpy"

    def predict(self, batch: ProgramBatch, data: Dataset) -> np.ndarray:
        out = np.empty((batch.n_programs, data.n_rows))
        for i in range(batch.n_programs):
            out[i] = eval_program(batch.program(i), data.Xt)
        return out

    def losses(self, batch: ProgramBatch, data: Dataset, linear_scaling: bool = False) -> Losses:
        if data.y is None:
            raise ValueError("losses need a target: build the Dataset with y")
        return scaled_losses(self.predict(batch, data), data.y, data.w, linear_scaling,
                             data.loss)

    def jacobian(self, batch: ProgramBatch, data: Dataset) -> tuple[np.ndarray, np.ndarray]:
        pred = np.empty((batch.n_programs, data.n_rows))
        jac = np.empty((len(batch.consts), data.n_rows))
        for i in range(batch.n_programs):
            pred[i], d = jacobian_program(batch.program(i), data.Xt)
            jac[batch.const_offsets[i]:batch.const_offsets[i + 1]] = d
        return pred, jac
