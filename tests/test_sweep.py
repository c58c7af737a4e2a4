"""Sweeps that survive: SIGKILL and resume, corrupt checkpoints, NaN losses, parallel workers, and
several processes on one results folder. Tiny runs: conv VAE, batch 4, dsprites_small."""
import csv
import json
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from bench.cli import main
from bench.running.execute import ExecutionOptions, execute
from bench.running.spec import RunSpec
from bench.running import sweep
from bench.running.store import RunStore
from tiny_sweeps import AUTO, STEPS, TINY, checkpoint_step, children_of, log_rows, tiny_spec, uninterrupted

SWEEP = ["run", "--methods", "vae", "--seeds", "0,1", *TINY]
VALUE_COLUMNS = ["run_id", "method", "seed", "steps", "params", "metric", "value"]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The sweep run once without interruption."""
    return uninterrupted(tmp_path_factory, SWEEP)


def values(out):
    return pd.read_csv(out / "scores.csv")[VALUE_COLUMNS].sort_values(["run_id", "metric"]).reset_index(drop=True)


def alive(pid):
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads worker processes from /proc")
def test_a_sweep_killed_with_sigkill_resumes_to_the_uninterrupted_scores(reference, tmp_path):
    out = tmp_path / "killed"
    folders = [out / "runs" / tiny_spec(seed).run_id for seed in (0, 1)]
    command = [sys.executable, "-m", "bench.cli", *SWEEP, "--jobs", "2", "--out", str(out)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 240
        while not all((folder / "checkpoint.pt").exists() for folder in folders):   # both runs under way
            assert process.poll() is None and time.monotonic() < deadline, "the sweep ended before the kill"
            time.sleep(0.02)
        workers = children_of(process.pid)
        process.send_signal(signal.SIGKILL)
        process.wait()
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL
    deadline = time.monotonic() + 30                # the workers notice and end too, their runs unfinished
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert workers and not any(alive(pid) for pid in workers)
    interrupted = [folder for folder in folders if (folder / "status").read_text() == "running"]
    assert interrupted, "both runs finished before the kill"
    before = {}
    resumed_from = {}
    for folder in interrupted:
        step = checkpoint_step(folder / "checkpoint.pt")
        assert 10 <= step <= STEPS          # at STEPS: killed while scoring, after its last checkpoint
        resumed_from[folder] = [step] if step < STEPS else []      # trained to the end: nothing to resume
        with open(folder / "log.csv", newline="") as handle:
            before[folder] = [row for row in csv.DictReader(handle) if int(row["step"]) <= step]
    (folders[0] / ".checkpoint.pt.999-1.tmp").write_bytes(b"half a checkpoint")   # a kill before a rename

    assert main([*SWEEP, "--out", str(out)]) == 0                # the same command again
    assert list(out.rglob("*.tmp")) == []
    pd.testing.assert_frame_equal(values(out), values(reference), check_exact=False, rtol=0, atol=1e-6)
    for folder in folders:
        assert (folder / "status").read_text() == "done"
        assert log_rows(folder / "log.csv") == log_rows(reference / "runs" / folder.name / "log.csv")
        machines = json.loads((folder / "machine.json").read_text())           # one entry per training
        assert [entry["from_step"] for entry in machines] == [0, *resumed_from.get(folder, [])]
    for folder, rows in before.items():                        # rows up to the checkpoint were kept,
        with open(folder / "log.csv", newline="") as handle:   # not trained again (same timings)
            resumed = list(csv.DictReader(handle))
        assert resumed[:len(rows)] == rows and [int(r["step"]) for r in resumed] == list(range(10, 61, 10))


def test_a_truncated_checkpoint_restarts_the_run_from_scratch_with_a_warning(reference, tmp_path, capsys):
    out = tmp_path / "truncated"
    shutil.copytree(reference, out)
    folder = out / "runs" / tiny_spec(0).run_id
    data = (folder / "checkpoint.pt").read_bytes()
    (folder / "checkpoint.pt").write_bytes(data[:len(data) // 2])
    (folder / "status").write_text("running")
    (folder / "scores.json").unlink()
    with pytest.warns(UserWarning, match="checkpoint .* is unreadable .*training from scratch"):
        assert main([*SWEEP, "--out", str(out)]) == 0
    assert "2 of 2 run(s) done (1 already done before), 0 failed" in capsys.readouterr().out
    pd.testing.assert_frame_equal(values(out), values(reference), check_exact=False, rtol=0, atol=1e-6)
    assert checkpoint_step(folder / "checkpoint.pt") == STEPS
    assert log_rows(folder / "log.csv") == log_rows(reference / "runs" / folder.name / "log.csv")


def test_new_metric_settings_rescore_without_retraining(reference, tmp_path):
    out = tmp_path / "rescored"
    shutil.copytree(reference, out)
    folder = out / "runs" / tiny_spec(0).run_id
    trained = (folder / "checkpoint.pt").read_bytes(), log_rows(folder / "log.csv")
    sweep = tmp_path / "sweep.toml"
    sweep.write_text('metrics = ["beta_vae"]\n[metric_params.beta_vae]\nnum_eval = 100\n')
    assert main([*SWEEP, "--out", str(out), "--config", str(sweep)]) == 0
    assert ((folder / "checkpoint.pt").read_bytes(), log_rows(folder / "log.csv")) == trained
    settings = pd.read_csv(out / "scores.csv")["metric_settings"].map(json.loads)
    assert len(settings) == 4 and all(s["num_eval"] == 100 and s["num_train"] == 400 for s in settings)


def test_a_diverging_run_fails_alone_and_the_command_says_so(tmp_path, capsys):
    out = tmp_path / "nan"
    code = main(["run", "--methods", "vae,beta_vae", "--set", "beta_vae.lr=1e30", "--set", "beta_vae.batch_size=4",
                 *TINY, "--steps", "20", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 1
    diverged = RunSpec("beta_vae", "dsprites_small", 0, 20, (("batch_size", "4"), ("lr", "1e30")), AUTO)
    status = (out / "runs" / diverged.run_id / "status").read_text()
    assert status.startswith("failed: ") and "became nan at step" in status
    assert f"FAILED {diverged.run_id}: " in captured.err and "became nan at step" in captured.err
    assert "1 of 2 run(s) done (0 already done before), 1 failed" in captured.out
    scores = pd.read_csv(out / "scores.csv")
    assert set(scores["method"]) == {"vae"} and scores["value"].between(0, 1).all()
    assert main(["run", "--methods", "vae,beta_vae", "--set", "beta_vae.lr=1e30", "--set", "beta_vae.batch_size=4",
                 *TINY, "--steps", "20", "--out", str(out)]) == 1        # again: still failed, vae skipped
    assert "1 of 2 run(s) done (1 already done before), 1 failed" in capsys.readouterr().out


def test_two_workers_give_the_scores_of_one(reference, tmp_path, capfd):
    out = tmp_path / "jobs2"
    assert main([*SWEEP, "--jobs", "2", "--out", str(out)]) == 0
    pd.testing.assert_frame_equal(values(out), values(reference), check_exact=False, rtol=0, atol=1e-6)
    captured = capfd.readouterr()
    assert "Traceback" not in captured.err and "\r" not in captured.out + captured.err   # no bars with --no-progress


def test_a_second_process_waits_for_the_run_it_would_train_twice(tmp_path, capsys):
    store = RunStore(tmp_path)
    spec = RunSpec("vae", "dsprites_small", 0, 10, (("batch_size", "4"),))
    options = ExecutionOptions(quick=True, progress=False, device="cpu", precision="fp32",
                               checkpoint_every=10, log_every=10)
    outcomes = []
    with store.folder(spec.run_id).lock():             # another process is working on the run
        worker = threading.Thread(target=lambda: outcomes.append(execute(spec, store, options)))
        worker.start()
        deadline = time.monotonic() + 30
        while "waiting for it" not in capsys.readouterr().err:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert worker.is_alive() and store.folder(spec.run_id).status() == ("new", "")
    worker.join(120)
    assert outcomes[0].state == "done" and store.folder(spec.run_id).status() == ("done", "")
    assert execute(spec, store, options).detail == "already done"


def test_scores_csv_holds_each_run_as_it_lands(tmp_path, monkeypatch):
    out, seeds_seen = tmp_path / "landing", []
    original = sweep.execute_isolated

    def noting_scores_csv(spec, out_dir, options):
        path = Path(out_dir) / "scores.csv"
        seeds_seen.append(sorted(set(pd.read_csv(path)["seed"])) if path.exists() else None)
        return original(spec, out_dir, options)

    monkeypatch.setattr(sweep, "execute_isolated", noting_scores_csv)
    assert main([*SWEEP, "--steps", "10", "--out", str(out)]) == 0
    assert seeds_seen == [None, [0]]                 # the second run starts with the first one's scores there
    assert sorted(set(pd.read_csv(out / "scores.csv")["seed"])) == [0, 1]

    rebuilds = []
    monkeypatch.setattr(RunStore, "assemble_scores_csv", lambda store: rebuilds.append(store.out_dir))
    assert main([*SWEEP, "--steps", "10", "--out", str(out)]) == 0
    assert rebuilds == [out]                         # both runs skipped: one rebuild, at the end


def test_two_commands_on_one_results_folder_lose_nothing(tmp_path):
    out = tmp_path / "shared"
    codes = []
    commands = [["run", "--methods", "vae", "--seeds", seeds, *TINY, "--steps", "10", "--out", str(out)]
                for seeds in ("0,1", "1,2")]
    workers = [threading.Thread(target=lambda c=c: codes.append(main(c))) for c in commands]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(300)
    assert codes == [0, 0]
    scores = pd.read_csv(out / "scores.csv")
    assert sorted(scores.groupby("seed")["run_id"].nunique().items()) == [(0, 1), (1, 1), (2, 1)]
    assert len(scores) == 3 * 2 and not scores.duplicated(["run_id", "metric"]).any()
    leftovers = [p.name for p in out.rglob("*.tmp")]
    assert leftovers == []
    for folder in (out / "runs").iterdir():
        assert (folder / "status").read_text() == "done"
        assert json.loads((folder / "spec.json").read_text())["run_id"] == folder.name

