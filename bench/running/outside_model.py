"""`bench score`: a model trained outside the harness placed in a results folder as a run (docs/
plugins.md, "Score a model trained elsewhere"), so that `bench report`, claims and `bench compare`
read it like any other.

Its codes come from (a) an encoder exported with torch.export (.pt2: a graph of PyTorch operators
and raw tensors, read without running code from the file: bench/running/exported_file.py), called on float
images in [0, 1], (n, C, H, W) on the CPU, as the harness's methods encode them; or (b) a Python
function PKG.MODULE:FUNCTION of uint8 images (n, C, H, W) -> (n, D) codes (importing it runs its
module's code). The run's spec.json records the method name, seed and dataset the user gives, steps
0, and where the codes came from: the file's name and sha256, or the function's name, its
distribution and version and the sha256 of its module's source; these name the run (its id).

Each metric is scored with the settings the folder's runs were scored with (their sample sizes
included), else its defaults (quick sizes under --quick). Nothing is written until every score is
computed: a file that is not an exported program, codes of the wrong shape, NaN or another number
of rows, a method name the harness trains, or metric settings (--quick on a folder scored
otherwise; runs that disagree), a dataset or its source that differ from the folder's runs end in
one line (UserError) with the folder as it was.
"""
from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import torch

import metrics
import methods
from bench import data
from bench.device import choose_policy
from bench import plugins
from bench.errors import UserError, one_line
from bench.running.execute import HEALTH
from bench.running.exported_file import load_exported
from bench.running.legacy import DEFAULT_PRECISION, identity_extras
from bench.running.run_folder import DONE, run_folders
from bench.running.spec import run_id_of
from bench.running.store import RunStore
from methods.base import ENCODE_BATCH
from metrics.codes import Representation


def file_sha256(path: Path) -> str:
    """The sha256 of a file, read in blocks and cached (bench/data's fingerprint of data files)."""
    stat = path.stat()
    return data.file_sha256(str(path.resolve()), stat.st_size, stat.st_mtime_ns)


def exported_encoder(path) -> tuple:
    """(function of uint8 images -> codes, provenance) of the torch.export program at `path`."""
    path = Path(path)
    module = load_exported(path)
    policy = choose_policy("cpu", "fp32")

    @torch.no_grad()
    def encode(images: np.ndarray) -> np.ndarray:
        chunks = []
        for start in range(0, len(images), ENCODE_BATCH):
            batch = policy.prepare_images(torch.from_numpy(np.ascontiguousarray(images[start:start + ENCODE_BATCH])))
            try:
                output = module(batch)
            except Exception as error:
                raise UserError(f"--encoder {path.name} failed on float images of shape {tuple(batch.shape)} "
                                f"({one_line(error)})") from None
            if not isinstance(output, torch.Tensor):
                raise UserError(f"--encoder {path.name} returned {type(output).__name__}, not one tensor: export a "
                                f"module whose forward returns the (n, D) codes")
            chunks.append(output.detach().float().cpu().numpy())
        return np.concatenate(chunks)
    return encode, {"encoder": path.name, "sha256": file_sha256(path)}


def outside_function(qualified: str) -> tuple:
    """(the function PKG.MODULE:FUNCTION, provenance: its name, distribution, version, source sha256)."""
    module_name, colon, name = qualified.partition(":")
    if not colon or not module_name or not name:
        raise UserError(f"--function takes PKG.MODULE:FUNCTION, not {qualified!r}")
    try:
        module = importlib.import_module(module_name)
    except Exception as error:
        raise UserError(f"--function {qualified!r}: module {module_name!r} does not import "
                        f"({one_line(error)})") from None
    function = getattr(module, name, None)
    if not callable(function):
        raise UserError(f"--function {qualified!r}: module {module_name!r} has no function {name!r}")
    found = {key: value for key, value in plugins.provenance(function).items() if key != "module"}
    return function, {"function": qualified, **found}


def wanted_metrics(names: str | None, references: dict) -> list[str]:
    """--metrics, else the single-model metrics the folder's runs were scored with (beta_vae where
    it has none, as `bench run`)."""
    if names:
        chosen = metrics.parse_metric_names(names)
        sets = [name for name in chosen if metrics.scores_model_sets(name)]
        if sets and names != "all":
            raise UserError(f"--metrics {sets[0]} scores a set of models of one method; bench score places one "
                            f"model: give metrics of one model (see `bench list`)")
        return metrics.single_model_names(chosen)
    order = metrics.parse_metric_names("all")
    stored = {name for spec_scores in references.values() for name in spec_scores if name != HEALTH}
    found = sorted((name for name in stored if known_single_model_metric(name)),
                   key=lambda name: (order.index(name) if name in order else len(order), name))
    return found or ["beta_vae"]


def known_single_model_metric(name: str) -> bool:
    """Whether `name` is a metric this harness knows (built-in or plug-in) that scores one model."""
    try:
        return not metrics.scores_model_sets(name)
    except UserError:
        return False


def check_against_references(out: Path, dataset: str, source, settings: dict, references: dict) -> None:
    """The folder's runs were made on the same dataset and source and scored with the same settings
    (sample sizes) for every metric both have; else a UserError with the first difference."""
    for run_id, (spec, scores) in references.items():
        if spec.dataset != dataset or spec.data.identity() != source.identity():
            raise UserError(f"{out} holds run {run_id} on {spec.dataset} ({spec.data.path or 'procedural'}); "
                            f"scores on --dataset {dataset} ({source.path or 'procedural'}) would not compare with "
                            f"it: give its dataset, or another --out")
        for name, wanted in settings.items():
            if name in scores:
                stored = metrics.stored_settings(name, scores[name].settings)
                if stored != wanted:
                    key = next(key for key in {**stored, **wanted} if stored.get(key) != wanted.get(key))
                    raise UserError(f"{out}'s run {run_id} scored {name} with {key}={stored.get(key)!r}, this "
                                    f"would score it with {key}={wanted.get(key)!r}: leave out --quick to score "
                                    f"with the settings of the folder's runs, or give another --out")


def chosen_settings(names: list[str], quick: bool, references: dict) -> dict:
    """Each metric's settings: those the folder's runs were scored with (the first run's; the
    others are checked against them), else its defaults; under --quick, its quick sizes."""
    chosen = {}
    for name in names:
        stored = [metrics.stored_settings(name, scores[name].settings)
                  for _, scores in references.values() if name in scores]
        chosen[name] = stored[0] if stored and not quick else metrics.settings(name, quick)
    return chosen


def score_outside_model(out, method: str, seed: int, dataset_name: str, encoder=None, function=None,
                        metric_names: str | None = None, quick: bool = False, data_path=None,
                        progress: bool = False) -> tuple[str, dict]:
    """Score the outside model and write it into the results folder `out` as a finished run; its
    (run id, scores)."""
    if (encoder is None) == (function is None):
        raise UserError("bench score takes one of --encoder FILE.pt2 and --function PKG.MODULE:FUNCTION")
    if seed < 0:
        raise UserError(f"--seed takes a non-negative integer, not {seed}")
    if not method.isidentifier():
        raise UserError(f"--method {method!r}: a name of letters, digits and underscores, e.g. my_vae")
    try:
        methods.method_class(method)
    except UserError:
        pass
    else:
        raise UserError(f"--method {method!r} is a method the harness trains; name the outside model otherwise "
                        f"(e.g. my_{method}), so that its runs are not pooled with the harness's")
    source = data.source(dataset_name, data_path)
    out = Path(out)
    references = {folder.run_id: (spec, folder.scores()) for folder in run_folders(out) if (spec := folder.spec())}
    names = wanted_metrics(metric_names, {run_id: scores for run_id, (_, scores) in references.items()})
    settings = chosen_settings(names, quick, references)
    check_against_references(out, dataset_name, source, settings, references)
    dataset = data.load_source(dataset_name, source)
    for name in names:
        metrics.check(name, dataset, **settings[name])
    encode, provenance = exported_encoder(encoder) if encoder is not None else outside_function(function)
    codes = Representation.from_image_fn(encode, dataset, progress)
    scores = {name: metrics.score(name, codes, dataset, seed, **settings[name]) for name in names}
    spec = outside_spec(method, seed, dataset_name, source, provenance)
    store = RunStore(out)
    folder = store.folder(spec["run_id"])
    with folder.lock():
        folder.remove_leftovers()
        folder.write_spec(spec)
        for name in names:
            folder.add_scores(name, settings[name], scores[name])
        folder.set_status(DONE)
    store.assemble_scores_csv()
    return spec["run_id"], {key: value for values in scores.values() for key, value in values.items()}


def outside_spec(method: str, seed: int, dataset: str, source, provenance: dict) -> dict:
    """spec.json of an outside model's run: a RunSpec's fields (no parameters, steps 0, fp32) and
    `scored_from`, all of it in the identity that names the run."""
    identity = {"method": method, "params": {}, "dataset": dataset, "seed": seed, "steps": 0,
                **identity_extras(DEFAULT_PRECISION, source), "scored_from": provenance}
    return {**identity, "precision": DEFAULT_PRECISION, "data": source.to_json(), "overrides": {},
            "run_id": run_id_of(method, seed, identity)}
