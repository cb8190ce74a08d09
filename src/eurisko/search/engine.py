"""Runs the islands: in this process (``n_jobs=1``) or in worker processes, epoch by epoch.

An epoch is a fixed number of breeding steps on every island of a process. Between epochs the
main process merges the halls of fame, moves migrants between islands (to each island after
every ``migration_interval`` of its epochs), reports progress, saves
a checkpoint and checks the stopping rules (time, evaluations, loss threshold, exact fit,
Ctrl-C). Counting work in steps rather than seconds is what makes ``n_jobs=1`` with
``max_evals`` reproducible. Worker processes are not kept in step: each gets its next epoch
(with the latest migrants) as soon as it reports, so none waits for the slowest.
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing as mp
import multiprocessing.connection as mp_connection
import random
import signal
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from eurisko.evaluate.base import Backend, Dataset
from eurisko.evaluate.losses import baseline_loss
from eurisko.expr.program import Program
from eurisko.search.hall_of_fame import HallOfFame
from eurisko.search.island import Island, Migrant, SearchConfig, evaluate_batch
from eurisko.search.mutation import Grammar


@dataclass
class SearchProgress:
    """What a progress callback receives, a few times a second."""

    elapsed: float
    n_evals: int
    evals_per_second: float
    best_loss: float
    front: list[tuple[int, float, str]]
    done: bool = False


@dataclass
class SearchState:
    """Everything needed to resume: the populations, the hall of fame and the counters."""

    populations: list[list[Program]]
    hof: HallOfFame = field(default_factory=HallOfFame)
    n_evals: int = 0
    elapsed: float = 0.0
    epoch: int = 0
    interrupted: bool = False
    stop_reason: str = ""


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


class IslandGroup:
    """The islands one process owns."""

    def __init__(self, config: SearchConfig, data: Dataset, ids: list[int],
                 seeds: list[np.random.SeedSequence], populations: list[list[Program] | None],
                 y_var: float, backend: Backend | None = None):
        self.backend = backend or default_backend()
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

    def epoch(self, immigrants: dict[int, list[Migrant]], deadline: float | None,
              evals_left: int | None = None) -> dict:
        """Run ``steps_per_epoch`` steps on every island, children evaluated in one batch.

        The epoch ends early at the deadline or once it has spent ``evals_left`` evaluations,
        so that a search stops within one step of its budget rather than one epoch (an epoch
        of a search whose formulas carry many constants costs thousands of evaluations)."""
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
        return {
            "hof": hof,
            "n_evals": self.n_evals() - evals_before,
            "populations": {i: list(isl.programs) for i, isl in zip(self.ids, self.islands,
                                                                   strict=True)},
            "emigrants": {i: isl.best(self.config.n_migrants)
                          for i, isl in zip(self.ids, self.islands, strict=True)},
        }


def _worker(conn) -> None:
    """Worker process: owns some islands of one search at a time, runs an epoch per request.

    Messages: ``("start", config, Xt, y, w, loss, ids, seeds, populations, y_var)`` begins a search
    (answered ``("ready", n_evals, hof)``), ``("epoch", immigrants, deadline)`` runs one,
    ``("end",)`` drops the search; ``None`` exits. Between searches the process stays up, so
    the next fit in the same session does not pay for starting Python, numba and the kernels.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        import numba

        numba.set_num_threads(1)
    except Exception:  # noqa: BLE001 - threading layer unavailable: run as is
        pass
    group = None
    while True:
        msg = conn.recv()
        if msg is None:
            break
        if msg[0] == "start":
            config, Xt, y, w, loss, ids, seeds, populations, y_var = msg[1:]
            group = IslandGroup(config, Dataset(Xt, y, w, loss), ids, seeds, populations, y_var)
            conn.send(("ready", group.n_evals(), group.hall_of_fame()))
        elif msg[0] == "epoch":
            conn.send(group.epoch(*msg[1:]))
        else:
            group = None
    conn.close()


@contextlib.contextmanager
def _main_module_hidden():
    """Start workers without re-running the user's script (no ``__main__`` guard needed).

    Spawned processes import the parent's main module unless it looks interactive. Workers
    need only eurisko, so hide the script, unless custom operators were registered: those
    live in the user's code and are re-registered by importing it (then the script needs the
    usual ``if __name__ == "__main__":`` guard).
    """
    from eurisko.evaluate.losses import custom_losses
    from eurisko.expr.operators import custom_operators

    main = sys.modules.get("__main__")
    if main is None or custom_operators() or custom_losses():
        yield
        return
    saved = {k: main.__dict__[k] for k in ("__file__", "__spec__") if k in main.__dict__}
    main.__dict__.pop("__file__", None)
    main.__dict__["__spec__"] = None
    try:
        yield
    finally:
        main.__dict__.pop("__spec__", None)
        main.__dict__.update(saved)


class _Workers:
    """Worker processes (spawned: safe with numba's threads), kept between searches."""

    _live: dict[tuple[int, str], _Workers] = {}

    def __init__(self, n_jobs: int):
        ctx = mp.get_context("spawn")
        self.conns, self.procs = [], []
        for _ in range(n_jobs):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_worker, args=(child,), daemon=True)
            with _main_module_hidden():
                proc.start()
            self.conns.append(parent)
            self.procs.append(proc)

    @classmethod
    def acquire(cls, n_jobs: int) -> _Workers:
        """Idle live workers for ``n_jobs`` (and today's operator registry), else new ones."""
        from eurisko.evaluate.losses import loss_fingerprint
        from eurisko.expr.operators import registry_fingerprint

        key = (n_jobs, registry_fingerprint() + loss_fingerprint())
        workers = cls._live.pop(key, None)
        if workers is not None and all(p.is_alive() for p in workers.procs):
            return workers
        if workers is not None:
            workers.shutdown()
        return cls(n_jobs)

    def release(self, n_jobs: int) -> None:
        """Back to the idle set, for the next search in this session."""
        from eurisko.evaluate.losses import loss_fingerprint
        from eurisko.expr.operators import registry_fingerprint

        key = (n_jobs, registry_fingerprint() + loss_fingerprint())
        old = _Workers._live.pop(key, None)
        if old is not None:
            old.shutdown()
        _Workers._live[key] = self

    def shutdown(self) -> None:
        for c in self.conns:
            try:
                c.send(None)
            except (BrokenPipeError, OSError):
                pass
        for p in self.procs:
            p.join(timeout=2)
            if p.is_alive():  # mid-epoch, blocked sending a result nobody reads any more
                p.terminate()
                p.join(timeout=2)

    @classmethod
    def shutdown_all(cls) -> None:
        while cls._live:
            cls._live.popitem()[1].shutdown()


atexit.register(_Workers.shutdown_all)


class _Pool:
    """One search's island groups spread over the worker processes."""

    def __init__(self, n_jobs, config, data, seeds, populations, y_var):
        self.n_jobs = n_jobs
        self.workers = _Workers.acquire(n_jobs)
        self.conns = self.workers.conns
        self.seed_evals = 0
        self.seed_hof = HallOfFame()
        self.pending: set[int] = set()
        self.shares: dict[int, int] = {}  # evaluations granted to each running epoch
        self.ids = []
        for j, c in enumerate(self.conns):
            ids = list(range(j, config.n_islands, n_jobs))
            try:
                c.send(("start", config, data.Xt, data.y, data.w, data.loss, ids,
                        [seeds[i] for i in ids],
                        [populations[i] for i in ids], y_var))
            except (BrokenPipeError, OSError):
                pass
            self.ids.append(ids)
        for c in self.conns:
            try:
                msg = c.recv()
                ok = msg[0] == "ready"
                self.seed_evals += int(msg[1])
                self.seed_hof.merge(msg[2])
            except (EOFError, OSError, TypeError, IndexError):
                ok = False
            if not ok:
                self.close(reuse=False)
                raise RuntimeError(
                    "a search worker process failed to start (see its error above); "
                    "n_jobs=1 runs the search in this process")

    def submit(self, j: int, immigrants: dict, deadline: float | None,
               evals_left: int | None) -> None:
        """Worker ``j`` starts an epoch of its islands, with its share of the budget left.

        The epochs still running have their shares set aside, so that all workers together
        overshoot ``max_evals`` by at most about one step each."""
        share = None
        if evals_left is not None:
            free = evals_left - sum(self.shares.get(k, 0) for k in self.pending if k != j)
            share = max(1, free // self.n_jobs)
            self.shares[j] = share
        self.conns[j].send(("epoch", {i: immigrants.get(i, []) for i in self.ids[j]}, deadline,
                            share))
        self.pending.add(j)

    def collect(self) -> list[tuple[int, dict]]:
        """The epochs that have finished: waits for one at least, not for the slowest."""
        ready = mp_connection.wait([self.conns[j] for j in sorted(self.pending)])
        out = []
        for j in sorted(self.pending):
            if self.conns[j] in ready:
                try:
                    out.append((j, self.conns[j].recv()))
                except (EOFError, OSError):
                    raise RuntimeError(
                        "a search worker process died (see its error above); n_jobs=1 runs "
                        "the search in this process") from None
                self.pending.discard(j)
        return out

    def close(self, reuse: bool) -> None:
        """End the search; workers that finished cleanly wait for the next one."""
        if reuse:
            try:
                for c in self.conns:
                    c.send(("end",))
            except (BrokenPipeError, OSError):
                reuse = False
        if reuse:
            self.workers.release(self.n_jobs)
        else:
            self.workers.shutdown()


def run_search(
    data: Dataset,
    config: SearchConfig,
    *,
    seed: int | None,
    n_jobs: int = 1,
    time_limit: float | None = None,
    max_evals: int | None = None,
    loss_threshold: float | None = None,
    exact_tol: float | None = None,
    state: SearchState | None = None,
    describe: Callable[[HallOfFame], list[tuple[int, float, str]]] | None = None,
    progress: Callable[[SearchProgress], None] | None = None,
    checkpoint: Callable[[SearchState], None] | None = None,
    checkpoint_every: float = 10.0,
    backend: Backend | None = None,
    guesses: Sequence[Program] = (),
) -> SearchState:
    """Evolve until a stopping rule fires; returns the final state (never raises on Ctrl-C).

    ``guesses``: formulas that enter every island that starts afresh in this call (before its
    random members), so the search builds on what is known: a user's guess, or a law found
    on an easier version of the problem and written back in these variables.

    ``exact_tol``: once a formula's loss is at most ``exact_tol * var(y)`` (it fits the data
    to rounding error), the search runs on looking for a simpler exact form: it stops
    (``state.stop_reason == "exact fit"``) once the smallest exact formula has not shrunk for
    as many evaluations as the fit had spent when it last shrank (`_exact_mark`).
    """
    y = data.y
    w = np.ones_like(y) if data.w is None else data.w
    y_var = float(np.sum(w * (y - np.sum(w * y) / np.sum(w)) ** 2) / np.sum(w))
    if not data.loss.is_l2:  # the loss of the best constant: what losses are measured against
        y_var = baseline_loss(y, w, data.loss)
    n_islands = config.n_islands
    if state is None:
        state = SearchState(populations=[[] for _ in range(n_islands)])
    state.stop_reason = ""
    pops: list[list[Program] | None] = [
        (state.populations[i] if i < len(state.populations) else None) or list(guesses) or None
        for i in range(n_islands)
    ]
    root = np.random.SeedSequence(
        entropy=seed if seed is not None else None, spawn_key=(state.epoch,))
    seeds = root.spawn(n_islands)
    mig_rng = np.random.default_rng(root.spawn(1)[0])
    t0 = time.monotonic() - state.elapsed
    deadline = None if time_limit is None else t0 + time_limit
    evals0, t_start = state.n_evals, time.monotonic()
    exact_loss = None if exact_tol is None else exact_tol * y_var
    if exact_loss is not None and not data.loss.is_l2:  # a tolerance on r**2, in rho's units
        exact_loss = exact_tol ** (data.loss.degree / 2) * y_var
    exact_size: int | None = None  # complexity of the smallest exact formula so far
    exact_at: int | None = None  # evaluations of this fit when it appeared
    last_ckpt = time.monotonic()
    pool = None
    busy = False
    populations: dict[int, list[Program]] = {}
    immigrants: dict[int, list[Migrant]] = {}
    island_epochs = [0] * n_islands  # epochs each island has run in this fit

    def report(done: bool) -> None:
        if progress is None:
            return
        dt = max(time.monotonic() - t_start, 1e-9)
        front = describe(state.hof) if describe else []
        progress(SearchProgress(time.monotonic() - t0, state.n_evals,
                                (state.n_evals - evals0) / dt, state.hof.best_loss(), front, done))

    try:
        n_jobs = max(1, min(n_jobs, n_islands))
        if n_jobs == 1:
            group = IslandGroup(config, data, list(range(n_islands)), seeds, pops, y_var, backend)
        else:
            pool = _Pool(n_jobs, config, data, seeds, pops, y_var)
        state.n_evals += group.n_evals() if pool is None else pool.seed_evals
        state.hof.merge(group.hall_of_fame() if pool is None else pool.seed_hof)
        if guesses and exact_loss is not None:  # a guess that is exact counts from the start
            exact_size, exact_at = _exact_mark(state.hof, exact_loss, exact_size, exact_at,
                                               state.n_evals - evals0)
        report(False)  # first sign of life as soon as the islands exist
        emigrants: dict[int, list[Migrant]] = {}

        def absorb(results: list[dict]) -> None:
            for r in results:
                state.hof.merge(r["hof"])
                state.n_evals += r["n_evals"]
                populations.update(r["populations"])
                for i in r["populations"]:
                    island_epochs[i] += 1
                emigrants.update(r["emigrants"])
            state.populations = [populations.get(i, []) for i in range(n_islands)]
            state.epoch += 1
            state.elapsed = time.monotonic() - t0

        def evals_left() -> int | None:
            return None if max_evals is None else max(1, max_evals - state.n_evals)

        if pool is not None:
            for j in range(n_jobs):
                pool.submit(j, immigrants, deadline, evals_left())
        while True:
            busy = True  # workers owe an answer: not reusable if interrupted now
            if pool is None:
                results = [group.epoch(immigrants, deadline, evals_left())]
                busy = False
            else:
                done = pool.collect()
                results = [r for _, r in done]
            absorb(results)
            every = max(1, config.migration_interval)
            immigrants = _route_migrants(emigrants, state.hof, n_islands, mig_rng,
                                         config.n_migrants,
                                         [i for i, e in enumerate(island_epochs) if e % every == 0])
            if checkpoint and time.monotonic() - last_ckpt >= checkpoint_every:
                checkpoint(state)
                last_ckpt = time.monotonic()
            best = state.hof.best_loss()
            if exact_loss is not None:
                exact_size, exact_at = _exact_mark(state.hof, exact_loss, exact_size, exact_at,
                                                   state.n_evals - evals0)
            if deadline is not None and time.monotonic() >= deadline:
                state.stop_reason = "time limit"
            elif max_evals is not None and state.n_evals >= max_evals:
                state.stop_reason = "evaluation budget"
            elif loss_threshold is not None and best <= loss_threshold:
                state.stop_reason = "loss threshold"
            elif exact_at is not None and state.n_evals - evals0 >= 2 * exact_at:
                state.stop_reason = "exact fit"
            if state.stop_reason:
                break
            if pool is not None:
                for j, _ in done:
                    pool.submit(j, immigrants, deadline, evals_left())
            report(False)
        while pool is not None and pool.pending:  # the epochs still running end on their own
            absorb([r for _, r in pool.collect()])
        busy = False
    except KeyboardInterrupt:
        state.interrupted = True
        state.stop_reason = "interrupted"
    finally:
        if pool is not None:
            pool.close(reuse=not busy)
    state.elapsed = time.monotonic() - t0
    if checkpoint:
        checkpoint(state)
    try:
        report(True)
    except KeyboardInterrupt:  # Ctrl-C while the last line is drawn: the search is over anyway
        state.interrupted = True
    return state


def _exact_mark(hof: HallOfFame, exact_loss: float, size: int | None, at: int | None,
                spent: int) -> tuple[int | None, int | None]:
    """The smallest exact formula's complexity and the evaluations spent when it appeared.

    The search stops at twice that count: each simpler exact form found restarts the wait, so
    a search that keeps simplifying (``16 -> 13 -> 10`` nodes) is not cut off at the first.
    """
    exact = [c for c, e in hof.entries.items() if e[1] <= exact_loss]
    if exact and (size is None or min(exact) < size):
        return min(exact), spent
    return size, at


def _route_migrants(emigrants: dict[int, list[Migrant]], hof: HallOfFame, n_islands: int,
                    rng: np.random.Generator, n_migrants: int, due: list[int]
                    ) -> dict[int, list[Migrant]]:
    """Each island in ``due`` gets another island's best and a few hall-of-fame formulas."""
    out: dict[int, list[Migrant]] = {}
    if n_islands < 1:
        return out
    famous = [hof.entries[c] for c in sorted(hof.entries)]
    for i in due:
        incoming: list[Migrant] = []
        if n_islands > 1:
            j = int((i + 1 + rng.integers(n_islands - 1)) % n_islands)
            incoming.extend(emigrants.get(j, []))
        if famous:
            k = min(max(1, n_migrants // 2), len(famous))
            incoming.extend(famous[int(t)] for t in rng.choice(len(famous), k, replace=False))
        out[i] = incoming
    return out
