"""A damaged results folder: `bench report` rebuilds what it can (scores.csv from the run folders) and
skips what it cannot (a run with a corrupt spec.json or checkpoint) with one line each; a refused
`bench run` leaves an existing results folder as it was."""
import shutil

import pandas as pd
import pytest

from bench.cli import main

TINY = ["--methods", "vae", "--set", "vae.architecture=fc", "--set", "vae.batch_size=8"]


@pytest.fixture(scope="module")
def finished(tmp_path_factory, quick_run):
    """A results folder with one finished run (5 steps), copied by the tests that damage it."""
    out = tmp_path_factory.mktemp("finished")
    assert main([*quick_run, *TINY, "--out", str(out)]) == 0
    return out


@pytest.fixture
def damaged(finished, tmp_path, capsys):
    out = tmp_path / "results"
    shutil.copytree(finished, out)
    capsys.readouterr()
    return out, next((out / "runs").iterdir())


def test_a_bad_setting_leaves_an_existing_results_folder_as_it_was(quick_run, damaged, refused):
    out, _ = damaged
    refused([*quick_run, *TINY, "--out", str(out), "--set", "vae.latent_dim=0"], "vae.latent_dim", untouched=[out])


def report_lines(capsys, out, *flags):
    assert main(["report", str(out), *flags]) == 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return [line for line in captured.err.splitlines() if line]


@pytest.mark.parametrize("garbage", [b"garbage,\x00\x01\n1,2,3,4\n", b"", b"\xff\xfe\x00binary"])
def test_report_rebuilds_a_corrupt_scores_csv(damaged, capsys, garbage):
    out, _ = damaged
    original = pd.read_csv(out / "scores.csv")
    (out / "scores.csv").write_bytes(garbage)
    [line] = report_lines(capsys, out, "--no-plots")
    assert line.startswith(f"bench: {out / 'scores.csv'} was unreadable") and "rebuilt it from the run folders" in line
    pd.testing.assert_frame_equal(pd.read_csv(out / "scores.csv"), original)
    assert (out / "table.md").exists()


def test_report_on_a_corrupt_scores_csv_without_run_folders_is_one_line(tmp_path, refused):
    (tmp_path / "scores.csv").write_bytes(b"\xff\xfe\x00binary")
    refused(["report", str(tmp_path)], f"{tmp_path / 'scores.csv'} unreadable (UnicodeDecodeError",
            "has no runs/ folder to rebuild it from")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["scores.csv"]


def test_report_skips_a_run_whose_spec_json_is_corrupt(damaged, capsys):
    out, run = damaged
    (run / "spec.json").write_text('{"method": "vae", "seed"')
    [line] = report_lines(capsys, out)
    assert line == (f"bench: {run.name}: spec.json is unreadable; the run is left out of the figures "
                    f"(its scores, if any, come from scores.csv)")
    assert (out / "table.md").exists() and (out / "metrics.png").exists()


def test_report_skips_the_figures_of_a_corrupt_checkpoint(damaged, capsys):
    out, run = damaged
    data = (run / "checkpoint.pt").read_bytes()
    (run / "checkpoint.pt").write_bytes(data[:len(data) // 2])
    [line] = report_lines(capsys, out)
    assert line.startswith(f"{run.name}: checkpoint.pt is unreadable (") and "skipping what needs the trained" in line
    assert (out / "metrics.png").exists() and not list(out.glob("traversal_*.png"))


def test_scores_csv_leaves_out_a_run_with_corrupt_scores_json_with_a_line(damaged, capsys):
    out, run = damaged
    (run / "scores.json").write_text('{"beta_vae": {"values": {"eval_accuracy": "high"}}}')
    (out / "scores.csv").unlink()
    assert report_lines(capsys, out, "--no-plots") == [
        f"bench: {run.name}: scores.json is unreadable (ValueError); its scores are left out of scores.csv",
        f"bench: {out / 'scores.csv'} was missing; rebuilt it from the run folders in {out / 'runs'}/"]
