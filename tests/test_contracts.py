"""The contracts of docs/design.md ("Contracts"), tested for every entry of methods.METHODS and
metrics.METRICS, so that a method or metric registered later is tested without being named here;
`bench check`, which runs the same clauses (bench/running/method_contract.py, metric_contract.py);
and the README's `metrics.evaluate` example, run as it is written there.

Methods, on dsprites_small with batches of 8: a few training steps (or the fit), codes of shape
(n, D), finite float32 and the same when encoded again, a state_dict that survives a checkpoint
file into a fresh method (another seed) with identical weights and codes, a run resumed from its
checkpoint that ends where an uninterrupted run ends (the trained ones), parameters that survive
their --set text, the declared capabilities, bad parameters refused. Metrics: a consistent
declaration, finite scores under the metric's name, the same numbers for the same seed, the ground
truth (the ground_truth method's codes) reaching what the metric declares a perfect code scores
where a code of noise does not, bad settings refused.
"""
import re
from pathlib import Path

import numpy as np
import pytest
import torch

import methods
import metrics
from bench.cli import main
from bench.running import clauses, method_contract, metric_contract
from bench.running.method_contract import MethodUnderCheck
from bench.running.metric_contract import MetricUnderCheck
from methods.vae import VAE

ROOT = Path(__file__).resolve().parent.parent


def expected(clause, cls) -> str:
    """What a built-in gets: PASS, or SKIP where it does not offer what the clause tests."""
    offers = cls.can_decode or cls.can_sample or cls.has_posterior
    skipped = (clause is method_contract.a_resumed_run_ends_bit_identical and not cls.trainable) or \
        (clause is method_contract.declared_capabilities_work and not offers)
    return "SKIP" if skipped else "PASS"


@pytest.fixture(scope="module")
def method_under_check(small_dsprites, cpu_fp32):
    """Each method's MethodUnderCheck, trained once for all its clauses."""
    subjects = {}
    return lambda name: subjects.setdefault(name, MethodUnderCheck(name, methods.METHODS[name], small_dsprites, cpu_fp32))


# Methods -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("clause", method_contract.CLAUSES, ids=lambda clause: clause.__name__)
@pytest.mark.parametrize("name", methods.METHODS)
def test_a_method_passes_each_clause_of_the_contract(name, clause, method_under_check):
    verdict = clauses.verdict(clause, method_under_check(name))
    assert verdict.outcome == expected(clause, methods.METHODS[name]), verdict.line()


class ForgetfulVAE(VAE):
    """A VAE whose state_dict leaves out its optimiser, so that a resumed run restarts Adam: what `bench check` must catch."""

    def optimizers(self):
        return {}


class NaNVAE(VAE):
    """A VAE whose first latent is NaN."""

    def encode(self, x):
        codes = super().encode(x)
        return torch.where(torch.arange(codes.shape[1]) == 0, torch.nan, codes)


def test_a_broken_method_fails_the_clause_it_breaks_with_a_fix(small_dsprites, cpu_fp32):
    verdict = clauses.verdict(method_contract.encodes_to_its_declared_shape,
                               MethodUnderCheck("nan_vae", NaNVAE, small_dsprites, cpu_fp32))
    assert verdict.line() == "FAIL encodes to its declared shape: codes hold NaN or inf: encode must give finite values"


def test_bench_check_prints_a_line_per_clause_and_exits_1_on_a_failure(monkeypatch, capsys):
    monkeypatch.setattr(methods, "method_class", lambda name: ForgetfulVAE if name == "forgetful_vae" else
                        methods.METHODS[name])
    assert main(["check", "forgetful_vae", "--kind", "method"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["PASS", "PASS", "PASS", "FAIL", "PASS", "PASS", "PASS"]
    assert lines[3].startswith("FAIL a resumed run ends bit identical: a run stopped at step 2 and resumed ends in "
                               "another state than one run straight to 4: state_dict must hold every module, optimiser")


def test_bench_check_of_a_metric_and_a_dataset_exits_0_and_a_bad_name_exits_2(capsys):
    assert main(["check", "mig"]) == 0
    assert main(["check", "dsprites_small"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "PASS its declaration is consistent", "PASS it scores finite floats under its name",
        "PASS same seed same numbers", "PASS the ground truth reaches its declared top",
        "PASS noise does not reach it", "PASS bad settings are refused", "PASS its factor sizes are consistent",
        "PASS index and factors round trip", "PASS its images are uint8 of its shape",
        "PASS sampling with a fixed factor works"]
    assert main(["check", "beta_vae"]) == 2
    assert capsys.readouterr().err == "bench: error: 'beta_vae' is a method and a metric; give --kind method or --kind metric\n"
    assert main(["check", "no_such_thing"]) == 2


# Metrics -----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def metric_under_check(small_dsprites):
    """Each metric's MetricUnderCheck, scored once for all its clauses."""
    subjects = {}
    return lambda name: subjects.setdefault(name, MetricUnderCheck(metrics.metric(name), small_dsprites))


@pytest.mark.parametrize("clause", metric_contract.CLAUSES, ids=lambda clause: clause.__name__)
@pytest.mark.parametrize("name", metrics.METRICS)
def test_a_metric_passes_each_clause_of_the_contract(name, clause, metric_under_check):
    verdict = clauses.verdict(clause, metric_under_check(name))
    perfect = metrics.metric(name).perfect
    skipped = clause in (metric_contract.the_ground_truth_reaches_its_declared_top,
                         metric_contract.noise_does_not_reach_it) and not perfect
    assert verdict.outcome == ("SKIP" if skipped else "PASS"), verdict.line()


def test_a_metric_declaration_names_its_settings_as_the_registry_lists_them():
    for name in metrics.METRICS:
        declared = metrics.metric(name)
        assert declared.name == name
        assert list(declared.defaults()) == list(metrics.metric_params(name))
        # what it draws: integer settings that --quick makes smaller (bench speed --metric-scale multiplies them)
        types = declared.types()
        assert declared.sample_sizes and all(types[key] is int and key in declared.quick
                                             for key in declared.sample_sizes), name
        metrics.check(name)
        metrics.check(name, quick=True)


# The key each metric's paper reports: the one table.md, `bench run`'s table and metrics.png show.
PAPERS_HEADLINE = {"beta_vae": "eval_accuracy", "factor_vae": "eval_accuracy", "mig": "score",
                   "dci": "disentanglement", "sap": "score", "modularity": "modularity", "irs": "score",
                   "mig_sup": "score", "dcimig": "score", "jemmig": "score", "infomec": "infom",
                   "z_diff": "score", "z_min_var": "score", "z_max_var": "score", "dci_es": "explicitness",
                   "udr": "score"}


@pytest.mark.parametrize("name", PAPERS_HEADLINE)
def test_a_metric_declares_the_key_its_paper_reports(name):
    assert metrics.metric(name).headline == PAPERS_HEADLINE[name]


def test_the_headline_metrics_keep_the_order_of_the_field_s_tables():
    """beta_vae and FactorVAE accuracy, MIG, DCI, SAP, modularity, IRS, UDR (docs/metrics.md,
    "Headline keys"); a metric registered later comes after them."""
    assert list(metrics.METRICS)[:len(PAPERS_HEADLINE)] == list(PAPERS_HEADLINE)


# The README ---------------------------------------------------------------------------------------

def test_the_readme_evaluate_example_runs():
    """README, "Methods and metrics": its python block, on dsprites_small, with a representation of
    three numbers per image (pixel mass and centroid: scale and position, nearly)."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Methods and metrics"):]
    block = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    code = block.replace('bench.data.load("dsprites")', 'bench.data.load("dsprites_small")')
    assert code != block and "representation_fn" in code

    def representation_fn(images):
        x = images[:, 0].astype(np.float64) / 255.0
        rows, columns = np.mgrid[0:x.shape[1], 0:x.shape[2]]
        mass = x.sum(axis=(1, 2))
        return np.stack([mass, (x * columns).sum(axis=(1, 2)) / mass, (x * rows).sum(axis=(1, 2)) / mass], axis=1)

    namespace = {"representation_fn": representation_fn}
    exec(code, namespace)
    scores = namespace["scores"]
    assert set(scores) == {"beta_vae.train_accuracy", "beta_vae.eval_accuracy", "mig.score"}
    assert 0.4 < scores["beta_vae.eval_accuracy"] <= 1 and 0 < scores["mig.score"] <= 1
