"""The first check of a dataset file: it can be opened and starts with its format's signature
(before any library parses it: numpy would call a text file "pickled data", h5py gives an OS error)."""
from __future__ import annotations

from bench.errors import UserError

ZIP_SIGNATURE = b"PK\x03\x04"             # an .npz file is a zip archive


def require_signature(path, signature: bytes, what: str, format_name: str, expected: str) -> None:
    """A UserError naming `path` unless it is a readable file starting with `signature`:
    "{what} PATH is not {format_name}; expected {expected}"."""
    try:
        with open(path, "rb") as handle:
            start = handle.read(len(signature))
    except OSError as error:
        raise UserError(f"cannot read {what} {str(path)!r} ({error.strerror or type(error).__name__}); "
                        f"expected {expected}") from None
    if start != signature:
        raise UserError(f"{what} {str(path)!r} is not {format_name}; expected {expected}")
