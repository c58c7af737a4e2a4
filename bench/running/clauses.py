"""What a contract clause is (bench/running/contract.py runs them: `bench check`): a function of the
thing under check that returns what it found (the PASS line's text), raises Broken with what failed
and how to fix it, or raises NotApplicable when the thing does not offer what the clause tests
(SKIP). Any other exception a clause meets is a FAIL naming it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


class Broken(AssertionError):
    """A clause that failed: what failed and how to fix it, in one line."""


class NotApplicable(Exception):
    """A clause that does not apply (the thing does not offer what it tests): why, in one line."""


@dataclass(frozen=True)
class Verdict:
    """One clause's outcome: PASS, FAIL or SKIP, the clause's name and what was found."""
    outcome: str
    clause: str
    detail: str

    def line(self) -> str:
        return f"{self.outcome} {self.clause}: {self.detail}"


def require(condition, failure: str) -> None:
    """Raise Broken(failure) unless `condition` holds."""
    if not condition:
        raise Broken(failure)


def verdict(clause: Callable, subject) -> Verdict:
    """Run one clause on `subject`; its name is the clause function's, underscores as spaces."""
    name = clause.__name__.replace("_", " ")
    try:
        return Verdict("PASS", name, clause(subject))
    except NotApplicable as reason:
        return Verdict("SKIP", name, str(reason))
    except Broken as failure:
        return Verdict("FAIL", name, str(failure))
    except Exception as error:                 # the thing under check raised: a failure, named
        text = " ".join(str(error).split()) or "(no message)"
        return Verdict("FAIL", name, f"raised {type(error).__name__}: {text}")
