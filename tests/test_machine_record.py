"""machine.json: each time a run trains (from scratch, or resumed from its checkpoint) its folder
records where training started and on what machine (bench/machine.py); rescoring records nothing,
a damaged file is said and started again, and `bench report` says which machines trained the runs."""
import json
import os

import pytest
import torch

import methods
from bench.cli import main
from bench.device import cpu_bf16_units
from bench.machine import cpu_model, describe
from bench.reporting.report import machines_line
from bench.running.run_folder import RunFolder
from bench.running.runner import train
from killed_training import Killed, dying_at

PARAMS = {"architecture": "fc", "batch_size": 16}
TINY = ["--methods", "vae,pca", "--dataset", "dsprites_small", "--steps", "20", "--quick", "--no-progress",
        "--threads", "1", "--metrics", "beta_vae", "--set", "vae.architecture=fc"]


def entries(folder) -> list[dict]:
    return json.loads((folder / "machine.json").read_text())


def this_machine() -> dict:
    return {"cpu": cpu_model(), "bf16_units": list(cpu_bf16_units()),
            "cpu_capability": torch.backends.cpu.get_cpu_capability(), "onednn_max_cpu_isa": None,
            "torch": torch.__version__, "threads": torch.get_num_threads(), "device": "cpu", "cuda_device": None}


def test_the_description_is_this_machine_in_plain_json_without_its_hostname(monkeypatch):
    for name in ("ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA"):
        monkeypatch.delenv(name, raising=False)
    described = describe(torch.device("cpu"))
    assert described == this_machine()
    assert json.loads(json.dumps(described)) == described and described["threads"] == 1   # conftest: one thread
    assert described["cpu"] and os.uname().nodename not in json.dumps(described)
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX512_CORE_BF16")
    assert describe(torch.device("cpu"))["onednn_max_cpu_isa"] == "AVX512_CORE_BF16"


def test_a_fresh_run_records_step_0_and_a_resumed_one_adds_its_checkpoints_step(small_dsprites, cpu_fp32, tmp_path):
    method = methods.create("beta_vae", PARAMS, (1, 64, 64), cpu_fp32, 0)
    dying_at(method, 14)
    with pytest.raises(Killed):
        train(method, small_dsprites, 20, 0, tmp_path, False, checkpoint_every=10, log_every=5)
    assert entries(tmp_path) == [{"from_step": 0, **this_machine()}]

    resumed = methods.create("beta_vae", PARAMS, (1, 64, 64), cpu_fp32, 0)
    train(resumed, small_dsprites, 20, 0, tmp_path, False, checkpoint_every=10, log_every=5)
    assert [entry["from_step"] for entry in entries(tmp_path)] == [0, 10]
    assert entries(tmp_path)[1] == {"from_step": 10, **this_machine()}

    trained = (tmp_path / "machine.json").read_bytes()          # trained to the end: returns at once
    train(methods.create("beta_vae", PARAMS, (1, 64, 64), cpu_fp32, 0), small_dsprites, 20, 0, tmp_path, False,
          checkpoint_every=10, log_every=5)
    assert (tmp_path / "machine.json").read_bytes() == trained


def test_a_damaged_machine_json_is_said_in_one_line_and_started_again(small_dsprites, cpu_fp32, tmp_path, capsys):
    (tmp_path / "machine.json").write_text('{"from_step": 0}')
    assert RunFolder(tmp_path).damaged(RunFolder.MACHINE) == {"machine.json": "holds dict, not a list of trainings"}
    capsys.readouterr()
    train(methods.create("beta_vae", PARAMS, (1, 64, 64), cpu_fp32, 0), small_dsprites, 5, 0, tmp_path, False,
          checkpoint_every=5, log_every=5)
    said = capsys.readouterr().err
    assert said == (f"{tmp_path.name}: machine.json is damaged (holds dict, not a list of trainings); started again "
                    f"with this training's entry (where earlier training ran is not known)\n")
    assert entries(tmp_path) == [{"from_step": 0, **this_machine()}]


@pytest.mark.parametrize("content, why", [("[{", "not JSON"), ('[{"from_step": "10"}]', 'an entry without an integer'),
                                          ('[{"from_step": true}]', "an entry without an integer"), ("[3]", "an entry")])
def test_damaged_machine_json_reads_as_no_entries_with_why(tmp_path, content, why):
    (tmp_path / "machine.json").write_text(content)
    folder = RunFolder(tmp_path)
    assert folder.machines() == [] and folder.damaged(RunFolder.MACHINE)["machine.json"].startswith(why)


def test_a_restart_drops_the_entries_of_steps_trained_again_and_a_warm_start_takes_the_shorter_runs(tmp_path):
    folder = RunFolder(tmp_path / "run")
    folder.path.mkdir()
    folder.add_machine(0, {"cpu": "Xeon"})
    folder.add_machine(30, {"cpu": "EPYC"})
    folder.add_machine(10, {"cpu": "EPYC"})                  # a resume from an earlier checkpoint
    assert folder.machines() == [{"from_step": 0, "cpu": "Xeon"}, {"from_step": 10, "cpu": "EPYC"}]

    shorter = RunFolder(tmp_path / "shorter")
    shorter.path.mkdir()
    shorter.add_machine(0, {"cpu": "Xeon"})
    folder.take_training_of(shorter)
    assert folder.machines() == [{"from_step": 0, "cpu": "Xeon"}]
    (shorter.path / "machine.json").unlink()                 # a shorter run from before machine.json
    folder.take_training_of(shorter)
    assert not (folder.path / "machine.json").exists()


def test_a_rescore_records_nothing_a_baselines_fit_records_itself_and_the_report_counts_machines(tmp_path, capsys):
    out = tmp_path / "results"
    assert main(["run", *TINY, "--out", str(out)]) == 0
    folders = {path.name.split("-")[0]: path for path in (out / "runs").iterdir()}
    assert entries(folders["vae"]) == [{"from_step": 0, **this_machine()}]
    assert entries(folders["pca"]) == [{"from_step": 0, **this_machine()}]     # its fit is its training
    trained = (folders["vae"] / "machine.json").read_bytes()
    (folders["pca"] / "machine.json").write_text('[{"from_step": 0, "cpu": "a marker"}]')

    sweep = tmp_path / "sweep.toml"
    sweep.write_text('[metric_params.beta_vae]\nnum_eval = 100\n')
    capsys.readouterr()
    assert main(["run", *TINY, "--out", str(out), "--config", str(sweep)]) == 0
    assert "2 of 2 run(s) done (0 already done before), 0 failed" in capsys.readouterr().out       # both rescored
    assert json.loads((folders["vae"] / "scores.json").read_text())["beta_vae"]["settings"]["num_eval"] == 100
    assert (folders["vae"] / "machine.json").read_bytes() == trained
    assert entries(folders["pca"]) == [{"from_step": 0, **this_machine()}]     # fitted again: the new fit's

    assert main(["report", str(out), "--no-plots"]) == 0
    assert f"\nTrained on (machine.json): {cpu_model()}: 2 run(s)\n" in (out / "table.md").read_text()


def test_the_machines_line_counts_runs_by_machine_and_says_none_for_older_results(tmp_path, capsys):
    def run(name, machine_json=None):
        folder = tmp_path / "runs" / name
        folder.mkdir(parents=True)
        (folder / "spec.json").write_text("{}")
        if machine_json is not None:
            (folder / "machine.json").write_text(machine_json)

    run("old-1")
    run("old-2")
    assert machines_line(tmp_path) is None                   # older results: table.md as it was
    run("xeon", '[{"from_step": 0, "cpu": "Xeon", "onednn_max_cpu_isa": null}]')
    run("capped", '[{"from_step": 0, "cpu": "Xeon", "onednn_max_cpu_isa": "AVX512_CORE_BF16"}]')
    run("moved", '[{"from_step": 0, "cpu": "Xeon"}, {"from_step": 10, "cpu": "EPYC"}, {"from_step": 20, "cpu": "EPYC"}]')
    run("gpu", '[{"from_step": 0, "cpu": "EPYC", "cuda_device": "NVIDIA H100"}]')
    run("damaged", "not json")
    assert machines_line(tmp_path) == ("Trained on (machine.json): NVIDIA H100: 1 run(s); Xeon: 1 run(s); "
                                       "Xeon (oneDNN capped at AVX512_CORE_BF16): 1 run(s); Xeon then EPYC: 1 run(s); "
                                       "not recorded: 3 run(s)")
    assert capsys.readouterr().err == ("bench: damaged: machine.json is damaged (not JSON); counted as not recorded "
                                       "in table.md\n")
