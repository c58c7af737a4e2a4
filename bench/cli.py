"""`bench`: the command line (run, list, speed, reproduce, report). User errors end in one line and
exit code 2.

Only the standard library and bench.defaults are imported to build the parser, so that
`bench --help` and a mistyped flag answer at once; each command imports what it needs (torch,
scikit-learn, pandas) when it runs.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from bench import defaults
from bench.defaults import DEFAULT_STEPS, DEVICES, PRECISIONS
from bench.errors import UserError, one_line_warnings

# The run settings a flag of `bench run` gives (bench/running/config.py reads them like a sweep file's).
RUN_FLAG_KEYS = ("methods", "dataset", "seeds", "steps", "metrics", "quick", "out", "jobs", "backend",
                 "scheduler", "device", "precision", "data_path", "warm_start", "checkpoint_every", "threads",
                 "score_at", "score_at_metrics")


def add_run_parser(commands) -> None:
    run = commands.add_parser("run", help="train methods and score them",
                              description="Train each method x parameter grid x seed and score it. "
                              "Finished runs are skipped and interrupted ones resume, so the same "
                              "command can simply be run again.")
    run.add_argument("--config", metavar="FILE.toml",
                     help="a sweep file with these settings (see bench/running/config.py); flags given here "
                          "override it")
    run.add_argument("--methods", help="comma list, e.g. beta_vae,vae (see `bench list`)")
    run.add_argument("--dataset", help="dataset name (default dsprites; see `bench list`), or folder:PATH "
                                       "for a folder of images")
    run.add_argument("--seeds", help="e.g. 0,1,2 or 0-4 (default 0)")
    run.add_argument("--steps", type=int, help=f"training steps per run (default {DEFAULT_STEPS})")
    run.add_argument("--metrics", help="comma list or all (default beta_vae)")
    run.add_argument("--out", help="results folder (default results/DATASET)")
    run.add_argument("--set", action="append", default=[], metavar="METHOD.PARAM=VALUE[,VALUE...]",
                     help="override a hyperparameter; several values make a grid (repeatable)")
    run.add_argument("--device", choices=DEVICES, help="default auto")
    run.add_argument("--precision", choices=PRECISIONS,
                     help="auto (default): bf16 autocast where it trains faster than fp32 (a CUDA GPU with "
                          "bf16, a CPU with AMX), else fp32")
    run.add_argument("--quick", action=argparse.BooleanOptionalAction,
                     help="small metric sample sizes (previews, tests)")
    run.add_argument("--data-path", help="the original dataset file (dSprites .npz, Shapes3D .h5, MPI3D .npz) "
                                         "instead of the procedural one")
    run.add_argument("--jobs", type=int,
                     help="runs at once in worker processes here (default 1); on a cluster its workers decide")
    run.add_argument("--backend", choices=defaults.BACKENDS,
                     help="local (default): this machine; dask or ray: an existing cluster via joblib")
    run.add_argument("--scheduler", metavar="ADDRESS",
                     help="the cluster to use: a Dask scheduler (tcp://host:8786) or a Ray address")
    run.add_argument("--warm-start", metavar="DIR",
                     help="a trainable run without a checkpoint starts from the latest checkpoint of the "
                          "same run trained for fewer steps, in this results folder or in DIR (the "
                          "outcome equals training from scratch; only the time is saved)")
    run.add_argument("--score-at", metavar="STEPS",
                     help="also score each run at these earlier steps, e.g. 1000,2000,4000 (multiples of "
                          f"the log interval, {defaults.LOG_EVERY}), or log: 6 steps each twice the one before, "
                          "ending at the run's steps; keeps the weights there (snapshots/); not part of a "
                          "run's identity")
    run.add_argument("--score-at-metrics", metavar="METRICS",
                     help="comma list: the metrics of those steps (default: --metrics but the expensive ones, dci, "
                          "infomec and z_diff, and udr)")
    run.add_argument("--checkpoint-every", type=int, metavar="STEPS",
                     help=f"advanced: checkpoint interval (default {defaults.CHECKPOINT_EVERY}); "
                          "not part of a run's identity")
    run.add_argument("--threads", type=int, metavar="N",
                     help="advanced: torch threads per run, and the fits a metric runs at once "
                          "(default: the cores free at the start, divided among --jobs)")
    run.add_argument("--no-progress", action="store_true", help="no progress bars")


def command_run(args) -> int:
    from bench.running import config as sweep_config
    flags = {key: getattr(args, key) for key in RUN_FLAG_KEYS}
    config = sweep_config.load(args.config, flags, args.set)
    return run_and_print(config, not args.no_progress).exit_code


def run_and_print(config, progress: bool):
    """Run a sweep (bench/running/sweep_entry.py), then print what its model-set metrics said, its
    table and where its outputs went; its SweepResult."""
    from bench.reporting import report
    from bench.running import model_sets, sweep_entry
    from bench.running.run_folder import readable_specs
    result = sweep_entry.run(config, progress)
    model_sets.report(result.model_set_lines)
    if len(result.scores):
        print(report.headline(report.summary(result.scores), readable_specs(result.store.out_dir)).to_string())
    for outcome in result.failed:
        print(f"FAILED {outcome.run_id}: {outcome.detail}", file=sys.stderr)
    if result.not_started:
        print(f"NOT STARTED {len(result.not_started)} run(s): a write had failed for lack of space; free "
              f"space and run the same command again", file=sys.stderr)
    done = len(result.outcomes) - len(result.failed) - len(result.not_started)
    print(f"{done} of {len(result.outcomes)} run(s) done ({result.already_done} already done before), "
          f"{len(result.failed)} failed" + (f", {len(result.not_started)} not started" if result.not_started else ""))
    print(f"scores: {result.store.scores_csv}\nrun folders: {result.store.runs_dir}/")
    return result


def add_speed_parser(commands) -> None:
    speed = commands.add_parser(
        "speed", help="measure training, encoding, metric and data speed on this machine",
        description="Training images/s of the harness against a plain fp32 PyTorch loop, encoding "
                    "images/s, the metric suite with and without encode-once, dSprites build and "
                    "reload seconds. Prints a table; --out writes it as CSV (measure,value,unit).")
    speed.add_argument("--methods", default="beta_vae", help="comma list of trainable methods (default beta_vae)")
    speed.add_argument("--dataset", default="dsprites", help="dataset for training and metrics (default dsprites)")
    speed.add_argument("--device", default="auto", choices=DEVICES)
    speed.add_argument("--precision", default="auto", choices=PRECISIONS)
    speed.add_argument("--compile", action="store_true",
                       help="torch.compile the harness's networks (compile time is reported)")
    speed.add_argument("--threads", type=int, default=0,
                       help="torch and BLAS/OpenMP threads, and the fits a metric runs at once (default: the "
                            "libraries' own, all cores; for the metrics' fits the cores free)")
    speed.add_argument("--quick", action="store_true",
                       help="a few steps and tiny metric samples (under a minute; for tests)")
    speed.add_argument("--metric-scale", type=float,
                       help="multiply the metrics' sample sizes (default 1: disentanglement_lib's; "
                            "0.05 of the quick sizes with --quick)")
    speed.add_argument("--reference", action="store_true",
                       help="also time disentanglement_lib's own code on the same samples, metric by "
                            "metric, with the ratio and the largest difference (needs the reference extra)")
    speed.add_argument("--seed", type=int, default=0)
    speed.add_argument("--out", help="CSV file for the table")


def command_speed(args) -> int:
    from bench.running import speed
    return speed.command(args)


def add_reproduce_parser(commands) -> None:
    parser = commands.add_parser("reproduce", help="run a paper's preset and compare with the paper",
                                 description="Run a preset (bench/presets/NAME.toml), then write the "
                                 "report with the paper's column, ours minus the paper's, and the "
                                 "rank agreement. Resumable like `bench run`.")
    parser.add_argument("name", help=f"preset: {', '.join(defaults.presets())}")
    parser.add_argument("--quick", action="store_true",
                        help=f"a small version: {defaults.QUICK_STEPS} steps, quick metric sizes")
    parser.add_argument("--budget", default="cpu",
                        help="training budget: cpu (default, the preset's steps) or one the preset "
                             "lists, e.g. paper (300,000 steps, for a GPU); results/NAME-BUDGET")
    parser.add_argument("--seeds", help="override the preset's seeds, e.g. 0-2")
    parser.add_argument("--steps", type=int, help="override every method's training steps (a preset's score "
                                                  "schedule then becomes `log`: log-spaced steps of this budget)")
    parser.add_argument("--dataset", help="override the preset's dataset (e.g. dsprites_small for a smoke test)")
    parser.add_argument("--out", help="results folder (default results/NAME)")
    parser.add_argument("--jobs", type=int, help="runs at once (default: the preset's)")
    parser.add_argument("--device", choices=DEVICES, help="default auto")
    parser.add_argument("--precision", choices=PRECISIONS,
                        help="default auto (bf16 where the hardware computes it natively); e.g. "
                             "--precision fp32 --out results/higgins2017-fp32 for the fp32 table")
    parser.add_argument("--protocols", action="store_true",
                        help="then rescore every finished run under each metric protocol the preset "
                             "lists (no retraining): protocols.csv, protocols.md, protocols.png")
    parser.add_argument("--no-plots", action="store_true", help="tables only")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def command_reproduce(args) -> int:
    from bench import reproduce
    flags = {key: getattr(args, key) for key in ("seeds", "steps", "dataset", "out", "jobs", "device", "precision")}
    config, paper = reproduce.load(args.name, flags, args.quick, args.budget)
    reproduce.check_rows(config, paper)
    result = run_and_print(config, not args.no_progress)
    out_dir = result.store.out_dir
    paths, table, rho = reproduce.write(out_dir, result.scores, paper, args.name)
    if paper.get("rows"):
        print(table.to_string(index=False))
        print(f"rank agreement with the paper (Spearman's rho): {rho:.2f}")
    else:                             # a sweep preset (higgins2017_beta): its figure is the comparison
        print(f"{args.name} has no table of the paper's numbers to set beside these; its figures follow")
    if not args.no_plots:
        paths += reproduction_plots(out_dir, result.scores, paper)
    if args.protocols:
        paths += rescore_protocols(args.name, config, paper, out_dir, config.jobs or 1,
                                   not args.no_progress, not args.no_plots, result.run_ids)
    from bench.reporting import html_report
    paths.append(html_report.write(out_dir, paths))            # report.html: tables and figures
    for path in paths:
        print(path)
    return result.exit_code


def reproduction_plots(results_dir: Path, scores, paper: dict) -> list[Path]:
    """Every figure of a results folder (its notes added to table.md), and the replicas of each paper row
    beside the paper's value."""
    from bench.reporting.health import unhealthy_run_ids
    from bench.reporting.plots import all_plots, replicas
    from bench.reporting.report import add_notes
    figures = all_plots(results_dir, scores)
    add_notes(results_dir, figures.notes)
    paths = figures.paths
    if paper.get("rows"):
        paths.append(replicas(scores, paper, unhealthy_run_ids(scores), Path(results_dir)))
    return paths


def rescore_protocols(preset: str, config, paper: dict, results_dir: Path, jobs: int, progress: bool,
                      plots: bool, run_ids=None) -> list[Path]:
    """The finished runs of `results_dir` (or those in `run_ids`) rescored under the preset's
    [protocols]; the files written."""
    from bench import reproduce
    from bench.reporting import protocol_study
    metric, variants = reproduce.protocol_variants(preset, config, paper)
    print(f"rescoring the finished runs in {results_dir}/ under {len(variants)} protocols of {metric} "
          f"(no retraining)", flush=True)
    study = protocol_study.rescore(results_dir, metric, variants, config.quick, jobs, progress, run_ids)
    paths = protocol_study.write(results_dir, study, paper, variants, plots=plots)
    print((Path(results_dir) / "protocols.md").read_text())
    return paths


def command_list(args) -> int:
    import metrics
    import methods
    from bench import data
    from methods.base import describe_params
    from methods.batch_kinds import IID
    print("methods (set with --set METHOD.PARAM=VALUE):")
    for name, cls in methods.METHODS.items():
        print(f"  {name}: {cls.__doc__.strip().splitlines()[0]}")
        batches = cls.batch_kind_of(cls.Params())
        if batches != IID:
            print(f"      batches: {batches.describe()}")
        for param, kind, default in describe_params(cls.Params):
            print(f"      {param} ({kind}) = {default}")
    print("datasets (--dataset NAME; factors and their sizes, the last varying fastest):")
    for name in data.DATASETS:
        print(f"  {name}: {data.describe(name)}")
    print(f"  {data.FOLDER_DESCRIPTION}")
    print("metrics (set in a sweep file's [metric_params.METRIC]; --quick uses the sizes in brackets):")
    for name, metric in metrics.METRICS.items():
        print(f"  {name}: {metric.summary}")
        print(f"      needs: {needs(metric)}")
        for param, kind, default in describe_params(metric.Settings):
            quick = f" [{metric.quick[param]}]" if param in metric.quick else ""
            print(f"      {param} ({kind}) = {default}{quick}")
    return 0


def needs(metric) -> str:
    """What a metric needs, in words, for `bench list`."""
    words = ["the dataset's factors" if metric.needs_factors else "images only (image folders too)",
             "several models of one method (its seeds)" if metric.several_models else "one model"]
    if metric.uses_posterior:
        words.append("each latent's KL under a VAE's posterior, where the model has one")
    return ", ".join(words)


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("disentanglement-bench")
    except PackageNotFoundError:                          # run from a source tree that is not installed
        return "(not installed)"


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="bench", description="Disentanglement benchmark harness.")
    top.add_argument("--version", action="version", version=f"bench {package_version()}")
    commands = top.add_subparsers(dest="command", required=True)
    add_run_parser(commands)
    commands.add_parser("list", help="methods, datasets and metrics with their parameters")
    add_speed_parser(commands)
    add_reproduce_parser(commands)
    add_compare_parser(commands)
    report_parser = commands.add_parser("report", help="tables and plots of a results folder",
                                        description="Write table.csv, table.md, PNG plots and report.html "
                                                    "(all of them in one page) next to RESULTS_DIR/scores.csv; "
                                                    "never retrains.")
    report_parser.add_argument("results_dir", help="a folder written by `bench run`")
    report_parser.add_argument("--no-plots", action="store_true", help="tables only")
    report_parser.add_argument("--protocols", metavar="PRESET",
                               help="also rescore the finished runs under the preset's metric protocols "
                                    "(no retraining): protocols.csv, protocols.md, protocols.png")
    report_parser.add_argument("--jobs", type=int, default=1, help="runs rescored at once (default 1)")
    return top


def add_compare_parser(commands) -> None:
    parser = commands.add_parser(
        "compare", help="two results folders' runs side by side, seed by seed, with rank tests",
        description="Pair the runs of FIRST and SECOND that train the same method, parameters, dataset "
                    "and seed (e.g. fp32 and bf16 runs, or two code versions), and compare per "
                    "configuration every score both have, training images/s and the step at which a "
                    "VAE leaves the posterior-collapse plateau: medians, two-sided Mann-Whitney U and "
                    "Wilcoxon signed-rank tests. Writes comparison_with_FIRST.csv and .md into SECOND, "
                    "and claims_compared_with_FIRST.md where both folders tested claims.")
    parser.add_argument("first", help="a results folder (runs/ inside)")
    parser.add_argument("second", help="another results folder")
    parser.add_argument("--measures", help="comma list of measures to keep, e.g. "
                                           "beta_vae.eval_accuracy,images_per_s,plateau_escape_step (default all)")
    parser.add_argument("--out", help="folder for the two files (default SECOND)")


def command_compare(args) -> int:
    from bench.reporting import comparison, report
    for folder in (args.first, args.second):
        if not (Path(folder) / "runs").is_dir():
            raise UserError(f"{folder}: not a results folder (it has no runs/ folder)")
    measures = [name.strip() for name in args.measures.split(",")] if args.measures else None
    table = comparison.compare(args.first, args.second, measures)
    out = Path(args.out or args.second)
    out.mkdir(parents=True, exist_ok=True)
    stem = out / f"comparison_with_{Path(args.first).resolve().name}"
    table.to_csv(stem.with_suffix(".csv"), index=False)
    stem.with_suffix(".md").write_text(
        f"{args.first} (first) against {args.second} (second), runs paired by method, parameters, dataset "
        f"and seed (bench compare):\n\n{report.markdown(table.drop(columns=['first_values', 'second_values']))}"
        f"\np_two_sided: Mann-Whitney U; p_paired: Wilcoxon signed-rank of the per-seed differences "
        f"(second - first). plateau_escape_step: first logged step at which the summed KL rises above "
        f"{comparison.PLATEAU_KL:g} nat after first falling below it; '>STEP': still on the plateau at the "
        f"end of the run.\n")
    print(table.drop(columns=["first_values", "second_values", "dataset"]).to_string(index=False))
    written = [stem.with_suffix(".csv"), stem.with_suffix(".md")]
    claims = comparison.claims_side_by_side(args.first, args.second)
    if claims is not None:
        claims_path = out / f"claims_compared_with_{Path(args.first).resolve().name}.md"
        claims_path.write_text(f"Each claim's verdict in {args.first} (first) and {args.second} (second):\n\n"
                               f"{report.markdown(claims)}")
        print(claims.to_string(index=False))
        written.append(claims_path)
    print("\n".join(str(path) for path in written))
    return 0


def command_report(args) -> int:
    from bench import reproduce
    from bench.reporting import report
    from bench.reporting.preset import preset_of
    from bench.running import config as sweep_config
    results_dir = Path(args.results_dir)
    check_results_folder(results_dir)
    preset = preset_of(results_dir)
    if preset:                          # a reproduction's folder: keep the paper's column
        scores = report.load_scores(results_dir)
        paper = reproduce.load(preset, {}, quick=False)[1]
        paths = reproduce.write(results_dir, scores, paper, preset)[0]
        if not args.no_plots:
            paths += reproduction_plots(results_dir, scores, paper)
    else:
        paths = report.write_report(results_dir, plots=not args.no_plots)
    if args.protocols:
        config, paper = reproduce.load(args.protocols, {}, quick=False)
        paths += rescore_protocols(args.protocols, config, paper, results_dir,
                                   sweep_config.as_positive_int(args.jobs, "--jobs"), True, not args.no_plots)
    from bench.reporting import html_report
    paths.append(html_report.write(results_dir, paths))             # report.html: tables and figures
    for path in paths:
        print(path)
    return 0


def check_results_folder(results_dir: Path) -> None:
    """Before a report: rebuild a missing or corrupt scores.csv from the run folders, and say which
    run folders have an unreadable spec.json (the report leaves them out of its figures; an
    unreadable checkpoint is named when a figure needs it, bench/running/restore.py)."""
    from bench.running.run_folder import run_folders
    from bench.running.store import repair_scores_csv
    repaired = repair_scores_csv(results_dir)
    if repaired:
        print(f"bench: {repaired}", file=sys.stderr)
    for folder in run_folders(results_dir):
        if folder.spec_file.exists() and folder.spec() is None:
            print(f"bench: {folder.run_id}: spec.json is unreadable; the run is left out of the "
                  f"figures (its scores, if any, come from scores.csv)", file=sys.stderr)


COMMANDS = {"run": command_run, "list": command_list, "report": command_report, "speed": command_speed,
            "reproduce": command_reproduce, "compare": command_compare}


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    one_line_warnings()
    try:
        return COMMANDS[args.command](args)
    except UserError as error:
        print(f"bench: error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:                       # output piped into `head` and the like: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted; finished runs are kept and the next `bench run` resumes the rest",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
