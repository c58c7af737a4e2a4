"""How fast a VAE-family training step could be (`bench speed`): the networks alone, and the
matrix products of their shapes.

- network alone: forward and backward of the method's own encoder and decoder, under its compute
  policy (precision, memory format), on one fixed batch: the encoder's first latent_dim outputs go
  into the decoder and the backward pass starts from the sum of the logits. No loss, sampling,
  optimiser or data: what the harness adds to this is its overhead.
- GEMM ceiling: each Conv2d, ConvTranspose2d and Linear layer of those networks is the matrix
  product it lowers to (im2col): a convolution multiplies (M = batch x output positions,
  K = input channels x kernel) by (K, N = output channels); a transposed convolution (M = batch x
  input positions, K = input channels) by (K, N = output channels x kernel); a linear layer
  (batch, in) by (in, out). Training computes three products per layer: the forward one
  (M, K) x (K, N), the input gradient (M, N) x (N, K) (not for the first layer, whose input needs
  none) and the weight gradient (K, M) x (M, N). The ceiling is the time of those products alone
  (torch.mm at the step's dtype, nothing else): a step cannot be faster than its matrix products.
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

import torch
from torch import nn

from methods.vae import GaussianVAE

GEMM_REPEATS = 5           # timed repeats of each product (median), after one warm-up
GEMM_CALLS = 10            # products per timed repeat, so that a tiny product's call overhead is spread


@dataclass(frozen=True)
class Gemm:
    """One layer as a matrix product (M, K) x (K, N); `first`: its input needs no gradient."""
    layer: str
    m: int
    k: int
    n: int
    first: bool = False

    def products(self) -> list[tuple[int, int, int]]:
        """(rows, inner, columns) of the forward product and the backward ones (2 M K N flops each)."""
        backward = [(self.k, self.m, self.n)] + ([] if self.first else [(self.m, self.n, self.k)])
        return [(self.m, self.k, self.n), *backward]

    @property
    def training_flops(self) -> int:
        return 2 * self.m * self.k * self.n * len(self.products())


def layer_gemm(name: str, layer: nn.Module, inputs: torch.Tensor, output: torch.Tensor, first: bool) -> Gemm | None:
    """The product a layer lowers to, from its input and output shapes; None for other layers."""
    batch = inputs.shape[0]
    if isinstance(layer, nn.Linear):
        return Gemm(name, batch, layer.in_features, layer.out_features, first)
    if isinstance(layer, nn.Conv2d):
        kernel = layer.kernel_size[0] * layer.kernel_size[1]
        return Gemm(name, batch * output.shape[2] * output.shape[3], layer.in_channels * kernel // layer.groups,
                    layer.out_channels, first)
    if isinstance(layer, nn.ConvTranspose2d):
        kernel = layer.kernel_size[0] * layer.kernel_size[1]
        return Gemm(name, batch * inputs.shape[2] * inputs.shape[3], layer.in_channels // layer.groups,
                    layer.out_channels * kernel, first)
    return None


class NetworkAlone:
    """The encoder and decoder of a VAE-family method, forward and backward on one batch."""

    def __init__(self, method: GaussianVAE, x: torch.Tensor):
        if not isinstance(method, GaussianVAE):
            raise TypeError(f"the network-alone measure times a VAE's encoder and decoder, not {type(method).__name__}")
        self.method = method
        self.x = x
        self.latent_dim = method.params.latent_dim
        self.weights = [*method.encoder.parameters(), *method.decoder.parameters()]

    def step(self) -> None:
        with self.method.policy.autocast():
            encoded = self.method.encoder(self.x)
            logits = self.method.decoder(encoded[:, :self.latent_dim])
        logits.float().sum().backward()
        for weight in self.weights:
            weight.grad = None

    def gemms(self) -> list[Gemm]:
        """Every product layer of the two networks in the order the forward pass meets them."""
        found, hooks = [], []
        for network_name, network in (("encoder", self.method.encoder), ("decoder", self.method.decoder)):
            for name, layer in network.named_modules():
                def record(layer, args, output, name=f"{network_name}.{name}"):
                    gemm = layer_gemm(name, layer, args[0], output, first=not found)
                    if gemm is not None:
                        found.append(gemm)
                hooks.append(layer.register_forward_hook(record))
        try:
            with torch.no_grad(), self.method.policy.autocast():
                encoded = self.method.encoder(self.x)
                self.method.decoder(encoded[:, :self.latent_dim])
        finally:
            for hook in hooks:
                hook.remove()
        return found


def product_seconds(rows: int, inner: int, columns: int, dtype: torch.dtype, device: torch.device) -> float:
    """Median seconds of one (rows, inner) x (inner, columns) torch.mm at `dtype`."""
    a = torch.randn(rows, inner, device=device).to(dtype)
    b = torch.randn(inner, columns, device=device).to(dtype)
    out = torch.empty(rows, columns, device=device, dtype=dtype)
    torch.mm(a, b, out=out)
    times = []
    for _ in range(GEMM_REPEATS):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        for _ in range(GEMM_CALLS):
            torch.mm(a, b, out=out)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        times.append((time.perf_counter() - start) / GEMM_CALLS)
    return statistics.median(times)


def gemm_ceiling_seconds(gemms: list[Gemm], dtype: torch.dtype, device: torch.device) -> float:
    """Seconds of a training step's matrix products alone (the sum over layers and products)."""
    return sum(product_seconds(*shape, dtype, device) for gemm in gemms for shape in gemm.products())
