"""The search on a Dask cluster (a LocalCluster of 2 worker processes, shared by the module),
and a search that survives losing a worker, on Dask and on local processes."""

from __future__ import annotations

import os
import pickle
import signal

import numpy as np
import pytest

from eurisko.evaluate.base import Dataset
from eurisko.expr.operators import DEFAULT_OPERATORS
from eurisko.search.engine import run_search
from eurisko.search.island import SearchConfig

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                       dashboard_address=None, silence_logs=40)
    c = distributed.Client(cluster)  # the default client: cluster="dask" finds it
    c.wait_for_workers(2)
    yield c
    c.close()
    cluster.close()


@pytest.fixture
def two_workers(client):
    client.wait_for_workers(2, timeout=120)  # a worker killed by an earlier test is back
    return client


def _data(n=120, seed=0) -> Dataset:
    X = np.random.default_rng(seed).uniform(1, 3, (n, 2))
    return Dataset.from_arrays(X, X[:, 0] * X[:, 1] + np.exp(-X[:, 0]), np.ones(n))


def _cfg(**kw) -> SearchConfig:
    return SearchConfig(**{"operators": DEFAULT_OPERATORS, "population_size": 20,
                           "n_islands": 2, "steps_per_epoch": 2, **kw})


def _hof(state) -> list:
    return sorted((c, p.codes.tobytes(), p.consts.tobytes(), loss)
                  for c, (p, loss, _) in state.hof.entries.items())


def _executor(client):
    from eurisko.search.dask_executor import DaskExecutor

    return DaskExecutor(client)


def test_one_group_on_dask_is_the_in_process_search_bit_for_bit(two_workers):
    cfg = _cfg(n_islands=1, migration_interval=2)
    here = run_search(_data(), cfg, seed=3, n_jobs=1, max_evals=1500)
    # a client that is not the default one (as cluster="local" or an address makes)
    other = distributed.Client(two_workers.scheduler.address, set_as_default=False)
    try:
        there = run_search(_data(), cfg, seed=3, executor=_executor(other), max_evals=1500)
    finally:
        other.close()
    assert here.epoch > 3 and _hof(here) == _hof(there) and here.n_evals == there.n_evals


def test_first_epochs_on_dask_match_local_processes(two_workers):
    # max_evals=1: each worker runs just its first epoch, which depends on the seed alone
    local = run_search(_data(), _cfg(), seed=5, n_jobs=2, max_evals=1)
    dask = run_search(_data(), _cfg(), seed=5, executor=_executor(two_workers), max_evals=1)
    assert _hof(local) == _hof(dask) and local.n_evals == dask.n_evals
    assert dask.stats["workers"] == 2 and dask.stats["reply_bytes"] > 0


def test_requests_do_not_carry_the_data(two_workers):
    data = _data(n=20000)
    ex = _executor(two_workers)
    sizes, scatters = [], []
    submit, scatter = ex.client.submit, ex.client.scatter

    def spy_submit(fn, *args, **kw):
        sizes.append(len(pickle.dumps(args)))
        return submit(fn, *args, **kw)

    def spy_scatter(obj, **kw):
        scatters.append(1)
        return scatter(obj, **kw)

    ex.client = type("Spy", (), {"__getattr__": lambda self, k: getattr(two_workers, k),
                                 "submit": staticmethod(spy_submit),
                                 "scatter": staticmethod(spy_scatter)})()
    state = run_search(data, _cfg(), seed=0, executor=ex, max_evals=3000)
    assert state.epoch >= 2 and len(sizes) >= 4  # opened two groups, ran epochs
    assert scatters == [1]  # the data went out once
    assert max(sizes) < data.Xt.nbytes / 10  # no request carries them


def _kill_one(pids: list[int], every: bool = False):
    """A progress callback that SIGKILLs one worker (or ``every`` one) after a few reports,
    remembering the best loss the search had then (what its last checkpoint before the kill
    held at most)."""
    seen = {"calls": 0, "best": None}

    def progress(p):
        seen["calls"] += 1
        if seen["calls"] == 3:
            seen["best"] = p.best_loss
            for pid in pids if every else pids[:1]:
                os.kill(pid, signal.SIGKILL)

    return progress, seen


def test_a_killed_worker_process_costs_its_islands_not_the_fit():
    from eurisko.search.executors import LocalProcesses

    ex = LocalProcesses(2)
    progress, seen = _kill_one([ex.workers.procs[0].pid])
    state = run_search(_data(), _cfg(n_islands=4), seed=0, executor=ex, max_evals=8000,
                       progress=progress, describe=lambda hof: [])
    assert state.faults and state.faults[0]["islands"] == [0, 2]
    assert state.stop_reason == "evaluation budget" and state.n_evals >= 8000
    assert state.hof.best_loss() <= seen["best"]
    assert not ex.workers.procs[0].is_alive()


def test_ctrl_c_on_dask_returns_and_leaves_the_client_usable(two_workers, tmp_path):
    from eurisko.search.checkpoint import load_state, save_state

    calls = []

    def progress(p):
        calls.append(p)
        if len(calls) == 3:
            raise KeyboardInterrupt

    state = run_search(_data(), _cfg(), seed=0, executor=_executor(two_workers),
                       max_evals=10**9, progress=progress, describe=lambda hof: [],
                       checkpoint=lambda s: save_state(tmp_path, s, {}))
    assert state.interrupted and state.stop_reason == "interrupted"
    assert load_state(tmp_path)[0].interrupted  # the final checkpoint was written
    assert two_workers.submit(lambda x: x + 1, 1).result(timeout=30) == 2


def test_an_error_in_the_fit_writes_the_final_checkpoint(tmp_path):
    from eurisko.search.checkpoint import load_state, save_state

    def progress(p):
        if p.n_evals > 0 and not p.done:
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        run_search(_data(), _cfg(), seed=0, n_jobs=1, max_evals=10**9, progress=progress,
                   describe=lambda hof: [], checkpoint=lambda s: save_state(tmp_path, s, {}),
                   checkpoint_every=1e9)
    state, _ = load_state(tmp_path)
    assert state.n_evals > 0 and state.hof.entries


def test_a_dask_fit_resumes_in_this_process(two_workers, tmp_path):
    from eurisko import SymbolicRegressor

    X = np.random.default_rng(1).uniform(1, 3, (100, 2))
    y = X[:, 0] * X[:, 1]
    model = SymbolicRegressor(cluster="dask", max_evals=3000, time_limit=None, n_islands=2,
                              population_size=20, random_state=0, decompose=False,
                              exact_fit_tol=None,
                              run_dir=tmp_path)
    model.fit(X, y)
    assert model.n_evals_ >= 3000
    again = SymbolicRegressor.from_run(tmp_path)
    assert again.cluster == "dask"
    again.set_params(cluster=None, n_jobs=1, max_evals=6000).fit(X, y)
    assert again.n_evals_ >= 6000 and again.search_state_.epoch > model.search_state_.epoch


def test_custom_operators_reach_the_dask_workers(two_workers):
    # the numpy reference backend: the workers use the operator's numpy function, sent by
    # value, and the registry rebuilt in the driver's order (numba would spend a minute
    # compiling kernels for the new registry; tests/evaluate covers custom kernels)
    from eurisko.evaluate.reference import NumpyBackend
    from eurisko.expr.operators import (
        custom_operators,
        install_operators,
        op_code,
        register_operator,
    )

    before = custom_operators()
    try:
        register_operator("softsign_dask", 1, numpy=lambda a: a / (1 + np.abs(a)),
                          sympy=lambda a: a / (1 + abs(a)), scalar="a / (1.0 + abs(a))",
                          grad=("1.0 / ((1.0 + abs(a)) * (1.0 + abs(a)))",))
        X = np.random.default_rng(2).uniform(-3, 3, (100, 1))
        data = Dataset.from_arrays(X, X[:, 0] / (1 + np.abs(X[:, 0])), np.ones(100))
        cfg = _cfg(operators=("add", "mul", "softsign_dask"))
        state = run_search(data, cfg, seed=0, executor=_executor(two_workers), max_evals=2000,
                           backend=NumpyBackend())
        code = op_code("softsign_dask")
        assert any(code in p.codes for pop in state.populations for p in pop)
    finally:
        install_operators(before)


def test_custom_losses_reach_the_dask_workers(two_workers, monkeypatch):
    # a quartic loss, unknown to the workers' registry until the driver sends it; the
    # reference backend on both sides, so the driver can recompute the losses it got back
    from eurisko.evaluate import losses as losses_module
    from eurisko.evaluate.losses import LossSpec, register_loss
    from eurisko.evaluate.reference import NumpyBackend
    from eurisko.expr.program import ProgramBatch

    monkeypatch.setattr(losses_module, "_REGISTRY", list(losses_module._REGISTRY))
    monkeypatch.setattr(losses_module, "_FINGERPRINT", {})
    register_loss("quartic_dask", numpy=lambda r, d: (r / d) ** 4, scalar="(r / d) ** 4")
    X = np.random.default_rng(3).uniform(1, 3, (80, 2))
    y = X[:, 0] * X[:, 1] + np.random.default_rng(4).normal(0, 0.1, 80)
    data = Dataset(X.T.copy(), y, None, LossSpec("quartic_dask", 0.5))
    state = run_search(data, _cfg(), seed=0, executor=_executor(two_workers), max_evals=1500,
                       backend=NumpyBackend())
    assert state.n_evals >= 1500 and not state.faults
    progs = [p for p, _, _ in state.hof.entries.values()]
    got = np.array([loss for _, loss, _ in state.hof.entries.values()])
    want = NumpyBackend().losses(ProgramBatch.from_programs(progs), data, True).loss
    np.testing.assert_allclose(got, want, rtol=1e-6)
    # a task that raises (here: a worker that was not sent the loss) ends the fit with its
    # error, rather than being taken for a lost worker and reopened forever
    from eurisko.search import dask_executor

    monkeypatch.setattr(dask_executor, "_losses_blob", lambda: None)
    register_loss("quartic_dask_2", numpy=lambda r, d: (r / d) ** 4, scalar="(r / d) ** 4")
    data = Dataset(X.T.copy(), y, None, LossSpec("quartic_dask_2", 0.5))
    with pytest.raises(ValueError, match="unknown loss 'quartic_dask_2'"):
        run_search(data, _cfg(), seed=0, executor=_executor(two_workers), max_evals=1500,
                   backend=NumpyBackend())


def test_a_result_lost_with_its_worker_is_not_waited_on():
    # a future whose result went with a dead worker (status "lost") blocks in result() until
    # a recomputation that may never come: collect takes it for a lost group instead
    from eurisko.search.dask_executor import DaskExecutor

    class Fut:
        def __init__(self, status):
            self.status = status

        def result(self, timeout=None):
            if self.status == "lost":
                raise AssertionError("result() of a lost future blocks")
            raise TimeoutError

    class Client:
        cancelled: list = []

        def cancel(self, futures, force=False):
            self.cancelled.extend(futures)

    ex = object.__new__(DaskExecutor)
    ex.distributed, ex.client, ex.result_wait = distributed, Client(), 1.0
    lost, slow = Fut("lost"), Fut("finished")
    assert ex._reply(lost, 3) == {"kind": "lost", "gid": 3}
    assert ex._reply(slow, 4) == {"kind": "lost", "gid": 4}  # a fetch that times out
    assert ex.client.cancelled == [lost, slow]


def test_cluster_is_checked_at_the_door(monkeypatch):
    import sys

    from eurisko import SymbolicRegressor

    X, y = np.ones((10, 1)), np.arange(10.0)
    with pytest.raises(TypeError, match="cluster must be a string"):
        SymbolicRegressor(cluster=2).fit(X, y)
    with pytest.raises(ValueError, match="scheduler address"):
        SymbolicRegressor(cluster="my-cluster").fit(X, y)
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(ImportError, match=r"pip install 'eurisko\[dask\]'"):
        SymbolicRegressor(cluster="local").fit(X, y)


def test_bench_runs_go_to_the_cluster_and_resume(two_workers, tmp_path):
    from eurisko.bench.run import read_results, run_suite
    from eurisko.bench.suite import load_suite

    suite = load_suite("strogatz:lv")
    kw = dict(methods=["eurisko"], noise=[0.0], seeds=1, time_limit=None, max_evals=300,
              out=tmp_path, progress=False, cluster="dask", rows=60, check_timeout=5.0,
              options={"eurisko": {"decompose": False}})
    first = run_suite(suite, **kw)
    assert first.n_new == len(suite) and not first.interrupted
    records = read_results(tmp_path)
    assert len(records) == len(suite) and all(r["status"] == "ok" for r in records)
    again = run_suite(suite, **kw)
    assert again.n_new == 0 and again.n_resumed == len(suite)


# last in the module: the killed worker's nanny restarts it, which may take a while
def test_a_killed_dask_worker_costs_its_islands_not_the_fit(two_workers):
    pids = sorted(two_workers.run(os.getpid).values())
    progress, seen = _kill_one(pids)
    state = run_search(_data(), _cfg(n_islands=4), seed=0, executor=_executor(two_workers),
                       max_evals=8000, progress=progress, describe=lambda hof: [])
    assert seen["best"] is not None
    assert state.faults and state.stop_reason == "evaluation budget"
    assert state.n_evals >= 8000 and state.hof.best_loss() <= seen["best"]
    assert all(len(p) > 0 for p in state.populations)


def test_a_fit_waits_for_the_nanny_when_every_dask_worker_is_killed(two_workers):
    pids = sorted(two_workers.run(os.getpid).values())
    progress, seen = _kill_one(pids, every=True)
    state = run_search(_data(), _cfg(n_islands=4), seed=0, executor=_executor(two_workers),
                       max_evals=8000, progress=progress, describe=lambda hof: [])
    assert seen["best"] is not None and state.faults
    assert state.stop_reason == "evaluation budget" and state.hof.best_loss() <= seen["best"]
    assert not set(pids) & set(two_workers.run(os.getpid).values())  # new processes did it
