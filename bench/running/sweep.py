"""Run a list of RunSpecs: one after another, in local worker processes, or on a Dask or Ray cluster.

Locally, `jobs` > 1 runs go at once in worker processes of bench/running/worker_pool.py, where a
worker that dies (SIGKILL by the out-of-memory killer, a segfault) fails its own run only, with
the signal and its peak memory in one line, and a new worker takes the next run (joblib's loky
pool would end every run). On Dask each run is a task of its own (on_dask); on Ray the runs go
through joblib's Ray backend. The cluster runs a task again when its worker is lost, and a run it
gives up on is marked failed in one line, not a traceback. Workers write straight into the
results folder, so on a cluster it must be on a filesystem that every worker and this machine
share. Runs are independent: an error in one marks it failed and the others go on. A write that
fails for lack of space fails its run (its last checkpoint and every finished run stay as they
were) and no further run starts (the runs already handed to a cluster go on).
"""
from __future__ import annotations

import contextlib
import dataclasses
import sys
import traceback
import uuid

from joblib import Parallel, delayed, parallel_config
from tqdm.auto import tqdm

from bench.device import busy_cores, default_threads, usable_cores
from bench.errors import UserError, one_line, one_line_warnings
from bench.running.execute import NOT_STARTED, ExecutionOptions, RunOutcome, execute
from bench.running.files import DiskFull, no_space
from bench.running.run_folder import FAILED
from bench.running.store import RunStore
from bench.running.worker_pool import WorkerDied, run_in_workers

CONNECT_TIMEOUT_S = 10
CLUSTER_BACKENDS = ("dask", "ray")
RESUMES = "the next `bench run` resumes it from its last checkpoint"


def execute_isolated(spec, out_dir, options: ExecutionOptions) -> RunOutcome:
    """One run whose unexpected errors mark it failed instead of ending the sweep; a write that
    fails for lack of space marks it failed with one line (RunOutcome.no_space)."""
    one_line_warnings()
    try:
        store = RunStore(out_dir)
    except UserError as error:                      # the results folder cannot be written at all
        return RunOutcome(spec.run_id, FAILED, str(error))
    try:
        return execute(spec, store, options)
    except OSError as error:
        if not no_space(error):
            return failed_with_traceback(store, spec.run_id, error)
        line = error.line() if isinstance(error, DiskFull) else f"no space left on device ({error.filename or error})"
        return failed(store, spec.run_id, f"{line}; free space and run the same command again: {RESUMES}",
                      no_space=True)
    except Exception as error:
        return failed_with_traceback(store, spec.run_id, error)


def failed_with_traceback(store: RunStore, run_id: str, error: Exception) -> RunOutcome:
    traceback.print_exc()
    return failed(store, run_id, f"{type(error).__name__}: {error}")


def failed(store: RunStore, run_id: str, detail: str, no_space: bool = False) -> RunOutcome:
    """The run marked failed in its status file, where that can still be written (else it stays
    "running", which the next `bench run` resumes all the same)."""
    try:
        store.folder(run_id).set_status(FAILED, detail)
    except OSError:
        pass
    return RunOutcome(run_id, FAILED, detail, no_space=no_space)


@contextlib.contextmanager
def connect(backend: str = "local", scheduler: str | None = None):
    """A context for a sweep on `backend`: Dask's client (its runs are submitted to it, on_dask), or
    Ray through joblib (its value None, as for local runs); a cluster that cannot be reached is a
    UserError.

    Enter it before anything is written, so that a wrong address harms nothing.
    """
    if backend == "dask":
        client = dask_client(scheduler)
        try:
            yield client
        finally:
            client.close()
    elif backend == "ray":
        ray = ray_connection(scheduler)
        try:
            with parallel_config(backend="ray"):
                yield None
        finally:
            ray.shutdown()
    elif backend == "local":
        yield None
    else:
        raise UserError(f"unknown backend {backend!r}; valid: local, {', '.join(CLUSTER_BACKENDS)}")


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


def one_by_one(specs, store: RunStore, options: ExecutionOptions, stop):
    """The runs in this process, one after another, until `stop()`."""
    for spec in specs:
        if stop():
            return
        yield execute_isolated(spec, store.out_dir, options)


def in_workers(specs, store: RunStore, options: ExecutionOptions, jobs: int, stop):
    """The runs in `jobs` local worker processes; a run whose worker died is marked failed with the cause."""
    tasks = [(spec, store.out_dir, options) for spec in specs]
    for index, result in run_in_workers(execute_isolated, tasks, jobs, stop):
        if isinstance(result, WorkerDied):
            result = failed(store, specs[index].run_id, f"{result.cause()}; {RESUMES}")
        yield result


def on_dask(specs, store: RunStore, options: ExecutionOptions, client):
    """The runs as tasks of a Dask cluster, one each. Dask runs a task again when its worker is
    lost (distributed.scheduler.allowed-failures times; the run resumes from its checkpoint); a run
    it gives up on (KilledWorker) is marked failed in one line, and the other runs go on."""
    from distributed import as_completed
    futures = {client.submit(execute_isolated, spec, store.out_dir, options, pure=False,
                             key=f"bench-run-{spec.run_id}-{uuid.uuid4().hex[:8]}"): spec for spec in specs}
    try:
        for future in as_completed(futures, loop=client.loop):
            if future.status == "finished":
                yield future.result()
                continue
            error = future.exception() if future.status == "error" else None     # else cancelled, by the cluster
            cause = f"lost on the dask cluster ({one_line(error) if error else future.status})"
            if type(error).__name__ == "KilledWorker":
                cause = "each Dask worker that ran it died (KilledWorker: likely out of memory, or a crash)"
            yield failed(store, futures[future].run_id, f"{cause}; {RESUMES}")
    finally:
        client.cancel(list(futures))              # interrupted: what has not started never will


def on_ray(specs, store: RunStore, options: ExecutionOptions):
    """The runs on a Ray cluster through joblib, which returns them all at the end. Ray runs a task
    again when its worker is lost (max_retries); when it gives up, joblib ends the sweep, and each
    run is failed with Ray's reason in one line (a finished one is skipped by the next command)."""
    tasks = [delayed(execute_isolated)(spec, store.out_dir, options) for spec in specs]
    try:
        outcomes = Parallel(n_jobs=-1)(tasks)
    except Exception as error:               # a lost worker, node or object, a cut connection
        outcomes = [RunOutcome(spec.run_id, FAILED, f"lost on the ray cluster ({one_line(error)}); {RESUMES}")
                    for spec in specs]
    yield from outcomes


class ScoresTable:
    """scores.csv rebuilt after each run that wrote scores (not after a skipped one: resuming a
    large sweep does not reread every folder once per finished run). A rebuild that fails for lack
    of space keeps the last one (written atomically) and says so once; `full` is then true."""

    def __init__(self, store: RunStore):
        self.store = store
        self.full = False

    def rebuild(self) -> bool:
        """Whether scores.csv now holds every run folder's scores (not once the disk is full)."""
        if self.full:
            return False
        try:
            self.store.assemble_scores_csv()
            return True
        except DiskFull as error:
            self.full = True
            print(f"bench: {error.line()}; it keeps its last version, and the run folders every score "
                  f"(`bench report` rebuilds it)", file=sys.stderr, flush=True)
            return False


def run_sweep(specs, store: RunStore, options: ExecutionOptions, jobs: int | None = 1,
              backend: str = "local", client=None) -> list[RunOutcome]:
    """Execute every spec (finished runs are skipped, interrupted ones resume), rebuilding scores.csv
    as each run lands (so that `bench report` beside a long sweep, or after one cut short, reads
    every finished run) and once more at the end.

    Locally, `jobs` runs go at once in worker processes, each with its share of the CPU threads.
    On a cluster (inside `connect(...)`; `client`: its value, Dask's client), `jobs` is ignored: the
    workers' threads decide how many runs go at once, and torch keeps each worker's thread setting
    unless `options.threads` says otherwise. Outcomes come back in the order of `specs`; once a
    write failed for lack of space, the runs not yet started are NOT_STARTED.
    """
    cluster = backend in CLUSTER_BACKENDS
    if not cluster and not options.threads:
        options = ExecutionOptions(**{**options.__dict__, "threads": chosen_threads(jobs or 1)})
    table, by_id = ScoresTable(store), {}

    def stop() -> bool:
        return table.full

    try:
        if not cluster and (jobs or 1) <= 1:
            finished, desc = one_by_one(specs, store, options, stop), "runs"
        else:
            worker_options = ExecutionOptions(**{**options.__dict__, "progress": False})
            finished = (on_dask(specs, store, worker_options, client) if backend == "dask" else
                        on_ray(specs, store, worker_options) if backend == "ray" else
                        in_workers(specs, store, worker_options, jobs, stop))
            desc = f"runs (on {backend})" if cluster else f"runs ({jobs} at once)"
        for outcome in tqdm(finished, total=len(specs), unit="run", file=sys.stderr, desc=desc,
                            disable=not options.progress or len(specs) < 2):
            by_id[outcome.run_id] = outcome
            if outcome.no_space:
                table.full = True                   # nothing more is written, nor said again
            elif outcome.wrote and not table.rebuild():
                by_id[outcome.run_id] = dataclasses.replace(outcome, no_space=True)   # done, not in scores.csv
    finally:
        table.rebuild()
    return [by_id.get(spec.run_id) or RunOutcome(spec.run_id, NOT_STARTED, "no space left to start it", wrote=False)
            for spec in specs]
