"""Writing and reading the files of a results folder safely: atomic writes, JSON that may be
missing or damaged, and an exclusive lock between processes (on one machine or a cluster's
shared filesystem)."""
from __future__ import annotations

import contextlib
import json
import os
import threading
from pathlib import Path

try:
    import fcntl
except ImportError:                # pragma: no cover - Windows: no locking between processes
    fcntl = None


def write_atomically(path: Path, text: str | bytes) -> None:
    """Write to a temporary file beside `path`, then rename: readers never see half a file."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    with open(temporary, "wb") as handle:
        handle.write(text.encode() if isinstance(text, str) else text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def read_json(path: Path, default=None):
    """The file's JSON, or `default` where it is missing or not JSON."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return default


@contextlib.contextmanager
def file_lock(path: Path, on_wait=None):
    """Hold an exclusive flock on `path` (created if need be); waits for another holder, calling
    `on_wait` first. The kernel releases it when its process dies, even by SIGKILL."""
    with open(path, "a") as handle:
        if fcntl is None:
            yield
            return
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait()
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
