"""A metric's independent per-factor fits run at once in threads (metrics/workers.py) and give the
numbers of the serial loop: DCI with either booster, SAP, modularity/explicitness."""
import threading
import time

import numpy as np
import pytest

import metrics
from metrics import dci, workers
from metrics.codes import Representation


def test_map_fits_keeps_the_order_and_raises_as_the_loop():
    assert workers.map_fits(lambda x: x * x, range(7), threads=3) == [x * x for x in range(7)]
    assert workers.map_fits(lambda x: x, [], threads=3) == []

    def fails_on_three(x):
        if x == 3:
            raise ValueError("three")
        return x
    with pytest.raises(ValueError, match="three"):
        workers.map_fits(fails_on_three, range(5), threads=2)


def test_the_costliest_fits_start_first_and_the_results_keep_their_order():
    started = []
    lock = threading.Lock()

    def fit(item):
        with lock:
            started.append(item)
        time.sleep(0.05)
        return item * 10
    costs = [3, 6, 40, 32, 32]                                # dSprites' classes per factor
    assert workers.map_fits(fit, range(5), threads=2, costs=costs) == [0, 10, 20, 30, 40]
    assert set(started[:2]) == {2, 3} and set(started[2:]) == {0, 1, 4}


def test_the_allowance_is_the_callers_inside_its_block():
    outside = workers.allowed()
    assert outside >= 1
    with workers.allow(3):
        assert workers.allowed() == 3
        with workers.allow(None):                   # a caller without a thread count changes nothing
            assert workers.allowed() == 3
        with workers.allow(1):
            assert workers.allowed() == 1
        assert workers.allowed() == 3
    assert workers.allowed() == outside


@pytest.mark.parametrize("booster", ["exact", "hist"])
def test_dci_fits_in_parallel_give_the_serial_numbers(small_dsprites, rng, booster):
    factors = small_dsprites.sample_factors(600, rng)
    codes = factors / (np.array(small_dsprites.factor_sizes) - 1.0) + 0.05 * rng.normal(size=factors.shape)
    train, test = (codes[:400], factors[:400]), (codes[400:], factors[400:])
    serial = dci.importance_matrix(*train, *test, np.random.default_rng(5), 15, booster, threads=1)
    parallel = dci.importance_matrix(*train, *test, np.random.default_rng(5), 15, booster, threads=4)
    for a, b in zip(serial, parallel):
        assert np.array_equal(a, b)
    assert serial[0].sum() > 0


@pytest.mark.parametrize("name", ["dci", "sap", "modularity"])
def test_a_metric_scores_the_same_with_any_number_of_threads(small_dsprites, name):
    sizes = np.array(small_dsprites.factor_sizes) - 1.0
    noise = np.random.default_rng(1).normal(size=(len(small_dsprites), 2))
    codes = Representation(lambda idx: np.concatenate([small_dsprites.factors_of(idx) / sizes, noise[idx]], axis=1),
                           small_dsprites, progress=False)
    params = {"num_train": 400, "num_test": 200, **({"n_estimators": 10} if name == "dci" else {})}
    with workers.allow(1):
        serial = metrics.score(name, codes, small_dsprites, 0, **params)
    with workers.allow(4):
        parallel = metrics.score(name, codes, small_dsprites, 0, **params)
    assert serial == parallel
    assert all(np.isfinite(value) for value in serial.values())


def test_bench_run_gives_the_metrics_fits_its_threads(tmp_path, monkeypatch):
    import metrics.dci
    from bench.cli import main
    seen = []

    def recording_map_fits(function, items, threads=None, costs=None):
        seen.append(workers.allowed())
        return workers.map_fits(function, items, threads, costs)
    monkeypatch.setattr(metrics.dci, "map_fits", recording_map_fits)
    assert main(["run", "--methods", "vae", "--set", "vae.architecture=fc", "--dataset", "dsprites_small",
                 "--steps", "10", "--quick", "--metrics", "dci", "--no-progress", "--threads", "3",
                 "--out", str(tmp_path)]) == 0
    assert seen == [3]
