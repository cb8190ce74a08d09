"""The worker side of a search: the islands one worker owns, and what travels to and from it.

Every executor (in this process, local processes, Dask) runs the same `GroupHost`: it receives
the fit's `Job` once (configuration and data), opens island groups, and answers epoch requests
with packed program arrays (`pack_programs`), never pickled ``Program`` objects: an epoch of
eight islands returns about 800 programs, which pack into five contiguous arrays.
Requests carry the seconds left, not a deadline: a clock reading means nothing on another host.
"""

from __future__ import annotations

import pickle
import random
import time
from dataclasses import dataclass, field

import numpy as np

from eurisko.evaluate.base import Backend, Dataset
from eurisko.evaluate.losses import LossSpec
from eurisko.expr.program import Program, ProgramBatch
from eurisko.search.hall_of_fame import HallOfFame
from eurisko.search.island import Island, Migrant, SearchConfig, evaluate_batch
from eurisko.search.mutation import Grammar

Packed = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def default_backend(n_threads: int | None = 1) -> Backend:
    """The fastest CPU backend that imports here (numba, else the numpy reference).

    One thread by default: the search parallelises across processes (``n_jobs``), and its
    batches are too small for threads to pay for their wake-up.
    """
    try:
        from eurisko.evaluate.numba_backend import NumbaBackend
    except ImportError:  # pragma: no cover - numba is a hard dependency
        from eurisko.evaluate.reference import NumpyBackend

        return NumpyBackend()
    return NumbaBackend(n_threads=n_threads)


# --- packing --------------------------------------------------------------------------------


def pack_programs(programs: list[Program]) -> Packed:
    """Programs as the five arrays of a `ProgramBatch` (what crosses a process boundary)."""
    b = ProgramBatch.from_programs(programs)
    return b.codes, b.args, b.node_offsets, b.consts, b.const_offsets


def unpack_programs(packed: Packed) -> list[Program]:
    return ProgramBatch(*packed).programs()


def pack_migrants(migrants: list[Migrant]) -> tuple[Packed, np.ndarray, np.ndarray]:
    losses = np.array([m[1] for m in migrants], dtype=float)
    scales = np.array([m[2] for m in migrants], dtype=float).reshape(-1, 2)
    return pack_programs([m[0] for m in migrants]), losses, scales


def unpack_migrants(packed: tuple[Packed, np.ndarray, np.ndarray]) -> list[Migrant]:
    progs, losses, scales = packed
    return [(p, float(loss), (float(s[0]), float(s[1])))
            for p, loss, s in zip(unpack_programs(progs), losses, scales, strict=True)]


def pack_hof(hof: HallOfFame) -> tuple[Packed, np.ndarray, np.ndarray]:
    return pack_migrants(list(hof.entries.values()))


def unpack_hof(packed: tuple[Packed, np.ndarray, np.ndarray]) -> HallOfFame:
    hof = HallOfFame()
    for p, loss, sc in unpack_migrants(packed):
        hof.entries[p.complexity()] = (p, loss, sc)
    return hof


def pack_population(pops: list[Program] | None) -> Packed | None:
    return None if pops is None else pack_programs(pops)


# --- the islands of one worker --------------------------------------------------------------


class IslandGroup:
    """The islands one worker owns; their children are evaluated in one batch per step."""

    def __init__(self, config: SearchConfig, data: Dataset, ids: list[int],
                 seeds: list[np.random.SeedSequence], populations: list[list[Program] | None],
                 y_var: float, backend: Backend | None = None):
        self.backend = backend or default_backend()
        if config.template is not None:
            from eurisko.search.template import TemplateGrammar

            grammar = TemplateGrammar(config.operators, config.template)
        else:
            grammar = Grammar(config.operators, data.n_features)
        self.ids = ids
        self.islands = []
        for seed, pop in zip(seeds, populations, strict=True):
            rng = random.Random(int(seed.generate_state(2, np.uint64)[0]))
            isl = Island(config, grammar, data, self.backend, rng, y_var)
            isl.seed(pop)
            self.islands.append(isl)
        self.config = config

    def n_evals(self) -> int:
        return sum(isl.n_evals for isl in self.islands)

    def hall_of_fame(self) -> HallOfFame:
        """The best of the current populations (so a search stopped at once still has some)."""
        hof = HallOfFame()
        for isl in self.islands:
            hof.update(isl.programs, isl.losses, isl.scales)
        return hof

    def epoch(self, immigrants: dict[int, list[Migrant]], time_left: float | None,
              evals_left: int | None = None) -> dict:
        """Run ``steps_per_epoch`` steps on every island, children evaluated in one batch.

        The epoch ends early once ``time_left`` seconds have passed or it has spent
        ``evals_left`` evaluations, so that a search stops within one step of its budget
        rather than one epoch (an epoch of a search whose formulas carry many constants costs
        thousands of evaluations). Returns the reply, packed (`pack_programs`)."""
        deadline = None if time_left is None else time.monotonic() + time_left
        hof = HallOfFame()
        evals_before = self.n_evals()
        for i, isl in zip(self.ids, self.islands, strict=True):
            isl.receive(immigrants.get(i, []))
            hof.update(isl.programs, isl.losses, isl.scales)
        rng = self.islands[0].rng
        for _ in range(self.config.steps_per_epoch):
            broods = [isl.breed() for isl in self.islands]
            flat = [p for b in broods for p in b]
            progs, losses, scales, n = evaluate_batch(flat, self.islands[0].data, self.backend,
                                                      self.config, rng, self.islands[0].fit_data)
            self.islands[0].n_evals += n
            k = 0
            for isl, brood in zip(self.islands, broods, strict=True):
                m = len(brood)
                isl.absorb(progs[k:k + m], losses[k:k + m], scales[k:k + m])
                k += m
            hof.update(progs, losses, scales)
            if deadline is not None and time.monotonic() > deadline:
                break
            if evals_left is not None and self.n_evals() - evals_before >= evals_left:
                break
        # emigrants are members of the population: sent as indices into the packed arrays
        flat_pop, sizes, em_idx, em_loss, em_scale, em_sizes = [], [], [], [], [], []
        for isl in self.islands:
            k = self.config.n_migrants
            order = np.argsort(isl._scores(), kind="stable")[:k] if isl.programs else []
            em_idx.extend(len(flat_pop) + int(i) for i in order)
            em_loss.extend(float(isl.losses[i]) for i in order)
            em_scale.extend(tuple(isl.scales[i]) for i in order)
            em_sizes.append(len(order))
            flat_pop.extend(isl.programs)
            sizes.append(len(isl.programs))
        return {
            "kind": "epoch",
            "hof": pack_hof(hof),
            "n_evals": self.n_evals() - evals_before,
            "ids": list(self.ids),
            "pop": pack_programs(flat_pop),
            "sizes": sizes,
            "emigrants": (np.array(em_idx, dtype=np.int64), np.array(em_loss, dtype=float),
                          np.array(em_scale, dtype=float).reshape(-1, 2), em_sizes),
        }


def unpack_epoch(reply: dict) -> tuple[dict[int, list[Program]], dict[int, list[Migrant]]]:
    """The populations and emigrants of an epoch reply, by island."""
    flat = unpack_programs(reply["pop"])
    idx, losses, scales, em_sizes = reply["emigrants"]
    populations, emigrants, k, e = {}, {}, 0, 0
    for i, n, m in zip(reply["ids"], reply["sizes"], em_sizes, strict=True):
        populations[i] = flat[k:k + n]
        emigrants[i] = [(flat[int(idx[t])], float(losses[t]),
                         (float(scales[t][0]), float(scales[t][1]))) for t in range(e, e + m)]
        k += n
        e += m
    return populations, emigrants


@dataclass
class Job:
    """What every worker needs once per fit: the configuration, the data and the backend.

    ``operators`` (cloudpickled custom operators) and ``fingerprint`` let a worker on another
    host rebuild the user's operator registry (`eurisko.expr.operators.install_operators`);
    ``losses`` and ``loss_fingerprint`` do the same for custom losses
    (`eurisko.evaluate.losses.install_losses`)."""

    token: str
    config: SearchConfig
    Xt: np.ndarray
    y: np.ndarray
    w: np.ndarray | None
    y_var: float
    fingerprint: str = ""
    operators: bytes | None = None
    backend: Backend | None = None  # the driver's evaluation backend (None: `default_backend`)
    loss: LossSpec = field(default_factory=LossSpec)  # how residuals are charged (`Dataset`)
    losses: bytes | None = None
    loss_fingerprint: str = ""


def _install(what: str, blob: bytes | None, wanted: str, fingerprint, install) -> None:
    """Rebuild this worker's registry of ``what`` (custom operators or losses) as the
    driver's, from ``blob``, unless it already is."""
    if blob is None or fingerprint() == wanted:
        return
    install(pickle.loads(blob))
    if fingerprint() != wanted:
        raise RuntimeError(f"this worker's {what} differ from the driver's after installing "
                           f"its custom {what}; are eurisko's versions the same on every host?")


class GroupHost:
    """A worker's island groups of one fit, answering the driver's messages.

    ``("group", gid, ids, seeds, populations)`` opens a group (populations packed or None;
    answered ``{"kind": "ready"}`` with its evaluations and hall of fame), ``("epoch", gid,
    immigrants, time_left, evals_left)`` runs one epoch of it."""

    def __init__(self, job: Job, backend: Backend | None = None):
        from eurisko.evaluate.losses import install_losses, loss_fingerprint
        from eurisko.expr.operators import install_operators, registry_fingerprint

        _install("operators", job.operators, job.fingerprint, registry_fingerprint,
                 install_operators)
        _install("losses", job.losses, job.loss_fingerprint, loss_fingerprint, install_losses)
        self.job = job
        self.data = Dataset(job.Xt, job.y, job.w, job.loss)
        self.backend = backend or job.backend
        self.groups: dict[int, IslandGroup] = {}

    def handle(self, msg: tuple) -> dict:
        if msg[0] == "group":
            gid, ids, seeds, pops = msg[1:]
            pops = [None if p is None else unpack_programs(p) for p in pops]
            group = IslandGroup(self.job.config, self.data, ids, seeds, pops, self.job.y_var,
                                self.backend)
            self.groups[gid] = group
            return {"kind": "ready", "gid": gid, "n_evals": group.n_evals(),
                    "hof": pack_hof(group.hall_of_fame())}
        if msg[0] == "epoch":
            gid, immigrants, time_left, evals_left = msg[1:]
            group = self.groups.get(gid)
            if group is None:  # this worker never had it (a task moved off a lost worker)
                return {"kind": "lost", "gid": gid}
            reply = group.epoch({i: unpack_migrants(m) for i, m in immigrants.items()},
                                time_left, evals_left)
            reply["gid"] = gid
            return reply
        raise ValueError(f"unknown message {msg[0]!r}")
