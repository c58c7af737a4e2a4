"""How many independent fits of a metric run at once: DCI's classifier per factor, SAP's SVMs and
modularity's explicitness classifiers per factor (`map_fits`).

They run in threads of this process: sklearn's tree builder and liblinear release the GIL (two
GradientBoostingClassifier fits in two threads took 0.52-0.72 of the time of one after the other
on the loaded 2-core Xeon, for the same CPU time), and no copy of the data or process start is
needed. Every fit is seeded before any starts and writes only its own result, so the numbers are
those of the serial loop, in its order, whatever the number of threads.

How many threads: what the caller allows (`allow(n)`: `bench run` allows each run its torch
threads, `bench speed` its `--threads`), else the policy of training threads (bench/device.py,
default_threads): the cores free the first time a metric asks, measured once per process.
"""
from __future__ import annotations

import contextlib
import contextvars
import functools
from concurrent.futures import ThreadPoolExecutor

_allowed: contextvars.ContextVar[int | None] = contextvars.ContextVar("metric_fit_threads", default=None)


@contextlib.contextmanager
def allow(threads: int | None):
    """Let the metrics scored inside this block run up to `threads` fits at once; None or 0 leaves
    the allowance as it is (a caller whose thread count is not set)."""
    if not threads:
        yield
        return
    token = _allowed.set(int(threads))
    try:
        yield
    finally:
        _allowed.reset(token)


@functools.cache
def free_cores() -> int:
    """The cores free the first time a metric asks, by the training threads' policy (one run)."""
    from bench.device import default_threads
    return default_threads(1)


def allowed() -> int:
    """How many fits may run at once here: `allow`'s number inside its block, else the free cores."""
    threads = _allowed.get()
    return free_cores() if threads is None else threads


def map_fits(function, items, threads: int | None = None, costs=None) -> list:
    """[function(item) for item in items], up to `threads` (default: `allowed()`) at once in
    threads; the results in the order of `items`, exceptions raised as in the loop. `costs` (one
    number per item, e.g. a factor's classes): the costliest start first, so that the longest fit
    does not start last (DCI on dSprites' 5 factors, 3, 6, 40, 32 and 32 classes, on 2 threads:
    at best 113 / 64 = 1.77x the speed of one thread, against 113 / 70 = 1.61x in the factors' order)."""
    items = list(items)
    threads = min(len(items), allowed() if threads is None else threads)
    if threads <= 1:
        return [function(item) for item in items]
    order = range(len(items)) if costs is None else sorted(range(len(items)), key=lambda i: -costs[i])
    with ThreadPoolExecutor(threads, thread_name_prefix="metric-fit") as pool:
        futures = {i: pool.submit(function, items[i]) for i in order}       # started in this order
        return [futures[i].result() for i in range(len(items))]
