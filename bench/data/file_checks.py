"""The first check of a dataset file: it can be opened and starts with its format's signature
(before any library parses it: numpy would call a text file "pickled data", h5py gives an OS error)."""
from __future__ import annotations

from bench.errors import UserError

ZIP_SIGNATURE = b"PK\x03\x04"             # an .npz file is a zip archive


def require_signature(path, signature: bytes, what: str, format_name: str, expected: str) -> None:
    """A UserError naming `path` unless it is a readable file starting with `signature`:
    "{what} PATH is not {format_name}; expected {expected}"."""
    require_any_signature(path, (signature,), what, format_name, expected)


def require_any_signature(path, signatures: tuple[bytes, ...], what: str, format_name: str, expected: str) -> None:
    """As `require_signature`, for a format with several signatures (JPEG or PNG): one must match."""
    try:
        with open(path, "rb") as handle:
            start = handle.read(max(map(len, signatures)))
    except OSError as error:
        raise UserError(f"cannot read {what} {str(path)!r} ({error.strerror or type(error).__name__}); "
                        f"expected {expected}") from None
    if not any(start.startswith(signature) for signature in signatures):
        raise UserError(f"{what} {str(path)!r} is not {format_name}; expected {expected}")
