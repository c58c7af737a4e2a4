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


# Bad input (tests/test_bad_*.py) -----------------------------------------------------------------------

# `bench run` on dsprites_small, 5 steps at quick metric sizes; a test adds --methods and what it checks.
QUICK_RUN = ("run", "--dataset", "dsprites_small", "--steps", "5", "--quick", "--no-progress", "--threads", "1")


@pytest.fixture(scope="session")
def quick_run():
    return QUICK_RUN


def files_in(folder):
    """Every file under `folder` with its bytes (None: the folder does not exist)."""
    if not folder.exists():
        return None
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.fixture
def refused(capsys):
    """refused(args, *messages, untouched=()): `bench ARGS` exits with code 2 and ONE line, "bench: error:
    ..." holding each of `messages`, and leaves each folder of `untouched` as it was, byte for byte (one
    that did not exist still does not); returns the line."""
    from bench.cli import main

    def check(args, *messages, untouched=()):
        before = [files_in(folder) for folder in untouched]
        capsys.readouterr()
        assert main(list(args)) == 2
        error = capsys.readouterr().err
        assert error.count("\n") == 1 and error.startswith("bench: error: ") and "Traceback" not in error, error
        for message in messages:
            assert message in error, error
        assert [files_in(folder) for folder in untouched] == before
        return error
    return check


@pytest.fixture
def results_folder(tmp_path):
    """A results folder with a finished-looking run in it, which a refused command must not touch."""
    out = tmp_path / "results"
    (out / "runs" / "vae-seed0-0123456789").mkdir(parents=True)
    (out / "runs" / "vae-seed0-0123456789" / "status").write_text("done")
    (out / "scores.csv").write_text("run_id,method\nvae-seed0-0123456789,vae\n")
    return out


@pytest.fixture(autouse=True)
def keep_torch_threads():
    """`bench run` sets torch's threads (the cores split among runs); each test gets them back."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)
