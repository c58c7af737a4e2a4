"""`bench gather` (bench/running/gather.py): finished runs copied from one results folder into another,
with or without their weights, scores.csv assembled in the destination, and nothing else touched."""
import shutil

import pandas as pd
import pytest

from bench.cli import main
from bench.errors import UserError
from bench.running import gather
from bench.running.run_folder import RUNS, RunFolder, run_folders
from tests.tiny_sweeps import TINY


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A results folder of three finished tiny runs (vae seeds 0-2)."""
    out = tmp_path_factory.mktemp("trained")
    assert main(["run", "--methods", "vae", "--seeds", "0-2", *TINY, "--out", str(out)]) == 0
    return out


@pytest.fixture
def source(trained, tmp_path):
    """A copy of `trained` whose seed-2 run failed (not finished)."""
    copy = tmp_path / "source"
    shutil.copytree(trained, copy)
    failed = next(folder for folder in run_folders(copy) if "seed2" in folder.run_id)
    (failed.path / "status").write_text("failed: killed")
    return copy


def scores_of(results, run_ids) -> pd.DataFrame:
    frame = pd.read_csv(results / "scores.csv")
    return frame[frame["run_id"].isin(run_ids)].sort_values(["run_id", "metric", "step"]).reset_index(drop=True)


def test_finished_runs_are_copied_without_weights_and_their_scores_assembled(source, tmp_path):
    dest = tmp_path / "dest"
    result = gather.gather(source, dest, weights=False, log=lambda line: None)
    finished = sorted(folder.run_id for folder in run_folders(source) if "seed2" not in folder.run_id)
    assert result.copied == finished and len(result.unfinished) == 1 and "seed2" in result.unfinished[0]
    for run_id in finished:
        copied = dest / RUNS / run_id
        assert sorted(path.name for path in copied.iterdir()) == ["log.csv", "machine.json", "scores.json",
                                                                  "spec.json", "status"]
        assert (copied / "scores.json").read_bytes() == (source / RUNS / run_id / "scores.json").read_bytes()
    pd.testing.assert_frame_equal(scores_of(dest, finished), scores_of(source, finished))
    assert set(pd.read_csv(dest / "scores.csv")["run_id"]) == set(finished)
    assert not (dest / gather.SCRATCH).exists()

    before = (dest / "scores.csv").read_bytes()
    again = gather.gather(source, dest, weights=False, log=lambda line: None)
    assert again.copied == [] and again.already_there == finished and again.scores_csv is None
    assert (dest / "scores.csv").read_bytes() == before


def test_with_weights_the_checkpoint_comes_too_and_the_lock_stays_behind(source, tmp_path):
    run = run_folders(source)[0]
    (run.path / RunFolder.LOCK).touch()
    gather.gather(source, tmp_path / "dest", log=lambda line: None)
    copied = tmp_path / "dest" / RUNS / run.run_id
    assert (copied / "checkpoint.pt").read_bytes() == run.checkpoint.read_bytes()
    assert not (copied / RunFolder.LOCK).exists()


def test_a_run_with_an_unreadable_scores_json_is_named_and_not_copied(source, tmp_path):
    broken = run_folders(source)[0]
    (broken.path / "scores.json").write_text("{not json")
    said = []
    result = gather.gather(source, tmp_path / "dest", weights=False, log=said.append)
    assert result.damaged == [broken.run_id] and broken.run_id not in result.copied
    assert any(line.startswith(f"{broken.run_id}: not copied, scores.json") for line in said)
    assert not (tmp_path / "dest" / RUNS / broken.run_id).exists()


def test_a_destination_whose_scores_csv_has_runs_without_folders_is_refused_before_copying(source, tmp_path):
    dest = tmp_path / "dest"
    dest.mkdir()
    pd.DataFrame({"run_id": ["vae-seed9-lost"], "metric": ["m"], "value": [0.5]}).to_csv(dest / "scores.csv",
                                                                                        index=False)
    with pytest.raises(UserError, match="holds scores of 1 run.*vae-seed9-lost.*would drop them"):
        gather.gather(source, dest, log=lambda line: None)
    assert not (dest / RUNS).exists()


def test_bad_folders_get_one_message(source, tmp_path):
    with pytest.raises(UserError, match="not a results folder"):
        gather.gather(tmp_path / "nowhere", tmp_path / "dest")
    with pytest.raises(UserError, match="the same folder"):
        gather.gather(source, source)


def test_the_command_says_what_it_copied_and_where(source, tmp_path, capsys):
    dest = tmp_path / "dest"
    assert main(["gather", str(source), str(dest), "--without-weights"]) == 0
    out = capsys.readouterr().out
    assert f"2 run(s) copied from {source} into {dest / RUNS}" in out
    assert "1 unfinished" in out and f"scores.csv assembled: {dest / 'scores.csv'}" in out
    assert main(["gather", str(tmp_path / "nowhere"), str(dest)]) == 2
