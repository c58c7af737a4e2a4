"""The import structure (docs/design.md, "Layers"): the folders show the layers, no import cycles, and
each module imports only its own layer and those below. Read from the source with ast, function-level
imports included."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bench", "methods", "metrics")
ORDER = ["bottom", "running", "reporting", "speed", "commands"]            # lowest first
# A module's layer is where it lies: bench/running/, bench/reporting/ and bench/speed/ hold those layers,
# the commands are bench/cli.py and bench/reproduce.py, and the rest is the bottom layer: bench/data/,
# methods/, metrics/ and the few modules directly in bench/ that every layer shares.
FOLDERS = {"running": "running", "reporting": "reporting", "speed": "speed", "data": "bottom"}   # bench/FOLDER/ -> layer
COMMANDS = {"cli.py", "reproduce.py"}
BOTTOM_FILES = {"__init__.py", "errors.py", "defaults.py", "device.py", "settings.py", "run_settings.py",
                "plugins.py", "machine.py"}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for package in PACKAGES for path in (ROOT / package).rglob("*.py")}


def where(module: str) -> tuple[str, ...]:
    """The module's file, relative to the repository: ("bench", "running", "spec.py")."""
    return MODULES[module].relative_to(ROOT).parts


def layer(module: str) -> str:
    parts = where(module)
    if parts[0] != "bench":
        return "bottom"                                                    # methods/, metrics/
    if len(parts) == 2:
        return "commands" if parts[1] in COMMANDS else "bottom"
    return FOLDERS.get(parts[1], "bottom")                                 # misplaced: see the first test


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


def test_every_bench_module_lies_in_the_folder_of_its_layer():
    """A module directly in bench/ is a command or one of the bottom layer's shared modules; any other
    lies in a layer's folder, which is a package; and each layer has modules."""
    misplaced = [str(MODULES[m].relative_to(ROOT)) for m in MODULES if where(m)[0] == "bench"
                 and (where(m)[1] not in COMMANDS | BOTTOM_FILES if len(where(m)) == 2 else where(m)[1] not in FOLDERS)]
    assert not misplaced, ("move these into the folder of their layer (bench/running/, bench/reporting/), or "
                           f"name the file or folder in tests/test_layers.py and docs/design.md: {misplaced}")
    assert all((ROOT / "bench" / folder / "__init__.py").is_file() for folder in FOLDERS)
    assert all((ROOT / "bench" / command).is_file() for command in COMMANDS)
    members = {name: sorted(m for m in MODULES if layer(m) == name) for name in ORDER}
    assert all(members.values()), members


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
