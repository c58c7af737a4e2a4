"""Shared fixtures: tests run on the CPU, one thread, on the 1,536-image dSprites subset."""
import numpy as np
import pytest
import torch

from bench.data.dsprites import DSprites
from bench.device import choose_policy

torch.set_num_threads(1)


@pytest.fixture(scope="session")
def small_dsprites():
    return DSprites.small()


@pytest.fixture(scope="session")
def cpu_fp32():
    return choose_policy("cpu", "fp32")


@pytest.fixture
def rng():
    return np.random.default_rng(0)
