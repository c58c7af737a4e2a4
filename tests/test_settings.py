"""The one validator of typed settings (bench/settings.py): method parameters, metric settings and run
settings are typed and checked by the same rules, in the same words."""
from dataclasses import dataclass
from typing import Literal

import pytest

import metrics
import methods
from bench import settings
from bench.errors import UserError
from methods.base import build_params


@dataclass(frozen=True)
class Example:
    size: int = 4
    bins: int = 0
    scale: float = 1.0
    head_lr: float = 1e-3
    kind: Literal["a", "b"] = "a"
    flag: bool = False


def build(values, text_allowed=False):
    return settings.build(Example, values, "ex", "parameter of ex", may_be_zero=("bins",), text_allowed=text_allowed)


def test_values_are_typed_from_themselves_or_from_their_text():
    assert build({"size": 2, "scale": 3, "kind": "b", "flag": True}) == Example(2, 0, 3, 1e-3, "b", True)
    from_text = build({"size": "2", "scale": "3", "kind": "b", "flag": "yes"}, text_allowed=True)
    assert from_text == Example(2, 0, 3.0, 1e-3, "b", True) and isinstance(from_text.scale, float)


@pytest.mark.parametrize("values,text_allowed,message", [
    ({"sise": 1}, False, "unknown parameter of ex 'sise'; valid: bins, flag, head_lr, kind, scale, size"),
    ({"size": "3"}, False, "ex.size takes an integer like its default 4, not '3'"),
    ({"size": True}, False, "ex.size takes an integer like its default 4, not a boolean (True)"),
    ({"size": "3.5"}, True, "ex.size takes an integer, not '3.5'"),
    ({"scale": "high"}, True, "ex.scale takes a number, not 'high'"),
    ({"flag": "maybe"}, True, "ex.flag takes true or false, not 'maybe'"),
    ({"kind": "c"}, False, "unknown value for ex.kind 'c'; valid: a, b"),
    ({"kind": "c"}, True, "unknown value for ex.kind 'c'; valid: a, b"),
    ({"size": 0}, False, "ex.size must be a positive integer, not 0"),
    ({"bins": -1}, False, "ex.bins must be a non-negative integer, not -1"),
    ({"scale": float("inf")}, False, "ex.scale takes a finite number, not inf"),
    ({"head_lr": 0.0}, False, "ex.head_lr (a learning rate) must be above 0, not 0.0"),
])
def test_each_rule_has_one_wording(values, text_allowed, message):
    with pytest.raises(UserError) as error:
        build(values, text_allowed)
    assert str(error.value) == message


def test_zero_is_a_size_where_declared():
    assert build({"bins": 0}).bins == 0


def test_methods_and_metrics_go_through_the_same_rules():
    params = methods.method_class("beta_vae").Params
    with pytest.raises(UserError, match=r"^beta_vae.latent_dim must be a positive integer, not 0$"):
        build_params("beta_vae", params, {"latent_dim": "0"})
    with pytest.raises(UserError, match=r"^mig.num_bins must be a positive integer, not 0$"):
        metrics.check("mig", num_bins=0)
    with pytest.raises(UserError, match=r"^sap.C takes a finite number, not nan$"):
        metrics.check("sap", C=float("nan"))
    with pytest.raises(UserError, match=r"^irs.num_bins must be a non-negative integer, not -1$"):
        metrics.check("irs", num_bins=-1)
    metrics.check("irs", num_bins=0)                        # 0: the factors' own classes


def test_described_values():
    assert [settings.described(v) for v in ("x", 1, 1.5, True, [1])] == [
        "'x'", "an integer (1)", "a number (1.5)", "a boolean (True)", "a list ([1])"]
    assert settings.describe(Example)[4] == ("kind", "a|b", "a")
