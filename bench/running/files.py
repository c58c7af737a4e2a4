"""Writing and reading the files of a results folder safely: atomic writes, JSON that may be
missing or damaged, and an exclusive lock between processes (on one machine or a cluster's
shared filesystem)."""
from __future__ import annotations

import contextlib
import errno
import json
import os
import threading
from pathlib import Path

try:
    import fcntl
except ImportError:                # pragma: no cover - Windows: no locking between processes
    fcntl = None


NO_SPACE_ERRORS = (errno.ENOSPC, errno.EDQUOT)


class DiskFull(OSError):
    """A write failed for lack of space (ENOSPC, or a quota: EDQUOT); `path` is the file that could
    not be written, and nothing of it is left behind."""

    def __init__(self, path: Path):
        super().__init__(errno.ENOSPC, "no space left on device", str(path))
        self.path = Path(path)

    def line(self) -> str:
        """The one line a user reads: the folder and what could not be written in it."""
        return f"no space left on the device of {self.path.parent}/: could not write {self.path.name}"


def no_space(error: OSError) -> bool:
    return isinstance(error, DiskFull) or error.errno in NO_SPACE_ERRORS


def write_atomically(path: Path, text: str | bytes) -> None:
    """Write to a temporary file beside `path`, then rename: readers never see half a file. A write
    that fails leaves `path` as it was and no temporary file; for lack of space it raises DiskFull."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    try:
        with open(temporary, "wb") as handle:
            handle.write(text.encode() if isinstance(text, str) else text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        if no_space(error):
            raise DiskFull(path) from error
        raise


def append_whole(path: Path, text: str) -> None:
    """Append `text` to `path`, or nothing of it: a write that fails cuts the file back to its
    length before (for lack of space: DiskFull), so no half line is left."""
    path = Path(path)
    with open(path, "a", newline="") as handle:
        length = handle.tell()
        try:
            handle.write(text)
            handle.flush()
        except OSError as error:
            handle.truncate(length)
            if no_space(error):
                raise DiskFull(path) from error
            raise


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
