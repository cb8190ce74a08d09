"""Where the islands run: an executor carries the driver's messages to workers and back.

The driver (`eurisko.search.engine.run_search`) routes migrants, shares the budget, stops and
checkpoints; it never knows which executor runs. An executor opens island groups on its
workers (``open_group``), runs their epochs (``submit``) and hands back replies as they arrive
(``collect``), among them ``{"kind": "lost"}`` for a group whose worker died, which the driver
reopens from its own last copy of those islands. Three executors share this contract:
`InProcess` (``n_jobs=1``), `LocalProcesses` (worker processes over pipes, kept between fits)
and `eurisko.search.dask_executor.DaskExecutor` (a Dask cluster).
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing as mp
import multiprocessing.connection as mp_connection
import pickle
import signal
import sys
import time

from eurisko.evaluate.base import Backend
from eurisko.search.group import GroupHost, Job


class Executor:
    """The contract the driver talks to (see the module docstring)."""

    n_workers: int = 1

    def __init__(self) -> None:
        self.wait_seconds = 0.0  # time the driver spent blocked in collect
        self.reply_bytes = 0  # size of the epoch replies, as they crossed to the driver
        self.n_replies = 0
        self.pending: set[int] = set()

    def start(self, job: Job) -> None:
        """Ship the fit's configuration and data to the workers, once."""
        raise NotImplementedError

    def open_group(self, gid: int, ids: list[int], seeds: list, pops: list) -> None:
        """Open island group ``gid`` on a live worker; its ``ready`` reply comes from collect."""
        raise NotImplementedError

    def submit(self, gid: int, immigrants: dict, time_left: float | None,
               evals_left: int | None) -> None:
        """Run one epoch of group ``gid``."""
        raise NotImplementedError

    def collect(self) -> list[tuple[int, dict]]:
        """Replies that have arrived: waits for one at least, not for the slowest."""
        raise NotImplementedError

    def where(self, gid: int) -> str:
        """The worker that holds group ``gid``, in words (for the record of faults)."""
        return ""

    def close(self, clean: bool) -> None:
        """End the fit; ``clean`` when no worker owes an answer."""


class InProcess(Executor):
    """Every group in this process, run in turn: ``n_jobs=1``, reproducible with a seed."""

    def __init__(self, backend: Backend | None = None):
        super().__init__()
        self.backend = backend
        self.host: GroupHost | None = None
        self.queue: list[tuple] = []

    def start(self, job: Job) -> None:
        self.host = GroupHost(job, self.backend)

    def open_group(self, gid, ids, seeds, pops) -> None:
        self.queue.append(("group", gid, ids, seeds, pops))
        self.pending.add(gid)

    def submit(self, gid, immigrants, time_left, evals_left) -> None:
        self.queue.append(("epoch", gid, immigrants, time_left, evals_left))
        self.pending.add(gid)

    def collect(self) -> list[tuple[int, dict]]:
        out = []
        while self.queue:
            msg = self.queue.pop(0)
            out.append((msg[1], self.host.handle(msg)))
            self.pending.discard(msg[1])
            self.n_replies += 1
        return out

    def where(self, gid: int) -> str:
        return "this process"


# --- local worker processes -----------------------------------------------------------------


def _worker(conn) -> None:
    """Worker process: hosts island groups of one fit at a time, answers over its pipe.

    ``("job", job)`` begins a fit, then `GroupHost` messages; ``("end",)`` drops the fit;
    ``None`` exits. Between fits the process stays up, so the next fit in the same session
    does not pay for starting Python, numba and the kernels.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        import numba

        numba.set_num_threads(1)
    except Exception:  # noqa: BLE001 - threading layer unavailable: run as is
        pass
    host = None
    while True:
        msg = pickle.loads(conn.recv_bytes())
        if msg is None:
            break
        if msg[0] == "job":
            host = GroupHost(msg[1])
        elif msg[0] == "end":
            host = None
        else:
            conn.send_bytes(pickle.dumps(host.handle(msg), protocol=pickle.HIGHEST_PROTOCOL))
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
            child.close()  # the worker's end lives in the worker: its death reads as EOF here
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
                c.send_bytes(pickle.dumps(None))
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


class LocalProcesses(Executor):
    """Island groups in worker processes on this machine, over pipes.

    A worker that dies (killed, out of memory) is noticed through its process sentinel; its
    groups come back from ``collect`` as ``lost`` and are reopened on the workers left."""

    def __init__(self, n_jobs: int):
        super().__init__()
        self.n_workers = n_jobs
        self.workers = _Workers.acquire(n_jobs)
        self.alive = [True] * n_jobs
        self.place: dict[int, int] = {}  # group -> worker
        self.owed: dict[int, int] = {}  # worker -> replies it owes
        self.lost: list[tuple[int, dict]] = []

    def _send(self, j: int, msg: tuple) -> bool:
        try:
            self.workers.conns[j].send_bytes(pickle.dumps(msg, protocol=pickle.HIGHEST_PROTOCOL))
            return True
        except (BrokenPipeError, OSError):
            self._died(j)
            return False

    def _died(self, j: int) -> None:
        if not self.alive[j]:
            return
        self.alive[j] = False
        self.owed[j] = 0
        for gid, k in self.place.items():
            if k == j:
                self.lost.append((gid, {"kind": "lost", "gid": gid}))
                self.pending.add(gid)

    def start(self, job: Job) -> None:
        for j in range(self.n_workers):
            self._send(j, ("job", job))

    def open_group(self, gid, ids, seeds, pops) -> None:
        live = [j for j in range(self.n_workers) if self.alive[j]]
        if not live:
            raise RuntimeError("every search worker process died (see their errors above); "
                               "n_jobs=1 runs the search in this process")
        load = {j: 0 for j in live}
        for g, k in self.place.items():
            if k in load and g != gid:
                load[k] += 1
        j = min(live, key=lambda k: (load[k], k)) if gid not in self.place or \
            not self.alive[self.place[gid]] else self.place[gid]
        self.place[gid] = j
        self.pending.add(gid)
        if self._send(j, ("group", gid, ids, seeds, pops)):
            self.owed[j] = self.owed.get(j, 0) + 1

    def submit(self, gid, immigrants, time_left, evals_left) -> None:
        j = self.place[gid]
        self.pending.add(gid)
        if self._send(j, ("epoch", gid, immigrants, time_left, evals_left)):
            self.owed[j] = self.owed.get(j, 0) + 1

    def collect(self) -> list[tuple[int, dict]]:
        out, self.lost = self.lost, []
        if not out:
            waiting = [j for j in range(self.n_workers) if self.alive[j] and self.owed.get(j)]
            if not waiting:  # nothing owed: whatever is still pending has no worker left
                out = [(gid, {"kind": "lost", "gid": gid}) for gid in sorted(self.pending)]
                self.pending.clear()
                return out
            t0 = time.monotonic()
            objs = [self.workers.conns[j] for j in waiting] + \
                [self.workers.procs[j].sentinel for j in waiting]
            ready = set(mp_connection.wait(objs))
            self.wait_seconds += time.monotonic() - t0
            for j in waiting:
                conn = self.workers.conns[j]
                first = conn in ready
                while self.alive[j] and self.owed.get(j) and (first or conn.poll()):
                    first = False
                    try:
                        raw = conn.recv_bytes()
                    except (EOFError, OSError):
                        self._died(j)
                        break
                    reply = pickle.loads(raw)
                    self.owed[j] -= 1
                    if reply.get("kind") == "epoch":
                        self.reply_bytes += len(raw)
                        self.n_replies += 1
                    out.append((reply["gid"], reply))
                if not self.workers.procs[j].is_alive():
                    self._died(j)
            out.extend(self.lost)
            self.lost = []
        for gid, _ in out:
            self.pending.discard(gid)
        return out

    def where(self, gid: int) -> str:
        j = self.place.get(gid)
        return "" if j is None else f"worker process {j} (pid {self.workers.procs[j].pid})"

    def close(self, clean: bool) -> None:
        """Workers that finished cleanly wait for the next fit; others are stopped."""
        clean = clean and all(self.alive)
        if clean:
            for j in range(self.n_workers):
                if not self._send(j, ("end",)):
                    clean = False
        if clean:
            self.workers.release(self.n_workers)
        else:
            self.workers.shutdown()
