"""Run a list of RunSpecs: one after another, in local worker processes, or on a Dask or Ray cluster.

Every backend goes through joblib: "local" is joblib's process pool (loky), "dask" and "ray" are
joblib's backends for those clusters. Workers write straight into the results folder, so on a
cluster it must be on a filesystem that every worker and this machine share. Runs are independent:
an error in one marks it failed and the others go on.
"""
from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
import traceback
import warnings

from joblib import Parallel, delayed, parallel_config
from tqdm.auto import tqdm

from bench.device import busy_cores, default_threads, usable_cores
from bench.errors import UserError, one_line_warnings
from bench.running.execute import ExecutionOptions, RunOutcome, execute
from bench.running.run_folder import FAILED
from bench.running.store import RunStore

CONNECT_TIMEOUT_S = 10
CLUSTER_BACKENDS = ("dask", "ray")
# loky (joblib's local pool) replaces a worker whose memory grew by more than 300 MB during a task
# and warns "A worker stopped while some jobs were given to the executor ... a memory leak". A
# worker here keeps the dataset (360 MB for dSprites) and the allocator's freed memory
# (bench.device.keep_freed_memory) on purpose; the replacement reloads the cache in ~0.1 s and no
# run is lost, so the warning says nothing a user can act on.
LOKY_RESTART_WARNING = "A worker stopped while some jobs were given to the executor"


def silence_worker_restarts() -> None:
    """Leave out loky's worker-restart warning (LOKY_RESTART_WARNING), from every thread: loky's
    manager thread issues it in this process."""
    warnings.filterwarnings("ignore", message=LOKY_RESTART_WARNING, category=UserWarning)


def execute_isolated(spec, out_dir, options: ExecutionOptions, parent_pid: int | None = None) -> RunOutcome:
    """One run whose unexpected errors mark it failed instead of ending the sweep.

    `parent_pid`: in a local worker process, the `bench run` process it works for (see exit_with_parent).
    """
    if parent_pid is not None:
        exit_with_parent(parent_pid)
    one_line_warnings()
    store = RunStore(out_dir)
    try:
        return execute(spec, store, options)
    except Exception as error:
        detail = f"{type(error).__name__}: {error}"
        store.folder(spec.run_id).set_status(FAILED, detail)
        traceback.print_exc()
        return RunOutcome(spec.run_id, FAILED, detail)


_watched_parent: int | None = None


def exit_with_parent(parent_pid: int) -> None:
    """Make this local worker process end soon after `bench run` (its parent) is gone.

    A killed `bench run` (SIGKILL, the OOM killer) cannot stop its workers, which would otherwise
    go on, unseen, with every run already handed to them. Ending them is safe: a run's checkpoint
    is written atomically, the kernel releases its lock, and the next `bench run` resumes it.
    """
    global _watched_parent
    if _watched_parent == parent_pid or os.getpid() == parent_pid:
        return
    _watched_parent = parent_pid

    def watch():
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def connect(backend: str = "local", scheduler: str | None = None) -> contextlib.ExitStack:
    """A context in which joblib runs on `backend`; a cluster that cannot be reached is a UserError.

    Call it before anything is written, so that a wrong address harms nothing.
    """
    stack = contextlib.ExitStack()
    if backend == "dask":
        client = dask_client(scheduler)
        stack.callback(client.close)
        stack.enter_context(parallel_config(backend=cluster_dask_backend(client)))
    elif backend == "ray":
        ray = ray_connection(scheduler)
        stack.callback(ray.shutdown)
        stack.enter_context(parallel_config(backend="ray"))
    elif backend != "local":
        raise UserError(f"unknown backend {backend!r}; valid: local, {', '.join(CLUSTER_BACKENDS)}")
    return stack


def dask_client(address: str | None):
    try:
        from distributed import Client
    except ImportError:
        raise UserError("--backend dask needs Dask's distributed scheduler: "
                        "pip install 'disentanglement-bench[dask]' (or 'dask[distributed]')") from None
    if not address:
        raise UserError("--backend dask needs --scheduler ADDRESS of a running scheduler, "
                        "e.g. tcp://10.0.0.5:8786")
    try:
        return Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except (OSError, TimeoutError, ValueError, TypeError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise UserError(f"cannot reach the Dask scheduler at {address!r} "
                        f"(waited {CONNECT_TIMEOUT_S} s): {reason}") from None


def cluster_dask_backend(client):
    """joblib's Dask backend, except that a cluster with a single worker thread gets the runs too:
    joblib runs the tasks itself, here in the client, whenever it counts one worker."""
    from joblib._dask import DaskDistributedBackend

    class ClusterOnly(DaskDistributedBackend):
        def effective_n_jobs(self, n_jobs):
            return max(2, super().effective_n_jobs(n_jobs))

    return ClusterOnly(client=client)


def ray_connection(address: str | None):
    try:
        import ray
        from ray.util.joblib import register_ray
    except ImportError:
        raise UserError("--backend ray needs Ray: pip install 'disentanglement-bench[ray]' (or 'ray')") from None
    try:                      # address None: Ray's own rule (RAY_ADDRESS, else a new local instance)
        ray.init(address=address, ignore_reinit_error=True)
    except (ConnectionError, OSError, TimeoutError, ValueError, RuntimeError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise UserError(f"cannot reach the Ray cluster at {address or 'its default address'!r}: {reason}") from None
    register_ray()
    return ray


def chosen_threads(jobs: int) -> int:
    """The default torch threads per local run, said in one line (the cores free at the start)."""
    busy = busy_cores()
    threads = default_threads(jobs, busy)
    print(f"{threads} torch thread(s) per run ({busy:.1f} of {usable_cores()} cores busy at the start; "
          f"--threads sets it)", flush=True)
    return threads


def landed(outcomes, store: RunStore):
    """`outcomes` as they come, scores.csv rebuilt after each run that wrote scores (not after a
    skipped one: resuming a large sweep does not reread every folder once per finished run)."""
    for outcome in outcomes:
        if outcome.wrote:
            store.assemble_scores_csv()
        yield outcome


def run_sweep(specs, store: RunStore, options: ExecutionOptions, jobs: int | None = 1,
              backend: str = "local") -> list[RunOutcome]:
    """Execute every spec (finished runs are skipped, interrupted ones resume), rebuilding scores.csv
    as each run lands (so that `bench report` beside a long sweep, or after one cut short, reads
    every finished run) and once more at the end.

    Locally, `jobs` runs go at once in worker processes, each with its share of the CPU threads.
    On a cluster (inside `connect(...)`), `jobs` is ignored: the workers' threads decide how many
    runs go at once, and torch keeps each worker's thread setting unless `options.threads` says
    otherwise. Outcomes come back in the order of `specs`.
    """
    cluster = backend in CLUSTER_BACKENDS
    if not cluster and not options.threads:
        options = ExecutionOptions(**{**options.__dict__, "threads": chosen_threads(jobs or 1)})
    try:
        if not cluster and (jobs or 1) <= 1:
            return list(landed((execute_isolated(spec, store.out_dir, options)
                                for spec in tqdm(specs, desc="runs", unit="run", file=sys.stderr,
                                                 disable=not options.progress or len(specs) < 2)), store))
        silence_worker_restarts()
        worker_options = ExecutionOptions(**{**options.__dict__, "progress": False})
        parent = None if cluster else os.getpid()      # cluster workers live on without us
        tasks = (delayed(execute_isolated)(spec, store.out_dir, worker_options, parent) for spec in specs)
        n_jobs = -1 if cluster else jobs
        if backend == "ray":                 # joblib's ray backend returns lists only
            finished = Parallel(n_jobs=n_jobs)(tasks)
        else:
            finished = Parallel(n_jobs=n_jobs, return_as="generator_unordered")(tasks)
        by_id = {outcome.run_id: outcome for outcome in
                 tqdm(landed(finished, store), total=len(specs), unit="run", file=sys.stderr,
                      desc=f"runs (on {backend})" if cluster else f"runs ({jobs} at once)",
                      disable=not options.progress)}
        return [by_id[spec.run_id] for spec in specs]
    finally:
        store.assemble_scores_csv()
