"""`bench`: the command line (run, list). User errors end in one line and exit code 2."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

import metrics
import methods
from bench import data, report
from bench.device import DEVICES, PRECISIONS
from bench.errors import UserError
from bench.execute import ExecutionOptions
from bench.spec import expand, parse_seeds, parse_set_flags
from bench.store import FAILED, RunStore
from bench.sweep import run_sweep
from methods.base import describe_params

DEFAULT_STEPS = 20_000


def split_names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def add_run_parser(commands) -> None:
    run = commands.add_parser("run", help="train methods and score them",
                              description="Train each method x parameter grid x seed and score it.")
    run.add_argument("--methods", required=True, help="comma list, e.g. beta_vae,vae (see `bench list`)")
    run.add_argument("--dataset", default="dsprites", help="dataset name (default dsprites)")
    run.add_argument("--seeds", default="0", help="e.g. 0,1,2 or 0-4 (default 0)")
    run.add_argument("--steps", type=int, default=DEFAULT_STEPS,
                     help=f"training steps per run (default {DEFAULT_STEPS})")
    run.add_argument("--metrics", default="beta_vae", help="comma list or all (default beta_vae)")
    run.add_argument("--out", help="results folder (default results/DATASET)")
    run.add_argument("--set", action="append", default=[], metavar="METHOD.PARAM=VALUE[,VALUE...]",
                     help="override a hyperparameter; several values make a grid (repeatable)")
    run.add_argument("--device", default="auto", choices=DEVICES)
    run.add_argument("--precision", default="auto", choices=PRECISIONS,
                     help="auto: bf16 autocast where the hardware has native bf16, else fp32")
    run.add_argument("--quick", action="store_true", help="small metric sample sizes (previews, tests)")
    run.add_argument("--data-path", help="the original dataset file (dSprites .npz) instead of the procedural one")
    run.add_argument("--jobs", type=int, default=1, help="runs at once in worker processes (default 1)")
    run.add_argument("--no-progress", action="store_true", help="no progress bars")


def command_run(args) -> int:
    method_names = split_names(args.methods)
    if not method_names:
        raise UserError(f"--methods needs at least one name; valid: {', '.join(methods.METHODS)}")
    if args.jobs < 1:
        raise UserError(f"--jobs must be at least 1, not {args.jobs}")
    metric_names = metrics.parse_metric_names(args.metrics)
    grid = parse_set_flags(args.set, method_names)
    specs = expand(method_names, args.dataset, parse_seeds(args.seeds), args.steps, grid)
    dataset = data.load(args.dataset, args.data_path)        # checks the name and path, builds the cache
    out = Path(args.out or Path("results") / args.dataset)
    store = RunStore(out)
    print(f"{len(specs)} run(s) on {dataset.name} ({len(dataset):,} images) -> {out}/", flush=True)
    options = ExecutionOptions(tuple(metric_names), args.quick, args.device, args.precision,
                               args.data_path, not args.no_progress)
    outcomes = run_sweep(specs, store, options, args.jobs)
    scores = pd.read_csv(store.scores_csv)
    scores = scores[scores["run_id"].isin({spec.run_id for spec in specs})]
    if len(scores):
        print(report.formatted(report.summary(scores)).to_string())
    failed = [outcome for outcome in outcomes if outcome.state == FAILED]
    for outcome in failed:
        print(f"FAILED {outcome.run_id}: {outcome.detail}", file=sys.stderr)
    print(f"scores: {store.scores_csv}\nrun folders: {store.runs_dir}/")
    return 1 if failed else 0


def command_list(args) -> int:
    print("methods (set with --set METHOD.PARAM=VALUE):")
    for name, cls in methods.METHODS.items():
        print(f"  {name}: {cls.__doc__.strip().splitlines()[0]}")
        for param, kind, default in describe_params(cls.Params):
            print(f"      {param} ({kind}) = {default}")
    print("datasets:")
    for name in data.DATASETS:
        print(f"  {name}: {data.describe(name)}")
    print("metrics (--quick uses the smaller sizes in brackets):")
    for name, module in metrics.METRICS.items():
        print(f"  {name}: {module.__doc__.strip().splitlines()[0]}")
        for param, default in metrics.metric_params(name).items():
            quick = f" [{module.QUICK[param]}]" if param in module.QUICK else ""
            print(f"      {param} = {default}{quick}")
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="bench", description="Disentanglement benchmark harness.")
    commands = top.add_subparsers(dest="command", required=True)
    add_run_parser(commands)
    commands.add_parser("list", help="methods, datasets and metrics with their parameters")
    return top


COMMANDS = {"run": command_run, "list": command_list}


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except UserError as error:
        print(f"bench: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bench: interrupted; finished runs are kept and the next `bench run` resumes the rest",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
