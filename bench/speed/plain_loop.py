"""The plain PyTorch training loop that `bench speed` compares the harness against.

What a user would write: fp32, eager, contiguous tensors, uint8 images from the dataset divided by
255, `torch.randn`, the method's optimiser; for other methods than the VAE family, the method's own
train_step on an instance built under a plain fp32 policy. The loop runs in a child process with the
same number of threads (PlainProcess), so that nothing the harness sets for its own process (the
allocator, see bench.device.keep_freed_memory) helps it, and only when asked, so that the two never
compute at the same time. Same seed, same initial weights and the same draws as the harness.
"""
from __future__ import annotations

import multiprocessing
import time

import torch
import torch.nn.functional as F

import methods
from bench import data
from bench.device import ComputePolicy
from bench.running.runner import sampler_rng
from bench.running.sampler import BatchSampler
from methods import nets
from methods.base import Batch
from methods.vae import BetaVAE

WORKER_TIMEOUT_S = 600


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class PlainVAELoop:
    """The beta-VAE step as a plain PyTorch user writes it, on copies of the method's networks."""

    def __init__(self, method: BetaVAE, device: torch.device):
        p = method.params
        self.encoder = nets.encoder(p.architecture, method.image_shape, 2 * p.latent_dim).to(device)
        self.decoder = nets.decoder(p.architecture, method.image_shape, p.latent_dim).to(device)
        self.encoder.load_state_dict(method.encoder.state_dict())
        self.decoder.load_state_dict(method.decoder.state_dict())
        optimizer = torch.optim.Adam if p.optimizer == "adam" else torch.optim.Adagrad
        self.optimizer = optimizer([*self.encoder.parameters(), *self.decoder.parameters()], lr=p.lr)
        self.beta = p.beta

    def step(self, x: torch.Tensor, factors, varying) -> float:
        mean, log_var = self.encoder(x).chunk(2, dim=1)
        z = mean + torch.randn_like(mean) * (0.5 * log_var).exp()
        reconstruction = F.binary_cross_entropy_with_logits(self.decoder(z), x, reduction="sum") / len(x)
        kl = 0.5 * (mean.pow(2) + log_var.exp() - log_var - 1).mean(dim=0).sum()
        loss = reconstruction + self.beta * kl
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss.item()


class PlainMethodLoop:
    """Any other method: its own train_step on a plain fp32, eager, contiguous instance."""

    def __init__(self, method):
        self.method = method

    def step(self, x: torch.Tensor, factors, varying) -> float:
        return self.method.train_step(Batch(x, factors, varying)).get("loss", 0.0)


def plain_loop(method, device: torch.device):
    """(loop, description) for a method built under a plain policy (same seed: same weights)."""
    if isinstance(method, BetaVAE):
        return PlainVAELoop(method, device), "the beta-VAE loss written out"
    return PlainMethodLoop(method), "its train_step, fp32 eager"


def plain_worker(connection, name: str, dataset_name: str, device: str, seed: int, threads: int) -> None:
    """The plain loop in a process of its own: nothing the harness sets for its process (the
    allocator, see device.keep_freed_memory) helps it. Runs `steps` when sent them; None ends it."""
    try:
        torch.set_num_threads(threads)
        device = torch.device(device)
        dataset = data.load(dataset_name)
        plain_policy = ComputePolicy(device, None, False)
        method = methods.create(name, {}, dataset.image_shape, plain_policy, seed, dataset.method_defaults())
        loop, description = plain_loop(method, device)
        draws = BatchSampler(dataset, method.batch_kind, method.params.batch_size, sampler_rng(seed),
                             plain_policy, resident=False)

        def step():                      # the same draws as the harness; uint8 images / 255
            indices, factors, varying = draws.draw()
            loop.step(torch.from_numpy(dataset.images(indices)).to(device).float() / 255.0, factors, varying)

        connection.send(description)
        while (steps := connection.recv()) is not None:
            connection.send(timed(step, steps, device))
    except Exception as error:                              # reported by the parent
        connection.send(RuntimeError(f"plain loop of {name}: {type(error).__name__}: {error}"))


class PlainProcess:
    """Drives plain_worker: one round at a time, alternating with the harness's rounds."""

    def __init__(self, name: str, dataset_name: str, device: torch.device, seed: int):
        context = multiprocessing.get_context("spawn")
        self.connection, child = context.Pipe()
        self.process = context.Process(target=plain_worker, daemon=True,
                                       args=(child, name, dataset_name, str(device), seed, torch.get_num_threads()))
        self.process.start()
        self.description = None                 # known once the process is ready (ready())

    def ready(self) -> None:
        if self.description is None:
            self.description = self.receive()

    def receive(self):
        if not self.connection.poll(WORKER_TIMEOUT_S):
            raise RuntimeError(f"the plain loop's process sent nothing for {WORKER_TIMEOUT_S} s")
        message = self.connection.recv()
        if isinstance(message, Exception):
            raise message
        return message

    def seconds(self, steps: int) -> float:
        self.ready()
        self.connection.send(steps)
        return self.receive()

    def close(self) -> None:
        if self.process.is_alive():
            self.connection.send(None)
        self.process.join(timeout=30)


def timed(step, count: int, device: torch.device) -> float:
    synchronize(device)
    start = time.perf_counter()
    for _ in range(count):
        step()
    synchronize(device)
    return time.perf_counter() - start
