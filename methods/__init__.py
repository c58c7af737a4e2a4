"""Representation learners. Adding one is one new file and one line in METHODS."""
from bench.errors import unknown
from methods.base import Batch, Method, build_params
from methods.ada_vae import AdaGVAE, AdaMLVAE
from methods.annealed_vae import AnnealedVAE
from methods.beta_tcvae import BetaTCVAE
from methods.dcign import DCIGN
from methods.dip_vae import DIPVAEI, DIPVAEII
from methods.factor_vae import FactorVAE
from methods.ground_truth import GroundTruth
from methods.infogan import InfoGAN
from methods.projection import ICAProjection, PCAProjection
from methods.raw_pixels import RawPixels
from methods.untrained import Untrained
from methods.vae import VAE, BetaVAE

METHODS: dict[str, type[Method]] = {
    "vae": VAE,
    "beta_vae": BetaVAE,
    "annealed_vae": AnnealedVAE,
    "factor_vae": FactorVAE,
    "beta_tcvae": BetaTCVAE,
    "dip_vae_i": DIPVAEI,
    "dip_vae_ii": DIPVAEII,
    "infogan": InfoGAN,
    "dcign": DCIGN,
    "ada_gvae": AdaGVAE,
    "ada_ml_vae": AdaMLVAE,
    "ground_truth": GroundTruth,
    "raw_pixels": RawPixels,
    "pca": PCAProjection,
    "ica": ICAProjection,
    "untrained": Untrained,
}


def method_class(name: str) -> type[Method]:
    if name not in METHODS:
        raise unknown("method", name, METHODS)
    return METHODS[name]


# What parameters left at "auto" become where no dataset says (binary images such as dSprites).
BINARY_DATA_DEFAULTS = {"likelihood": "bernoulli"}


def create(name: str, params: dict, image_shape, policy, seed: int, data_defaults: dict | None = None) -> Method:
    """The method `name` with `params` (name -> value or command-line text) over defaults.

    Parameters left at "auto" take the dataset's value from `data_defaults`
    (GroundTruthData.method_defaults(): e.g. the VAE family's likelihood), else BINARY_DATA_DEFAULTS.
    """
    return instantiate(method_class(name), name, params, image_shape, policy, seed, data_defaults)


def instantiate(cls: type[Method], name: str, params: dict, image_shape, policy, seed: int,
                data_defaults: dict | None = None) -> Method:
    """`create` for the class itself (`bench check` of a class not yet registered: bench/running/method_contract.py)."""
    built = build_params(name, cls.Params, params)
    for key, value in (data_defaults or BINARY_DATA_DEFAULTS).items():
        if getattr(built, key, None) == "auto":
            setattr(built, key, value)
    return cls(built, image_shape, policy, seed)


__all__ = ["Batch", "METHODS", "Method", "create", "instantiate", "method_class"]
