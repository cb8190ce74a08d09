"""The driver of a search: one loop over an executor that runs the islands.

An epoch is a fixed number of breeding steps on every island of a group (the islands one
worker owns). Between epochs the driver merges the halls of fame, moves migrants between
islands (to each island after every ``migration_interval`` of its epochs), shares the
evaluation budget, reports progress, saves a checkpoint and checks the stopping rules (time,
evaluations, loss threshold, exact fit, Ctrl-C). It does not know which executor runs the
groups (`eurisko.search.executors`: in this process for ``n_jobs=1``, local worker processes,
or a Dask cluster). Counting work in steps rather than seconds is what makes ``n_jobs=1``
with ``max_evals`` reproducible. Groups are not kept in step: each gets its next epoch (with
the latest migrants) as soon as it reports, so none waits for the slowest. A group whose
worker dies is reopened on a live worker from the driver's last copy of its islands, and the
fit goes on (`SearchState.faults`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from eurisko.evaluate.base import Backend, Dataset
from eurisko.evaluate.losses import baseline_loss
from eurisko.expr.program import Program
from eurisko.search.executors import Executor, InProcess, LocalProcesses
from eurisko.search.group import (
    IslandGroup,
    Job,
    default_backend,
    pack_migrants,
    pack_population,
    unpack_epoch,
    unpack_hof,
)
from eurisko.search.hall_of_fame import HallOfFame
from eurisko.search.island import Migrant, SearchConfig

__all__ = ["IslandGroup", "SearchProgress", "SearchState", "default_backend", "make_executor",
           "run_search"]


@dataclass
class SearchProgress:
    """What a progress callback receives, a few times a second."""

    elapsed: float
    n_evals: int
    evals_per_second: float
    best_loss: float
    front: list[tuple[int, float, str]]
    done: bool = False
    faults: int = 0  # island groups reopened after their worker was lost


@dataclass
class SearchState:
    """Everything needed to resume: the populations, the hall of fame and the counters.

    ``faults`` records each island group reopened after its worker was lost (when, where,
    which islands, from which epoch's copy); ``stats`` how busy the driver was and the mean
    size of an epoch's reply (not saved in checkpoints)."""

    populations: list[list[Program]]
    hof: HallOfFame = field(default_factory=HallOfFame)
    n_evals: int = 0
    elapsed: float = 0.0
    epoch: int = 0
    interrupted: bool = False
    stop_reason: str = ""
    faults: list[dict] = field(default_factory=list)
    stats: dict = field(default_factory=dict)


def make_executor(n_jobs: int, cluster: str | None = None,
                  backend: Backend | None = None) -> Executor:
    """The executor for ``n_jobs`` workers: this process, local processes, or ``cluster``
    (``"local"``, ``"dask"`` or a Dask scheduler address; see `eurisko.search.dask_executor`)."""
    if cluster is not None:
        from eurisko.search.dask_executor import DaskExecutor, get_client

        client, owns = get_client(cluster, n_jobs)
        return DaskExecutor(client, owns)
    if n_jobs <= 1:
        return InProcess(backend)
    return LocalProcesses(n_jobs)


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
    cluster: str | None = None,
    executor: Executor | None = None,
) -> SearchState:
    """Evolve until a stopping rule fires; returns the final state (never raises on Ctrl-C).

    The islands run on ``executor`` if given, else on ``cluster`` (a Dask cluster: ``"local"``,
    ``"dask"`` or a scheduler address), else in ``n_jobs`` local processes (``1``: in this
    process). A worker lost mid-run costs its islands the epochs since the driver's last copy;
    the fit goes on with the workers left (``state.faults``). Any other exception writes the
    final checkpoint before it propagates.

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
    error: BaseException | None = None
    populations: dict[int, list[Program]] = {}
    copies: dict[int, list[Program] | None] = dict(enumerate(pops))  # the driver's last copy
    copy_epoch = [0] * n_islands  # the island epoch each copy is from
    immigrants: dict[int, list[Migrant]] = {}
    island_epochs = [0] * n_islands  # epochs each island has run in this fit
    emigrants: dict[int, list[Migrant]] = {}
    shares: dict[int, int] = {}  # evaluations granted to each running epoch

    def report(done: bool) -> None:
        if progress is None:
            return
        dt = max(time.monotonic() - t_start, 1e-9)
        front = describe(state.hof) if describe else []
        progress(SearchProgress(time.monotonic() - t0, state.n_evals,
                                (state.n_evals - evals0) / dt, state.hof.best_loss(), front, done,
                                len(state.faults)))

    if executor is None:
        executor = make_executor(max(1, min(n_jobs, n_islands)), cluster, backend)
    n_groups = max(1, min(executor.n_workers, n_islands))
    groups = {j: list(range(j, n_islands, n_groups)) for j in range(n_groups)}
    loop_t0 = time.monotonic()

    def time_left() -> float | None:
        return None if deadline is None else deadline - time.monotonic()

    def evals_left() -> int | None:
        return None if max_evals is None else max(1, max_evals - state.n_evals)

    def submit(gid: int) -> None:
        """Group ``gid`` starts an epoch, with its share of the budget left: the epochs still
        running have their shares set aside, so that all groups together overshoot
        ``max_evals`` by at most about one step each."""
        share = None
        left = evals_left()
        if left is not None:
            free = left - sum(shares.get(k, 0) for k in executor.pending if k != gid)
            share = max(1, free // n_groups)
            shares[gid] = share
        executor.submit(gid, {i: pack_migrants(immigrants.get(i, [])) for i in groups[gid]},
                        time_left(), share)

    def reopen(gid: int) -> None:
        """A group whose worker was lost starts again from the driver's last copy."""
        ids = groups[gid]
        state.faults.append({
            "elapsed": round(time.monotonic() - t0, 3), "group": gid, "islands": ids,
            "where": executor.where(gid), "n_evals": int(state.n_evals),
            "restored_from_epoch": {int(i): int(copy_epoch[i]) for i in ids}})
        fresh = np.random.SeedSequence(entropy=seed if seed is not None else None,
                                       spawn_key=(state.epoch, 1 + len(state.faults)))
        executor.open_group(gid, ids, fresh.spawn(len(ids)),
                            [pack_population(copies[i]) for i in ids])

    def ready(reply: dict) -> None:
        state.n_evals += int(reply["n_evals"])
        state.hof.merge(unpack_hof(reply["hof"]))

    def absorb(results: list[dict]) -> None:
        for r in results:
            pop, em = unpack_epoch(r)
            state.hof.merge(unpack_hof(r["hof"]))
            state.n_evals += r["n_evals"]
            populations.update(pop)
            for i in pop:
                island_epochs[i] += 1
                copies[i] = pop[i]
                copy_epoch[i] = island_epochs[i]
            emigrants.update(em)
        state.populations = [populations.get(i, []) for i in range(n_islands)]
        state.epoch += 1
        state.elapsed = time.monotonic() - t0

    try:
        executor.start(Job("", config, data.Xt, data.y, data.w, y_var, backend=backend,
                           loss=data.loss))
        for gid, ids in groups.items():
            executor.open_group(gid, ids, [seeds[i] for i in ids], [pack_population(pops[i])
                                                                    for i in ids])
        opened: set[int] = set()
        while len(opened) < n_groups:
            for gid, r in executor.collect():
                if r["kind"] == "ready":
                    ready(r)
                    opened.add(gid)
                else:  # lost while opening: open it on a worker left
                    reopen(gid)
        if guesses and exact_loss is not None:  # a guess that is exact counts from the start
            exact_size, exact_at = _exact_mark(state.hof, exact_loss, exact_size, exact_at,
                                               state.n_evals - evals0)
        report(False)  # first sign of life as soon as the islands exist
        for gid in groups:
            submit(gid)
        while True:
            results, again = [], []
            for gid, r in executor.collect():
                if r["kind"] == "epoch":
                    results.append(r)
                    again.append(gid)
                elif r["kind"] == "ready":
                    ready(r)
                    again.append(gid)
                else:
                    reopen(gid)
            if not results:
                for gid in again:
                    submit(gid)
                continue
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
            for gid in again:
                submit(gid)
            report(False)
        while executor.pending:  # the epochs still running end on their own
            absorb([r for _, r in executor.collect() if r["kind"] == "epoch"])
    except KeyboardInterrupt:
        state.interrupted = True
        state.stop_reason = "interrupted"
    except BaseException as e:  # noqa: BLE001 - re-raised below, after the final checkpoint
        error = e
    finally:
        # workers that owe an answer (interrupted mid-epoch) are not reused
        executor.close(clean=not executor.pending and error is None)
    total = max(time.monotonic() - loop_t0, 1e-9)
    state.stats = {
        "workers": executor.n_workers,
        "driver_busy": max(0.0, 1.0 - executor.wait_seconds / total),
        "replies": executor.n_replies,
        "reply_bytes": executor.reply_bytes / max(1, executor.n_replies),
    }
    state.elapsed = time.monotonic() - t0
    if checkpoint:
        checkpoint(state)
    if error is not None:
        raise error
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
