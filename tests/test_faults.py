"""What a long study meets (issue 37): a worker killed as the out-of-memory killer kills, a full disk
(ENOSPC injected into the writes), damaged files. Each ends in one line and an exit code, leaves
no partial file and the last good checkpoint, and the same command again ends with the scores of
an uninterrupted sweep. Tiny runs: conv VAE, batch 4, dsprites_small."""
import errno
import os
import shutil
import signal
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from bench.cli import main
from bench.running import files
from tiny_sweeps import STEPS, TINY, checkpoint_step, children_of, log_rows, tiny_spec, uninterrupted

SWEEP = ["run", "--methods", "vae", "--seeds", "0,1,2", *TINY, "--score-at", "30"]
VALUE_COLUMNS = ["run_id", "seed", "step", "metric", "value"]


def run_id(seed):
    return tiny_spec(seed).run_id


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The sweep run once without a fault."""
    return uninterrupted(tmp_path_factory, SWEEP)


def values(out):
    return pd.read_csv(out / "scores.csv")[VALUE_COLUMNS].sort_values(VALUE_COLUMNS[:4]).reset_index(drop=True)


def same_scores(out, reference):
    pd.testing.assert_frame_equal(values(out), values(reference), check_exact=False, rtol=0, atol=1e-6)


# --- a worker killed -----------------------------------------------------------------------------

def worker_holding(lock: Path) -> int | None:
    """The child process of this one that has `lock` (a run folder's .lock) open: the worker training that run."""
    for pid in children_of(os.getpid()):
        try:
            if any(os.readlink(fd) == str(lock) for fd in Path(f"/proc/{pid}/fd").iterdir()):
                return pid
        except OSError:
            continue
    return None


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="finds the worker through /proc")
def test_a_killed_worker_fails_its_run_only_and_the_next_command_resumes_it(reference, tmp_path, capsys):
    out, victim = tmp_path / "killed", run_id(0)
    folder = out / "runs" / victim
    codes = []
    sweep = threading.Thread(target=lambda: codes.append(main([*SWEEP, "--jobs", "2", "--out", str(out)])))
    sweep.start()
    deadline = time.monotonic() + 240
    while not (folder / "checkpoint.pt").exists() or (pid := worker_holding(folder / ".lock")) is None:
        assert sweep.is_alive() and time.monotonic() < deadline, "the run ended before the kill"
        time.sleep(0.02)
    os.kill(pid, signal.SIGKILL)                         # what the out-of-memory killer does
    sweep.join(300)
    captured = capsys.readouterr()
    assert codes == [1]                                  # some runs failed
    line, = [line for line in captured.err.splitlines() if line.startswith("FAILED")]
    assert line.startswith(f"FAILED {victim}: its worker process was killed by SIGKILL (likely out of memory; "
                           f"its peak memory was ")
    assert line.endswith("GiB); the next `bench run` resumes it from its last checkpoint")
    assert "Traceback" not in captured.err and "TerminatedWorkerError" not in captured.err
    assert "2 of 3 run(s) done (0 already done before), 1 failed" in captured.out
    assert (folder / "status").read_text().startswith("failed: its worker process was killed by SIGKILL")
    for seed in (1, 2):                                  # the other worker's run, and the one after on a new worker
        assert (out / "runs" / run_id(seed) / "status").read_text() == "done"
    assert 10 <= checkpoint_step(folder / "checkpoint.pt") <= STEPS     # the last good checkpoint loads

    assert main([*SWEEP, "--jobs", "2", "--out", str(out)]) == 0          # the same command again
    assert "3 of 3 run(s) done (2 already done before), 0 failed" in capsys.readouterr().out
    assert list(out.rglob("*.tmp")) == []
    same_scores(out, reference)
    assert log_rows(folder / "log.csv") == log_rows(reference / "runs" / victim / "log.csv")


def square_or_crash(value):
    """A task for the worker pool: a segfault for "crash", else the square (top level: the worker imports it)."""
    if value == "crash":
        os.kill(os.getpid(), signal.SIGSEGV)
    return value * value


def test_the_worker_pool_replaces_a_worker_that_crashed_and_stops_starting_tasks_when_told():
    from bench.running.worker_pool import WorkerDied, run_in_workers
    results = dict(run_in_workers(square_or_crash, [(2,), ("crash",), (3,)], jobs=1))
    assert results[0] == 4 and results[2] == 9                 # the task after the crash ran on a new worker
    assert isinstance(results[1], WorkerDied) and results[1].exit_status == -signal.SIGSEGV
    assert results[1].cause().startswith("its worker process crashed with SIGSEGV (a fault in native code")
    seen = []
    for index, result in run_in_workers(square_or_crash, [(2,), (3,), (4,)], jobs=1, stop=lambda: bool(seen)):
        seen.append((index, result))
    assert seen == [(0, 4)]                                      # no task starts once stop() is true


def test_a_worker_s_death_is_said_by_its_signal():
    from bench.running.worker_pool import WorkerDied
    assert WorkerDied(-signal.SIGSEGV, 3 * 2 ** 29).cause() == (
        "its worker process crashed with SIGSEGV (a fault in native code; its peak memory was 1.50 GiB)")
    assert WorkerDied(-signal.SIGKILL).cause() == "its worker process was killed by SIGKILL (likely out of memory)"
    assert WorkerDied(7).cause() == "its worker process exited with code 7"


# --- a full disk -----------------------------------------------------------------------------------

class FillingDisk:
    """files.open, but the disk fills up at the `at`-th write of a file named `name`: that write
    stops half way with ENOSPC, and so does every write after it (any file) until `free()`."""

    def __init__(self, name: str, at: int):
        self.name, self.at, self.seen, self.full = name, at, 0, False

    def open(self, path, mode="r", *args, **kwargs):
        handle = open(path, mode, *args, **kwargs)
        if "w" not in mode and "a" not in mode:
            return handle
        if Path(path).name.startswith(f".{self.name}.") or Path(path).name == self.name:
            self.seen += 1
            self.full = self.full or self.seen >= self.at
        disk = self

        class Writer:
            def __getattr__(self, name):
                return getattr(handle, name)

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                handle.close()

            def write(self, data):
                if disk.full:
                    handle.write(data[:len(data) // 2])       # what fit before the disk was full
                    handle.flush()
                    raise OSError(errno.ENOSPC, "No space left on device")
                return handle.write(data)

        return Writer()


def test_a_full_disk_fails_the_run_in_one_line_starts_no_other_and_the_next_command_goes_on(
        reference, tmp_path, capsys, monkeypatch):
    out, first = tmp_path / "full", run_id(0)
    folder = out / "runs" / first
    disk = FillingDisk("checkpoint.pt", at=4)           # the checkpoint of step 40 of the first run
    monkeypatch.setattr(files, "open", disk.open, raising=False)
    assert main([*SWEEP, "--out", str(out)]) == 3        # a write failed for lack of space
    captured = capsys.readouterr()
    assert captured.err.count("FAILED") == 1 and "Traceback" not in captured.err
    assert (f"FAILED {first}: no space left on the device of {folder}/: could not write checkpoint.pt; free space "
            f"and run the same command again: the next `bench run` resumes it from its last checkpoint") in captured.err
    assert "NOT STARTED 2 run(s): a write had failed for lack of space" in captured.err
    assert "0 of 3 run(s) done (0 already done before), 1 failed, 2 not started" in captured.out
    assert list(out.rglob("*.tmp")) == []                # no partial file
    assert checkpoint_step(folder / "checkpoint.pt") == 30          # the last good checkpoint, intact
    assert (folder / "status").read_text() == "running"              # the disk was full for it too
    assert not (out / "runs" / run_id(1)).exists() and not (out / "runs" / run_id(2)).exists()
    assert [int(row["step"]) for row in log_rows(folder / "log.csv")] == list(range(10, 41, 10))

    monkeypatch.undo()                                   # space freed
    assert main([*SWEEP, "--out", str(out)]) == 0
    assert "3 of 3 run(s) done (0 already done before), 0 failed" in capsys.readouterr().out
    same_scores(out, reference)
    assert log_rows(folder / "log.csv") == log_rows(reference / "runs" / first / "log.csv")


def test_a_full_disk_at_the_scores_table_keeps_the_last_one_and_starts_no_other_run(reference, tmp_path, capsys,
                                                                                     monkeypatch):
    out = tmp_path / "table"
    shutil.copytree(reference, out)
    for seed in (1, 2):
        shutil.rmtree(out / "runs" / run_id(seed))      # two runs left to do
    before = (out / "scores.csv").read_bytes()
    monkeypatch.setattr(files, "open", FillingDisk("scores.csv", at=1).open, raising=False)
    assert main([*SWEEP, "--out", str(out)]) == 3
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and "FAILED" not in captured.err
    assert [line for line in captured.err.splitlines() if "no space" in line or "lack of space" in line] == [
        f"bench: no space left on the device of {out}/: could not write scores.csv; it keeps its last version, "
        f"and the run folders every score (`bench report` rebuilds it)",
        "NOT STARTED 1 run(s): a write had failed for lack of space; free space and run the same command again"]
    assert (out / "scores.csv").read_bytes() == before and list(out.rglob("*.tmp")) == []
    assert (out / "runs" / run_id(1) / "status").read_text() == "done"
    assert not (out / "runs" / run_id(2)).exists()
    monkeypatch.undo()
    assert main([*SWEEP, "--out", str(out)]) == 0
    same_scores(out, reference)


def test_a_write_that_fails_leaves_the_file_as_it_was(tmp_path, monkeypatch):
    path = tmp_path / "scores.json"
    files.write_atomically(path, "old")
    monkeypatch.setattr(files, "open", FillingDisk("scores.json", at=1).open, raising=False)
    with pytest.raises(files.DiskFull) as raised:
        files.write_atomically(path, "new" * 1000)
    assert raised.value.line() == f"no space left on the device of {tmp_path}/: could not write scores.json"
    with pytest.raises(files.DiskFull):
        files.append_whole(path, "a whole line\n")
    monkeypatch.undo()
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["scores.json"]


# --- damaged files ---------------------------------------------------------------------------------

def test_each_damaged_file_is_said_in_one_line_and_the_run_ends_with_the_uninterrupted_scores(
        reference, tmp_path, capsys):
    out = tmp_path / "damaged"
    shutil.copytree(reference, out)
    runs = [out / "runs" / run_id(seed) for seed in (0, 1, 2)]
    (runs[0] / "scores.json").write_text('{"beta_vae": {"settings"')               # cut short
    rows = (runs[0] / "log.csv").read_text().splitlines(keepends=True)
    (runs[0] / "log.csv").write_text("".join([*rows[:3], rows[3][:5] + "\n", *rows[4:]]))   # one row cut
    (runs[1] / "curve.json").write_bytes(b"\x00" * 64)
    (runs[2] / "status").write_bytes(b"\xff\xfe\x00d")
    (runs[2] / "spec.json").write_text("[]")
    assert main([*SWEEP, "--out", str(out)]) == 0
    err = capsys.readouterr().err
    said = [line for line in err.splitlines() if "damaged" in line]
    assert said == [
        f"{runs[0].name}: scores.json is damaged (not JSON); its metrics are scored again (from checkpoint.pt "
        f"where the run is finished)",
        f"{runs[0].name}: log.csv is damaged at line 4; dropped it, kept the 5 good row(s) up to step 60",
        f"{runs[1].name}: curve.json is damaged (not JSON); its earlier steps are scored again from their snapshots "
        f"where --score-at asks for them, else left out of scores.csv",
        f"{runs[2].name}: spec.json is damaged (not a run's spec.json); written again from the run's settings",
        f"{runs[2].name}: status is damaged (reads '\ufffd\ufffd\\x00d', not done, running or failed); the run "
        f"is taken as unfinished: it resumes from its checkpoint and scores what it lacks"]
    same_scores(out, reference)
    for folder in runs:
        assert (folder / "status").read_text() == "done"
    assert len(log_rows(runs[0] / "log.csv")) == 5


def test_json_that_is_not_stored_scores_is_said_as_damaged_and_scored_again(reference, tmp_path, capsys):
    out = tmp_path / "not_scores"
    shutil.copytree(reference, out)
    run = out / "runs" / run_id(0)
    (run / "scores.json").write_text('{"beta_vae": {"settings": {}}}')                # an entry without values
    assert main([*SWEEP, "--out", str(out)]) == 0
    said = [line for line in capsys.readouterr().err.splitlines() if "damaged" in line]
    assert said == [f"{run.name}: scores.json is damaged (a stored score is {{\"settings\", \"values\", \"versions\"}}, "
                    f"not {{'settings': {{}}}}); its metrics are scored again (from checkpoint.pt where the run is finished)"]
    same_scores(out, reference)


def test_a_damaged_snapshot_is_said_and_its_step_left_unscored(reference, tmp_path, capsys):
    out = tmp_path / "snapshot"
    shutil.copytree(reference, out)
    folder = out / "runs" / run_id(1)
    (folder / "curve.json").unlink()
    (folder / "snapshots" / "step-000030.pt").write_bytes(b"PK\x03\x04 cut short")
    assert main([*SWEEP, "--out", str(out)]) == 0
    assert (f"{folder.name}: not scored at that step: step-000030.pt is unreadable" in capsys.readouterr().err)
    steps = pd.read_csv(out / "scores.csv").groupby("run_id")["step"].unique()
    assert list(steps[folder.name]) == [STEPS] and list(steps[run_id(0)]) == [STEPS, 30]


# --- a lost worker on a Dask cluster ---------------------------------------------------------------

@pytest.mark.parametrize("allowed_failures, code", [(3, 0), (0, 1)], ids=["retried", "given-up"])
def test_a_dask_worker_killed_is_retried_by_the_cluster_or_its_run_failed_in_one_line(
        reference, tmp_path, capsys, allowed_failures, code):
    distributed = pytest.importorskip("distributed")
    import dask
    out, victim = tmp_path / "dask", run_id(0)
    folder = out / "runs" / victim
    command = [*SWEEP, "--seeds", "0,1", "--out", str(out), "--backend", "dask"]
    with dask.config.set({"distributed.scheduler.allowed-failures": allowed_failures}), \
            distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                                     silence_logs=50, dashboard_address=None) as cluster, \
            distributed.Client(cluster, set_as_default=False) as client:
        pid, = client.run(os.getpid).values()
        codes = []
        sweep = threading.Thread(target=lambda: codes.append(
            main([*command, "--scheduler", cluster.scheduler_address])))
        sweep.start()
        deadline = time.monotonic() + 240
        while not (folder / "checkpoint.pt").exists():
            assert sweep.is_alive() and time.monotonic() < deadline, "the run ended before the kill"
            time.sleep(0.02)
        os.kill(pid, signal.SIGKILL)                      # the nanny starts a new worker
        sweep.join(300)
    captured = capsys.readouterr()
    assert codes == [code] and "Traceback" not in captured.err
    if code == 0:                                         # the cluster ran the task again: it resumed
        assert "2 of 2 run(s) done (0 already done before), 0 failed" in captured.out
    else:
        failed = [line for line in captured.err.splitlines() if line.startswith("FAILED")]
        lost = (f"FAILED {victim}: each Dask worker that ran it died (KilledWorker: likely out of memory, or a "
                f"crash); the next `bench run` resumes it from its last checkpoint")
        assert lost in failed and len(failed) <= 2      # the other run, queued on the same worker, may go too
        assert (folder / "status").read_text() == lost.replace(f"FAILED {victim}", "failed")
        assert checkpoint_step(folder / "checkpoint.pt") >= 10
        assert main([*SWEEP, "--seeds", "0,1", "--out", str(out)]) == 0        # again, here: it resumes
    assert list(out.rglob("*.tmp")) == []
    expected = values(reference)
    pd.testing.assert_frame_equal(values(out), expected[expected["seed"] < 2].reset_index(drop=True),
                                  check_exact=False, rtol=0, atol=1e-6)
