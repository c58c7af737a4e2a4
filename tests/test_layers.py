"""The import structure (docs/design.md, "Layers"): no import cycles, and each module imports only
its own layer and those below. Read from the source with ast, function-level imports included."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bench", "methods", "metrics")
# Lowest first. methods/ and metrics/ and bench/data/ are in the bottom layer wholesale.
LAYERS = {
    "bottom": {"bench", "bench.errors", "bench.defaults", "bench.device"},
    "running": {"bench.running", "bench.running.spec", "bench.running.config", "bench.running.sweep",
                "bench.running.execute", "bench.running.runner", "bench.running.store",
                "bench.running.sampler", "bench.running.restore", "bench.running.model_sets",
                "bench.running.plain_loop", "bench.running.speed", "bench.running.reference",
                "bench.running.files", "bench.running.run_folder"},
    "reporting": {"bench.reporting", "bench.reporting.report", "bench.reporting.plots",
                  "bench.reporting.html_report", "bench.reporting.labels", "bench.reporting.claims",
                  "bench.reporting.statistics", "bench.reporting.protocol_study", "bench.reporting.health",
                  "bench.reporting.preset"},
    "commands": {"bench.cli", "bench.reproduce"},
}
ORDER = list(LAYERS)


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for package in PACKAGES for path in (ROOT / package).rglob("*.py")}


def layer(module: str) -> str:
    if module.split(".")[0] in ("methods", "metrics") or module.startswith("bench.data"):
        return "bottom"
    return next(name for name, members in LAYERS.items() if module in members)


def imports(module: str) -> set[str]:
    """The project modules `module` imports (`from bench import data` counts as bench.data)."""
    named = set()
    for node in ast.walk(ast.parse(MODULES[module].read_text())):
        if isinstance(node, ast.Import):
            named.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            named.update(f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in MODULES else node.module
                         for alias in node.names)
    found = set()
    for name in named:
        while name and name not in MODULES:
            name = name.rpartition(".")[0]
        if name and name != module:
            found.add(name)
    return found


GRAPH = {module: imports(module) for module in MODULES}


def test_every_bench_module_has_a_layer():
    unplaced = [m for m in MODULES if m.startswith("bench") and not any(m in s for s in LAYERS.values())
                and not m.startswith("bench.data")]
    assert not unplaced, f"add these modules to a layer in tests/test_layers.py: {unplaced}"


def test_no_module_imports_a_higher_layer():
    upward = [f"{m} ({layer(m)}) imports {t} ({layer(t)})" for m, targets in GRAPH.items() for t in targets
              if ORDER.index(layer(t)) > ORDER.index(layer(m))]
    assert not upward, "\n".join(upward)


def test_there_are_no_import_cycles():
    state, cycles = {}, []

    def visit(module, path):
        state[module] = "open"
        for target in sorted(GRAPH[module]):
            if state.get(target) == "open":
                cycles.append(" -> ".join(path[path.index(target):] + [target]))
            elif target not in state:
                visit(target, path + [target])
        state[module] = "done"

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [module])
    assert not cycles, "\n".join(cycles)
