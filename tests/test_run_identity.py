"""A run's identity names everything that changes its numbers (precision, data source), existing
run ids stay what they were, reports rebuild a run from its own data, checkpoints load as weights only."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch

import bench.device
import methods
from bench import data
from bench.data.base import PROCEDURAL, DataSource
from bench.device import resolve_precision
from bench.errors import UserError
from bench.running import config as sweep_config
from bench.running.restore import created_method, restore_method
from bench.running.runner import save_checkpoint, train
from bench.running.sampler import BatchSampler
from bench.running.spec import RunSpec
from bench.running.store import RunStore
from methods.batch_kinds import IID

REPO = Path(__file__).resolve().parent.parent
FLAGS = {"methods": "vae", "dataset": "dsprites", "seeds": "0", "steps": 100, "device": "cpu"}


@pytest.fixture(autouse=True)
def no_data_variable(monkeypatch):
    monkeypatch.delenv("BENCH_DSPRITES_PATH", raising=False)


def run_id(**flags):
    [spec] = sweep_config.load(None, {**FLAGS, **flags}).specs()
    return spec


def tiny_npz(path: Path, value: int = 0) -> Path:
    np.savez(path, imgs=np.full((2, 64, 64), value, np.uint8), latents_classes=np.zeros((2, 6), np.int64))
    return path


def test_precision_is_part_of_the_identity(monkeypatch):
    monkeypatch.setattr(bench.device, "cpu_bf16_units", lambda: ())         # a CPU without native bf16
    fp32, bf16, auto = run_id(precision="fp32"), run_id(precision="bf16"), run_id(precision="auto")
    assert fp32.run_id != bf16.run_id
    assert auto.run_id == fp32.run_id                    # auto is fp32 on that CPU
    assert fp32.to_json()["precision"] == "fp32" and bf16.to_json()["precision"] == "bf16"
    assert "precision" not in fp32.identity() and bf16.identity()["precision"] == "bf16"
    monkeypatch.setattr(bench.device, "cpu_bf16_units", lambda: ("AMX",))   # one with it
    assert run_id(precision="auto").run_id == bf16.run_id


def test_auto_precision_is_bf16_on_a_cuda_gpu_with_bf16(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: True)
    monkeypatch.setattr(bench.device, "cpu_bf16_units", lambda: ())
    assert resolve_precision("auto", "auto") == "bf16"
    assert resolve_precision("cpu", "auto") == "fp32"
    assert resolve_precision("auto", "fp32") == "fp32"


def test_auto_precision_is_bf16_on_a_cpu_with_amx_only(monkeypatch):
    monkeypatch.setattr(bench.device, "cpu_flags", lambda: {"avx2", "avx512f", "avx512_bf16", "amx_bf16"})
    assert bench.device.cpu_bf16_units() == ("AMX", "AVX-512 bf16")
    assert bench.device.precision_choice("cpu", "auto") == ("bf16", "auto: this CPU computes bf16 in AMX tiles (AMX, AVX-512 bf16)")
    monkeypatch.setattr(bench.device, "cpu_flags", lambda: {"avx2", "avx512f", "avx512_bf16"})   # bf16 dot products, no AMX
    assert bench.device.precision_choice("cpu", "auto") == (
        "fp32", "auto: this CPU has AVX-512 bf16 but no AMX, where bf16's speed differs by CPU (0.81x fp32 on a "
                "Xeon, 1.3-1.6x on an AMD EPYC (Zen 4); `bench speed --precision bf16` measures it)")
    monkeypatch.setattr(bench.device, "cpu_flags", lambda: {"avx2", "avx512f", "avx512bw"})   # AVX-512 without bf16
    assert bench.device.precision_choice("cpu", "auto")[0] == "fp32"
    assert bench.device.precision_choice("cpu", "bf16") == ("bf16", "--precision bf16")


def test_data_source_is_part_of_the_identity(tmp_path):
    procedural = run_id()
    from_file = run_id(data_path=str(tiny_npz(tmp_path / "a.npz")))
    assert procedural.run_id != from_file.run_id
    assert from_file.to_json()["data"] == {"source": "file", "path": str((tmp_path / "a.npz").resolve()),
                                           "sha256": from_file.data.sha256}
    assert procedural.to_json()["data"] == {"source": "procedural"} and "data" not in procedural.identity()
    (tmp_path / "elsewhere").mkdir()
    moved = run_id(data_path=str(tiny_npz(tmp_path / "elsewhere" / "a.npz")))
    assert moved.run_id == from_file.run_id               # the content names the run, not the path
    other = run_id(data_path=str(tiny_npz(tmp_path / "b.npz", value=1)))
    assert other.run_id != from_file.run_id


def test_the_environment_variable_is_a_data_source_too(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_DSPRITES_PATH", str(tiny_npz(tmp_path / "a.npz")))
    assert run_id().run_id == run_id(data_path=str(tmp_path / "a.npz")).run_id != RunSpec("vae", "dsprites", 0, 100).run_id


def committed_specs():
    files = sorted((REPO / "results").glob("higgins2017*/runs/*/spec.json"))
    return [json.loads(path.read_text()) for path in files]


@pytest.mark.skipif(not committed_specs(), reason="no committed results in this checkout")
def test_committed_run_ids_are_unchanged():
    """Every committed run's id is the hash of what its spec.json records, under today's rule (its
    parameters given in full, so that a later change of a default does not enter the check)."""
    for spec in committed_specs():
        rebuilt = RunSpec(spec["method"], spec["dataset"], spec["seed"], spec["steps"],
                          tuple(sorted(spec["params"].items())), spec.get("precision", "fp32"),
                          DataSource.from_json(spec.get("data")))
        assert rebuilt.run_id == spec["run_id"], spec["run_id"]
    known = RunSpec("beta_vae", "dsprites", 0, 8000, (("beta", "4.0"),))     # the flags it was made with
    assert known.run_id == "beta_vae-seed0-eda56d74ae"     # results/higgins2017-fp32's beta-VAE, seed 0


def test_warm_start_never_takes_a_run_of_another_precision(tmp_path):
    store = RunStore(tmp_path)
    shorter = RunSpec("vae", "dsprites_small", 0, 10, precision="bf16")
    folder = store.begin(shorter)
    folder.checkpoint.write_bytes(b"weights")
    fp32, bf16 = RunSpec("vae", "dsprites_small", 0, 20), RunSpec("vae", "dsprites_small", 0, 20, precision="bf16")
    store.begin(fp32), store.begin(bf16)
    assert store.warm_start(fp32) is None
    assert store.warm_start(bf16) == str(folder.path)


def write_run(folder: Path, spec: RunSpec) -> Path:
    folder.mkdir(parents=True)
    (folder / "spec.json").write_text(json.dumps(spec.to_json()))
    return folder


def test_restore_reads_the_data_source_the_run_was_made_with(tmp_path, monkeypatch, small_dsprites):
    file = tiny_npz(tmp_path / "dsprites.npz")
    opened = []

    def fake_dsprites(data_path=None):
        opened.append(data_path)
        small = data.dsprites.DSprites.small()
        small.name = "dsprites"
        return small

    monkeypatch.setitem(data.DATASETS, "dsprites", fake_dsprites)
    source = data.source("dsprites", str(file))
    folder = write_run(tmp_path / "run", RunSpec("pca", "dsprites", 0, 1, data=source))
    procedural = data.load_source("dsprites", PROCEDURAL)
    opened.clear()
    spec, method, dataset = created_method(folder, procedural)      # a dataset from other data is not used
    assert opened == [str(file.resolve())] and dataset.source == source
    assert created_method(folder, dataset)[2] is dataset            # the run's own is reused
    tiny_npz(file, value=1)                                         # the file changed since
    with pytest.raises(UserError, match=r"run was made with .*dsprites.npz: .* has changed since it was recorded"):
        created_method(folder)


def trained_run(tmp_path, cpu_fp32, small_dsprites):
    spec = RunSpec("vae", "dsprites_small", 0, 5, (("architecture", "fc"), ("batch_size", "8")))
    folder = write_run(tmp_path / spec.run_id, spec)
    method = methods.create("vae", dict(spec.params), small_dsprites.image_shape, cpu_fp32, 0)
    train(method, small_dsprites, 5, 0, folder, False, checkpoint_every=5, log_every=5)
    return method, folder


def test_checkpoints_hold_only_tensors_and_plain_values(tmp_path, cpu_fp32, small_dsprites):
    _, folder = trained_run(tmp_path, cpu_fp32, small_dsprites)
    state = torch.load(folder / "checkpoint.pt", weights_only=True)
    assert state["method"]["step"] == 5 and state["sampler"]["bit_generator"] == "PCG64"
    assert restore_method(folder, small_dsprites) is not None


class WritesAFile:
    """What a hostile checkpoint could hold: unpickling it would call open(...)."""
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (str(self.path), "w"))


def test_a_checkpoint_with_python_objects_is_refused_not_run(tmp_path, cpu_fp32, small_dsprites, capsys):
    method, folder = trained_run(tmp_path, cpu_fp32, small_dsprites)
    marker = tmp_path / "code_ran"
    sampler = BatchSampler(small_dsprites, IID, 8, np.random.default_rng(0), cpu_fp32)
    save_checkpoint(folder / "checkpoint.pt", method, sampler)
    state = torch.load(folder / "checkpoint.pt", weights_only=True)
    state["sampler"] = WritesAFile(marker)                            # as an old or tampered checkpoint
    torch.save(state, folder / "checkpoint.pt")

    assert restore_method(folder, small_dsprites) is None             # a report skips it, with a line
    error = capsys.readouterr().err
    assert "checkpoint.pt is from an older version of bench or another program" in error
    assert error.count("\n") == 1 and not marker.exists()

    resumed = methods.create("vae", {"architecture": "fc", "batch_size": 8}, small_dsprites.image_shape, cpu_fp32, 0)
    with pytest.warns(UserWarning, match="is from an older version .* training from scratch"):
        train(resumed, small_dsprites, 5, 0, folder, False, checkpoint_every=5, log_every=5)
    assert resumed.step == 5 and not marker.exists()
