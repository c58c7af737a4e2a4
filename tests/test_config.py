"""Sweep files: the TOML says what the flags say, flags override it, and bad files fail clearly."""
import itertools
import json
import textwrap
from pathlib import Path

import pytest

from bench.errors import UserError
from bench.running import config as sweep_config
from bench.running.spec import RunSpec

REPO = Path(__file__).resolve().parent.parent
SWEEP = """\
methods = ["vae", "beta_vae"]
dataset = "dsprites_small"
seeds = "0-2"
steps = 200
metrics = "beta_vae"
quick = true
out = "results/beta_sweep"
jobs = 2

[params.beta_vae]
beta = [1, 4]
lr = 1e-4

[method_steps]
beta_vae = 300

[metric_params.beta_vae]
protocol = "higgins2017"
num_eval = 300
"""


def write(tmp_path, text, name="sweep.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def no_flags(**given):
    return {key: given.get(key) for key in sweep_config.FLAG_KEYS}


def test_a_sweep_file_gives_every_setting(tmp_path):
    config = sweep_config.load(write(tmp_path, SWEEP), no_flags())
    assert config.methods == ("vae", "beta_vae") and config.seeds == (0, 1, 2)
    assert (config.dataset, config.steps, config.quick, config.jobs) == ("dsprites_small", 200, True, 2)
    assert config.metrics == ("beta_vae",) and str(config.out_dir) == "results/beta_sweep"
    specs = config.specs()
    assert len(specs) == 3 + 2 * 3
    assert {spec.steps for spec in specs if spec.method == "vae"} == {200}
    assert {spec.steps for spec in specs if spec.method == "beta_vae"} == {300}
    assert {spec.params for spec in specs if spec.method == "beta_vae"} == {
        (("beta", 1.0), ("lr", 0.0001)), (("beta", 4.0), ("lr", 0.0001))}
    assert {spec.resolved_params()["lr"] for spec in specs if spec.method == "beta_vae"} == {1e-4}
    assert config.metric_params == {"beta_vae": {"protocol": "higgins2017", "num_eval": 300}}


def test_the_file_and_the_flags_name_the_same_runs(tmp_path):
    from_file = sweep_config.load(write(tmp_path, """\
        methods = ["beta_vae"]
        seeds = [0, 1]
        steps = 100
        [params.beta_vae]
        beta = [1, 4.0]
        latent_dim = 5
        architecture = "fc"
        """), no_flags())
    from_flags = sweep_config.load(None, no_flags(methods="beta_vae", seeds="0,1", steps=100),
                                   ["beta_vae.beta=1.0,4", "beta_vae.latent_dim=5", "beta_vae.architecture=fc"])
    assert [s.run_id for s in from_file.specs()] == [s.run_id for s in from_flags.specs()]
    assert len(from_file.specs()) == 4


def test_flags_given_override_the_file(tmp_path):
    path = write(tmp_path, SWEEP)
    config = sweep_config.load(path, no_flags(steps=50, quick=False, seeds="7", jobs=1),
                               ["beta_vae.beta=8,16"])
    assert (config.steps, config.quick, config.seeds, config.jobs) == (50, False, (7,), 1)
    assert config.params["beta_vae"] == {"beta": [8.0, 16.0], "lr": [0.0001]}   # lr kept from the file
    assert config.method_steps == {"beta_vae": 300}
    picked = sweep_config.load(path, no_flags(methods="vae"))
    assert picked.methods == ("vae",) and picked.params == {} and picked.method_steps == {}
    assert {spec.method for spec in picked.specs()} == {"vae"}


def test_several_set_flags_and_a_seed_range_make_the_full_product():
    config = sweep_config.load(None, no_flags(methods="beta_vae,vae", seeds="0-4", steps=10),
                               ["beta_vae.beta=1,2,4,8,16", "beta_vae.latent_dim=5,10", "vae.lr=1e-3,1e-4"])
    specs = config.specs()
    assert len(specs) == 5 * 2 * 5 + 2 * 5 == len({spec.run_id for spec in specs})
    beta_vae = {(dict(s.params)["beta"], dict(s.params)["latent_dim"], s.seed) for s in specs if s.method == "beta_vae"}
    assert beta_vae == set(itertools.product([1.0, 2.0, 4.0, 8.0, 16.0], [5, 10], range(5)))


def test_a_sweep_resolves_its_parameters_once_into_typed_values(tmp_path):
    config = sweep_config.load(write(tmp_path, SWEEP), no_flags(), ["vae.latent_dim=5", "vae.architecture=fc"])
    assert config.params == {"beta_vae": {"beta": [1.0, 4.0], "lr": [0.0001]},
                             "vae": {"latent_dim": [5], "architecture": ["fc"]}}
    spec = next(spec for spec in config.specs() if spec.method == "vae")
    assert spec.params == (("architecture", "fc"), ("latent_dim", 5))
    assert spec.to_json()["overrides"] == {"architecture": "fc", "latent_dim": "5"}   # stored as --set spells them
    beta_vae = next(spec for spec in config.specs() if spec.method == "beta_vae")
    assert beta_vae.to_json()["overrides"] == {"beta": "1.0", "lr": "0.0001"}


@pytest.mark.parametrize("folder, precision", [("higgins2017-fp32", "fp32"), ("higgins2017", "bf16")])
def test_the_presets_runs_keep_their_ids_and_their_stored_parameters(folder, precision):
    """The committed runs of results/higgins2017-fp32 (fp32) and results/higgins2017 (bf16) are the
    runs its preset names today in that precision, spelt alike."""
    from bench import reproduce
    committed = {path.parent.name: json.loads(path.read_text())
                 for path in (REPO / "results" / folder).glob("runs/*/spec.json")}
    if not committed:
        pytest.skip(f"results/{folder} holds no runs in this checkout")
    specs = {spec.run_id: spec for spec in reproduce.load("higgins2017", {"precision": precision}, quick=False)[0].specs()}
    assert set(specs) & set(committed)
    for run_id in set(specs) & set(committed):
        assert specs[run_id].to_json()["overrides"] == committed[run_id]["overrides"], run_id


def test_a_run_named_twice_runs_once():
    config = sweep_config.load(None, no_flags(methods="beta_vae", steps=10), ["beta_vae.beta=4,4.0"])
    assert len(config.specs()) == 1


def test_checkpoint_interval_is_not_part_of_the_run_identity():
    every = [sweep_config.load(None, no_flags(methods="vae", steps=10, checkpoint_every=n, precision="fp32"))
             for n in (10, 1000)]
    assert every[0].specs() == every[1].specs() and every[0].log_every == 10 and every[1].log_every == 100
    assert every[0].specs()[0].run_id == RunSpec("vae", "dsprites", 0, 10).run_id


@pytest.mark.parametrize("text,message", [
    ('methods = ["vae"]\nsteps = 10\nquick = yes\n', "sweep.toml: invalid TOML: Invalid value (at line 3, column 9)"),
    ('methods = ["vae"]\n[params.vae\nbeta = 1\n', "(at line 2"),
    ('methods = ["vae"]\nstep = 10\n', "{path}: unknown key 'step'; valid: backend, data_path, dataset, device, jobs"),
    ('methods = ["vae"]\n[vae]\nbeta = 2\n', "(a method's parameters go in [params.vae])"),
    ('methods = ["vae"]\nsteps = "200"\n', "sweep.toml: steps takes a positive number of training steps, not '200'"),
    ('methods = ["vae"]\nsteps = 0\n', "steps must be a positive number of training steps, not 0"),
    ('methods = ["vae"]\nquick = 1\n', "sweep.toml: quick takes true or false, not an integer (1)"),
    ('methods = "vae"\nseeds = [0, "1"]\n', "seeds takes integers like [0, 1, 2] or \"0-4\""),
    ('methods = "vae"\nseeds = "a-b"\n', "sweep.toml: seeds takes integers like 0,1,2 or 0-4, not 'a-b'"),
    ('methods = ["vae", 3]\n', "methods takes a list of names"),
    ('methods = ["vae"]\nbackend = "spark"\n', "unknown value for {path}: backend 'spark'; valid: dask, local, ray"),
    ('methods = ["gan"]\n', "sweep.toml: unknown method 'gan'; valid: "),
    ('methods = ["vae"]\nmetrics = ["mig2"]\n', "sweep.toml: unknown metric 'mig2'"),
    ('methods = ["vae"]\n[params.vae]\nbeta = "high"\n', "sweep.toml: vae.beta takes a number, not 'high'"),
    ('methods = ["vae"]\n[params.vae]\nbeta = [1, true]\n', "sweep.toml: vae.beta takes a number, not 'true'"),
    ('methods = ["vae"]\n[params.vae]\nlatent_dim = 2.5\n', "vae.latent_dim takes an integer, not '2.5'"),
    ('methods = ["vae"]\n[params.vae]\nbeta = []\n', "params.vae.beta is an empty list"),
    ('methods = ["vae"]\n[params.vae]\nbeta = [[1, 2]]\n', "params.vae.beta takes a number, a string or a boolean"),
    ('methods = ["vae"]\n[params.vae]\ngamma_ray = 2\n', "sweep.toml: unknown parameter of vae 'gamma_ray'; valid: "),
    ('methods = ["vae"]\n[params.beta_vae]\nbeta = 2\n', "[params.beta_vae] names a method that is not in methods (vae)"),
    ('methods = ["vae"]\nparams = 3\n', "params takes tables like [params.beta_vae]"),
    ('methods = ["vae"]\n[metric_params.beta_vae]\nnum_evals = 3\n',
     "sweep.toml: metric_params: unknown parameter of metric beta_vae 'num_evals'; valid: "),
    ('methods = ["vae"]\n[metric_params.beta_vae]\nnum_eval = "3"\n',
     "sweep.toml: beta_vae.num_eval takes an integer like its default 5000, not '3'"),
    ('methods = ["vae"]\n[metric_params.mig2]\nx = 3\n', "sweep.toml: metric_params: unknown metric 'mig2'"),
    ('methods = ["vae"]\n[metric_params.mig]\nnum_train = 3\n',
     "[metric_params.mig] names a metric that is not in metrics (beta_vae)"),
    ('methods = ["vae"]\n[method_steps]\nvae = "long"\n', "method_steps.vae takes a positive number of training steps"),
    ('steps = 10\n', "name the methods with --methods or `methods = [...]` in a sweep file"),
    ('methods = ["vae"]\nscheduler = "tcp://x:1"\n', "--scheduler goes with --backend dask or --backend ray"),
])
def test_bad_files_fail_with_the_file_and_the_reason(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(UserError) as error:
        sweep_config.load(path, no_flags())
    assert message.format(path=path) in str(error.value)
    if "invalid TOML" in str(error.value):
        assert str(path) in str(error.value)


def test_a_missing_or_binary_file_fails_clearly(tmp_path):
    with pytest.raises(UserError, match="cannot read sweep file .*nothing.toml.*No such file"):
        sweep_config.load(tmp_path / "nothing.toml", no_flags())
    (tmp_path / "binary.toml").write_bytes(b"methods = [\"\xff\xfe\"]\n")
    with pytest.raises(UserError, match="binary.toml"):
        sweep_config.load(tmp_path / "binary.toml", no_flags())


@pytest.mark.parametrize("flags,message", [
    (dict(methods="vae", jobs=0), "--jobs must be a positive integer, not 0"),
    (dict(methods="vae", checkpoint_every=30), "--checkpoint-every must divide 100 or be a multiple of it, not 30"),
    (dict(methods="vae", backend="dask", scheduler=None, steps=-1), "--steps must be a positive number"),
])
def test_bad_flags_fail_with_the_flag(flags, message):
    with pytest.raises(UserError, match=message.replace("(", r"\(")):
        sweep_config.load(None, no_flags(**flags))


# A flag of each run setting outside a run's identity (bench/run_settings.py, identity=False), with what it
# needs beside it; a new flag must be added here, so its declared identity is tested.
OUTSIDE_THE_ID = {
    "metrics": dict(metrics="mig"), "quick": dict(quick=True), "out": dict(out="elsewhere"), "jobs": dict(jobs=2),
    "backend": dict(backend="dask"), "scheduler": dict(backend="ray", scheduler="127.0.0.1:6379"),
    "warm_start": dict(warm_start="elsewhere"), "score_at": dict(score_at="100"),
    "score_at_metrics": dict(score_at="log", score_at_metrics="mig"), "checkpoint_every": dict(checkpoint_every=10),
    "threads": dict(threads=2), "accept_changed_plugins": dict(accept_changed_plugins=True),
}


def test_the_declared_identity_of_each_run_setting_holds():
    from bench.run_settings import RUN_SETTINGS
    assert set(OUTSIDE_THE_ID) == {setting.key for setting in RUN_SETTINGS if setting.flag and not setting.identity}
    base = dict(methods="vae", steps=200, precision="fp32", seeds="0,1")
    ids = [spec.run_id for spec in sweep_config.load(None, no_flags(**base)).specs()]
    for key, flags in OUTSIDE_THE_ID.items():
        assert [spec.run_id for spec in sweep_config.load(None, no_flags(**{**base, **flags})).specs()] == ids, key
    inside = {"steps": dict(steps=300), "precision": dict(precision="bf16"), "dataset": dict(dataset="dsprites_small"),
              "seeds": dict(seeds="0,2"), "methods": dict(methods="beta_vae")}
    for key, flags in inside.items():
        assert next(s for s in RUN_SETTINGS if s.key == key).identity
        changed = [spec.run_id for spec in sweep_config.load(None, no_flags(**{**base, **flags})).specs()]
        assert changed[-1] != ids[-1], key
