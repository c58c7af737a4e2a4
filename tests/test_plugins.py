"""Plug-ins (bench/plugins.py): a method, metric or dataset of the researcher's own module, named
"PKG.MODULE:NAME" or by an installed distribution's entry point, runs like a built-in; its runs
record where it came from and refuse to go on when its source changed; a bad plug-in ends in one
line, exit 2, with nothing written. The plug-in modules are written to tmp_path here."""
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

import methods
import metrics
from bench import data, plugins
from bench.cli import main
from bench.errors import UserError
from bench.running.restore import rebuild_method
from bench.running.spec import RunSpec, method_and_param

ROOT = Path(__file__).resolve().parent.parent
PLUGIN = '''
"""A researcher's plug-ins (tests): a method, a metric and a dataset."""
from dataclasses import dataclass

import numpy as np

from bench.data.dsprites import DSprites
from bench.errors import UserError
from methods.projection import PCAProjection
from metrics.base import Metric


class TinyPCA(PCAProjection):
    """PCA under a plug-in's name."""


@dataclass(frozen=True)
class Settings:
    num_points: int = 64


def check(dataset, settings):
    if settings.num_points < 1:
        raise UserError(f"spread.num_points must be at least 1, not {settings.num_points}")


def score(codes, dataset, rng, settings):
    """The mean standard deviation of the code over a sample of images."""
    indices = rng.choice(len(dataset), size=settings.num_points, replace=False)
    return {"spread": float(np.asarray(codes(indices), dtype=np.float64).std(axis=0).mean())}


SPREAD = Metric("spread", Settings, score, check)


def small_sprites():
    """dSprites subset (a plug-in dataset): 1,536 images."""
    return DSprites.small()


NOT_A_METHOD = 3
'''


def write_module(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.py"
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    """The module `plug_tiny` on sys.path (and PYTHONPATH, for worker processes); its folder."""
    folder = tmp_path / "plugins"
    folder.mkdir()
    write_module(folder, "plug_tiny", PLUGIN)
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(folder), str(ROOT), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.delitem(sys.modules, "plug_tiny", raising=False)
    yield folder
    sys.modules.pop("plug_tiny", None)
    installed_changed()                                  # the distributions written to tmp_path are gone


def installed_changed() -> None:
    """Forget what plugins read once a process of the installed distributions."""
    plugins.entry_points.cache_clear()
    plugins.packages_distributions.cache_clear()


def entry_points_dist(folder: Path, groups: dict[str, dict[str, str]], name: str = "plug_dist") -> None:
    """An installed distribution `name` 1.2.3 declaring `groups` (group -> short name -> value) as
    entry points: a dist-info folder in `folder`, which is on sys.path."""
    info = folder / f"{name}-1.2.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.2.3\n")
    (info / "entry_points.txt").write_text("".join(
        f"[{group}]\n" + "".join(f"{short} = {value}\n" for short, value in points.items())
        for group, points in groups.items()))
    installed_changed()


QUICK = ["--steps", "5", "--quick", "--no-progress", "--threads", "1"]


def run_folders(out: Path) -> list[Path]:
    return sorted((out / "runs").iterdir())


# Names -------------------------------------------------------------------------------------------

def test_builtins_are_named_as_before_and_imported_on_first_use():
    """Iterating a registry imports no method module; each built-in metric's name is its key."""
    code = ("import sys, methods, metrics; names = list(methods.METHODS) + list(metrics.METRICS); "
            "print(sorted(m for m in ('methods.infogan', 'methods.dcign', 'metrics.udr', 'metrics.dci') "
            "if m in sys.modules), len(names))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.stdout.split() == ["[]", str(len(methods.METHODS) + len(metrics.METRICS))]
    assert all(declared.name == name for name, declared in metrics.METRICS.items())
    assert methods.METHODS["beta_vae"].__name__ == "BetaVAE" and "dsprites_small" in data.DATASETS


def test_qualified_names_load_each_kind(plugin):
    assert methods.method_class("plug_tiny:TinyPCA").__name__ == "TinyPCA"
    assert metrics.metric("plug_tiny:SPREAD").name == "spread"
    assert len(data.load("plug_tiny:small_sprites")) == 1536
    assert plugins.is_qualified("plug_tiny:TinyPCA") and not plugins.is_qualified("pca")
    assert RunSpec("plug_tiny:TinyPCA", "dsprites_small", 0, 1).run_id.startswith("plug_tiny.TinyPCA-seed0-")
    assert data.results_name("plug_tiny:small_sprites") == "plug_tiny.small_sprites"


@pytest.mark.parametrize("target,split", [
    ("beta_vae.beta", ("beta_vae", ".", "beta")),
    ("pkg.mod:Name.beta", ("pkg.mod:Name", ".", "beta")),
    ("pkg.mod:Name", ("", "", "")),
])
def test_set_splits_a_plugin_s_parameter_at_the_last_dot_after_the_colon(target, split):
    assert method_and_param(target) == split


def test_a_plugin_sweep_runs_with_set_and_records_its_provenance(plugin, tmp_path):
    out = tmp_path / "out"
    assert main(["run", "--methods", "plug_tiny:TinyPCA,pca", "--dataset", "plug_tiny:small_sprites",
                 "--metrics", "plug_tiny:SPREAD,mig", "--set", "plug_tiny:TinyPCA.n_components=3",
                 "--out", str(out), *QUICK]) == 0
    scores = pd.read_csv(out / "scores.csv")
    spread = scores[scores["metric"] == "plug_tiny:SPREAD.spread"].set_index("method")["value"]
    assert set(spread.index) == {"plug_tiny:TinyPCA", "pca"} and (spread > 0).all()
    folders = {folder.name.split("-seed")[0]: folder for folder in run_folders(out)}
    spec = json.loads((folders["plug_tiny.TinyPCA"] / "spec.json").read_text())
    assert spec["method"] == "plug_tiny:TinyPCA" and spec["params"]["n_components"] == 3
    assert spec["overrides"] == {"n_components": "3"} and spec["dataset"] == "plug_tiny:small_sprites"
    source_hash = plugins.hashlib.sha256((plugin / "plug_tiny.py").read_bytes()).hexdigest()
    assert spec["plugin"]["method"] == {"module": "plug_tiny", "source_sha256": source_hash}
    assert spec["plugin"]["dataset"] == spec["plugin"]["method"]
    builtin = json.loads((folders["pca"] / "spec.json").read_text())
    assert "plugin" in builtin and "method" not in builtin["plugin"]      # only its dataset is a plug-in
    assert builtin["plugin"]["metrics"] == spec["plugin"]["metrics"] == {"plug_tiny:SPREAD": spec["plugin"]["method"]}


def test_a_sweep_file_names_plugins_and_their_parameters(plugin, tmp_path):
    sweep = tmp_path / "sweep.toml"
    sweep.write_text('methods = ["plug_tiny:TinyPCA"]\ndataset = "plug_tiny:small_sprites"\n'
                     'metrics = ["plug_tiny:SPREAD"]\n[params."plug_tiny:TinyPCA"]\nn_components = [2, 3]\n'
                     '[metric_params."plug_tiny:SPREAD"]\nnum_points = 32\n')
    out = tmp_path / "out"
    assert main(["run", "--config", str(sweep), "--out", str(out), *QUICK]) == 0
    specs = [json.loads((folder / "spec.json").read_text()) for folder in run_folders(out)]
    assert sorted(spec["params"]["n_components"] for spec in specs) == [2, 3]
    settings = json.loads((run_folders(out)[0] / "scores.json").read_text())["plug_tiny:SPREAD"]["settings"]
    assert settings == {"num_points": 32}


def test_workers_import_the_plugin_again_by_name(plugin, tmp_path):
    """--jobs 2: each worker process imports the plug-in from its name (PYTHONPATH); the scores
    equal one process's."""
    one, two = tmp_path / "one", tmp_path / "two"
    flags = ["run", "--methods", "plug_tiny:TinyPCA", "--dataset", "dsprites_small", "--seeds", "0,1",
             "--metrics", "plug_tiny:SPREAD", "--steps", "5", "--quick", "--no-progress", "--threads", "1"]
    done = subprocess.run([sys.executable, "-m", "bench.cli", *flags, "--jobs", "2", "--out", str(two)],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert main([*flags, "--out", str(one)]) == 0
    columns = ["run_id", "metric", "value"]
    pd.testing.assert_frame_equal(pd.read_csv(one / "scores.csv")[columns].sort_values("run_id").reset_index(drop=True),
                                  pd.read_csv(two / "scores.csv")[columns].sort_values("run_id").reset_index(drop=True))


# Entry points ------------------------------------------------------------------------------------

def test_entry_points_appear_in_bench_list_and_run_by_short_name(plugin, tmp_path, capsys):
    entry_points_dist(plugin, {"disentanglement_bench.methods": {"tiny_pca": "plug_tiny:TinyPCA"},
                               "disentanglement_bench.metrics": {"spread": "plug_tiny:SPREAD"},
                               "disentanglement_bench.datasets": {"small_sprites": "plug_tiny:small_sprites"}})
    assert "tiny_pca" in plugins.entry_points("method")        # beside any installed package's (the example's)
    assert main(["list"]) == 0
    listed = capsys.readouterr().out
    assert "  tiny_pca: PCA under a plug-in's name." in listed and "  spread: A researcher's plug-ins" in listed
    assert "  small_sprites: dSprites subset (a plug-in dataset): 1,536 images." in listed
    out = tmp_path / "out"
    assert main(["run", "--methods", "tiny_pca", "--dataset", "small_sprites", "--metrics", "spread",
                 "--out", str(out), *QUICK]) == 0
    spec = json.loads((run_folders(out)[0] / "spec.json").read_text())
    assert spec["method"] == "tiny_pca" and run_folders(out)[0].name.startswith("tiny_pca-seed0-")
    assert spec["plugin"]["method"]["module"] == "plug_tiny"


def test_provenance_names_the_distribution_and_its_version(plugin):
    (plugin / "plug_pkg").mkdir()
    write_module(plugin / "plug_pkg", "__init__", PLUGIN)
    entry_points_dist(plugin, {"disentanglement_bench.methods": {"pkg_pca": "plug_pkg:TinyPCA"}})
    (plugin / "plug_dist-1.2.3.dist-info" / "top_level.txt").write_text("plug_pkg\n")
    installed_changed()                                   # its top_level.txt, written after the dist-info
    try:
        record = plugins.provenance(methods.method_class("pkg_pca"))
    finally:
        sys.modules.pop("plug_pkg", None)
    assert record["module"] == "plug_pkg" and record["distribution"] == "plug_dist"
    assert record["version"] == "1.2.3" and len(record["source_sha256"]) == 64


def test_a_broken_entry_point_is_named_by_bench_list_and_harms_no_other_run(plugin, tmp_path, capsys):
    write_module(plugin, "plug_broken", "import no_such_package_here\n")
    entry_points_dist(plugin, {"disentanglement_bench.methods": {"broken": "plug_broken:Method"}})
    assert main(["list"]) == 0
    captured = capsys.readouterr()
    assert "  pca: " in captured.out and "broken" not in captured.out
    assert captured.err.strip() == ("bench: method 'broken' (entry point 'plug_broken:Method' of plug_dist 1.2.3) "
                                    "does not load: ModuleNotFoundError: No module named "
                                    "'no_such_package_here' (left out)")
    out = tmp_path / "out"
    assert main(["run", "--methods", "pca", "--dataset", "dsprites_small", "--metrics", "mig", "--out", str(out),
                 *QUICK]) == 0
    assert main(["run", "--methods", "broken", "--out", str(tmp_path / "other"), *QUICK]) == 2
    assert "does not load: ModuleNotFoundError" in capsys.readouterr().err
    assert not (tmp_path / "other").exists()


# Bad plug-ins ------------------------------------------------------------------------------------

BAD = [
    (["--methods", "plug_nowhere:Thing"],
     "bench: error: method 'plug_nowhere:Thing': module 'plug_nowhere' does not import (ModuleNotFoundError: No "
     "module named 'plug_nowhere'); it must be installed or on PYTHONPATH"),
    (["--methods", "plug_raises:Thing"],
     "bench: error: method 'plug_raises:Thing': module 'plug_raises' does not import (ZeroDivisionError: "
     "division by zero); it must be installed or on PYTHONPATH"),
    (["--methods", "plug_tiny:NoSuch"],
     "bench: error: method 'plug_tiny:NoSuch': module plug_tiny has no 'NoSuch'; its methods: PCAProjection, "
     "TinyPCA"),
    (["--methods", "plug_tiny:NOT_A_METHOD"],
     "bench: error: method 'plug_tiny:NOT_A_METHOD' is an int (3), not a subclass of methods.base.Method"),
    (["--methods", "plug_tiny:Metric"],
     "bench: error: method 'plug_tiny:Metric' is the class Metric, not a subclass of methods.base.Method"),
    (["--methods", "pca", "--metrics", "plug_tiny:TinyPCA"],
     "bench: error: metric 'plug_tiny:TinyPCA' is the class TinyPCA, not a metrics.base.Metric declaration"),
    (["--methods", "pca", "--metrics", "plug_tiny:spread"],
     "bench: error: metric 'plug_tiny:spread': module plug_tiny has no 'spread'; its metrics: SPREAD"),
    (["--methods", "pca", "--dataset", "plug_tiny:NOT_A_METHOD"],
     "bench: error: dataset 'plug_tiny:NOT_A_METHOD' is an int (3), not a function returning a GroundTruthData "
     "(bench/data/base.py)"),
    (["--methods", "pca", "--dataset", "plug_tiny:Settings"],
     "bench: error: dataset 'plug_tiny:Settings' returned a Settings, not a GroundTruthData (bench/data/base.py)"),
    (["--methods", "plug_tiny:"],
     "bench: error: method 'plug_tiny:': a plug-in is named PKG.MODULE:NAME, e.g. mypackage.mymethod:MyVAE"),
    (["--methods", "no_such_method"], "bench: error: unknown method 'no_such_method'; valid: ada_gvae, "),
]


@pytest.mark.parametrize("flags,message", BAD)
def test_a_bad_plugin_is_one_line_exit_2_and_nothing_written(plugin, tmp_path, capsys, flags, message):
    write_module(plugin, "plug_raises", "1 / 0\n")
    out = tmp_path / "out"
    assert main(["run", *flags, "--out", str(out), *QUICK]) == 2
    error = capsys.readouterr().err
    assert error.startswith(message) and error.count("\n") == 1, error
    assert not out.exists()
    sys.modules.pop("plug_raises", None)


def test_entry_points_are_read_once_a_process(plugin, monkeypatch):
    entry_points_dist(plugin, {"disentanglement_bench.metrics": {"spread": "plug_tiny:SPREAD"}})
    reads = []
    read = plugins.importlib.metadata.entry_points
    monkeypatch.setattr(plugins.importlib.metadata, "entry_points", lambda **group: reads.append(group) or read(**group))
    assert metrics.metric("spread").name == "spread" and metrics.metric("spread").name == "spread"
    for _ in range(2):
        with pytest.raises(UserError, match="unknown metric 'nope'"):
            metrics.metric("nope")
    assert reads == [{"group": "disentanglement_bench.metrics"}]
    assert "spread" in plugins.entry_points("metric") and "spread" not in plugins.entry_points("method")
    assert len(reads) == 2                                   # one read for each kind looked up


def test_unknown_names_list_the_plugins_and_the_qualified_form(plugin):
    entry_points_dist(plugin, {"disentanglement_bench.metrics": {"spread": "plug_tiny:SPREAD"}})
    with pytest.raises(UserError, match=r"^unknown metric 'nope'; valid: .*, sap, spread, udr, .*"
                                        r"PKG\.MODULE:NAME$"):
        metrics.metric("nope")


# Identity and provenance ---------------------------------------------------------------------------

def test_a_changed_plugin_source_is_refused_unless_accepted(plugin, tmp_path, capsys):
    out = tmp_path / "out"
    flags = ["run", "--methods", "plug_tiny:TinyPCA", "--dataset", "dsprites_small", "--metrics", "mig",
             "--out", str(out), *QUICK]
    assert main(flags) == 0
    assert main(flags) == 0                                  # the same source: skipped
    folder = run_folders(out)[0]
    before = {path.name: path.read_bytes() for path in folder.iterdir() if path.is_file()}
    (plugin / "plug_tiny.py").write_text(PLUGIN + "\n# edited\n")
    capsys.readouterr()
    assert main(flags) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and error.startswith(
        f"bench: error: method plug_tiny:TinyPCA: the source of plug_tiny has changed since the run was recorded "
        f"(sha256 {json.loads(before['spec.json'])['plugin']['method']['source_sha256'][:12]}... then, ")
    assert f"so run {folder.name} in {out}/ would mix two versions of its code; pass --accept-changed-plugins" in error
    assert {path.name: path.read_bytes() for path in folder.iterdir() if path.is_file()} == before
    with pytest.raises(UserError, match=rf"^method plug_tiny:TinyPCA: the source of plug_tiny has changed .*, so "
                                        rf"rescoring run {folder.name} would score another version's model; "
                                        rf"`bench run` its sweep again with --accept-changed-plugins"):
        rebuild_method(folder)                               # what bench report --protocols and UDR rescore with
    assert main([*flags, "--accept-changed-plugins"]) == 0
    recorded = json.loads((folder / "spec.json").read_text())["plugin"]["method"]["source_sha256"]
    assert recorded == plugins.hashlib.sha256((plugin / "plug_tiny.py").read_bytes()).hexdigest()
    assert main(flags) == 0                                  # the new source is the recorded one now
    assert rebuild_method(folder)[0].__class__.__name__ == "TinyPCA"


def test_a_changed_metric_plugin_source_is_refused_where_the_run_is_scored_with_it_again(plugin, tmp_path, capsys):
    out = tmp_path / "out"
    run = ["run", "--methods", "pca", "--dataset", "dsprites_small", "--out", str(out), *QUICK]
    assert main([*run, "--metrics", "plug_tiny:SPREAD,mig"]) == 0
    folder = run_folders(out)[0]
    first = plugins.hashlib.sha256((plugin / "plug_tiny.py").read_bytes()).hexdigest()
    spec = json.loads((folder / "spec.json").read_text())
    assert spec["plugin"] == {"metrics": {"plug_tiny:SPREAD": {"module": "plug_tiny", "source_sha256": first}}}
    assert main([*run, "--metrics", "mig"]) == 0                  # kept while the run is scored without it
    assert json.loads((folder / "spec.json").read_text()) == spec
    (plugin / "plug_tiny.py").write_text(PLUGIN + "\n# edited\n")
    before = {path.name: path.read_bytes() for path in folder.iterdir() if path.is_file()}
    capsys.readouterr()
    assert main([*run, "--metrics", "plug_tiny:SPREAD"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and error.startswith(
        f"bench: error: metric plug_tiny:SPREAD: the source of plug_tiny has changed since the run was recorded "
        f"(sha256 {first[:12]}... then, ")
    assert f"so run {folder.name} in {out}/ would mix two versions of its code" in error
    assert {path.name: path.read_bytes() for path in folder.iterdir() if path.is_file()} == before
    assert main([*run, "--metrics", "mig"]) == 0                  # a run not scored with it now goes on
    assert main([*run, "--metrics", "plug_tiny:SPREAD", "--accept-changed-plugins"]) == 0
    recorded = json.loads((folder / "spec.json").read_text())["plugin"]["metrics"]["plug_tiny:SPREAD"]
    assert recorded["source_sha256"] == plugins.hashlib.sha256((plugin / "plug_tiny.py").read_bytes()).hexdigest()
    assert main([*run, "--metrics", "plug_tiny:SPREAD"]) == 0      # the new source is the recorded one now
