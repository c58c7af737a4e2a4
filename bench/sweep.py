"""Run a list of RunSpecs, one after another or in parallel worker processes through joblib."""
from __future__ import annotations

import traceback

from joblib import Parallel, delayed
from tqdm.auto import tqdm

from bench.execute import ExecutionOptions, RunOutcome, default_threads, execute
from bench.store import FAILED, RunStore


def execute_isolated(spec, out_dir, options: ExecutionOptions) -> RunOutcome:
    """One run whose unexpected errors mark it failed instead of ending the sweep."""
    store = RunStore(out_dir)
    try:
        return execute(spec, store, options)
    except Exception as error:
        detail = f"{type(error).__name__}: {error}"
        store.set_status(spec, FAILED, detail)
        traceback.print_exc()
        return RunOutcome(spec.run_id, FAILED, detail)


def run_sweep(specs, store: RunStore, options: ExecutionOptions, jobs: int = 1) -> list[RunOutcome]:
    """Execute every spec (finished runs are skipped, interrupted ones resume), then rebuild scores.csv."""
    threads = options.threads or default_threads(jobs)
    if jobs <= 1:
        options = ExecutionOptions(**{**options.__dict__, "threads": threads})
        outcomes = [execute_isolated(spec, store.out_dir, options)
                    for spec in tqdm(specs, desc="runs", unit="run", disable=not options.progress or len(specs) < 2)]
    else:
        worker_options = ExecutionOptions(**{**options.__dict__, "threads": threads, "progress": False})
        tasks = (delayed(execute_isolated)(spec, store.out_dir, worker_options) for spec in specs)
        outcomes = list(tqdm(Parallel(n_jobs=jobs, return_as="generator")(tasks), total=len(specs),
                             desc=f"runs ({jobs} at once)", unit="run", disable=not options.progress))
    store.assemble_scores_csv()
    return outcomes
