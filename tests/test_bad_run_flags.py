"""Bad flags to `bench run` and `bench reproduce`: one line naming the bad value and the valid ones,
exit code 2, nothing on disk created or changed; and the command line's own manners (`--help`
imports nothing heavy, `--version`, output piped into `head`). Sweep files, method parameters, metric
settings, data files and damaged results folders: the other tests/test_bad_*.py and
tests/test_damaged_results.py. Helpers: tests/conftest.py (`refused`)."""
import argparse
import dataclasses
import os
import subprocess
import sys

import pytest

from bench import cli, run_settings
from bench.cli import main
from bench.running import config as sweep_config
from bench.running import sweep


@pytest.mark.parametrize("flags,message", [
    (["--methods", "beta_vae", "--jobs", "0"], "--jobs must be a positive integer, not 0"),
    (["--methods", "beta_vae", "--scheduler", "tcp://127.0.0.1:1"], "--scheduler goes with --backend dask or --backend ray"),
    (["--steps", "5"], "name the methods with --methods or `methods = [...]` in a sweep file"),
    (["--methods", "vae", "--seeds", "-1"], "--seeds takes non-negative seeds, not -1 (in '-1')"),
    (["--methods", "vae", "--seeds", "0-100000000"], "--seeds '0-100000000' names 100,000,001 seeds; at most 10,000"),
])
def test_a_bad_flag(quick_run, results_folder, refused, flags, message):
    refused([*quick_run, "--out", str(results_folder), *flags], message, untouched=[results_folder])


def test_a_results_folder_that_cannot_be_written(quick_run, tmp_path, refused):
    blocker = tmp_path / "a_file"
    blocker.write_text("keep me")
    refused([*quick_run, "--methods", "vae", "--out", str(blocker / "results")],
            f"cannot write results to '{blocker / 'results'}': Not a directory")
    refused([*quick_run, "--methods", "vae", "--out", str(blocker)], f"cannot write results to '{blocker}'")
    assert blocker.read_text() == "keep me"


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_a_read_only_results_folder(quick_run, tmp_path, refused):
    out = tmp_path / "results"
    (out / "runs").mkdir(parents=True)
    out.chmod(0o500)
    (out / "runs").chmod(0o500)
    try:
        refused([*quick_run, "--methods", "vae", "--out", str(out)], "cannot write results to")
    finally:
        (out / "runs").chmod(0o700)
        out.chmod(0o700)


def test_a_dask_scheduler_that_cannot_be_reached(quick_run, tmp_path, refused, monkeypatch):
    pytest.importorskip("distributed")
    monkeypatch.setattr(sweep, "CONNECT_TIMEOUT_S", 1)
    out = tmp_path / "results"
    refused([*quick_run, "--methods", "vae", "--out", str(out), "--backend", "dask", "--scheduler",
             "tcp://127.0.0.1:1"], "cannot reach the Dask scheduler at 'tcp://127.0.0.1:1' (waited 1 s)",
            untouched=[out])


def test_a_dask_backend_needs_a_scheduler_address(quick_run, tmp_path, refused):
    pytest.importorskip("distributed")
    refused([*quick_run, "--methods", "vae", "--out", str(tmp_path / "r"), "--backend", "dask"],
            "--backend dask needs --scheduler ADDRESS", untouched=[tmp_path / "r"])


def test_a_missing_cluster_library_is_named(quick_run, tmp_path, refused, monkeypatch):
    import builtins
    real_import = builtins.__import__

    def without_clusters(name, *args, **kwargs):
        if name.split(".")[0] in ("distributed", "ray"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_clusters)
    out = tmp_path / "r"
    refused([*quick_run, "--methods", "vae", "--out", str(out), "--backend", "ray"],
            "--backend ray needs Ray: pip install 'disentanglement-bench[ray]'", untouched=[out])
    refused([*quick_run, "--methods", "vae", "--out", str(out), "--backend", "dask", "--scheduler",
             "tcp://127.0.0.1:1"], "--backend dask needs Dask's distributed scheduler", untouched=[out])


def test_a_missing_gpu_fails_once_before_any_run(quick_run, results_folder, refused, monkeypatch):
    import torch
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    refused([*quick_run, "--out", str(results_folder), "--methods", "vae", "--device", "cuda"],
            "unknown device 'cuda (no CUDA device is visible)'; valid: auto, cpu", untouched=[results_folder])


def test_reproduce_quick_with_zero_steps_is_refused(tmp_path, refused):
    refused(["reproduce", "higgins2017", "--quick", "--steps", "0", "--out", str(tmp_path / "r")],
            "--steps must be a positive number of training steps, not 0", untouched=[tmp_path / "r"])


def test_bf16_on_a_cpu_without_amx_warns_in_one_line_by_what_the_cpu_has(monkeypatch, capsys):
    import bench.device
    from bench.running.sweep_entry import check_compute
    monkeypatch.setattr(bench.device, "cpu_flags", lambda: {"avx512f", "avx512bw"})         # bf16 converted
    check_compute("cpu", "bf16")
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and error.startswith("bench: warning: --precision bf16 on a CPU without native "
                                                        "bf16 trains slower than fp32")
    monkeypatch.setattr(bench.device, "cpu_flags", lambda: {"avx512f", "avx512_bf16"})     # bf16 dot products
    check_compute("cpu", "bf16")
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "AVX-512 bf16 but no AMX: its speed differs by CPU" in error
    monkeypatch.setattr(bench.device, "cpu_flags", lambda: {"avx512f", "avx512_bf16", "amx_bf16"})
    check_compute("cpu", "bf16")
    assert capsys.readouterr().err == ""


# The flags themselves --------------------------------------------------------------------------------------

def test_run_flags_are_the_declared_run_settings():
    """`bench run`'s flags, a SweepConfig's fields and ExecutionOptions' settings are those of
    bench/run_settings.py, each from its one declaration."""
    from bench.running.execute import ExecutionOptions
    run = cli.add_run_parser(argparse.ArgumentParser().add_subparsers())
    flags = {option for action in run._actions for option in action.option_strings if option.startswith("--")}
    declared = {setting.flag_name for setting in run_settings.RUN_SETTINGS if setting.flag}
    negations = {"--no-" + setting.flag_name[2:] for setting in run_settings.RUN_SETTINGS
                 if setting.flag and setting.kind is bool}
    assert flags - declared == {"--help", "--config", "--set", "--no-progress"} | negations
    assert declared <= flags and "--metric-params" not in flags and "--seeds" in flags
    assert sweep_config.SweepConfig().steps == 10_000 and sweep_config.SweepConfig().params == {}
    assert {f.name for f in dataclasses.fields(ExecutionOptions)} - {"progress", "log_every", "curve_metrics"} == {
        "metrics", "quick", "device", "precision", "data_path", "threads", "checkpoint_every", "metric_params",
        "warm_start", "score_at"}


def test_help_imports_no_heavy_library():
    code = ("import sys, contextlib, io\nimport bench.cli\n"
            "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
            "    bench.cli.parser().parse_args(['run', '--help'])\n"
            "print(sorted(m for m in ('torch', 'sklearn', 'pandas', 'scipy', 'matplotlib') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_output_piped_into_head_ends_quietly():
    process = subprocess.Popen([sys.executable, "-m", "bench.cli", "list"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    process.stdout.close()                   # as `bench list | head -0` does: every write finds no reader
    error = process.stderr.read().decode()
    assert process.wait(timeout=120) == 1 and error == ""


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0 and capsys.readouterr().out.startswith("bench ")
