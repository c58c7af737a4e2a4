"""`bench speed --layers`: oneDNN's verbose lines read into per-layer, per-direction timings."""
import csv

import pytest
import torch
from torch import nn

from bench.cli import main
from bench.speed.ceiling import layer_gemm
from bench.speed.layers import (PrimitiveCall, convolution_gemm, convolution_rows, direction_product, parse_verbose,
                                reorders)

CONV = "mb64_ic32oc64_ih16oh8kh4sh2dh0ph1_iw16ow8kw4sw2dw0pw1"
DECONV = "mb64_ic32oc1_ih32oh64kh4sh2dh0ph1_iw32ow64kw4sw2dw0pw1"
VERBOSE = f"""onednn_verbose,v1,info,oneDNN v3.12.0 (commit 80afa71049cd69a3df32adcccb623b12cd7baa22)
onednn_verbose,v1,primitive,info,template:operation,engine,primitive,implementation,prop_kind,memory_descriptors,attributes,auxiliary,problem_desc,exec_time
onednn_verbose,v1,primitive,exec,cpu,reorder,jit:uni,undef,src:f32::blocked:acdb::f0 dst:bf16::blocked:Acdb32a::f0,attr-scratchpad:user,,32x32x4x4,0.25
onednn_verbose,v1,primitive,exec,cpu,convolution,brg_conv_fwd:avx512_core,forward_training,src:f32::blocked:acdb::f0 wei:f32:a:blocked:Acdb32a::f0,attr-scratchpad:user,alg:convolution_direct,{CONV},2.0
onednn_verbose,v1,primitive,exec,cpu,convolution,brg_conv_fwd:avx512_core,forward_training,src:f32::blocked:acdb::f0 wei:f32:a:blocked:Acdb32a::f0,attr-scratchpad:user,alg:convolution_direct,{CONV},4.0
onednn_verbose,exec,cpu,deconvolution,brg_deconv:avx512_core,backward_weights,src_f32::blocked:acdb:f0,,alg:deconvolution_direct,{DECONV},1.5
onednn_verbose,v1,primitive,exec,cpu,reorder,jit:uni,undef,src:f32::blocked:acdb::f0 dst:f32::blocked:Bcda32b::f0,attr-scratchpad:user,,32x32x4x4,0.5
"""


def test_verbose_lines_are_read_into_executed_primitives():
    calls = parse_verbose(VERBOSE)
    assert [(call.kind, call.direction, call.ms) for call in calls] == [
        ("reorder", "undef", 0.25), ("convolution", "forward_training", 2.0), ("convolution", "forward_training", 4.0),
        ("deconvolution", "backward_weights", 1.5), ("reorder", "undef", 0.5)]
    assert calls[1].implementation == "brg_conv_fwd:avx512_core" and calls[1].problem == CONV
    assert calls[3].problem == DECONV                      # the layout without `v1,primitive`


@pytest.mark.parametrize("kind, problem, layer, inputs", [
    ("convolution", CONV, nn.Conv2d(32, 64, 4, 2, 1), torch.zeros(64, 32, 16, 16)),
    ("deconvolution", DECONV, nn.ConvTranspose2d(32, 1, 4, 2, 1), torch.zeros(64, 32, 32, 32)),
])
def test_a_problem_descriptor_lowers_to_the_product_of_its_layer(kind, problem, layer, inputs):
    expected = layer_gemm("layer", layer, inputs, layer(inputs), first=False)
    gemm = convolution_gemm(kind, problem)
    assert (gemm.m, gemm.k, gemm.n) == (expected.m, expected.k, expected.n)


def test_each_direction_is_one_of_the_layer_s_three_products():
    gemm = convolution_gemm("convolution", CONV)                    # M 4,096, K 512, N 64
    assert direction_product(gemm, "forward_training") == (4096, 512, 64)
    assert direction_product(gemm, "backward_weights") == (512, 4096, 64)
    assert direction_product(gemm, "backward_data") == (4096, 64, 512)
    assert sorted(direction_product(gemm, direction) for direction in
                  ("forward_training", "backward_weights", "backward_data")) == sorted(gemm.products())


def test_a_layer_s_direction_adds_its_calls_per_step_and_reads_their_flops():
    calls = parse_verbose(VERBOSE)
    names = {(4096, 512, 64): "encoder.0.4"}
    rows = convolution_rows(calls, steps=2, names=names, dtype=torch.float32, device=torch.device("cpu"))
    forward, deconv = rows
    assert (forward.layer, forward.direction, forward.implementation) == ("encoder.0.4", "forward_training",
                                                                          "brg_conv_fwd:avx512_core")
    assert forward.ms == pytest.approx(3.0)                        # (2 + 4) ms over 2 steps
    flops = 2 * 4096 * 512 * 64                                    # one call; one call per step
    assert forward.gflops == pytest.approx(flops / 3e-3 / 1e9)
    assert deconv.layer == f"deconvolution {DECONV}"               # no layer of that product: its descriptor
    assert deconv.ms == pytest.approx(0.75)
    assert deconv.gflops == pytest.approx(2 * 131072 * 32 * 16 / 1.5e-3 / 1e9 * 0.5)
    assert forward.gemm_gflops > 0 and deconv.gemm_gflops > 0


def test_reorders_are_counted_per_step_by_conversion():
    count, ms, by_types = reorders(parse_verbose(VERBOSE), steps=2)
    assert count == 1 and ms == pytest.approx(0.375)
    assert by_types == pytest.approx({"f32 -> bf16": 0.125, "f32 -> f32": 0.25})


def test_bench_speed_layers_times_every_convolution_of_the_step(tmp_path, capsys):
    out = tmp_path / "layers.csv"
    assert main(["speed", "--layers", "--quick", "--threads", "1", "--precision", "fp32",
                 "--dataset", "dsprites_small", "--out", str(out)]) == 0
    with open(out, newline="") as handle:
        values = {row["measure"]: float(row["value"]) for row in csv.DictReader(handle)}
    step_ms = values["step_ms.beta_vae"]
    layers = ["encoder.0.0", "encoder.0.2", "encoder.0.4", "encoder.0.6",
              "decoder.5", "decoder.7", "decoder.9", "decoder.11"]
    for layer in layers:                                           # every conv layer, forward and weights
        for direction in ("forward_training", "backward_weights"):
            assert values[f"conv_ms.{layer}.{direction}"] > 0
            assert values[f"conv_gflops.{layer}.{direction}"] > 0
    assert "conv_ms.encoder.0.0.backward_data" not in values      # the image needs no gradient
    conv_ms = sum(value for measure, value in values.items() if measure.startswith("conv_ms."))
    assert values["conv_ms_total"] == pytest.approx(conv_ms, rel=1e-5)       # the CSV keeps 6 digits
    assert 0 < conv_ms < 2 * step_ms                                # timed in other steps than step_ms
    assert any(measure.startswith("op_ms.aten::convolution_backward") for measure in values)
    assert f"table: {out}" in capsys.readouterr().out


def test_bench_speed_layers_profiles_one_method(refused):
    refused(["speed", "--layers", "--methods", "beta_vae,vae"], "--layers profiles one method at a time, not 2")
