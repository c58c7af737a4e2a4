"""`bench gather SOURCE DEST`: the finished runs of one results folder copied into another, e.g. from
the machine (or the fixed clone) that trained them into the repository that keeps the results.

A run is copied when its status is done, its spec.json, scores.json and curve.json read, and DEST
has no folder of that id (an existing one is left as it is: a run id names one configuration, so
the two are the same run). With `weights=False` its checkpoint.pt and snapshots/ stay behind (what
a repository commits); a lock file always does. Each run is copied into a scratch folder of DEST
first and renamed into DEST/runs/ when whole, so an interrupted gather leaves no half run. Then
DEST's scores.csv is assembled from its run folders (bench/running/store.py), as every sweep does;
a DEST whose scores.csv holds runs that have no folder there is refused before anything is copied,
since assembling would drop their rows.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from bench.errors import UserError
from bench.running.run_folder import DONE, RUNS, RunFolder, run_folders
from bench.running.store import RunStore

SCRATCH = ".gathering"                  # DEST/.gathering/RUN_ID while a run is being copied
WEIGHT_FILES = (RunFolder.CHECKPOINT, RunFolder.SNAPSHOTS)
READ_BEFORE_COPY = (RunFolder.SPEC, RunFolder.SCORES, RunFolder.CURVE)


@dataclass
class Gathered:
    """What a gather did, run ids by outcome."""
    copied: list[str] = field(default_factory=list)
    already_there: list[str] = field(default_factory=list)
    unfinished: list[str] = field(default_factory=list)
    damaged: list[str] = field(default_factory=list)
    scores_csv: Path | None = None


def gather(source, dest, weights: bool = True, log=print) -> Gathered:
    """Copy SOURCE's finished runs into DEST (created if missing) and assemble DEST's scores.csv."""
    source, dest = Path(source), Path(dest)
    if not (source / RUNS).is_dir():
        raise UserError(f"{source}: not a results folder (it has no {RUNS}/ folder)")
    if dest.exists() and dest.resolve() == source.resolve():
        raise UserError(f"{dest}: the source and the destination are the same folder")
    refuse_orphan_rows(dest)
    result = Gathered()
    scratch = dest / SCRATCH
    shutil.rmtree(scratch, ignore_errors=True)            # a gather interrupted earlier
    for folder in run_folders(source):
        if folder.state != DONE:
            result.unfinished.append(folder.run_id)
            continue
        if (dest / RUNS / folder.run_id).exists():
            result.already_there.append(folder.run_id)
            continue
        if damaged := folder.damaged(*READ_BEFORE_COPY):
            log(f"{folder.run_id}: not copied, {'; '.join(f'{name} {why}' for name, why in damaged.items())}")
            result.damaged.append(folder.run_id)
            continue
        copy_run(folder, scratch / folder.run_id, weights)
        (dest / RUNS).mkdir(parents=True, exist_ok=True)
        (scratch / folder.run_id).rename(dest / RUNS / folder.run_id)
        result.copied.append(folder.run_id)
        log(f"{folder.run_id}: copied{'' if weights else ' (without checkpoint.pt and snapshots/)'}")
    shutil.rmtree(scratch, ignore_errors=True)
    if result.copied:
        result.scores_csv = RunStore(dest).assemble_scores_csv()
    return result


def copy_run(folder: RunFolder, target: Path, weights: bool) -> None:
    """The run folder's files into `target`, less its lock and, without `weights`, its weights."""
    left_behind = {RunFolder.LOCK, *(() if weights else WEIGHT_FILES)}
    shutil.copytree(folder.path, target, ignore=lambda directory, names: [
        name for name in names if Path(directory) == folder.path and name in left_behind])


def refuse_orphan_rows(dest: Path) -> None:
    """A UserError where DEST's scores.csv has rows of runs with no folder in DEST (assembling
    scores.csv from the folders would drop them)."""
    scores_csv = dest / "scores.csv"            # RunStore(dest).scores_csv, without creating DEST
    if not scores_csv.exists():
        return
    try:
        listed = set(pd.read_csv(scores_csv, usecols=["run_id"])["run_id"])
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError):
        return                          # unreadable: `bench report` rebuilds it from the folders anyway
    orphans = sorted(listed - {folder.run_id for folder in run_folders(dest)})
    if orphans:
        raise UserError(f"{scores_csv} holds scores of {len(orphans)} run(s) that have no folder in {dest / RUNS} "
                        f"({', '.join(orphans[:3])}{', ...' if len(orphans) > 3 else ''}); gathering rebuilds "
                        f"scores.csv from the folders and would drop them: bring their folders back first")


def summary(result: Gathered, source, dest) -> str:
    """What a gather did, in a few lines, and where its outputs went."""
    lines = [f"{len(result.copied)} run(s) copied from {source} into {Path(dest) / RUNS}"]
    if result.already_there:
        lines.append(f"{len(result.already_there)} already there (left as they are)")
    if result.unfinished:
        lines.append(f"{len(result.unfinished)} unfinished in {source} (not copied; gather again when they are done)")
    if result.damaged:
        lines.append(f"{len(result.damaged)} with an unreadable file (not copied; named above)")
    if result.scores_csv:
        lines.append(f"scores.csv assembled: {result.scores_csv}; `bench report {dest}` redraws its tables and figures")
    return "\n".join(lines)
