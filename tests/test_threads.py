"""The default thread policy: the cores free at the start, split among parallel runs."""
import pytest

from bench import device


@pytest.mark.parametrize("cores, busy, jobs, threads", [
    (2, 0.0, 1, 2),        # idle machine, one run: every core
    (2, 1.0, 1, 1),        # one core busy elsewhere: one thread, not two fighting over one core
    (2, 1.9, 1, 1),        # fully busy: still one thread
    (2, 0.0, 2, 1),        # two parallel runs share the cores
    (4, 0.4, 1, 4),        # a little background noise does not cost a core
    (4, 1.0, 2, 1),        # three free cores among two runs
    (16, 0.0, 3, 5),
])
def test_threads_follow_the_free_cores(monkeypatch, cores, busy, jobs, threads):
    monkeypatch.setattr(device, "usable_cores", lambda: cores)
    assert device.default_threads(jobs, busy) == threads


def test_busy_cores_is_a_share_of_the_usable_cores():
    assert 0.0 <= device.busy_cores(0.05) <= device.usable_cores()
