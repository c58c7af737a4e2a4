"""The Method contract as clauses (bench/running/contract.py): on dsprites_small, CPU, fp32, batches
of 8, a few steps (docs/design.md, "Method"; docs/plugins.md, "Check it")."""
from __future__ import annotations

import dataclasses
import functools
import io
import math
import tempfile
import typing
from pathlib import Path

import numpy as np
import torch

from bench.device import ComputePolicy, choose_policy
from bench.errors import UserError
from bench.running.clauses import Broken, NotApplicable, require
from bench.running.restore import fitting_rng
from bench.running.runner import read_checkpoint, train
from bench.running.sampler import BatchSampler
from bench.settings import param_text
from methods.base import Method, build_params

BATCH = 8
STEPS = 4                                     # a resumed run stops after half of them
ENCODED = np.arange(0, 1536, 97)              # the 16 images of dsprites_small whose codes are compared


@dataclasses.dataclass
class MethodUnderCheck:
    """A method class, the name it is known by, and where it is checked; trains once, on first use."""
    name: str
    cls: type[Method]
    dataset: object
    policy: ComputePolicy

    def create(self, seed: int = 0, params: dict | None = None) -> Method:
        import methods
        return methods.instantiate(self.cls, self.name, {"batch_size": BATCH, **(params or {})},
                                   self.dataset.image_shape, self.policy, seed, self.dataset.method_defaults())

    @functools.cached_property
    def trained(self) -> tuple[Method, list[dict]]:
        """The method after STEPS steps of batches of 8 (or its fit), and train_step's dicts."""
        method = self.create()
        if not method.trainable:
            method.fit(self.dataset, fitting_rng(0))
            return method, []
        batches = BatchSampler(self.dataset, method.batch_kind, BATCH, np.random.default_rng(0), self.policy)
        return method, [method.train_step(batches.next()) for _ in range(STEPS)]

    @functools.cached_property
    def codes(self) -> np.ndarray:
        return self.trained[0].codes_of(ENCODED, self.dataset)


def subject_named(name: str) -> MethodUnderCheck:
    import methods
    from bench import data
    return MethodUnderCheck(name, methods.method_class(name), data.load("dsprites_small"), choose_policy("cpu", "fp32"))


def same(a, b) -> bool:
    """Whether two state_dicts (nested dicts and lists of tensors and plain values) are identical."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[key], b[key]) for key in a)
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and torch.equal(a, b)
    return a == b


def through_a_file(state: dict) -> dict:
    """`state` saved with torch.save and loaded as weights only, as checkpoints are."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


def trains_a_few_steps(subject: MethodUnderCheck) -> str:
    """train_step returns a dict of finite Python floats holding the progress bar's keys, and counts
    its steps (a fitted baseline: fit runs)."""
    method, logs = subject.trained
    if not method.trainable:
        return "trainable = False: fit ran on dsprites_small"
    require(method.step == STEPS, f"after {STEPS} train_step calls step is {method.step}: increase self.step "
                                  f"by one in train_step")
    require(all(logs), "train_step returned an empty dict: return the losses, e.g. {'loss': float(loss)}")
    bad = [(key, value) for log in logs for key, value in log.items() if type(value) is not float or not math.isfinite(value)]
    require(not bad, bad and f"train_step returned {bad[0][0]}={bad[0][1]!r}: return finite Python floats (float(tensor))")
    missing = set(method.progress_keys) - set(logs[0])
    require(not missing, f"progress_keys {sorted(missing)} are not in train_step's dict {sorted(logs[0])}: "
                         f"name keys it returns")
    return (f"{STEPS} steps of batches of {BATCH} on dsprites_small, {len(logs[0])} finite values logged, "
            f"the progress bar's {', '.join(method.progress_keys)} among them")


def encodes_to_its_declared_shape(subject: MethodUnderCheck) -> str:
    """encode gives (n, D) finite float32 codes that vary across images and are the same when
    encoded again (the representation is deterministic)."""
    method, codes = subject.trained[0], subject.codes
    require(codes.ndim == 2 and codes.shape[0] == len(ENCODED) and codes.shape[1] >= 1,
            f"codes of {len(ENCODED)} images have shape {codes.shape}: encode(x) must return (n, D), D >= 1")
    require(codes.dtype == np.float32, f"codes are {codes.dtype}: return a float tensor")
    require(np.isfinite(codes).all(), "codes hold NaN or inf: encode must give finite values")
    require(codes.std(axis=0).max() > 0, "every image has the same code: encode must depend on the image")
    require(np.array_equal(method.codes_of(ENCODED, subject.dataset), codes),
            "encoding the same images twice gave other codes: encode must be deterministic (use the "
            "posterior mean, no sampling, no dropout in eval mode)")
    return f"({len(ENCODED)}, {codes.shape[1]}) finite float32, the same when encoded again"


def state_survives_a_weights_only_reload(subject: MethodUnderCheck) -> str:
    """state_dict through torch.save and torch.load(weights_only=True) into a fresh method of
    another seed gives identical state and codes."""
    method = subject.trained[0]
    try:
        state = through_a_file(method.state_dict())
    except Exception as error:
        raise Broken(f"state_dict does not load with torch.load(weights_only=True) ({type(error).__name__}: "
                             f"{' '.join(str(error).split())[:200]}): keep only tensors and plain values in it") from None
    reloaded = subject.create(seed=99)
    reloaded.load_state_dict(state)
    require(same(reloaded.state_dict(), method.state_dict()),
            "a fresh method (seed 99) given the state_dict has another state: load_state_dict must restore "
            "every module, optimiser, the step and the generator (override modules() and optimizers())")
    require(np.array_equal(reloaded.codes_of(ENCODED, subject.dataset), subject.codes),
            "a reloaded method encodes differently: list every network in modules()")
    return "torch.load(weights_only=True) into a fresh method (seed 99): the same state and codes"


def a_resumed_run_ends_bit_identical(subject: MethodUnderCheck) -> str:
    """Through the runner: checkpoint.pt at half the steps, then a fresh method (another seed)
    resumes from it; weights, optimisers, RNGs, the sampler and log.csv end as without the break."""
    if not subject.cls.trainable:
        raise NotApplicable("trainable = False: fitted, not trained by steps, so nothing resumes")
    with tempfile.TemporaryDirectory() as folder:
        def run(name: str, steps: int, seed: int = 0) -> dict:
            train(subject.create(seed), subject.dataset, steps, 0, Path(folder) / name, False,
                  checkpoint_every=2, log_every=2)
            return read_checkpoint(Path(folder) / name / "checkpoint.pt", "cpu")[0]

        whole = run("whole", STEPS)
        run("resumed", STEPS // 2)
        resumed = run("resumed", STEPS, seed=99)
        require(resumed["method"]["step"] == STEPS and same(resumed, whole),
                f"a run stopped at step {STEPS // 2} and resumed ends in another state than one run straight to "
                f"{STEPS}: state_dict must hold every module, optimiser and generator the method draws from "
                f"(draw randomness from self.generator)")
        logs = [(Path(folder) / name / "log.csv").read_text().splitlines() for name in ("whole", "resumed")]
        columns = logs[0][0].split(",")
        keep = [i for i, column in enumerate(columns) if column != "images_per_s"]
        rows = [[[line.split(",")[i] for i in keep] for line in log] for log in logs]
        require(rows[0] == rows[1], "log.csv of the resumed run differs from the uninterrupted run's: the losses "
                                    "must depend only on the state in state_dict")
    return f"stopped at step {STEPS // 2}, resumed with another seed: checkpoint and log.csv equal to {STEPS} straight"


def parameters_round_trip_through_set_text(subject: MethodUnderCheck) -> str:
    """Each parameter written as --set spells it (param_text) and read back (build_params) gives the
    same Params, as spec.json's overrides are read when a run is rebuilt."""
    defaults = subject.cls.Params()
    fields = [field.name for field in dataclasses.fields(defaults)]
    text = {name: param_text(getattr(defaults, name)) for name in fields}
    try:
        rebuilt = build_params(subject.name, subject.cls.Params, text)
    except UserError as error:
        raise Broken(f"{error}: give each Params field the type bool, int, float, str or a Literal of "
                             f"strings, and a default its own rules accept") from None
    differing = [name for name in fields if getattr(rebuilt, name) != getattr(defaults, name)]
    require(not differing, differing and f"{differing[0]}={text[differing[0]]!r} reads back as {getattr(rebuilt, differing[0])!r}: "
                           f"a parameter must survive its --set text")
    return f"{len(fields)} parameters ({', '.join(fields)}) read back equal from their --set text"


def declared_capabilities_work(subject: MethodUnderCheck) -> str:
    """can_decode: decode(codes) gives images of the dataset's shape in [0, 1]; can_sample:
    sample(n, generator) too; has_posterior: posterior(x) gives (means, log-variances), finite,
    means of the codes' width."""
    method, codes = subject.trained[0], subject.codes
    n, shape = len(ENCODED), (len(ENCODED), *subject.dataset.image_shape)
    training = {name: module.training for name, module in method.modules().items()}
    for module in method.modules().values():
        module.eval()
    try:
        found = capabilities(method, codes, subject.dataset, n, shape)
    finally:
        for name, module in method.modules().items():
            module.train(training[name])
    if not found:
        raise NotApplicable("declares no capability (can_decode, can_sample, has_posterior are False)")
    return f"{', '.join(found)} as declared"


def capabilities(method, codes: np.ndarray, dataset, n: int, shape: tuple) -> list[str]:
    """declared_capabilities_work's checks, in eval mode: the capabilities found working."""
    found = []
    with torch.no_grad():
        if method.can_decode:
            images = method.decode(torch.from_numpy(codes)).float()
            require(tuple(images.shape) == shape, f"decode of {codes.shape} codes gave {tuple(images.shape)}, not {shape}")
            require(torch.isfinite(images).all() and images.min() >= 0 and images.max() <= 1,
                    "decode gave values outside [0, 1]: return pixel means (e.g. sigmoid of the logits)")
            found.append("decode")
        if method.can_sample:
            images = method.sample(n, torch.Generator().manual_seed(0)).float()
            require(tuple(images.shape) == shape, f"sample({n}, generator) gave {tuple(images.shape)}, not {shape}")
            require(torch.isfinite(images).all() and images.min() >= 0 and images.max() <= 1,
                    "sample gave values outside [0, 1]: return pixel means")
            found.append("sample")
        if method.has_posterior:
            x = method.policy.prepare_images(torch.from_numpy(dataset.images(ENCODED)))
            means, log_vars = method.posterior(x)
            require(tuple(means.shape) == tuple(log_vars.shape) == codes.shape,
                    f"posterior gave means {tuple(means.shape)} and log-variances {tuple(log_vars.shape)}, not "
                    f"both {codes.shape} (the codes' shape)")
            require(torch.isfinite(means).all() and torch.isfinite(log_vars).all(), "posterior gave NaN or inf")
            found.append("posterior")
    return found


def bad_parameters_are_refused(subject: MethodUnderCheck) -> str:
    """An unknown parameter, a batch size of 0 and a number given as text that is none are each
    refused with a UserError (one line, exit 2 on the command line)."""
    numbers = [name for name, kind in typing.get_type_hints(subject.cls.Params).items() if kind in (int, float)]
    cases = {"no_such_parameter": "1", "batch_size": "0", **{numbers[-1]: "not-a-number"}}
    for param, value in cases.items():
        try:
            subject.create(params={param: value})
        except UserError:
            continue
        raise Broken(f"{subject.name}.{param}={value!r} was accepted: check it in Params.__post_init__ "
                             f"and raise bench.errors.UserError")
    return f"refused with a UserError: {', '.join(f'{key}={value}' for key, value in cases.items())}"


CLAUSES = (trains_a_few_steps, encodes_to_its_declared_shape, state_survives_a_weights_only_reload,
           a_resumed_run_ends_bit_identical, parameters_round_trip_through_set_text, declared_capabilities_work,
           bad_parameters_are_refused)
