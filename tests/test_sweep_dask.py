"""A sweep through a real (local, loopback) Dask cluster gives the runs a local sweep gives.

CI installs the extra: pip install -e ".[test,dask]"; without distributed these tests are skipped.
"""
import pandas as pd
import pytest

from bench.cli import main
from bench.device import resolve_precision
from bench.running.spec import RunSpec

distributed = pytest.importorskip("distributed")

TINY = ["--dataset", "dsprites_small", "--quick", "--no-progress", "--metrics", "beta_vae", "--steps", "20",
        "--checkpoint-every", "10", "--set", "vae.batch_size=4,8"]


@pytest.fixture
def cluster():
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, host="127.0.0.1",
                                  protocol="tcp", dashboard_address=None) as local:
        yield local


def test_a_sweep_runs_on_a_dask_cluster(cluster, tmp_path, capsys):
    out = tmp_path / "dask"
    command = ["run", "--methods", "vae", "--seeds", "0,1", *TINY, "--out", str(out),
               "--backend", "dask", "--scheduler", cluster.scheduler_address]
    assert main(command) == 0
    worker, = cluster.workers.values()
    assert worker.state.executed_count == 4          # on the cluster's one thread, not in this process
    specs = [RunSpec("vae", "dsprites_small", seed, 20, (("batch_size", size),), resolve_precision()) for size in ("4", "8") for seed in (0, 1)]
    scores = pd.read_csv(out / "scores.csv")
    assert set(scores["run_id"]) == {spec.run_id for spec in specs}
    assert len(scores) == 4 * 2 and scores["value"].between(0, 1).all()
    for spec in specs:
        assert (out / "runs" / spec.run_id / "status").read_text() == "done"
    assert "4 of 4 run(s) done (0 already done before), 0 failed" in capsys.readouterr().out
    assert main(command) == 0                                            # again: all skipped
    assert "4 of 4 run(s) done (4 already done before), 0 failed" in capsys.readouterr().out
    assert main([*command, "--jobs", "2"]) == 2
    assert "--jobs goes with --backend local" in capsys.readouterr().err
