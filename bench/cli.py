"""`bench`: the command line (run, list, speed, reproduce, report, compare, check, score, export).
User errors end in one line and exit code 2.

Only the standard library and bench.defaults are imported to build the parser, so that
`bench --help` and a mistyped flag answer at once; each command imports what it needs (torch,
scikit-learn, pandas) when it runs.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from bench import defaults, run_settings
from bench.defaults import DEVICES, PRECISIONS
from bench.errors import UserError, one_line_warnings

def add_run_parser(commands) -> argparse.ArgumentParser:
    run = commands.add_parser("run", help="train methods and score them",
                              description="Train each method x parameter grid x seed and score it. "
                              "Finished runs are skipped and interrupted ones resume, so the same "
                              "command can simply be run again.")
    run.add_argument("--config", metavar="FILE.toml",
                     help="a sweep file with these settings (see bench/running/config.py); flags given here "
                          "override it")
    run.add_argument("--set", action="append", default=[], metavar="METHOD.PARAM=VALUE[,VALUE...]",
                     help="override a hyperparameter; several values make a grid (repeatable); a plug-in's: "
                          "'PKG.MODULE:CLASS.PARAM=VALUE'")
    for setting in run_settings.FLAGS:                       # bench/run_settings.py: one declaration each
        run.add_argument(setting.flag_name, **run_settings.argparse_options(setting))
    run.add_argument("--no-progress", action="store_true", help="no progress bars")
    return run


def command_run(args) -> int:
    from bench.running import config as sweep_config
    flags = {key: getattr(args, key) for key in run_settings.FLAG_KEYS}
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
    speed.add_argument("--layers", action="store_true",
                       help="instead of the suite: where one method's training step spends its time, each "
                            "convolution and direction (oneDNN's timings) against a GEMM of its shape, the "
                            "reorders, and the step's operators by torch.profiler (under a minute)")
    speed.add_argument("--seed", type=int, default=0)
    speed.add_argument("--out", help="CSV file for the table")


def command_speed(args) -> int:
    if args.layers:
        from bench.speed import layers
        return layers.command(args)
    from bench.speed import measure as speed
    return speed.command(args)


# The run settings `bench reproduce` takes over its preset's, with their help there.
REPRODUCE_FLAGS = {
    "seeds": "override the preset's seeds, e.g. 0-2",
    "steps": "override every method's training steps (a preset's score schedule then becomes `log`: "
             "log-spaced steps of this budget)",
    "dataset": "override the preset's dataset (e.g. dsprites_small for a smoke test)",
    "out": "results folder (default results/NAME)",
    "jobs": "runs at once (default: the preset's)",
    "device": "default auto",
    "precision": "default auto (bf16 where the hardware computes it natively); e.g. --precision fp32 "
                 "--out results/higgins2017-fp32 for the fp32 table",
}


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
    for key, help_text in REPRODUCE_FLAGS.items():          # run settings, with a preset's defaults
        setting = run_settings.SETTINGS[key]
        parser.add_argument(setting.flag_name, **run_settings.argparse_options(setting, help_text))
    parser.add_argument("--protocols", action="store_true",
                        help="then rescore every finished run under each metric protocol the preset "
                             "lists (no retraining): protocols.csv, protocols.md, protocols.png")
    parser.add_argument("--no-plots", action="store_true", help="tables only")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def command_reproduce(args) -> int:
    from bench import reproduce
    from bench.reporting import method_comparison
    flags = {key: getattr(args, key) for key in REPRODUCE_FLAGS}
    config, paper = reproduce.load(args.name, flags, args.quick, args.budget)
    reproduce.check_rows(config, paper)
    result = run_and_print(config, not args.no_progress)
    out_dir = result.store.out_dir
    paths, table, rho = reproduce.write(out_dir, result.scores, paper, args.name)
    paths += method_comparison.write(out_dir, result.scores, plots=not args.no_plots)
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
    from bench.reporting.figures.paper import replicas
    from bench.reporting.plots import all_plots
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


def add_check_parser(commands) -> None:
    parser = commands.add_parser("check", help="run the contract every built-in passes against a method, metric or dataset",
                                 description="One PASS, SKIP or FAIL line per clause of the contract (docs/plugins.md, "
                                 "\"Check it\"); exit 1 when one fails. Methods train a few steps on dsprites_small.")
    parser.add_argument("name", help="a method, metric or dataset (see `bench list`)")
    parser.add_argument("--kind", choices=("method", "metric", "dataset"),
                        help="which the name is, where it names two (beta_vae is a method and a metric)")


def command_check(args) -> int:
    from bench.running import contract
    verdicts = contract.check(args.name, args.kind, lambda line: print(line, flush=True))
    return 1 if any(verdict.outcome == "FAIL" for verdict in verdicts) else 0


def add_score_parsers(commands) -> None:
    score = commands.add_parser("score", help="place a model trained elsewhere into a results folder as a run",
                                description="Score an exported encoder or a function of images and write it into "
                                "RESULTS as a finished run of METHOD at SEED, which reports, claims and `bench "
                                "compare` read like any other, with the dataset and metric settings of RESULTS' runs "
                                "(docs/plugins.md).")
    source = score.add_mutually_exclusive_group(required=True)
    source.add_argument("--encoder", metavar="FILE.pt2", help="an exported program (torch.export.save) of float images in [0, 1], (n, C, H, W)")
    source.add_argument("--function", metavar="PKG.MODULE:FUNCTION", help="a function of uint8 images (n, C, H, W) -> (n, D)")
    score.add_argument("--method", required=True, help="the name its runs go under, e.g. my_vae (not a built-in's)")
    score.add_argument("--seed", type=int, required=True, help="its training seed; seeds the metrics' samples too")
    score.add_argument("--dataset", required=True, help="the dataset to score it on (see `bench list`)")
    score.add_argument("--out", required=True, metavar="RESULTS", help="the results folder to place it in")
    score.add_argument("--metrics", help="comma list or all (default: those RESULTS' runs were scored with)")
    score.add_argument("--quick", action="store_true", help="the metrics' quick sample sizes (default: the sizes "
                                                               "RESULTS' runs were scored with, else the defaults)")
    score.add_argument("--data-path", help="the original dataset file, as for `bench run`")
    export = commands.add_parser("export", help="a run's encoder as a torch.export .pt2 file (fp32, CPU), "
                                                "which `bench score --encoder` reads")
    export.add_argument("run_folder", help="RESULTS/runs/RUN_ID")
    export.add_argument("file", metavar="OUT.pt2")


def command_score(args) -> int:
    from bench.running.outside_model import score_outside_model
    run_id, scores = score_outside_model(args.out, args.method, args.seed, args.dataset, args.encoder, args.function,
                                         args.metrics, args.quick, args.data_path, progress=True)
    for key, value in scores.items():
        print(f"{key} {value:.4f}")
    print(f"run folder: {Path(args.out) / 'runs' / run_id}/\nscores: {Path(args.out) / 'scores.csv'}")
    return 0


def command_export(args) -> int:
    from bench.running.export import export_encoder
    print(export_encoder(args.run_folder, args.file))
    return 0


def command_list(args) -> int:
    import metrics
    import methods
    from bench import data
    from bench.settings import describe
    from methods.batch_kinds import IID
    print("methods (set with --set METHOD.PARAM=VALUE):")
    for name, cls in listed(methods.METHODS):
        print(f"  {name}: {(cls.__doc__ or '(no docstring)').strip().splitlines()[0]}")
        batches = cls.batch_kind_of(cls.Params())
        if batches != IID:
            print(f"      batches: {batches.describe()}")
        for param, kind, default in describe(cls.Params):
            print(f"      {param} ({kind}) = {default}")
    print("datasets (--dataset NAME; factors and their sizes, the last varying fastest):")
    for name, _ in listed(data.DATASETS):
        print(f"  {name}: {data.describe(name)}")
    print(f"  {data.FOLDER_DESCRIPTION}")
    print("metrics (set in a sweep file's [metric_params.METRIC]; --quick uses the sizes in brackets):")
    for name, metric in listed(metrics.METRICS):
        print(f"  {name}: {metric.summary}")
        print(f"      needs: {needs(metric)}")
        for param, kind, default in describe(metric.Settings):
            quick = f" [{metric.quick[param]}]" if param in metric.quick else ""
            print(f"      {param} ({kind}) = {default}{quick}")
    print("plug-ins: any of these kinds as PKG.MODULE:NAME (importable: installed or on PYTHONPATH), "
          "or an installed package's entry points (bench/plugins.py)")
    return 0


def listed(registry):
    """(name, object) of a registry's built-ins, then of its installed plug-ins (entry points); a
    plug-in that does not load is named with why, on stderr, and left out."""
    yield from registry.items()
    for name, loaded in registry.plugins().items():
        if isinstance(loaded, UserError):
            print(f"bench: {loaded} (left out)", file=sys.stderr)
        else:
            yield name, loaded


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
    add_gather_parser(commands)
    add_check_parser(commands)
    add_score_parsers(commands)
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


def add_gather_parser(commands) -> None:
    parser = commands.add_parser(
        "gather", help="copy the finished runs of one results folder into another",
        description="Copy every finished run of SOURCE (e.g. the folder of the machine or clone that "
                    "trained it) into DEST, created if missing, and assemble DEST's scores.csv from its run "
                    "folders. Unfinished runs, runs DEST already has and runs with an unreadable file stay "
                    "behind, each said. Then `bench report DEST` redraws the tables.")
    parser.add_argument("source", help="a results folder (runs/ inside)")
    parser.add_argument("dest", help="the results folder to copy into")
    parser.add_argument("--without-weights", action="store_true",
                        help="leave checkpoint.pt and snapshots/ behind (what a repository commits; the "
                             "runs can no longer be rescored or drawn from DEST)")


def command_gather(args) -> int:
    from bench.running import gather
    result = gather.gather(args.source, args.dest, weights=not args.without_weights)
    print(gather.summary(result, args.source, args.dest))
    return 0


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
    from bench.reporting import method_comparison, report
    from bench.reporting.preset import preset_of
    from bench.running import config as sweep_config
    results_dir = Path(args.results_dir)
    check_results_folder(results_dir)
    preset = preset_of(results_dir)
    scores = report.load_scores(results_dir)
    if preset:                          # a reproduction's folder: keep the paper's column
        paper = reproduce.load(preset, {}, quick=False)[1]
        paths = reproduce.write(results_dir, scores, paper, preset)[0]
        if not args.no_plots:
            paths += reproduction_plots(results_dir, scores, paper)
    else:
        paths = report.write_report(results_dir, plots=not args.no_plots, scores=scores)
    paths += method_comparison.write(results_dir, scores, plots=not args.no_plots)
    if args.protocols:
        config, paper = reproduce.load(args.protocols, {}, quick=False)
        paths += rescore_protocols(args.protocols, config, paper, results_dir,
                                   sweep_config.read_flag("jobs", args.jobs), True, not args.no_plots)
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
            "reproduce": command_reproduce, "compare": command_compare, "check": command_check,
            "score": command_score, "export": command_export, "gather": command_gather}


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
