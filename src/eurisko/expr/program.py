"""A formula is a flat postfix program; a batch packs many into contiguous arrays.

``Program`` holds three parallel pieces:

- ``codes`` (int16): op code of each node in postfix order (0 variable, 1 constant, else operator);
- ``args`` (int32): for a variable node the column index, for a constant node the index into
  ``consts``, 0 for operators;
- ``consts`` (float64): the program's constants, numbered in order of first appearance.

``ProgramBatch`` concatenates programs so the kernels walk them without Python objects:
program ``i`` owns nodes ``node_offsets[i]:node_offsets[i+1]`` and constants
``const_offsets[i]:const_offsets[i+1]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from eurisko.expr.operators import CONST, VAR, arity_table, complexity_key, complexity_table

# facts that depend on the shape, not the constants (``_template_shape``: eurisko.expr.template)
_SHAPE_CACHE = ("_complexity", "_sizes", "_template_shape")


@dataclass(eq=False)
class Program:
    """One formula in postfix form. Treat as immutable: mutations build new programs."""

    codes: np.ndarray
    args: np.ndarray
    consts: np.ndarray

    def __post_init__(self) -> None:
        self.codes = np.ascontiguousarray(self.codes, dtype=np.int16)
        self.args = np.ascontiguousarray(self.args, dtype=np.int32)
        self.consts = np.ascontiguousarray(self.consts, dtype=np.float64)

    def __len__(self) -> int:
        return len(self.codes)

    @property
    def n_consts(self) -> int:
        return len(self.consts)

    def complexity(self) -> int:
        """Sum of the node complexities (1 per node for the built-in operators); cached."""
        key = complexity_key()
        c = self.__dict__.get("_complexity")
        if c is None or c[0] != key:
            c = self.__dict__["_complexity"] = (key, int(complexity_table()[self.codes].sum()))
        return c[1]

    def with_consts(self, consts: np.ndarray) -> Program:
        q = Program(self.codes, self.args, np.asarray(consts, dtype=np.float64).copy())
        d = self.__dict__
        for k in _SHAPE_CACHE:
            if k in d:
                q.__dict__[k] = d[k]
        return q

    def validate(self, n_features: int | None = None) -> None:
        """Raise ValueError unless this is a well-formed postfix program."""
        ar = arity_table()
        if len(self.codes) == 0:
            raise ValueError("a program needs at least one node")
        if self.codes.min() < 0 or self.codes.max() >= len(ar):
            raise ValueError("a program holds an op code outside the registry")
        depth = 0
        for code in self.codes:
            depth += 1 - int(ar[code]) if code > CONST else 1
            if code > CONST and depth < 1:
                raise ValueError("postfix program pops an empty stack")
        if depth != 1:
            raise ValueError(f"postfix program leaves {depth} values on the stack, not 1")
        cidx = self.args[self.codes == CONST]
        if len(cidx) and (cidx.min() < 0 or cidx.max() >= len(self.consts)):
            raise ValueError("a constant node points outside the constants array")
        if n_features is not None:
            vidx = self.args[self.codes == VAR]
            if len(vidx) and (vidx.min() < 0 or vidx.max() >= n_features):
                raise ValueError("a variable node points outside the data columns")

    def to_dict(self, names: Sequence[str] | None = None) -> dict:
        """JSON-ready form with operator names (not codes), so saved runs survive registry edits."""
        from eurisko.expr.operators import operator_of

        nodes = []
        for c, a in zip(self.codes.tolist(), self.args.tolist(), strict=True):
            if c == VAR:
                nodes.append(["x", a])
            elif c == CONST:
                nodes.append(["c", a])
            else:
                nodes.append([operator_of(c).name])
        return {"nodes": nodes, "consts": self.consts.tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> Program:
        from eurisko.expr.operators import op_code

        codes, args = [], []
        for node in d["nodes"]:
            if node[0] == "x":
                codes.append(VAR)
                args.append(int(node[1]))
            elif node[0] == "c":
                codes.append(CONST)
                args.append(int(node[1]))
            else:
                codes.append(op_code(node[0]))
                args.append(0)
        return cls(np.array(codes), np.array(args), np.array(d["consts"], dtype=np.float64))


def var(i: int) -> Program:
    """The program made of variable ``i`` alone."""
    return Program(np.array([VAR]), np.array([i]), np.zeros(0))


def const(value: float) -> Program:
    """The program made of one constant."""
    return Program(np.array([CONST]), np.array([0]), np.array([value]))


@dataclass(eq=False)
class ProgramBatch:
    """Many programs in contiguous arrays, the unit every evaluation backend consumes."""

    codes: np.ndarray
    args: np.ndarray
    node_offsets: np.ndarray
    consts: np.ndarray
    const_offsets: np.ndarray

    @property
    def n_programs(self) -> int:
        return len(self.node_offsets) - 1

    def __len__(self) -> int:
        return self.n_programs

    @property
    def n_nodes(self) -> int:
        return int(self.node_offsets[-1])

    @classmethod
    def from_programs(cls, programs: Sequence[Program]) -> ProgramBatch:
        n = len(programs)
        node_off = np.zeros(n + 1, dtype=np.int64)
        const_off = np.zeros(n + 1, dtype=np.int64)
        if n:
            node_off[1:] = np.cumsum([len(p.codes) for p in programs])
            const_off[1:] = np.cumsum([len(p.consts) for p in programs])
            codes = np.concatenate([p.codes for p in programs]).astype(np.int16, copy=False)
            args = np.concatenate([p.args for p in programs]).astype(np.int32, copy=False)
            consts = np.concatenate([p.consts for p in programs]).astype(np.float64, copy=False)
        else:
            codes = np.zeros(0, np.int16)
            args = np.zeros(0, np.int32)
            consts = np.zeros(0, np.float64)
        return cls(codes, args, node_off, consts, const_off)

    def program(self, i: int) -> Program:
        a, b = self.node_offsets[i], self.node_offsets[i + 1]
        c, d = self.const_offsets[i], self.const_offsets[i + 1]
        return Program(self.codes[a:b], self.args[a:b], self.consts[c:d])

    def programs(self) -> list[Program]:
        return [self.program(i) for i in range(self.n_programs)]
