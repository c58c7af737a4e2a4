"""The worked example of plug-ins (examples/bench_plugin_example, docs/plugins.md): its entry
points, and docs/plugins.md's `bench` commands run in order: `bench check` of its method, metric
and dataset (every clause passes), a short `bench run` of its method beside a built-in one, and
`bench score` of the exported encoder of that run, equal to the run's own scores.

Skipped, saying so, when the example is not installed (.ci/run installs it)."""
import glob
import hashlib
import json
import re
import shlex
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pandas as pd
import pytest

from bench.cli import main

pytest.importorskip("bench_plugin_example", reason="the example plug-in package is not installed: "
                    "pip install --no-build-isolation --no-deps -e examples/bench_plugin_example (.ci/run does)")
from bench_plugin_example.bars import load as load_bars                    # noqa: E402
from bench_plugin_example.info_vae import InfoVAE                          # noqa: E402
from bench_plugin_example.max_correlation import METRIC                    # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "plugins.md"
EXAMPLE = {"methods": ("info_vae", InfoVAE), "metrics": ("max_correlation", METRIC), "datasets": ("bars", load_bars)}


def page_commands(section: str) -> list[list[str]]:
    """The `bench` commands of the ```bash blocks of docs/plugins.md's `## section`, as argv."""
    text = PAGE.read_text()
    start = text.index(f"## {section}")
    end = text.find("\n## ", start + 1)
    blocks = re.findall(r"```bash\n(.*?)```", text[start:end if end > 0 else None], re.S)
    return [shlex.split(line)[1:] for block in blocks for line in block.splitlines() if line.startswith("bench ")]


def test_the_example_declares_its_plug_ins_as_entry_points():
    for group, (name, loaded) in EXAMPLE.items():
        found = {point.name: point for point in entry_points(group=f"disentanglement_bench.{group}")}
        assert found[name].dist.name == "bench-plugin-example" and found[name].load() is loaded


def test_the_page_s_bench_list_names_the_plug_ins(capsys):
    assert page_commands("Write it") == [["list"]]
    assert main(["list"]) == 0
    output = capsys.readouterr().out
    for line in ("  info_vae: InfoVAE / MMD-VAE (Zhao et al. 2019, eq. 6)", "      info_lambda (float) = 5.0",
                 "  max_correlation: Max correlation: for each factor,", "      num_points (int) = 10000 [1000]",
                 "  bars: Bars, 192 binary images: row 8, column 8, thickness 3 (procedural)"):
        assert line in output


def test_the_page_s_bench_checks_pass_every_clause(capsys):
    commands = page_commands("Check it")
    assert [command[1] for command in commands] == ["info_vae", "max_correlation", "bars"]
    for command in commands:
        assert main(command) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 7 + 6 + 4 and all(line.startswith("PASS ") for line in lines), lines
    assert "PASS declared capabilities work: decode, posterior as declared" in lines


def test_the_page_s_run_export_and_score_give_the_run_s_own_scores(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    commands = [*page_commands("Run it beside the built-ins"), *page_commands("Score a model trained elsewhere")]
    assert [command[0] for command in commands] == ["run", "export", "score", "report"]
    for command in commands:
        command = [match for part in command for match in (sorted(glob.glob(part)) or [part])]   # the shell's glob
        assert main([*command, "--no-plots"] if command[0] == "report" else command) == 0
    results = tmp_path / "results" / "plugin_demo"
    table = pd.read_csv(results / "scores.csv")
    assert set(table["method"]) == {"info_vae", "beta_vae", "my_info_vae"}
    assert set(table["metric"]) == {"mig.score", "max_correlation.score"}
    trained, = (results / "runs").glob("info_vae-seed0-*")
    scored, = (results / "runs").glob("my_info_vae-seed0-*")
    assert "mmd" in pd.read_csv(trained / "log.csv").columns
    theirs, ours = (json.loads((run / "scores.json").read_text()) for run in (trained, scored))
    assert {name: ours[name]["values"] for name in ours} == {name: theirs[name]["values"] for name in ours}
    assert set(ours) == {"mig", "max_correlation"}
    assert "| my_info_vae | 1 |" in (results / "table.md").read_text()
    declared = Path(sys.modules[METRIC.score.__module__].__file__)
    metric = {"module": "bench_plugin_example.max_correlation", "distribution": "bench-plugin-example",
              "version": "0.1.0", "source_sha256": hashlib.sha256(declared.read_bytes()).hexdigest()}
    assert json.loads((trained / "spec.json").read_text())["plugin"]["metrics"] == {"max_correlation": metric}
    builtin, = (results / "runs").glob("beta_vae-seed0-*")
    assert json.loads((builtin / "spec.json").read_text())["plugin"] == {"metrics": {"max_correlation": metric}}
