"""Errors a user can cause. The CLI turns them into one line on stderr and exit code 2."""


class UserError(Exception):
    """A bad name, value, file or flag; the message names the bad value and the valid ones."""


def unknown(kind: str, value: str, valid) -> UserError:
    """The standard message for a name that is not in a registry or a set of choices."""
    return UserError(f"unknown {kind} {value!r}; valid: {', '.join(sorted(map(str, valid)))}")


def one_line(error: BaseException) -> str:
    """An exception as one line of a message: its type and the first line of its text (200
    characters at most)."""
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0][:200]}" if text else type(error).__name__


class BenchWarning(UserWarning):
    """Something the user should know that stops nothing (e.g. a checkpoint that cannot be used,
    so the run trains from scratch); the CLI prints it as one line."""


def one_line_warnings() -> None:
    """Print BenchWarnings as one line, "bench: warning: ...", instead of file, line and source
    (other warnings keep Python's format)."""
    import warnings
    if getattr(warnings.formatwarning, "one_line", False):
        return
    default = warnings.formatwarning

    def formatted(message, category, filename, lineno, line=None):
        if issubclass(category, BenchWarning):
            return f"bench: warning: {message}\n"
        return default(message, category, filename, lineno, line)

    formatted.one_line = True
    warnings.formatwarning = formatted
