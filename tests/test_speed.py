"""`bench speed` and the fast data paths it measures: same batches, less time."""
import csv
import platform

import numpy as np
import pytest
import torch

import bench.running.sampler
import methods
import metrics
from bench.cli import main
from bench.device import ComputePolicy, choose_policy, keep_freed_memory
from bench.running.sampler import BatchSampler, ResidentImages, resident_images
from bench.speed.ceiling import NetworkAlone
from bench.speed.measure import ReencodedCodes, TimedSampler, scaled_settings
from bench.speed.plain_loop import PlainVAELoop
from methods.batch_kinds import IID, ONE_FACTOR_VARYING, PairsDiffering
from metrics.codes import Representation

MEASURES = ["threads", "metric_fit_threads", "train_images_per_s.beta_vae", "train_plain_images_per_s.beta_vae",
            "train_speedup_vs_plain.beta_vae", "sampler_share.beta_vae", "encode_images_per_s",
            "metrics_encode_once_s", "metrics_reencode_s", "metrics_speedup_vs_reencode",
            "metrics_images_encoded_once", "metrics_images_encoded_reencode",
            "dsprites_build_s", "dsprites_reload_s", "network_alone_images_per_s.beta_vae",
            "gemm_ceiling_images_per_s.beta_vae", "gemm_ceiling_gflops.beta_vae",
            "harness_share_of_network_alone.beta_vae", "harness_share_of_gemm_ceiling.beta_vae"]


def test_float_images_are_the_uint8_images_over_255_exactly(small_dsprites, rng):
    indices = rng.integers(0, len(small_dsprites), size=300)          # duplicates included
    fast = small_dsprites.float_images(indices)
    assert fast.dtype == np.float32 and fast.shape == (300, 1, 64, 64)
    assert np.array_equal(fast, small_dsprites.images(indices).astype(np.float32) / np.float32(255))


@pytest.mark.parametrize("batch_kind", [IID, ONE_FACTOR_VARYING, PairsDiffering(2)], ids=lambda kind: kind.name)
def test_fast_and_resident_samplers_draw_the_batches_of_the_uint8_path(small_dsprites, batch_kind):
    policies = [ComputePolicy(torch.device("cpu"), None, False), ComputePolicy(torch.device("cpu"), None, True)]
    for policy in policies:
        fast = BatchSampler(small_dsprites, batch_kind, 32, np.random.default_rng(5), policy)
        resident = BatchSampler(small_dsprites, batch_kind, 32, np.random.default_rng(5), policy, resident=True)
        reference = BatchSampler(small_dsprites, batch_kind, 32, np.random.default_rng(5), policy)
        assert fast.resident is None and isinstance(resident.resident, ResidentImages)
        for _ in range(3):
            indices, factors, varying = reference.draw()
            old = policy.prepare_images(torch.from_numpy(small_dsprites.images(indices)))    # the old path
            for batch in (fast.next(), resident.next()):
                assert batch.x.dtype == torch.float32 and batch.x.shape == (32, 1, 64, 64)
                assert torch.equal(batch.x, old)
                assert np.array_equal(batch.factors, factors) and batch.varying_factor == varying
        assert fast.state() == resident.state() == reference.state()


def test_resident_images_are_copied_once_per_dataset_and_device(small_dsprites):
    assert resident_images(small_dsprites, torch.device("cpu")) is resident_images(small_dsprites, "cpu")


def test_a_cuda_policy_selects_the_resident_sampler(small_dsprites, monkeypatch):
    calls = []
    monkeypatch.setattr(bench.running.sampler, "resident_images",
                        lambda dataset, device: calls.append(device) or "resident")
    cuda = ComputePolicy(torch.device("cuda"), torch.bfloat16, False)
    sampler = BatchSampler(small_dsprites, IID, 8, np.random.default_rng(0), cuda)
    assert sampler.resident == "resident" and calls == [torch.device("cuda")]
    cpu = BatchSampler(small_dsprites, IID, 8, np.random.default_rng(0), choose_policy("cpu", "fp32"))
    assert cpu.resident is None and len(calls) == 1


def test_cpu_policy_is_channels_last_and_compile_keeps_checkpoint_keys():
    assert choose_policy("cpu", "fp32").channels_last
    eager = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.ReLU())
    keys = list(eager.state_dict())
    compiled = choose_policy("cpu", "fp32", compile=True).prepare_module(eager)
    assert list(compiled.state_dict()) == keys                     # checkpoints stay interchangeable
    assert compiled.forward is not type(compiled).forward          # compiled lazily on first call


def test_cpu_policy_keeps_freed_memory_where_the_c_library_is_glibc():
    choose_policy("cpu", "fp32")
    assert keep_freed_memory() is keep_freed_memory() is (platform.libc_ver()[0] == "glibc")


def test_plain_loop_starts_from_the_methods_weights(small_dsprites, cpu_fp32):
    method = methods.create("beta_vae", {}, small_dsprites.image_shape, cpu_fp32, 3)
    plain = PlainVAELoop(method, torch.device("cpu"))
    for ours, theirs in ((method.encoder, plain.encoder), (method.decoder, plain.decoder)):
        for a, b in zip(ours.state_dict().values(), theirs.state_dict().values()):
            assert torch.equal(a, b) and b.is_contiguous()


def test_reencoded_codes_encode_every_request_and_match_the_table(small_dsprites):
    codes_of = lambda indices: np.stack([indices, 2 * indices], axis=1).astype(np.float32)   # noqa: E731
    own, shared = ReencodedCodes(codes_of), Representation(codes_of, small_dsprites, progress=False)
    indices = np.array([[3, 3, 7], [7, 9, 3]])
    assert np.array_equal(own(indices), shared(indices)) and own(indices).shape == (2, 3, 2)
    assert own.encoded == 12 and shared.encoded == 3


def test_the_timed_sampler_hands_out_the_samplers_batches_and_counts_its_seconds(small_dsprites, cpu_fp32):
    timed = TimedSampler(BatchSampler(small_dsprites, IID, 16, np.random.default_rng(4), cpu_fp32), cpu_fp32.device)
    plain = BatchSampler(small_dsprites, IID, 16, np.random.default_rng(4), cpu_fp32)
    for _ in range(3):
        assert torch.equal(timed.next().x, plain.next().x)
    assert timed.seconds > 0 and timed.sampler.state() == plain.state()


def test_metric_scale_multiplies_the_declared_sample_sizes_alone():
    """--quick's 5%: beta_vae's quick num_train 400 and num_eval 200 become 20 and 10 (at least 10), its
    classifier's steps and vote batch stay; factor_vae's variance estimate 1,000 becomes 50."""
    beta_vae = scaled_settings("beta_vae", "quick", 0.05)
    assert (beta_vae["num_train"], beta_vae["num_eval"]) == (20, 10)
    assert (beta_vae["classifier_steps"], beta_vae["batch_size"]) == (1000, 64)
    assert scaled_settings("factor_vae", "quick", 0.05)["num_variance_estimate"] == 50
    assert scaled_settings("dci", "default", 1.0) == metrics.settings("dci")


def test_bench_speed_quick_writes_every_measure(tmp_path, capsys):
    out = tmp_path / "speed.csv"
    assert main(["speed", "--quick", "--dataset", "dsprites_small", "--out", str(out)]) == 0
    with open(out, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["measure", "value", "unit"]
    values = {row["measure"]: float(row["value"]) for row in rows}
    assert set(MEASURES) <= set(values)
    assert all(values[name] > 0 for name in MEASURES)
    assert values["sampler_share.beta_vae"] < 1
    assert values["metrics_images_encoded_once"] <= 1_536 < values["metrics_images_encoded_reencode"]
    assert "train_speedup_vs_plain.beta_vae" in capsys.readouterr().out
    shares = ("network_alone", "gemm_ceiling")
    for share in shares:
        ratio = values["train_images_per_s.beta_vae"] / values[f"{share}_images_per_s.beta_vae"]
        assert values[f"harness_share_of_{share}.beta_vae"] == pytest.approx(ratio, rel=1e-3)


def test_the_gemm_ceiling_has_the_layers_shapes(cpu_fp32):
    """The conv beta-VAE's 12 product layers as im2col lowers them (batch 8): convs (M = 8 x output
    positions, K = in channels x 16, N = out channels), transposed convs (M = 8 x input positions,
    K = in channels, N = out channels x 16), linear layers; three products each but the first layer's."""
    method = methods.create("beta_vae", {}, (1, 64, 64), cpu_fp32, seed=0)
    network = NetworkAlone(method, torch.rand(8, 1, 64, 64))
    shapes = [(gemm.m, gemm.k, gemm.n) for gemm in network.gemms()]
    assert shapes == [(8 * 32 * 32, 16, 32), (8 * 16 * 16, 512, 32), (8 * 8 * 8, 512, 64), (8 * 4 * 4, 1024, 64),
                      (8, 1024, 256), (8, 256, 20), (8, 10, 256), (8, 256, 1024),
                      (8 * 4 * 4, 64, 1024), (8 * 8 * 8, 64, 512), (8 * 16 * 16, 32, 512), (8 * 32 * 32, 32, 16)]
    gemms = network.gemms()
    assert gemms[0].first and not any(gemm.first for gemm in gemms[1:])
    assert gemms[0].products() == [(8192, 16, 32), (16, 8192, 32)]          # no input gradient
    assert gemms[1].products() == [(2048, 512, 32), (512, 2048, 32), (2048, 32, 512)]
    # per image: 16,260,608 multiply-adds forward (the 12 layers' M K N / 8, summed by hand), 2 flops
    # each, three products a layer, less the first layer's input gradient: 0.0965 GFLOP
    assert sum(gemm.training_flops for gemm in gemms) == 8 * (6 * 16_260_608 - 2 * 524_288)


def test_bench_speed_names_a_bad_method():
    assert main(["speed", "--methods", "no_such_method"]) == 2


def test_reference_timing_compares_every_metric_of_the_study(small_dsprites, cpu_fp32):
    """`bench speed --reference`: per metric the project's and disentanglement_lib's seconds on the
    same samples with the same model, the two numbers equal, and the overall ratio."""
    from bench.speed import measure as speed, reference
    if not reference.available():
        pytest.skip("disentanglement_lib is not installed (the reference extra)")
    method = methods.create("beta_vae", {"architecture": "fc"}, small_dsprites.image_shape, cpu_fp32, seed=0)
    rows = speed.Rows()
    speed.measure_reference(method, small_dsprites, speed.QUICK, 0, rows, log=lambda text: None)
    values = {measure: value for measure, value, _ in rows.rows}
    for name in reference.METRICS:
        assert values[f"reference_{name}_s"] > 0 and values[f"reference_{name}_disentanglement_lib_s"] > 0
        assert values[f"reference_{name}_largest_difference"] <= 1e-9
    assert values["reference_speedup"] > 0
    # DCI's other booster on the same samples: its time, its distance from disentanglement_lib's DCI,
    # the suite's time and ratio with it.
    assert values["reference_dci_hist_s"] > 0 and 0 < values["reference_dci_hist_largest_difference"] < 1
    suite = values["reference_suite_s"] - values["reference_dci_s"] + values["reference_dci_hist_s"]
    assert values["reference_suite_dci_hist_s"] == pytest.approx(suite)
    assert values["reference_speedup_dci_hist"] == pytest.approx(
        values["reference_suite_disentanglement_lib_s"] / suite)
