"""Errors a user can cause. The CLI turns them into one line on stderr and exit code 2."""


class UserError(Exception):
    """A bad name, value, file or flag; the message names the bad value and the valid ones."""


def unknown(kind: str, value: str, valid) -> UserError:
    """The standard message for a name that is not in a registry or a set of choices."""
    return UserError(f"unknown {kind} {value!r}; valid: {', '.join(sorted(map(str, valid)))}")
