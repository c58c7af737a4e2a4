"""InfoMEC: InfoM, InfoC, InfoE from normalised mutual information (Hsu et al. 2023, NeurIPS).

Modularity, compactness and explicitness of Hsu et al. 2023, "Disentanglement via Latent
Quantization", section 4 and appendix.

From the normalised mutual information NMI_kj = I(v_k; z_j) / H(v_k) between factor k and active
latent j (K factors, A active latents):

    InfoM = (1/A sum_j max_k NMI_kj / sum_k NMI_kj - 1/K) / (1 - 1/K)
    InfoC = (1/K sum_k max_j NMI_kj / sum_j NMI_kj - 1/A) / (1 - 1/A)
    InfoE = 1/K sum_k (H_null(v_k) - CE(v_k | z)) / H_null(v_k)

InfoM is 1 when each latent informs about one factor only, InfoC when each factor is informed
about by one latent only, both 0 when the information is spread evenly. InfoE is the share of a
factor's entropy a multinomial logistic regression on the whole code explains: CE is its
cross-entropy (log loss) on the sample, H_null that of the same regression on an all-zero input.

As the authors' code (latent_quantization, `disentangle/metrics/infomec.py`, continuous latents;
10,000 validation images there, `num_train` here, drawn i.i.d.): I(v_k; z_j) by sklearn's
`mutual_info_classif` (the k-nearest-neighbour estimator of Kraskov et al., 10 neighbours) on each
standardised latent, H(v_k) the plug-in entropy of the factor's classes; a latent is active when
its range exceeds 1/20 of the largest latent's range; InfoE's regressions are sklearn's
`LogisticRegression` without penalty, lbfgs, 100 iterations, balanced class weights, on the
standardised code, their log loss measured on the sample they were fitted on.

Choices, stated:
- `estimator = "histogram"` (a departure): I(v_k; z_j) from the equal-width discretisation MIG
  uses (metrics/information.py, `num_bins` bins), far cheaper than k nearest neighbours; InfoE
  is unchanged (the authors bin only latents that are discrete already).
- The k-nearest-neighbour estimator adds noise of 1e-10 to the latents to break ties; its seed
  comes from `rng` here (unseeded there).
- A latent or factor with no information at all (its NMI column or row sums to 0) counts at
  chance, 1/K or 1/A, so it adds 0 (the authors' code divides 0 by 0). With no active latent,
  InfoM and InfoC are 0; with one, InfoC is 1 where it carries any factor (their code divides by 0).
- The authors' `multi_class='multinomial'` is lbfgs's default in today's sklearn (the argument is gone).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_selection import mutual_info_classif
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss

from metrics.base import Metric
from metrics.information import entropy, histogram_discretize, mutual_information
from metrics.samples import factor_code_samples, standardize_columns

ACTIVE_RANGE_FRACTION = 1 / 20          # a latent is active above this share of the largest range


@dataclass(frozen=True)
class Settings:
    """Defaults: the authors' code (10,000 images, k-nearest-neighbour mutual information)."""
    num_train: int = 10_000
    estimator: Literal["ksg", "histogram"] = "ksg"
    n_neighbors: int = 10                    # for estimator = "ksg"
    num_bins: int = 20                       # for estimator = "histogram"


def normalised_information(codes, factors, rng, settings: Settings) -> np.ndarray:
    """NMI (K, D): I(v_k; z_j) / H(v_k) in nats."""
    if settings.estimator == "histogram":
        info = mutual_information(histogram_discretize(codes, settings.num_bins), factors).T
    else:
        [scaled] = standardize_columns(codes)
        info = np.array([[mutual_info_classif(scaled[:, j:j + 1], factors[:, k], discrete_features=False,
                                              n_neighbors=settings.n_neighbors,
                                              random_state=int(rng.integers(2**31)))[0]
                          for j in range(codes.shape[1])] for k in range(factors.shape[1])])
    factor_entropy = entropy(factors)[:, None]
    return np.divide(info, factor_entropy, out=np.zeros_like(info), where=factor_entropy > 0)


def concentration(nmi: np.ndarray) -> float:
    """(mean over columns of max / sum - 1/rows) / (1 - 1/rows); a column summing to 0 counts 1/rows."""
    rows = nmi.shape[0]
    if nmi.shape[1] == 0:
        return 0.0
    if rows < 2:
        return 1.0 if nmi.sum() > 0 else 0.0
    total = nmi.sum(axis=0)
    share = np.divide(nmi.max(axis=0), total, out=np.full(len(total), 1 / rows), where=total > 0)
    return float((share.mean() - 1 / rows) / (1 - 1 / rows))


def fitted_log_loss(x: np.ndarray, y: np.ndarray) -> float:
    """In-sample log loss of the authors' unpenalised, class-balanced multinomial regression."""
    model = LogisticRegression(C=np.inf, tol=1e-4, class_weight="balanced", solver="lbfgs", max_iter=100)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x, y)
    return float(log_loss(y, model.predict_proba(x)))


def explicitness(codes: np.ndarray, factors: np.ndarray) -> float:
    """InfoE: mean over factors of the share of the null model's log loss the code removes."""
    [scaled] = standardize_columns(codes)
    shares = []
    for k in range(factors.shape[1]):
        _, labels = np.unique(factors[:, k], return_inverse=True)
        if labels.max() == 0:
            shares.append(1.0)                       # one class: nothing to explain
            continue
        null = fitted_log_loss(np.zeros_like(scaled), labels)
        shares.append((null - fitted_log_loss(scaled, labels)) / null)
    return float(np.mean(shares))


def score(codes, dataset, rng, settings: Settings) -> dict[str, float]:
    """InfoM, InfoC and InfoE of the sample, and the number of active latents."""
    [(train_codes, train_factors)] = factor_code_samples(codes, dataset, rng, settings.num_train)
    ranges = np.ptp(train_codes, axis=0)
    active = ranges > ranges.max() * ACTIVE_RANGE_FRACTION
    nmi = normalised_information(train_codes[:, active], train_factors, rng, settings)
    return {"infom": concentration(nmi), "infoc": concentration(nmi.T),
            "infoe": explicitness(train_codes, train_factors), "num_active_dims": float(active.sum())}


METRIC = Metric("infomec", Settings, score, expensive=True, headline="infom", quick={"num_train": 1_000},
                sample_sizes=("num_train",), perfect={"infom": 1.0, "infoc": 1.0, "infoe": 1.0})
