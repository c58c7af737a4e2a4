"""Local worker processes in which a worker that dies fails its own task only.

joblib's local pool (loky) ends every task when one worker dies (TerminatedWorkerError): a run
killed by the out-of-memory killer would stop the whole sweep. Here each worker is its own
process with its own pipe; `jobs` of them take tasks one at a time and are reused (the dataset
stays cached in each). A worker that dies (SIGKILL, a segfault) yields a WorkerDied for its task,
with the signal and its peak memory (the kernel's count, os.wait4), and a new worker takes the
next task. `stop()`, asked before each task starts, says when none may start any more (a full disk).
"""
from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import wait


@dataclass(frozen=True)
class WorkerDied:
    """What the kernel said of a worker that died in a task: its signal (or exit code) and its
    peak resident memory in bytes (None where unknown)."""
    exit_status: int                 # -N: killed by signal N, as multiprocessing writes it
    peak_memory: int | None = None

    def cause(self) -> str:
        """One clause: how the worker died and what that likely means."""
        memory = f"; its peak memory was {self.peak_memory / 2 ** 30:.2f} GiB" if self.peak_memory else ""
        if self.exit_status >= 0:
            return f"its worker process exited with code {self.exit_status}{memory}"
        name = signal_name(-self.exit_status)
        if -self.exit_status == signal.SIGKILL:
            return f"its worker process was killed by {name} (likely out of memory{memory})"
        if -self.exit_status in (signal.SIGSEGV, signal.SIGBUS, signal.SIGILL, signal.SIGABRT):
            return f"its worker process crashed with {name} (a fault in native code{memory})"
        return f"its worker process was ended by {name}{memory}"


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def run_in_workers(function, tasks: list[tuple], jobs: int, stop=lambda: False):
    """Yield (index, result) for each task of `tasks` (argument tuples of `function`, a top-level
    function) as it ends, in `jobs` worker processes; result is a WorkerDied where the worker died.
    Once `stop()` is true no further task starts: those not started are never yielded."""
    context = multiprocessing.get_context("spawn")    # not fork: torch's threads do not survive one
    pending = deque(enumerate(tasks))
    idle, busy = [], {}                               # busy: worker -> index of its task
    try:
        while busy or (pending and not stop()):
            while pending and len(busy) < jobs and not stop():
                worker = idle.pop() if idle else Worker(context)
                index, arguments = pending.popleft()
                worker.connection.send((function, arguments))
                busy[worker] = index
            ready = wait([*(worker.connection for worker in busy), *(worker.process.sentinel for worker in busy)])
            for worker in [worker for worker in busy if worker.connection in ready or worker.process.sentinel in ready]:
                index = busy.pop(worker)
                result = worker.result()
                if not isinstance(result, WorkerDied):
                    idle.append(worker)
                yield index, result
    finally:
        for worker in idle:
            worker.close()
        for worker in busy:                           # interrupted: their runs resume next time
            worker.process.terminate()
        for worker in [*idle, *busy]:
            worker.process.join(10)


class Worker:
    """One worker process and the pipe its tasks and results go through."""

    def __init__(self, context):
        self.connection, child_end = context.Pipe()
        self.process = context.Process(target=serve, args=(child_end, os.getpid()), daemon=True)
        self.process.start()
        child_end.close()

    def result(self):
        """The result of its task, or a WorkerDied when it died instead (reaped here, for its rusage)."""
        try:
            if self.connection.poll():
                return self.connection.recv()
        except (EOFError, OSError):
            pass
        return self.death()

    def death(self) -> WorkerDied:
        _, status, usage = os.wait4(self.process.pid, 0)
        exit_status = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        self.process._popen.returncode = exit_status      # reaped here: multiprocessing must not wait again
        return WorkerDied(exit_status, usage.ru_maxrss * 1024 or None)   # Linux counts KiB

    def close(self) -> None:
        try:
            self.connection.send(None)
        except OSError:
            pass


def serve(connection, parent_pid: int) -> None:
    """A worker's life: take (function, arguments), send back the result, until told None.

    tqdm's lock is made a thread lock here: its default is a multiprocessing semaphore, which a
    worker killed while holding it leaves to a "leaked semaphore" warning of the resource tracker
    (a worker shows no progress bars)."""
    from tqdm import tqdm
    tqdm.set_lock(threading.RLock())
    signal.signal(signal.SIGINT, signal.SIG_IGN)      # Ctrl-C is the parent's: it ends its workers
    exit_with_parent(parent_pid)
    while True:
        try:
            task = connection.recv()
        except EOFError:                              # the parent closed the pipe
            return
        if task is None:
            return
        function, arguments = task
        connection.send(function(*arguments))


def exit_with_parent(parent_pid: int) -> None:
    """Make this worker process end soon after `bench run` (its parent) is gone.

    A killed `bench run` (SIGKILL, the OOM killer) cannot stop its workers, which would otherwise
    go on, unseen, with the runs they hold. Ending them is safe: a run's checkpoint is written
    atomically, the kernel releases its lock, and the next `bench run` resumes it.
    """
    def watch():
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
