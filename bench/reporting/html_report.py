"""report.html: one self-contained page per results folder with its tables (table.md, and
claims.md, claims_by_budget.md, protocols.md and method_comparison.md where they were written) and
every figure of the report, embedded as base64 PNG, each with a sentence saying what it shows. No file beside it is needed to
read it, so it can be mailed or attached as it is."""
from __future__ import annotations

import base64
import html
import re
from pathlib import Path

from bench.reporting import labels
from bench.running.files import write_atomically
from bench.running.run_folder import RUNS

REPORT_FILE = "report.html"
# The tables a results folder can hold, in the order the page shows them.
TABLES = {"table.md": "Scores", "claims.md": "The paper's claims, tested on the replicas",
          "claims_by_budget.md": "The claims, tested at every training budget scored",
          "protocols.md": "Scores under other protocols of the metric (no retraining)",
          "method_comparison.md": "The methods compared at the last budget"}
# Figures over the whole folder come first, in this order; per-run figures follow as the report
# wrote them (configuration by configuration).
FOLDER_FIGURES = ["metrics.png", "curves.png", "replicas.png", "metric_vs_normalised_beta.png", "protocols.png",
                  "method_seeds.png", "metric_correlation.png", "training_curves.png", "training_curves_gan.png",
                  "kl_per_latent.png"]
FIGURE_SUFFIXES = (".png", ".gif")                  # a GIF: an animated traversal (bench/reporting/animation.py)
STYLE = """
body { font-family: sans-serif; max-width: 1200px; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: left; }
th { background: #f2f2f2; }
figure { margin: 1.5em 0; }
img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 0.9em; color: #444; margin-top: 0.3em; }
code { background: #f6f6f6; padding: 0 0.2em; }
"""


def inline(text: str) -> str:
    """Escaped text with Markdown's `code` and **bold**."""
    text = html.escape(text, quote=False)
    text = re.sub(r"`([^`]+)`", r"<code>\1</code>", text)
    return re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", text)


def cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def table_html(rows: list[list[str]]) -> str:
    header, body = rows[0], [row for row in rows[1:] if not set("".join(row)) <= set("-: ")]   # no rule row
    return ("<table>\n<thead><tr>" + "".join(f"<th>{inline(c)}</th>" for c in header) + "</tr></thead>\n<tbody>\n"
            + "\n".join("<tr>" + "".join(f"<td>{inline(c)}</td>" for c in row) + "</tr>" for row in body)
            + "\n</tbody>\n</table>")


def markdown_to_html(text: str) -> str:
    """The Markdown the report writes (bench.reporting.report.markdown tables, "- " lists and paragraphs)
    as HTML."""
    parts, kind, block = [], None, []

    def flush():
        if kind == "table":
            parts.append(table_html(block))
        elif kind == "list":
            parts.append("<ul>\n" + "\n".join(f"<li>{inline(item)}</li>" for item in block) + "\n</ul>")
        elif kind == "paragraph":
            parts.append(f"<p>{inline(' '.join(block))}</p>")
        block.clear()

    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            flush()
            kind = None
            continue
        if stripped.startswith("|"):
            line_kind, item = "table", cells(stripped)
        elif stripped.startswith(("- ", "* ")):
            line_kind, item = "list", stripped[2:]
        elif kind == "list" and line.startswith(" "):          # an item's continuation line
            block[-1] += " " + stripped
            continue
        else:
            line_kind, item = "paragraph", stripped
        if line_kind != kind:
            flush()
            kind = line_kind
        block.append(item)
    flush()
    return "\n".join(parts)


def caption(path: Path, results_dir: Path) -> str:
    """One sentence saying what a figure of the report shows."""
    name = Path(path).name
    fixed = {
        "metrics.png": "Each metric's headline score (the key its paper reports; every key is in table.csv) per "
                       "configuration (rows in the paper's order when a preset gives one): the bar is the mean over the healthy seeds, the black line ± one standard deviation, the dots "
                       "single seeds, grey crosses unhealthy runs left out, red diamonds the paper's values and the "
                       "dashed line chance, where these are known.",
        "curves.png": "Each metric's score along training, against the images seen (steps x batch size, log "
                      "axis): a line per configuration through the median over its seeds at each budget, a dot "
                      "per seed, and chance dashed where known.",
        "replicas.png": "Every replica of each row of the paper's table (dots over a box), the paper's value as a red "
                        "diamond and chance as a dashed line; unhealthy runs are crosses and are left out of every number.",
        "metric_vs_normalised_beta.png": "The metric and the final reconstruction loss against normalised beta "
                                         "(beta x latents / pixels), one line per method and latent size, mean ± one "
                                         "standard deviation over seeds, on axes that start at 0.",
        "protocols.png": "Each row's score (%) when the same runs are rescored under each candidate protocol of the "
                         "metric, the paper's column last.",
        "training_curves.png": "Training curves of the encoder-decoder models (lowest seed of each configuration): "
                               "one panel per logged quantity against the training step, losses spanning a wide "
                               "range on a log axis.",
        "training_curves_gan.png": "Training curves of the GANs (lowest seed of each configuration): losses, the "
                                   "discriminator's outputs and the health signals against the training step.",
        "method_seeds.png": "Every seed of every method (dots) per headline metric, the median of its seeds "
                            "(line) and the mean rank of its runs among all runs (1 = highest, under its name); "
                            "the title gives the Kruskal-Wallis p across the methods, raw and Holm's over the metrics "
                            "(method_comparison.md).",
        "metric_correlation.png": "Spearman's rank correlation of every pair of headline metrics over the runs: "
                                  "red where two metrics order the runs alike, blue where they order them oppositely.",
        "kl_per_latent.png": "The KL divergence of each latent at the end of training, largest first, per "
                             "configuration: a latent near 0 nats carries no information about the image.",
    }
    if name in fixed:
        return fixed[name]
    for prefix, suffix, sentence in (
            ("traversal_", ".png", "Latent traversals of {}: each row sweeps one latent (most informative first, by "
                                   "KL) with the others fixed at the code of one image."),
            ("traversal_", ".gif", "Latent traversals of {}, animated: each row one latent (most informative first, "
                                   "by KL, in its label), each column one image whose code the other latents keep; "
                                   "the latent sweeps from -r to r and back, one frame per step."),
            ("reconstruction_", ".png", "Images (top row) and their reconstructions by {} (bottom row)."),
            ("samples_", ".png", "Images generated by {} from random codes and noise (a fixed seed).")):
        if name.startswith(prefix) and name.endswith(suffix):
            return sentence.format(labels.run_description(Path(results_dir) / RUNS / name[len(prefix):-len(suffix)]))
    return f"Figure {name}."


def figure_order(path: Path) -> tuple:
    """Figures over the folder first (FOLDER_FIGURES' order), then the others as written."""
    name = Path(path).name
    return (0, FOLDER_FIGURES.index(name)) if name in FOLDER_FIGURES else (1, 0)


def figure_html(path: Path, results_dir: Path) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    text = caption(path, results_dir)
    kind = Path(path).suffix.lstrip(".")                          # png, or gif: an animation
    anchor = Path(path).stem + ("-animated" if kind == "gif" else "")
    return (f'<figure id="{html.escape(anchor)}">\n<img src="data:image/{kind};base64,{data}" '
            f'alt="{html.escape(text)}">\n<figcaption>{inline(text)} <small>({html.escape(Path(path).name)})</small>'
            f'</figcaption>\n</figure>')


def write(results_dir: Path, written: list) -> Path:
    """RESULTS_DIR/report.html from the folder's tables and the figures among `written` (the
    paths the report just wrote), with protocols.png from an earlier rescoring when it is there."""
    results_dir = Path(results_dir)
    figures = [Path(p) for p in written if Path(p).suffix in FIGURE_SUFFIXES and Path(p).exists()]
    if (results_dir / "protocols.png").exists() and (results_dir / "protocols.md").exists():
        figures.append(results_dir / "protocols.png")
    figures = sorted(dict.fromkeys(figures), key=figure_order)
    body = [f"<h1>Results: {html.escape(results_dir.name)}</h1>",
            "<p>Written by <code>bench report</code> (or <code>bench reproduce</code>) from the folder's "
            "scores.csv and run folders; the same tables are in its .md and .csv files, the figures in its "
            ".png files.</p>"]
    for file, heading in TABLES.items():
        if (results_dir / file).exists():
            body += [f"<h2>{heading} <small>({file})</small></h2>", markdown_to_html((results_dir / file).read_text())]
    body.append("<h2>Figures</h2>")
    body += [figure_html(path, results_dir) for path in figures] or [
        "<p>No figures: the report was written without plots (<code>--no-plots</code>).</p>"]
    page = ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>Results: {html.escape(results_dir.name)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
            + "\n".join(body) + "\n</body>\n</html>\n")
    path = results_dir / REPORT_FILE
    write_atomically(path, page)
    return path
