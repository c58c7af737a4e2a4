"""`bench score` and `bench export` (bench/running/outside_model.py, export.py): a model trained
elsewhere placed in a results folder as a run that reports and `bench compare` read; an exported
encoder of a harness run scores exactly that run's scores; every bad input is one line, exit 2,
with the results folder as it was."""
import json
import pickle
import re
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from bench.cli import main

RUN_FLAGS = ["--dataset", "dsprites_small", "--steps", "10", "--metrics", "mig,beta_vae", "--quick", "--no-progress"]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """A results folder with a 10-step beta_vae run and a pca run on dsprites_small, quick mig and beta_vae."""
    out = tmp_path_factory.mktemp("reference") / "results"
    assert main(["run", "--methods", "beta_vae,pca", "--out", str(out), *RUN_FLAGS]) == 0
    return out


@pytest.fixture
def results(reference, tmp_path):
    """A copy of the reference folder to score into."""
    return Path(shutil.copytree(reference, tmp_path / "results"))


@pytest.fixture(scope="module")
def encoder(reference, tmp_path_factory):
    """The beta_vae run's encoder exported by `bench export`."""
    path = tmp_path_factory.mktemp("encoder") / "beta_vae.pt2"
    run = next((reference / "runs").glob("beta_vae-*"))
    assert main(["export", str(run), str(path)]) == 0
    return path


def stored(folder: Path) -> dict:
    return {path.relative_to(folder): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def test_an_exported_encoder_scores_exactly_the_run_it_came_from(results, encoder, capsys):
    assert main(["score", "--encoder", str(encoder), "--method", "my_vae", "--seed", "0", "--dataset",
                 "dsprites_small", "--out", str(results), "--quick"]) == 0
    assert "mig.score" in capsys.readouterr().out
    theirs, = (results / "runs").glob("beta_vae-*")
    ours, = (results / "runs").glob("my_vae-seed0-*")
    their_scores, our_scores = (json.loads((run / "scores.json").read_text()) for run in (theirs, ours))
    assert set(our_scores) == {"mig", "beta_vae"}                        # the folder's metrics, by default
    for name in our_scores:
        assert our_scores[name]["values"] == their_scores[name]["values"]           # same codes, same numbers
        assert our_scores[name]["settings"] == their_scores[name]["settings"]
    spec = json.loads((ours / "spec.json").read_text())
    assert (spec["method"], spec["seed"], spec["steps"], spec["dataset"], spec["params"]) == \
        ("my_vae", 0, 0, "dsprites_small", {})
    assert spec["scored_from"]["encoder"] == "beta_vae.pt2" and len(spec["scored_from"]["sha256"]) == 64
    assert (ours / "status").read_text() == "done"
    assert not (ours / "machine.json").exists() and (theirs / "machine.json").exists()   # trained elsewhere
    table = pd.read_csv(results / "scores.csv")
    assert set(table["method"]) == {"beta_vae", "pca", "my_vae"}
    assert main(["report", str(results), "--no-plots"]) == 0
    assert "| my_vae | 1 |" in (results / "table.md").read_text()
    assert main(["compare", str(results), str(results), "--out", str(results.parent / "compared")]) == 0
    compared = pd.read_csv(results.parent / "compared" / "comparison_with_results.csv")
    assert "my_vae" in set(compared["method"])


def test_a_function_of_images_scores_with_its_provenance(results, tmp_path, monkeypatch):
    (tmp_path / "outside_codes.py").write_text(
        "import numpy as np\n\n"
        "def centroid(images):\n"
        "    x = images[:, 0].astype(np.float64) / 255\n"
        "    rows, columns = np.mgrid[0:64, 0:64]\n"
        "    mass = x.sum(axis=(1, 2))\n"
        "    return np.stack([mass, (x * columns).sum(axis=(1, 2)) / mass, (x * rows).sum(axis=(1, 2)) / mass], 1)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(["score", "--function", "outside_codes:centroid", "--method", "centroid", "--seed", "3",
                 "--dataset", "dsprites_small", "--out", str(results), "--metrics", "mig"]) == 0
    run, = (results / "runs").glob("centroid-seed3-*")
    spec = json.loads((run / "spec.json").read_text())
    assert spec["scored_from"]["function"] == "outside_codes:centroid" and len(spec["scored_from"]["source_sha256"]) == 64
    mig = json.loads((run / "scores.json").read_text())["mig"]
    reference, = (results / "runs").glob("beta_vae-*")
    assert mig["settings"] == json.loads((reference / "scores.json").read_text())["mig"]["settings"]   # the folder's
    mig = mig["values"]["mig.score"]
    assert 0.2 < mig <= 1                                # position is read off the centroid


BAD_CODES = {"flat": "np.zeros(len(images))", "nan": "np.full((len(images), 2), np.nan)",
             "rows": "np.zeros((len(images) - 1, 2))"}


def bad_module(tmp_path, case: str) -> str:
    """A module bad_codes_CASE whose `codes` returns BAD_CODES[case]."""
    (tmp_path / f"bad_codes_{case}.py").write_text(f"import numpy as np\n\ndef codes(images):\n    return {BAD_CODES[case]}\n")
    return f"bad_codes_{case}:codes"


@pytest.mark.parametrize("case, message", [
    ("not exported", "is not an exported program (torch.export.save's .pt2"),
    ("flat", r"the representation returned shape \((\d+),\) for \1 images; expected \(\1, D\)"),
    ("nan", r"the representation returned nan \(image 0 of \d+, dimension 0\); codes must be finite numbers"),
    ("rows", r"the representation returned shape \((\d+), 2\) for (\d+) images"),
    ("built-in name", "--method 'beta_vae' is a method the harness trains"),
    ("other dataset", "holds run beta_vae-seed0-"),
    ("no module", "--function 'no_such_module:codes': module 'no_such_module' does not import"),
    ("model set", "--metrics udr scores a set of models of one method; bench score places one model"),
])
def test_a_bad_model_is_one_line_exit_2_and_nothing_written(case, message, results, encoder, tmp_path, monkeypatch,
                                                            capsys):
    monkeypatch.syspath_prepend(str(tmp_path))
    if case in BAD_CODES:
        source = ["--function", bad_module(tmp_path, case)]
    else:
        source = {"not exported": ["--encoder", str(results / "scores.csv")],
                  "no module": ["--function", "no_such_module:codes"]}.get(case, ["--encoder", str(encoder)])
    flags = {"built-in name": ["--method", "beta_vae"], "other dataset": ["--dataset", "color_dsprites"],
             "model set": ["--metrics", "udr"]}.get(case, [])
    args = ["score", *source, "--method", "my_vae", "--seed", "0", "--dataset", "dsprites_small", "--out",
            str(results), "--quick", *flags]
    before = stored(results)
    capsys.readouterr()
    assert main(args) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and (message in error or re.search(message, error)), error
    assert stored(results) == before


class Touch:
    """Unpickling it creates a file: the code a crafted archive would run."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return Path.touch, (self.marker,)


def crafted(encoder: Path, out: Path, part: str, marker: Path) -> Path:
    """A copy of `encoder` whose example inputs are a pickle that runs code ("inputs"), or whose
    first weight is marked pickled and is one ("weight")."""
    with zipfile.ZipFile(encoder) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if part == "inputs" and "/data/sample_inputs/" in info.filename:
                content = pickle.dumps(Touch(marker))
            if part == "weight" and info.filename.endswith("model_weights_config.json"):
                config = json.loads(content)
                first = next(iter(config["config"].values()))
                first["use_pickle"] = True
                content = json.dumps(config).encode()
            if part == "weight" and info.filename.endswith("/data/weights/weight_0"):
                content = pickle.dumps(Touch(marker))
            target.writestr(info, content)
    return out


@pytest.mark.parametrize("part, message", [("inputs", "data/sample_inputs/model.pt (not loadable as weights only)"),
                                           ("weight", "(weight_0, pickled)")])
def test_an_archive_that_would_unpickle_is_refused_before_it_is_loaded(part, message, results, encoder, tmp_path,
                                                                        capsys):
    marker = tmp_path / "code_ran"
    archive = crafted(encoder, tmp_path / "crafted.pt2", part, marker)
    before = stored(results)
    assert main(["score", "--encoder", str(archive), "--method", "my_vae", "--seed", "0", "--dataset",
                 "dsprites_small", "--out", str(results), "--quick"]) == 2
    error = capsys.readouterr().err
    assert "holds pickled objects" in error and message in error and error.count("\n") == 1, error
    assert not marker.exists() and stored(results) == before


def test_the_folder_s_settings_are_taken_and_quick_sizes_against_them_refused(tmp_path, encoder, capsys):
    """A new folder takes the defaults; a second model scored into it without --quick takes the
    folder's settings; with --quick (other sample sizes) it is refused."""
    out = tmp_path / "outside"
    assert main(["score", "--encoder", str(encoder), "--method", "my_vae", "--seed", "1", "--dataset",
                 "dsprites_small", "--out", str(out), "--metrics", "mig"]) == 0
    assert main(["score", "--encoder", str(encoder), "--method", "my_vae", "--seed", "2", "--dataset",
                 "dsprites_small", "--out", str(out)]) == 0
    settings = {json.loads(row)["num_train"] for row in pd.read_csv(out / "scores.csv")["metric_settings"]}
    assert settings == {10_000} and sorted(pd.read_csv(out / "scores.csv")["seed"]) == [1, 2]
    capsys.readouterr()
    assert main(["score", "--encoder", str(encoder), "--method", "my_vae", "--seed", "3", "--dataset",
                 "dsprites_small", "--out", str(out), "--quick"]) == 2
    assert "scored mig with num_train=10000, this would score it with num_train=1000: leave out --quick" in \
        capsys.readouterr().err
    assert sorted(pd.read_csv(out / "scores.csv")["seed"]) == [1, 2]
