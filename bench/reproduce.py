"""`bench reproduce NAME`: run a paper's preset (bench/presets/NAME.toml) and set the paper's
numbers beside ours, with ours minus the paper's and the rank agreement (Spearman) of the two."""
from __future__ import annotations

import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:                                                   # pragma: no cover
    import tomli as tomllib

import pandas as pd
from scipy.stats import spearmanr

import metrics
from bench import config as sweep_config
from bench.errors import UserError, unknown

PRESETS = Path(__file__).parent / "presets"
QUICK_STEPS = 300
PRESET_FILE = "preset.txt"


def available() -> list[str]:
    return sorted(path.stem for path in PRESETS.glob("*.toml"))


def preset_path(name: str) -> Path:
    if name not in available():
        raise unknown("preset", name, available())
    return PRESETS / f"{name}.toml"


def preset_table(name: str, table: str) -> dict:
    """One of a preset's own tables ([paper], [protocols]); {} when it has none."""
    with open(preset_path(name), "rb") as handle:
        return tomllib.load(handle).get(table, {})


def load(name: str, flags: dict, quick: bool) -> tuple[sweep_config.SweepConfig, dict]:
    """The preset's sweep with the flags over it, and its [paper] table.

    --quick keeps every row but trains QUICK_STEPS steps (unless --steps says otherwise) and uses
    the metrics' quick sample sizes; --steps sets every method's steps, the preset's
    per-method steps included.
    """
    path = preset_path(name)
    paper = preset_table(name, "paper")
    values = sweep_config.read_file(path, reserved=("paper", "protocols"))
    if quick:
        values["metric_params"] = {}
        flags = {**flags, "quick": True, "steps": flags.get("steps") or QUICK_STEPS}
    if flags.get("steps"):
        values.pop("method_steps", None)
    values.setdefault("out", str(Path("results") / name))
    given = sweep_config.read_flags(flags)
    return sweep_config.combine(values, given, (), str(path)), paper


def comparison(scores: pd.DataFrame, paper: dict) -> pd.DataFrame:
    """One row per paper row: our mean ± std over seeds (in %), the paper's, ours minus paper."""
    metric = paper["metric"]
    rows = []
    for row in paper["rows"]:
        ours = scores[(scores["method"] == row["method"]) & (scores["metric"] == metric)]["value"] * 100
        std = ours.std() if len(ours) > 1 else 0.0
        rows.append({"representation": row["label"], "method": row["method"],
                     "ours (%)": f"{ours.mean():.2f} ± {std:.2f}" if len(ours) else "missing",
                     "seeds": len(ours),
                     "paper (%)": f"{row['score']:.2f}" + (f" ± {row['std']}" if "std" in row else ""),
                     "ours - paper": round(ours.mean() - row["score"], 2) if len(ours) else float("nan"),
                     "_ours": ours.mean() if len(ours) else float("nan"), "_paper": row["score"]})
    return pd.DataFrame(rows)


def rank_agreement(table: pd.DataFrame) -> float:
    """Spearman's rho between our column and the paper's, over the rows both have."""
    both = table.dropna(subset=["_ours"])
    if len(both) < 3:
        return float("nan")
    return float(spearmanr(both["_ours"], both["_paper"]).statistic)


def preset_of(results_dir: Path) -> str | None:
    """The preset whose reproduction wrote `results_dir` (its PRESET_FILE), or None."""
    path = Path(results_dir) / PRESET_FILE
    return path.read_text().strip() if path.exists() else None


def write(results_dir: Path, scores: pd.DataFrame, paper: dict, preset: str) -> tuple[list[Path], pd.DataFrame, float]:
    """comparison.csv and the table.md of the report with the paper's column added; PRESET_FILE
    names the preset, so that `bench report` on the folder keeps the paper's column."""
    from bench import report
    (Path(results_dir) / PRESET_FILE).write_text(preset + "\n")
    table = comparison(scores, paper)
    rho = rank_agreement(table)
    shown = table.drop(columns=["_ours", "_paper"])
    csv_path = Path(results_dir) / "comparison.csv"
    shown.assign(spearman_rho=rho).to_csv(csv_path, index=False)
    paths = report.write_tables(results_dir, scores, extra=shown)
    with open(Path(results_dir) / "table.md", "a") as handle:
        handle.write(f"\nRank agreement with the paper (Spearman's rho over {table['_ours'].notna().sum()} "
                     f"rows): {rho:.2f}. Metric: {paper['metric']}.\n")
    return [csv_path, *paths], shown, rho


def protocol_variants(name: str, config: sweep_config.SweepConfig, paper: dict) -> tuple[str, dict]:
    """(metric, label -> its parameters): the preset's [protocols], each over the preset's own
    [metric_params] for the paper's metric. Under --quick the metric's quick sample sizes win."""
    metric = paper["metric"].partition(".")[0]
    listed = preset_table(name, "protocols")
    if not listed:
        raise UserError(f"preset {name} lists no [protocols] to rescore its runs under")
    quick_sizes = metrics.metric_module(metric).QUICK if config.quick else {}
    base = config.metric_params.get(metric, {})
    variants = {}
    for label, params in listed.items():
        merged = {**base, **params}
        variants[label] = {key: value for key, value in merged.items() if key not in quick_sizes}
        for key in variants[label]:
            if key not in metrics.metric_params(metric):
                raise unknown(f"parameter of metric {metric} in [protocols] {label!r}", key,
                              metrics.metric_params(metric))
    return metric, variants


def check_rows(config: sweep_config.SweepConfig, paper: dict) -> None:
    missing = [row["method"] for row in paper["rows"] if row["method"] not in config.methods]
    if missing:
        raise UserError(f"the preset's [paper] rows name methods it does not run: {', '.join(missing)}")
