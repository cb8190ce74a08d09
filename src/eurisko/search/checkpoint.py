"""Checkpoints of a search: JSON for the facts, ``.npz`` for the program arrays, never pickle.

Writes are atomic: the arrays go to a new ``state-<epoch>.npz``, then ``state.json`` (which
names that file) replaces the old one in one rename, then older ``.npz`` files are removed.
A run killed at any instant leaves a consistent pair behind.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from eurisko.atomic import atomic_write_bytes
from eurisko.expr.operators import CONST, VAR, op_code, registry
from eurisko.expr.program import Program, ProgramBatch
from eurisko.search.engine import SearchState
from eurisko.search.hall_of_fame import HallOfFame

FORMAT_VERSION = 1


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_bytes(path, json.dumps(obj, indent=1, allow_nan=True).encode())


def _code_names() -> list[str]:
    return ["<var>", "<const>"] + [op.name for op in registry()]


def save_state(run_dir: str | Path, state: SearchState, meta: dict) -> None:
    """Save ``state`` and the caller's ``meta`` (estimator settings, feature names...)."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    hof = [(c, *state.hof.entries[c]) for c in sorted(state.hof.entries)]
    pop_programs = [p for pop in state.populations for p in pop]
    arrays = {}
    for prefix, progs in (("hof", [h[1] for h in hof]), ("pop", pop_programs)):
        b = ProgramBatch.from_programs(progs)
        arrays.update({f"{prefix}_codes": b.codes, f"{prefix}_args": b.args,
                       f"{prefix}_node_offsets": b.node_offsets, f"{prefix}_consts": b.consts,
                       f"{prefix}_const_offsets": b.const_offsets})
    import io

    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    npz_name = f"state-{state.epoch:08d}.npz"
    atomic_write_bytes(run_dir / npz_name, buf.getvalue())
    atomic_write_json(run_dir / "state.json", {
        "format": FORMAT_VERSION,
        "arrays": npz_name,
        "op_codes": _code_names(),
        "n_evals": int(state.n_evals),
        "elapsed": float(state.elapsed),
        "epoch": int(state.epoch),
        "interrupted": bool(state.interrupted),
        "stop_reason": state.stop_reason,
        "faults": state.faults,
        "island_sizes": [len(pop) for pop in state.populations],
        "hof": [{"complexity": int(c), "loss": float(loss), "scale": [float(s) for s in sc]}
                for c, _, loss, sc in hof],
        "meta": meta,
    })
    for old in run_dir.glob("state-*.npz"):
        if old.name != npz_name:
            try:
                old.unlink()
            except OSError:
                pass


def _programs(z, prefix: str, remap: np.ndarray) -> list[Program]:
    b = ProgramBatch(remap[z[f"{prefix}_codes"]].astype(np.int16), z[f"{prefix}_args"],
                     z[f"{prefix}_node_offsets"], z[f"{prefix}_consts"],
                     z[f"{prefix}_const_offsets"])
    return b.programs()


def load_state(run_dir: str | Path) -> tuple[SearchState, dict]:
    """The saved state and meta of a run directory; a clear error if there is none."""
    run_dir = Path(run_dir)
    path = run_dir / "state.json"
    if not path.is_file():
        raise FileNotFoundError(
            f"no checkpoint in {run_dir}: expected {path} "
            "(was the run started with run_dir or --out?)")
    info = json.loads(path.read_text())
    if info.get("format") != FORMAT_VERSION:
        raise ValueError(f"{path} has format {info.get('format')}, expected {FORMAT_VERSION}")
    remap = np.array([VAR, CONST] + [op_code(n) for n in info["op_codes"][2:]], dtype=np.int16)
    with np.load(run_dir / info["arrays"], allow_pickle=False) as z:
        hof_programs = _programs(z, "hof", remap)
        pop = _programs(z, "pop", remap)
    hof = HallOfFame()
    for entry, p in zip(info["hof"], hof_programs, strict=True):
        hof.entries[int(entry["complexity"])] = (p, float(entry["loss"]), tuple(entry["scale"]))
    populations, k = [], 0
    for n in info["island_sizes"]:
        populations.append(pop[k:k + n])
        k += n
    state = SearchState(populations=populations, hof=hof, n_evals=int(info["n_evals"]),
                        elapsed=float(info["elapsed"]), epoch=int(info["epoch"]),
                        interrupted=bool(info.get("interrupted", False)),
                        stop_reason=str(info.get("stop_reason", "")),
                        faults=list(info.get("faults", [])))
    return state, info["meta"]
