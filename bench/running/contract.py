"""`bench check`: the contract every built-in method, metric and dataset passes (docs/design.md,
"Contracts"), run clause by clause against any one of them (docs/plugins.md, "Check it").

The clauses are bench/running/method_contract.py, metric_contract.py and dataset_contract.py (what
a clause is: bench/running/clauses.py). tests/test_contracts.py and tests/test_datasets.py call the
same clause functions, so the project's contract tests and `bench check` are one source.
"""
from __future__ import annotations

from typing import Callable

from bench.errors import UserError
from bench.running.clauses import Verdict, verdict

KINDS = ("method", "metric", "dataset")


def check(name: str, kind: str | None = None, print_line: Callable[[str], None] = print) -> list[Verdict]:
    """Every clause of the contract of method, metric or dataset `name` (`kind`, or whichever
    registry knows the name when it is None), each printed as it ends."""
    from bench.running import dataset_contract, method_contract, metric_contract
    kind = kind or kind_of(name)
    if kind == "method":
        subject, clauses = method_contract.subject_named(name), method_contract.CLAUSES
    elif kind == "metric":
        subject, clauses = metric_contract.subject_named(name), metric_contract.CLAUSES
    else:
        subject, clauses = dataset_contract.subject_named(name), dataset_contract.CLAUSES
    verdicts = []
    for clause in clauses:
        verdicts.append(verdict(clause, subject))
        print_line(verdicts[-1].line())
    return verdicts


def kind_of(name: str) -> str:
    """Whether `name` is a method, a metric or a dataset: the one registry that knows it; a name
    that two know, or none, is a UserError (give --kind)."""
    import metrics
    import methods
    from bench import data
    found = []
    for kind, lookup in (("method", methods.method_class), ("metric", metrics.metric), ("dataset", data.check_name)):
        try:
            lookup(name)
            found.append(kind)
        except UserError:
            pass
    if len(found) != 1:
        if found:
            raise UserError(f"{name!r} is a {' and a '.join(found)}; give --kind {' or --kind '.join(found)}")
        raise UserError(f"{name!r} is no method, metric or dataset; valid: the names `bench list` prints")
    return found[0]
