"""Run a benchmark suite: every (problem, method, noise, seed), resumable, in parallel.

Each finished run is appended to ``results.jsonl`` in the output folder as one JSON line,
flushed and fsynced before the next is reported, so a killed benchmark loses at most the runs
in flight; run the same command again and it skips every run already in the file (errors
included, unless ``retry_errors``). ``bench.json`` beside it records the protocol (time limit,
rows, threads, check timeout); resuming with a different protocol is refused rather than mixed.

Runs go to worker processes (``jobs`` of them, default ``cores // threads``), each run using
``threads`` threads or processes of its own; ``jobs=1`` runs them one after another in this
process. Worker processes ignore Ctrl-C; the parent stops them and keeps what was written.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eurisko.bench.methods import available_methods, get_method, method_settings
from eurisko.bench.problem import NOISE_HINT, Problem
from eurisko.bench.suite import Suite, load_suite
from eurisko.validation import check_bool, check_int, check_number

RESULTS_FILE = "results.jsonl"
MANIFEST_FILE = "bench.json"
PROTOCOL_KEYS = ("time_limit", "rows", "threads", "check_timeout", "positive", "max_evals")


@dataclass
class BenchResults:
    """Every record in the output (earlier runs included), and what was skipped."""

    records: list[dict[str, Any]]  # every run in the folder, this call's new ones last
    skipped_methods: dict[str, str] = field(default_factory=dict)  # name -> why
    out: Path | None = None
    n_new: int = 0  # runs made by this call
    n_resumed: int = 0  # runs this call asked for that the folder already held
    interrupted: bool = False  # stopped by Ctrl-C


def run_key(record: dict[str, Any]) -> tuple[str, str, str, float, int]:
    """What identifies a run: suite, problem, method, noise, seed."""
    return (str(record["suite"]), str(record["problem"]), str(record["method"]),
            float(record["noise"]), int(record["seed"]))


# --- the results file -----------------------------------------------------------------------


def read_results(path: str | os.PathLike) -> list[dict[str, Any]]:
    """The records of a results file (or folder), one per run (a later line for the same run,
    from ``retry_errors``, replaces an earlier one); a line cut short by a kill is ignored."""
    path = Path(path)
    if path.is_dir():
        path = path / RESULTS_FILE
    if not path.exists():
        return []
    records: dict[tuple, dict[str, Any]] = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                rec = json.loads(line)
            except ValueError:  # the last line of a killed run
                continue
            if isinstance(rec, dict) and {"suite", "problem", "method", "noise",
                                          "seed"} <= set(rec):
                records[run_key(rec)] = rec
    return list(records.values())


class ResultsLog:
    """Append-only JSON-lines file: one line per finished run, fsynced before returning."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "a+b")  # noqa: SIM115 - kept open for the whole run
        try:  # one writer at a time: a second benchmark on the same folder is refused
            import fcntl

            fcntl.flock(self._fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:  # pragma: no cover - not POSIX: no lock
            pass
        except OSError:
            self._fh.close()
            raise ValueError(f"another benchmark is writing to {self.path}; wait for it or "
                             "choose another output folder") from None
        self._fh.seek(0, os.SEEK_END)
        if self._fh.tell() > 0:  # a kill may have cut the last line: start on a fresh one
            self._fh.seek(-1, os.SEEK_END)
            if self._fh.read(1) != b"\n":
                self._fh.write(b"\n")

    def append(self, record: dict[str, Any]) -> None:
        from eurisko.atomic import jsonable

        line = json.dumps(jsonable(record), allow_nan=False) + "\n"
        self._fh.write(line.encode("utf-8"))
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        self._fh.close()


# --- one run --------------------------------------------------------------------------------


def run_one(problem: Problem, method: str, noise: float, seed: int,
            settings: dict[str, Any]) -> dict[str, Any]:
    """Fit one method on one problem's split and judge it; errors become an error record."""
    from eurisko.bench.judge import judge

    record: dict[str, Any] = {**problem.describe(), "method": get_method(method).name,
                              "noise": float(noise), "seed": int(seed),
                              "time_limit": settings.get("time_limit")}
    if settings.get("units") and get_method(method).name == "eurisko":
        record["units"] = True
    t0 = time.perf_counter()
    try:
        split = problem.split(seed=seed, noise=noise, n=settings.get("rows"))
        extra = dict(settings.get("options", {}).get(get_method(method).name) or {})
        if settings.get("units") and get_method(method).name == "eurisko":
            units = problem.units() if hasattr(problem, "units") else None
            if units is None:
                raise ValueError(f"{problem.name} has no units in its metadata")
            extra["units"] = units
        fit = get_method(method).fit(
            split.X_train, split.y_train, time_limit=settings.get("time_limit"), seed=seed,
            threads=int(settings.get("threads", 1)), max_evals=settings.get("max_evals"),
            **extra)
        record.update(judge(fit, problem, split, check_timeout=settings["check_timeout"],
                            positive=bool(settings.get("positive", False))))
        record.update(status="ok", n_train=len(split.y_train), n_test=len(split.y_test))
    except KeyboardInterrupt:
        raise
    except Exception as e:  # a failed run is recorded, not fatal to the benchmark
        tb = traceback.format_exc(limit=-3)
        record.update(status="error", error=f"{type(e).__name__}: {e}"[:500], traceback=tb,
                      exact=False, accuracy_solution=False)
    record["wall_seconds"] = time.perf_counter() - t0
    record["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    return record


def _task(args: tuple) -> dict[str, Any]:
    return run_one(*args)


def _worker_init(threads: int) -> None:
    """Pool workers: Ctrl-C is the parent's business; keep kernels to this run's threads;
    exit when the parent is gone (killed with -9, it cannot stop its workers itself)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for var in ("EURISKO_NUM_THREADS", "NUMBA_NUM_THREADS", "OMP_NUM_THREADS",
                "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:  # re-parented: the benchmark process died
            os._exit(1)


# --- the suite --------------------------------------------------------------------------------


def _seeds(seeds: int | Iterable[int]) -> list[int]:
    if not isinstance(seeds, Iterable):
        return list(range(check_int(seeds, "seeds", low=1,
                                    hint="give a count n (seeds 0..n-1) or a list of seeds")))
    out = [check_int(s, "a seed", low=0) for s in seeds]
    if not out:
        raise ValueError("seeds is an empty list; give a count n (seeds 0..n-1) or a list of "
                         "seeds such as [0, 1, 2]")
    return list(dict.fromkeys(out))


def _check_manifest(out: Path, protocol: dict[str, Any]) -> dict[str, Any]:
    path = out / MANIFEST_FILE
    if not path.exists():
        return {}
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return {}
    before = old.get("protocol", {})
    diff = {k: (before.get(k), protocol.get(k)) for k in PROTOCOL_KEYS
            if k in before and before.get(k) != protocol.get(k)}
    if diff:
        what = ", ".join(f"{k}={a!r} there, {b!r} now" for k, (a, b) in diff.items())
        raise ValueError(f"{out} holds results made under another protocol ({what}); use the "
                         "same options to resume, or another --out folder")
    return old


def run_suite(suite: str | Suite | Sequence[Problem], *, methods: Sequence[str] = ("eurisko",),
              noise: Sequence[float] = (0.0,), seeds: int | Iterable[int] = 1,
              time_limit: float | None = 60.0, out: str | os.PathLike | None = None,
              jobs: int | None = None, threads: int = 1, rows: int | None = None,
              check_timeout: float = 30.0, positive: bool = False,
              max_evals: int | None = None, retry_errors: bool = False,
              options: dict[str, dict[str, Any]] | None = None, progress: bool = True,
              units: bool = False,
              on_record: Callable[[dict[str, Any]], None] | None = None,
              cluster: str | None = None) -> BenchResults:
    """Run every (problem, method, noise level, seed) of a suite and judge each run.

    Parameters
    ----------
    suite : a suite spec (``"feynman"``, ``"classic:nguyen"``), a `Suite` or a list of problems.
    methods : ``eurisko``, ``pyoperon``, ``gplearn``; a peer that is not installed is reported
        in ``skipped_methods`` and left out.
    noise : noise levels (fractions of RMS(y_train), on the training target only).
    seeds : a count (seeds 0..n-1) or the seeds themselves.
    time_limit : seconds per fit, the same for every method.
    out : folder for ``results.jsonl`` and ``bench.json``; runs already there are skipped.
        None keeps the results in memory only.
    jobs : runs at once (processes); default ``cores // threads``. 1 runs here, in turn.
    threads : threads or processes each run may use.
    rows : rows per problem before the 75/25 split (suite default when None; classic
        problems follow their own specs).
    check_timeout : seconds for each SymPy check (recovery, size); past it: not recovered.
    options : per-method keyword arguments, e.g. ``{"gplearn": {"population_size": 500}}``.
    units : give eurisko each problem's units (Feynman: from the PMLB metadata), so that it
        tries the dimensionless form of the law first; the peers take no units.
    on_record : called with each new record, in the parent, after it is saved.
    cluster : send the runs to a Dask cluster as tasks (``"local"``: a LocalCluster of
        ``jobs`` workers; ``"dask"``: the current client; or a scheduler address), each
        result appended as it arrives (``pip install 'eurisko[dask]'``).
    """
    if isinstance(suite, str):
        suite = load_suite(suite)
    problems = list(suite)
    if not problems:
        raise ValueError("the suite has no problems")
    noise = [check_number(n, "a noise level", low=0, hint=NOISE_HINT) for n in noise]
    if not noise:
        raise ValueError("noise is an empty list; give at least one level, e.g. [0.0]")
    seed_list = _seeds(seeds)
    time_limit = check_number(time_limit, "time_limit", low=0, low_open=True, none_ok=True,
                              what="seconds")
    max_evals = check_int(max_evals, "max_evals", low=1, none_ok=True,
                          what="formula evaluations")
    if time_limit is None and max_evals is None:
        raise ValueError("give a time_limit or max_evals, or runs would never end")
    threads = check_int(threads, "threads", low=1)
    jobs = check_int(jobs, "jobs", low=1, none_ok=True, hint="None runs cores // threads at once")
    if jobs is None:
        jobs = max(1, (os.cpu_count() or 1) // threads)
    rows = check_int(rows, "rows", low=4, none_ok=True, hint="None uses the suite's default")
    check_timeout = check_number(check_timeout, "check_timeout", low=0, low_open=True,
                                 what="seconds")
    positive = check_bool(positive, "positive")
    units = check_bool(units, "units")
    retry_errors = check_bool(retry_errors, "retry_errors")
    from eurisko.search.dask_executor import check_cluster

    cluster = check_cluster(cluster)
    for m in methods:
        get_method(m)  # unknown names fail here, before anything runs
    runnable, skipped = available_methods(methods)

    protocol = {"time_limit": time_limit, "rows": rows, "threads": threads,
                "check_timeout": float(check_timeout), "positive": bool(positive),
                "max_evals": max_evals, **({"units": True} if units else {})}
    settings = {**protocol, "options": options or {}}
    records: list[dict[str, Any]] = []
    log = None
    out_path = Path(out) if out is not None else None
    if out_path is not None:
        out_path.mkdir(parents=True, exist_ok=True)
        old = _check_manifest(out_path, protocol)
        records = read_results(out_path)
        if retry_errors:
            records = [r for r in records if r.get("status") != "error"]
        log = ResultsLog(out_path / RESULTS_FILE)
        _write_manifest(out_path, old, suite, protocol, runnable, skipped, options, noise,
                        seed_list)
    done = {run_key(r) for r in records}
    tasks, n_done = [], 0
    for seed in seed_list:
        for level in noise:
            for p in problems:
                for m in runnable:
                    if (p.suite, p.name, m.name, level, seed) in done:
                        n_done += 1
                    else:
                        tasks.append((p, m.name, level, seed, settings))
    results = BenchResults(records=list(records), skipped_methods=skipped, out=out_path,
                           n_resumed=n_done)

    def finished(rec: dict[str, Any]) -> None:
        if log is not None:
            log.append(rec)
        results.records.append(rec)
        results.n_new += 1
        if on_record is not None:
            on_record(rec)

    try:
        with _Progress(len(tasks), n_done, progress) as bar:
            for name, why in skipped.items():
                bar.note(f"[yellow]skipping {name}[/]: {why}")
            if cluster is not None and tasks:
                _run_cluster(tasks, cluster, jobs, threads, finished, bar)
            elif jobs == 1 or len(tasks) <= 1:
                with _thread_env(threads):
                    for t in tasks:
                        bar.start(t)
                        rec = run_one(*t)
                        finished(rec)
                        bar.done(rec)
            else:
                _run_pool(tasks, min(jobs, len(tasks)), threads, finished, bar)
    except KeyboardInterrupt:
        results.interrupted = True
    finally:
        if log is not None:
            log.close()
    return results


@contextlib.contextmanager
def _thread_env(threads: int):
    """Runs in this process use ``threads`` kernel threads (unless the user set it)."""
    set_here = "EURISKO_NUM_THREADS" not in os.environ
    if set_here:
        os.environ["EURISKO_NUM_THREADS"] = str(threads)
    try:
        yield
    finally:
        if set_here:
            os.environ.pop("EURISKO_NUM_THREADS", None)


def _run_pool(tasks: list[tuple], jobs: int, threads: int,
              finished: Callable[[dict[str, Any]], None], bar: _Progress) -> None:
    """Runs in worker processes. When a worker dies (out of memory, a crash in a peer's native
    code) the runs in flight are retried once in a fresh pool, then recorded as errors."""
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    queue = list(tasks)
    attempts: dict[int, int] = {}
    ctx = mp.get_context("spawn")  # numba's threads and fork do not mix
    while queue:
        pool = ProcessPoolExecutor(max_workers=min(jobs, len(queue)), mp_context=ctx,
                                   initializer=_worker_init, initargs=(threads,))
        futures: dict[Any, tuple] = {}
        lost: list[tuple] = []
        try:
            for _ in range(min(jobs, len(queue))):
                _submit(pool, futures, queue, bar)
            while futures and not lost:
                ready, _ = wait(futures, return_when=FIRST_COMPLETED)
                for fut in ready:
                    t = futures.pop(fut)
                    try:
                        rec = fut.result()
                    except BrokenProcessPool:
                        lost.append(t)
                        continue
                    finished(rec)
                    bar.done(rec)
                    if queue and not lost:
                        _submit(pool, futures, queue, bar)
        except BaseException:
            _kill_pool(pool)
            raise
        if not lost:
            pool.shutdown(wait=True)
            continue
        lost.extend(futures.values())
        _kill_pool(pool)
        for t in lost:
            attempts[id(t)] = attempts.get(id(t), 0) + 1
            if attempts[id(t)] >= 2:
                rec = run_one_failed(t, "the worker process running it died twice")
                finished(rec)
                bar.done(rec)
            else:
                queue.insert(0, t)


def _cluster_task(task: tuple, threads: int) -> dict[str, Any]:
    """One run on a Dask worker, its kernels kept to ``threads`` threads."""
    with _thread_env(threads):
        return run_one(*task)


def _run_cluster(tasks: list[tuple], cluster: str, jobs: int, threads: int,
                 finished: Callable[[dict[str, Any]], None], bar: _Progress) -> None:
    """Runs as tasks on a Dask cluster, each result saved as it arrives. A run whose worker
    dies is retried by Dask on another worker, and recorded as an error when that fails too;
    Ctrl-C cancels the runs not yet finished (the client stays usable)."""
    from eurisko.search.dask_executor import get_client, import_distributed

    distributed = import_distributed()
    client, _ = get_client(cluster, jobs)
    futures = {}
    for t in tasks:
        futures[client.submit(_cluster_task, t, threads, pure=False, retries=1)] = t
    bar.start(tasks[0])
    try:
        with client.as_current():  # as_completed may ask for the default client: ours
            done = distributed.as_completed(list(futures))
        for fut in done:
            t = futures.pop(fut)
            try:
                rec = fut.result()
            except Exception as e:  # noqa: BLE001 - the worker died twice under it
                rec = run_one_failed(t, f"the Dask worker running it died ({type(e).__name__})")
            finished(rec)
            bar.done(rec)
            if futures:
                bar.start(next(iter(futures.values())))
    finally:
        if futures:
            client.cancel(list(futures), force=True)


def _submit(pool, futures: dict[Any, tuple], queue: list[tuple], bar: _Progress) -> None:
    t = queue.pop(0)
    futures[pool.submit(_task, t)] = t
    bar.start(t)


def run_one_failed(task: tuple, why: str) -> dict[str, Any]:
    """The error record of a run whose process died."""
    problem, method, noise, seed, settings = task
    return {**problem.describe(), "method": get_method(method).name, "noise": float(noise),
            "seed": int(seed), "time_limit": settings.get("time_limit"), "status": "error",
            "error": why, "exact": False, "accuracy_solution": False,
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S")}


def _kill_pool(pool) -> None:
    """Stop a pool now: cancel what has not started, end the worker processes."""
    procs = list(getattr(pool, "_processes", {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        if p.is_alive():
            p.terminate()
    for p in procs:
        p.join(timeout=5)


def _write_manifest(out: Path, old: dict[str, Any], suite, protocol: dict[str, Any],
                    runnable, skipped: dict[str, str], options, noise, seeds) -> None:
    from eurisko.atomic import atomic_write_json
    from eurisko.version import __version__

    suite_name = getattr(suite, "name", None) or "custom"
    manifest = {
        "eurisko_version": __version__,
        "protocol": protocol,
        "suites": sorted(set(old.get("suites", [])) | {suite_name}),
        "methods": {m.name: {"settings": method_settings(m.name, (options or {}).get(m.name)),
                             "evaluations": m.evaluations} for m in runnable},
        "skipped_methods": skipped,
        "noise": sorted(set(old.get("noise", [])) | set(noise)),
        "seeds": sorted(set(old.get("seeds", [])) | set(seeds)),
        "created": old.get("created") or time.strftime("%Y-%m-%dT%H:%M:%S"),
        "updated": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "cpus": os.cpu_count()},
    }
    for name, info in old.get("methods", {}).items():
        manifest["methods"].setdefault(name, info)
    atomic_write_json(out / MANIFEST_FILE, manifest)


# --- progress -------------------------------------------------------------------------------


class _Progress:
    """A rich progress bar over the runs, with one line per finished run above it."""

    def __init__(self, total: int, already: int, enabled: bool) -> None:
        self.total, self.already, self.enabled = total, already, enabled
        self._progress = None
        self._task = None
        self._console = None

    def __enter__(self) -> _Progress:
        from rich.console import Console

        self._console = Console(stderr=True)
        if self.enabled:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._progress = Progress(TextColumn("[bold]bench[/]"), BarColumn(),
                                      MofNCompleteColumn(), TimeElapsedColumn(),
                                      TextColumn("eta"), TimeRemainingColumn(),
                                      TextColumn("{task.description}"), console=self._console,
                                      transient=False)
            self._progress.__enter__()
            self._task = self._progress.add_task("", total=self.total)
            if self.already:
                self.note(f"resuming: {self.already} runs already in the results file")
        return self

    def __exit__(self, *exc) -> None:
        if self._progress is not None:
            self._progress.__exit__(*exc)

    def note(self, text: str) -> None:
        if self.enabled and self._console is not None:
            self._console.print(text)

    def start(self, task: tuple) -> None:
        if self._progress is not None:
            p, m, level, seed = task[:4]
            self._progress.update(self._task, description=f"{p.name} {m} noise={level:g} "
                                                          f"seed={seed}")

    def done(self, rec: dict[str, Any]) -> None:
        if self._progress is None:
            return
        self._progress.advance(self._task)
        self.note(format_record(rec, markup=True))


def format_record(rec: dict[str, Any], markup: bool = False) -> str:
    """One line about a finished run."""
    head = (f"{rec['problem']:<12} {rec['method']:<8} noise={float(rec['noise']):<6g} "
            f"seed={rec['seed']:<3}")
    if rec.get("status") != "ok":
        msg = f"{head} error: {rec.get('error', '?')}"
        return f"[red]{_escape(msg)}[/]" if markup else msg
    r2 = rec.get("r2_test")
    r2s = f"{r2:.6f}" if isinstance(r2, (int, float)) and r2 > -1e9 else "  -inf  "
    verdict = "exact" if rec.get("exact") else ("r2>0.999" if rec.get("accuracy_solution")
                                                else "-")
    text = (f"{head} {verdict:<8} R2={r2s} size={rec.get('size', '?'):<3} "
            f"{rec.get('seconds', 0):6.1f}s  {rec.get('model', '')}")
    if len(text) > 160:
        text = text[:157] + "..."
    if not markup:
        return text
    color = "green" if rec.get("exact") else ("cyan" if rec.get("accuracy_solution") else "")
    return f"[{color}]{_escape(text)}[/]" if color else _escape(text)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)

