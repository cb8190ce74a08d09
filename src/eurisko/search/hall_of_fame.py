"""Best formula found at each complexity: the raw material of the Pareto front."""

from __future__ import annotations

import numpy as np

from eurisko.expr.program import Program


class HallOfFame:
    """For every complexity, the lowest-loss program seen (with its linear-scaling a, b)."""

    def __init__(self) -> None:
        self.entries: dict[int, tuple[Program, float, tuple[float, float]]] = {}

    def update(self, programs: list[Program], losses: np.ndarray, scales: np.ndarray) -> bool:
        """Record candidates; True when any entry improved."""
        improved = False
        for p, loss, sc in zip(programs, losses, scales, strict=True):
            if not np.isfinite(loss):
                continue
            c = p.complexity()
            cur = self.entries.get(c)
            if cur is None or loss < cur[1]:
                self.entries[c] = (p, float(loss), (float(sc[0]), float(sc[1])))
                improved = True
        return improved

    def merge(self, other: HallOfFame) -> bool:
        improved = False
        for c, (p, loss, sc) in other.entries.items():
            cur = self.entries.get(c)
            if cur is None or loss < cur[1]:
                self.entries[c] = (p, loss, sc)
                improved = True
        return improved

    def best_loss(self) -> float:
        return min((e[1] for e in self.entries.values()), default=float("inf"))

    def front(self) -> list[tuple[int, Program, float, tuple[float, float]]]:
        """Entries that beat every simpler one, by increasing complexity."""
        out = []
        best = float("inf")
        for c in sorted(self.entries):
            p, loss, sc = self.entries[c]
            if loss < best:
                out.append((c, p, loss, sc))
                best = loss
        return out
