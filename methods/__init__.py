"""Representation learners. Adding one is one new file and one line in METHODS; a researcher's own
plugs in by name without editing the package (bench/plugins.py)."""
from bench.plugins import Registry
from methods.base import Batch, Method, build_params


def is_method_class(obj) -> bool:
    return isinstance(obj, type) and issubclass(obj, Method)


# Short name -> "module:CLASS", imported on first use (bench/plugins.py); a plug-in is named
# "PKG.MODULE:CLASS" or by its entry point (group disentanglement_bench.methods).
METHODS = Registry("method", {
    "vae": "methods.vae:VAE",
    "beta_vae": "methods.vae:BetaVAE",
    "annealed_vae": "methods.annealed_vae:AnnealedVAE",
    "factor_vae": "methods.factor_vae:FactorVAE",
    "beta_tcvae": "methods.beta_tcvae:BetaTCVAE",
    "dip_vae_i": "methods.dip_vae:DIPVAEI",
    "dip_vae_ii": "methods.dip_vae:DIPVAEII",
    "infogan": "methods.infogan:InfoGAN",
    "dcign": "methods.dcign:DCIGN",
    "ada_gvae": "methods.ada_vae:AdaGVAE",
    "ada_ml_vae": "methods.ada_vae:AdaMLVAE",
    "ground_truth": "methods.ground_truth:GroundTruth",
    "raw_pixels": "methods.raw_pixels:RawPixels",
    "pca": "methods.projection:PCAProjection",
    "ica": "methods.projection:ICAProjection",
    "untrained": "methods.untrained:Untrained",
}, accepts=is_method_class, expected="a subclass of methods.base.Method")


def method_class(name: str) -> type[Method]:
    """The Method subclass called `name`: built-in, "PKG.MODULE:CLASS" or an entry point's name."""
    return METHODS.lookup(name)


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
