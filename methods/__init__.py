"""Representation learners. Adding one is one new file and one line in METHODS."""
from bench.errors import unknown
from methods.base import Batch, Method, build_params
from methods.vae import VAE, BetaVAE

METHODS: dict[str, type[Method]] = {
    "vae": VAE,
    "beta_vae": BetaVAE,
}


def method_class(name: str) -> type[Method]:
    if name not in METHODS:
        raise unknown("method", name, METHODS)
    return METHODS[name]


def create(name: str, params: dict, image_shape, policy, seed: int) -> Method:
    """The method `name` with `params` (name -> value or command-line text) over defaults."""
    cls = method_class(name)
    return cls(build_params(name, cls.Params, params), image_shape, policy, seed)


__all__ = ["Batch", "METHODS", "Method", "create", "method_class"]
