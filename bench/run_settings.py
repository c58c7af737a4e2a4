"""The settings of `bench run`, each declared once (RUN_SETTINGS): its sweep-file key, its kind, its
default, its help, whether it is part of a run's identity, whether it is a flag (spelt --KEY-WITH-
DASHES) and its choices. Everything else is derived from this list: the flags of `bench run` (and
those `bench reproduce` shares, bench/cli.py), the sweep file's keys and how each value is read and
checked (bench/running/config.py, through bench/settings.py), the fields of SweepConfig and of
ExecutionOptions (bench/running/execute.py), and the flag table of docs/usage.md (`flag_table`;
tests/test_docs.py compares them). Adding a run setting is one RunSetting here, plus the code that
uses it.

Only the standard library and bench.defaults are imported: the CLI parser reads this list.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass

from bench.defaults import BACKENDS, CHECKPOINT_EVERY, DEFAULT_STEPS, DEVICES, LOG_EVERY, PRECISIONS

# Kinds beyond bool, int and str, each read by its own function in bench/running/config.py.
NAMES = "names"                 # a comma list or a list of names
SEEDS = "seeds"                 # an integer, a list of them, or "0-4"
SCHEDULE = "schedule"           # steps as a list or a comma list, or "log"
LOG_INTERVAL = "log interval"   # a positive integer dividing LOG_EVERY or a multiple of it
TABLES = "tables"               # [KEY.NAME] tables of a sweep file (params, method_steps, metric_params)


@dataclass(frozen=True)
class RunSetting:
    """One setting of a sweep: a sweep file's `key` (and SweepConfig's field), a flag of `bench run`
    where `flag`, with `metavar` as its value in the help and `example` in the docs' table."""
    key: str
    kind: object                 # bool, int, str, or one of the kinds above
    default: object
    help: str                    # `bench run --help`; the docs' table adds `more`
    identity: bool               # changes a run's id (and so its numbers)
    flag: bool = True            # a flag of `bench run`; False: a sweep file's key only
    in_file: bool = True         # a sweep file's key; False: a flag only
    choices: tuple = ()
    metavar: str | None = None
    example: str = ""            # the value the docs' table shows after the flag
    wanted: str = ""             # how a message words a valid value, where the kind's words say too little
    executes: bool = False       # each run reads it as it executes (ExecutionOptions)
    more: str = ""               # the docs' table only, after the help

    @property
    def flag_name(self) -> str:
        return "--" + self.key.replace("_", "-")


RUN_SETTINGS = (
    RunSetting("methods", NAMES, (), "comma list, e.g. beta_vae,vae (see `bench list`), or a plug-in's "
               "PKG.MODULE:CLASS", identity=True,
               example="beta_vae,vae"),
    RunSetting("dataset", str, "dsprites", "dataset name (default dsprites; see `bench list`), folder:PATH for "
               "a folder of images, or a plug-in's PKG.MODULE:FUNCTION", identity=True, example="dsprites",
               more="; `dsprites` (737,280 images), `dsprites_small` (1,536 images, for tests and previews), "
                    "`color_dsprites`, `noisy_dsprites`, `shapes3d`, `mpi3d`, `smallnorb`, `cars3d`, `scream_dsprites` "
                    "(these four from their files only) ([datasets.md](datasets.md))"),
    RunSetting("seeds", SEEDS, (0,), "e.g. 0,1,2 or 0-4 (default 0)", identity=True, example="0-4",
               more="; one integer per run derives weights, batches and metric samples"),
    RunSetting("steps", int, DEFAULT_STEPS, f"training steps per run (default {DEFAULT_STEPS:,})", identity=True,
               wanted="a positive number of training steps", example="N"),
    RunSetting("metrics", NAMES, ("beta_vae",), "comma list or all (default beta_vae), a plug-in as PKG.MODULE:NAME",
               identity=False,
               executes=True, example="beta_vae"),
    RunSetting("out", str, None, "results folder (default results/DATASET)", identity=False, example="DIR",
               more="; `DIR/scores.csv` and `DIR/runs/`"),
    RunSetting("device", str, "auto", "default auto: CUDA when available, else CPU", identity=True,
               choices=DEVICES, executes=True, more=" (through the precision it resolves to)"),
    RunSetting("precision", str, "auto", "auto (default): bf16 autocast where it trains faster than fp32 (a CUDA "
               "GPU with bf16, a CPU with AMX), else fp32", identity=True, choices=PRECISIONS, executes=True,
               more="; on the project's Xeon with AMX bf16 gave 1.75x fp32's images/s and no later escape from "
                    "the posterior-collapse plateau over 20 seeds; AVX-512 bf16 without AMX trains bf16 at 0.81x "
                    "fp32 on a Xeon and 1.3-1.6x on an AMD EPYC (Zen 4); the first line of `bench run` says which and why"),
    RunSetting("quick", bool, False, "small metric sample sizes (previews, tests)", identity=False, executes=True),
    RunSetting("data_path", str, None, "the original dataset file (dSprites .npz, Shapes3D .h5, MPI3D .npz, "
               "Scream-dSprites' picture) or folder (SmallNORB's six files, Cars3D's .mat files) instead of the "
               "procedural one", identity=True, executes=True, example="FILE",
               more=": dSprites' `dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz`, Shapes3D's `3dshapes.h5`, "
                    "Scream-dSprites' `scream.jpg` (or set `BENCH_DSPRITES_PATH`, `BENCH_SHAPES3D_PATH`, "
                    "`BENCH_MPI3D_PATH`, `BENCH_SMALLNORB_PATH`, `BENCH_CARS3D_PATH`, `BENCH_SCREAM_PATH`)"),
    RunSetting("jobs", int, None, "runs at once in worker processes here (default 1); on a cluster its workers "
               "decide", identity=False, example="N", more="; the cores free at the start are split among them"),
    RunSetting("backend", str, "local", "local (default): this machine; dask or ray: an existing cluster (Dask: "
               "a task per run; Ray: through joblib)", identity=False, choices=BACKENDS),
    RunSetting("scheduler", str, None, "the cluster to use: a Dask scheduler (tcp://host:8786) or a Ray address",
               identity=False, metavar="ADDRESS"),
    RunSetting("warm_start", str, None, "a trainable run without a checkpoint starts from the latest checkpoint "
               "of the same run trained for fewer steps, in this results folder or in DIR (the outcome equals "
               "training from scratch; only the time is saved)", identity=False, metavar="DIR", executes=True),
    RunSetting("score_at", SCHEDULE, (), "also score each run at these earlier steps, e.g. 1000,2000,4000 "
               f"(multiples of the log interval, {LOG_EVERY}), or log: 6 steps each twice the one before, ending "
               "at the run's steps; keeps the weights there (snapshots/)", identity=False, metavar="STEPS",
               executes=True, example="1000,2000,4000",
               more=" and scores them after training into `curve.json`. Asked for later, it scores the snapshots "
                    "there are (a step without one is skipped with a line). A step past the end of every run is "
                    "an error; past the end of some (shorter `method_steps`) it is left out for those, with a line"),
    RunSetting("score_at_metrics", NAMES, None, "comma list: the metrics of those steps (default: --metrics but "
               "the expensive ones, dci, infomec, z_diff and dci_es, and udr)", identity=False, metavar="METRICS",
               example="beta_vae,mig", more="; udr compares the seeds at their last step only"),
    RunSetting("checkpoint_every", LOG_INTERVAL, CHECKPOINT_EVERY, f"advanced: checkpoint interval (default "
               f"{CHECKPOINT_EVERY})", identity=False, in_file=False, metavar="STEPS", executes=True),
    RunSetting("threads", int, None, "advanced: torch threads per run, and the fits a metric runs at once "
               "(default: the cores free at the start, divided among --jobs)", identity=False, in_file=False,
               metavar="N", executes=True),
    RunSetting("accept_changed_plugins", bool, False, "go on with runs in the results folder whose plug-in method, "
               "dataset or metric scored again has a different source since they were recorded (refused otherwise)", identity=False,
               in_file=False),
    RunSetting("params", TABLES, {}, "[params.METHOD] tables: each parameter's values, a list making a grid "
               "(--set METHOD.PARAM=VALUE,... on the command line)", identity=True, flag=False),
    RunSetting("method_steps", TABLES, {}, "[method_steps] table: METHOD = steps, over steps", identity=True,
               flag=False),
    RunSetting("metric_params", TABLES, {}, "[metric_params.METRIC] tables: a metric's settings (`bench list`)",
               identity=False, flag=False, executes=True),
)
SETTINGS = {setting.key: setting for setting in RUN_SETTINGS}
FLAGS = tuple(setting for setting in RUN_SETTINGS if setting.flag)
FLAG_KEYS = tuple(setting.key for setting in FLAGS)
FILE_KEYS = tuple(setting.key for setting in RUN_SETTINGS if setting.in_file)


def argparse_options(setting: RunSetting, help_text: str | None = None) -> dict:
    """The keyword arguments of argparse's add_argument for `setting`'s flag (default None: not given)."""
    options = {"help": help_text or setting.help}
    if setting.kind is bool:
        options["action"] = argparse.BooleanOptionalAction
    elif setting.kind in (int, LOG_INTERVAL):
        options["type"] = int
    if setting.choices:
        options["choices"] = setting.choices
    if setting.metavar:
        options["metavar"] = setting.metavar
    return options


def flag_table() -> str:
    """The Markdown rows of docs/usage.md's table of `bench run` flags (one per flag setting)."""
    rows = []
    for setting in FLAGS:
        value = setting.example or setting.metavar or "|".join(setting.choices).replace("|", "\\|")
        shown = f"`{setting.flag_name} {value}`" if value else f"`{setting.flag_name}`"
        rows.append(f"| {shown} | {setting.help}{setting.more} | {'yes' if setting.identity else 'no'} |")
    return "\n".join(rows)
