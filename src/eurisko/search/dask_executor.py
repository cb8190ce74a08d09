"""Island groups on a Dask cluster: a `LocalCluster` on this machine or a running scheduler.

The fit's data and configuration are scattered to every worker once (``broadcast``); each
island group lives in a worker's memory between epochs (`GroupHost`, kept in this module's
``_HOSTS`` on the worker), and each epoch is one task pinned to that worker. When a worker is
lost the scheduler moves its task to another worker (loose restrictions), where the group is
unknown: the task answers ``lost`` and the driver reopens the group there from its own last
copy. Dask is optional: ``pip install 'eurisko[dask]'``.
"""

from __future__ import annotations

import atexit
import io
import pickle
import sys
import threading
import time
import uuid
from concurrent.futures import CancelledError
from typing import Any

from eurisko.search.executors import Executor
from eurisko.search.group import GroupHost, Job

INSTALL_HINT = "cluster= needs Dask's distributed scheduler: pip install 'eurisko[dask]'"

_HOSTS: dict[str, GroupHost] = {}  # on a worker: the fits it hosts groups of, by token
_HOSTS_LOCK = threading.Lock()
_CLIENTS: dict[tuple[str, int], Any] = {}  # clients (and local clusters) this session made


def import_distributed():
    """``distributed``, or an ImportError that says how to install it."""
    try:
        import distributed
    except ImportError:
        raise ImportError(INSTALL_HINT) from None
    return distributed


def check_cluster(cluster: object) -> str | None:
    """``cluster`` as given (None, ``"local"``, ``"dask"`` or a scheduler address), checked."""
    if cluster is None:
        return None
    if not isinstance(cluster, str):
        raise TypeError(f"cluster must be a string: 'local', 'dask' (the current Dask client) "
                        f"or a scheduler address such as 'tcp://host:8786', not "
                        f"{type(cluster).__name__}")
    if cluster not in ("local", "dask") and "://" not in cluster:
        raise ValueError(f"cluster={cluster!r}: give 'local', 'dask' (the current Dask client) "
                         "or a scheduler address such as 'tcp://host:8786'")
    return cluster


def get_client(cluster: str, n_workers: int) -> tuple[Any, bool]:
    """The Dask client for ``cluster``, and whether this module made it (and may close it).

    ``"local"`` starts a `LocalCluster` of ``n_workers`` single-threaded worker processes,
    kept for the next fit of the session; ``"dask"`` is the user's current default client;
    an address connects to a running scheduler."""
    distributed = import_distributed()
    check_cluster(cluster)
    if cluster == "dask":
        try:
            return distributed.get_client(), False
        except ValueError:
            raise ValueError("cluster='dask' uses the current Dask client, and there is none: "
                             "create one (distributed.Client(...)) or give an address") from None
    key = (cluster, n_workers if cluster == "local" else 0)
    client = _CLIENTS.get(key)
    if client is not None and client.status == "running":
        return client, True
    if cluster == "local":
        client = distributed.Client(local_cluster(n_workers), set_as_default=False)
        client.wait_for_workers(n_workers)
    else:
        client = distributed.Client(cluster, set_as_default=False)
    _CLIENTS[key] = client
    return client, True


def local_cluster(n_workers: int) -> Any:
    """A `LocalCluster` of ``n_workers`` single-threaded worker processes, for the search.

    Dask's nannies start workers with ``MALLOC_TRIM_THRESHOLD_=65536`` so that freed memory
    goes back to the system at once; setting it also fixes glibc's mmap threshold, so every
    array above 128 kB (a batch's predictions) is mapped afresh and its pages faulted in: 12
    times the page faults and 9% more CPU per evaluation in the search's workers
    (docs/results/2026-12-07/dask-overhead). These workers start without it. Workers of your
    own cluster run faster without it too:
    ``distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_: null`` in their Dask
    configuration."""
    import dask

    distributed = import_distributed()
    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
        return distributed.LocalCluster(n_workers=n_workers, threads_per_worker=1,
                                        processes=True, dashboard_address=None, silence_logs=40)


def cluster_workers(cluster: str, n_jobs: int) -> int:
    """How many workers the fit will have (``n_jobs`` for ``"local"``)."""
    client, _ = get_client(cluster, n_jobs)
    return max(1, len(client.nthreads()))


def _close_clients() -> None:
    while _CLIENTS:
        client = _CLIENTS.popitem()[1]
        cluster = getattr(client, "cluster", None)
        try:
            client.close(timeout=5)
            if cluster is not None:
                cluster.close(timeout=5)
        except Exception:  # noqa: BLE001, S110 - exiting anyway
            pass


atexit.register(_close_clients)


def _by_value(entries: list, functions: tuple[str, ...]) -> bytes | None:
    """Registry ``entries`` cloudpickled with the modules of their ``functions`` by value:
    those live in the user's session or scripts, which a worker on another host cannot
    import."""
    if not entries:
        return None
    import cloudpickle

    modules = set()
    for entry in entries:
        for fn in (getattr(entry, attr) for attr in functions):
            name = getattr(fn, "__module__", None)
            top = (name or "").split(".")[0]
            if name and name != "__main__" and top not in ("numpy", "sympy", "math", "eurisko",
                                                              "builtins", "scipy"):
                mod = sys.modules.get(name)
                if mod is not None:
                    modules.add(mod)
    for mod in modules:
        cloudpickle.register_pickle_by_value(mod)
    try:
        buf = io.BytesIO()
        cloudpickle.dump(list(entries), buf)
        return buf.getvalue()
    finally:
        for mod in modules:
            cloudpickle.unregister_pickle_by_value(mod)


def _operators_blob() -> bytes | None:
    """The user's custom operators, pickled by value."""
    from eurisko.expr.operators import custom_operators

    return _by_value(list(custom_operators()), ("numpy", "sympy"))


def _losses_blob() -> bytes | None:
    """The user's custom losses, pickled by value (a scalar or weight given as a function is
    imported by name in the kernels: its module must be importable on the workers)."""
    from eurisko.evaluate.losses import custom_losses

    return _by_value(list(custom_losses()), ("numpy", "numpy_weight"))


# --- the tasks (run on the workers) ---------------------------------------------------------


def _host(job: Job) -> GroupHost:
    with _HOSTS_LOCK:
        host = _HOSTS.get(job.token)
        if host is None:
            host = _HOSTS[job.token] = GroupHost(job)
        return host


def _open_task(job: Job, msg: tuple) -> dict:
    reply = _host(job).handle(msg)
    return _sized(reply)


def _epoch_task(token: str, msg: tuple) -> dict:
    host = _HOSTS.get(token)
    if host is None:
        return {"kind": "lost", "gid": msg[1]}
    return _sized(host.handle(msg))


def _sized(reply: dict) -> dict:
    if reply.get("kind") == "epoch":
        reply["nbytes"] = len(pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL))
    return reply


async def _drop(token: str) -> None:
    with _HOSTS_LOCK:
        _HOSTS.pop(token, None)


# --- the executor -----------------------------------------------------------------------------


class DaskExecutor(Executor):
    """Island groups on the workers of a Dask client (see the module docstring)."""

    #: seconds `open_group` waits for a worker when every one is gone (a nanny restarts
    #: its killed worker in a few seconds)
    restart_wait = 60.0
    #: seconds between looks for openings orphaned by a lost `Job` while waiting for replies
    poll = 2.0
    #: seconds to fetch a finished request's result before taking its worker for lost
    result_wait = 30.0

    def __init__(self, client: Any, owns_client: bool = False):
        super().__init__()
        self.distributed = import_distributed()
        self.client = client
        self.owns_client = owns_client
        self.addresses = sorted(client.nthreads())
        if not self.addresses:
            raise RuntimeError("the Dask cluster has no workers; start some, or leave cluster "
                               "unset to run on local processes")
        self.n_workers = len(self.addresses)
        self.token = f"eurisko-{uuid.uuid4().hex}"
        self.job = None
        self.job_obj = None
        self.n_scatters = 0
        self.place: dict[int, str] = {}
        self.futures: dict[Any, int] = {}
        self.opening: set[str] = set()  # keys of the group openings (they need the Job)
        self.n_tasks = 0

    def start(self, job: Job) -> None:
        from eurisko.evaluate.losses import loss_fingerprint
        from eurisko.expr.operators import registry_fingerprint

        job.token = self.token
        job.operators = _operators_blob()
        job.fingerprint = registry_fingerprint()
        job.losses = _losses_blob()
        job.loss_fingerprint = loss_fingerprint()
        self.job_obj = job
        self.job = self.client.scatter([job], broadcast=True, hash=False)[0]
        self.n_scatters = 1

    def _live(self) -> list[str]:
        return sorted(self.client.nthreads())

    def _run(self, fn, *args, worker: str) -> None:
        self.n_tasks += 1
        fut = self.client.submit(fn, *args, key=f"{self.token}-{self.n_tasks}", pure=False,
                                 workers=[worker], allow_other_workers=True, retries=0)
        self.futures[fut] = args[1][1]
        if fn is _open_task:
            self.opening.add(fut.key)

    def open_group(self, gid, ids, seeds, pops) -> None:
        live = self._live()
        if not live:  # a nanny restarts its killed worker: give the cluster time to come back
            try:
                self.client.wait_for_workers(1, timeout=self.restart_wait)
            except TimeoutError:
                pass
            live = self._live()
        if not live:
            raise RuntimeError(f"every worker of the Dask cluster is gone, and none came back "
                               f"within {self.restart_wait:g} s")
        load = {a: 0 for a in live}
        for g, a in self.place.items():
            if a in load and g != gid:
                load[a] += 1
        addr = min(live, key=lambda a: (load[a], a))
        self.place[gid] = addr
        if self.job.status != "finished":  # the scheduler lost every copy with a worker
            self.job = self.client.scatter([self.job_obj], broadcast=True, hash=False)[0]
            self.n_scatters += 1
        self.pending.add(gid)
        self._run(_open_task, self.job, ("group", gid, ids, seeds, pops), worker=addr)

    def submit(self, gid, immigrants, time_left, evals_left) -> None:
        self.pending.add(gid)
        self._run(_epoch_task, self.token, ("epoch", gid, immigrants, time_left, evals_left),
                  worker=self.place[gid])

    def collect(self) -> list[tuple[int, dict]]:
        if not self.futures:
            return []
        t0 = time.monotonic()
        done = []
        while not done:
            try:
                with self.client.as_current():  # wait() asks for the default client: ours
                    done, _ = self.distributed.wait(list(self.futures), timeout=self.poll,
                                                    return_when="FIRST_COMPLETED")
            except self.distributed.client.FuturesCancelledError:  # lost with a worker's data
                done = [f for f in self.futures
                        if f.status in ("finished", "error", "cancelled", "lost")]
            except TimeoutError:
                done = self._orphans()
        self.wait_seconds += time.monotonic() - t0
        out = []
        for fut in done:
            gid = self.futures.pop(fut)
            try:
                reply = self._reply(fut, gid)
            except Exception:  # the task itself raised: it would again on any worker
                self.pending.discard(gid)
                raise
            if reply.get("kind") == "epoch":
                self.reply_bytes += int(reply.pop("nbytes", 0))
                self.n_replies += 1
            out.append((gid, reply))
            self.pending.discard(gid)
        return out

    def _reply(self, fut, gid: int) -> dict:
        """The reply of a done request, or ``lost`` where its worker died under it: a future
        whose result went with a worker (status ``lost``) would wait for a recomputation that
        may never come, so it is cancelled rather than waited on, and fetching a finished
        result waits at most ``result_wait`` seconds."""
        lost = {"kind": "lost", "gid": gid}
        if fut.status not in ("finished", "error"):
            self.client.cancel([fut], force=True)
            return lost
        try:
            return fut.result(timeout=self.result_wait)
        except (self.distributed.KilledWorker, CancelledError, TimeoutError):
            self.client.cancel([fut], force=True)
            return lost

    def _orphans(self) -> list:
        """Requests that will never be answered, cancelled and answered as lost: those placed
        on a worker that is gone (when every worker dies at once, the scheduler keeps their
        tasks pending rather than moving them), and group openings whose scattered `Job` was
        lost with every worker that held it (`open_group` scatters it again)."""
        live = set(self._live())
        job_lost = self.job is not None and self.job.status != "finished"
        out = [f for f, gid in self.futures.items() if f.status == "pending"
               and (self.place.get(gid) not in live or (job_lost and f.key in self.opening))]
        if out:
            self.client.cancel(out, force=True)
        return out

    def where(self, gid: int) -> str:
        return f"Dask worker {self.place.get(gid, '?')}"

    def close(self, clean: bool) -> None:
        """Cancel what is left and free the workers' memory; a user's client stays usable."""
        futures = list(self.futures)
        self.futures.clear()
        try:
            if futures:
                self.client.cancel(futures, force=True)
            self.client.run(_drop, self.token, wait=False)
            if self.job is not None:
                self.client.cancel([self.job], force=True)
        except Exception:  # noqa: BLE001, S110 - a closing cluster: nothing left to free
            pass
