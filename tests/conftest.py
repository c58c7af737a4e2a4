"""Shared fixtures: tests run on the CPU, one thread, on the 1,536-image dSprites subset."""
import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_limits

from bench.data.dsprites import DSprites
from bench.device import choose_policy

# One thread for torch and for numpy/scikit-learn's BLAS and OpenMP: tests are small, and several
# threads on a shared 2-core machine made one logistic regression take 41 s instead of 1.5 s.
torch.set_num_threads(1)
threadpool_limits(1)


@pytest.fixture(scope="session")
def small_dsprites():
    return DSprites.small()


@pytest.fixture(scope="session")
def cpu_fp32():
    return choose_policy("cpu", "fp32")


@pytest.fixture
def rng():
    return np.random.default_rng(0)
