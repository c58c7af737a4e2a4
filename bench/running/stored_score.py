"""StoredScore: one metric's entry in a run folder's scores.json, curve.json (one per step) or
protocols.json, read and written through one type (docs/design.md, "Results")."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StoredScore:
    """The values one metric gave a run (key -> number), the settings it was scored with (None
    where a score stored before settings were recorded: legacy.scored_with reads it as made with
    the metric's legacy settings) and the library versions (None where the file keeps none:
    protocols.json)."""
    settings: dict | None
    values: dict
    versions: dict | None = None

    @classmethod
    def from_json(cls, entry) -> StoredScore:
        """An entry as the file holds it, {"settings", "values", "versions"}; a ValueError where it
        is not one (not an object, or values that are not an object)."""
        if not isinstance(entry, dict) or not isinstance(entry.get("values"), dict):
            raise ValueError(f"a stored score is {{\"settings\", \"values\", \"versions\"}}, not {entry!r:.80}")
        return cls(entry.get("settings"), entry["values"], entry.get("versions"))

    def to_json(self) -> dict:
        """The entry as the files hold it, keys in this order, a field that is None left out (so
        an entry read and written again keeps its bytes)."""
        entry = {"settings": self.settings, "values": self.values, "versions": self.versions}
        return {name: value for name, value in entry.items() if name == "values" or value is not None}


def stored_scores(content) -> dict[str, StoredScore]:
    """scores.json (or one step of curve.json, or protocols.json) read as name -> StoredScore; a
    ValueError where it is not an object of stored scores."""
    if not isinstance(content, dict):
        raise ValueError(f"stored scores are an object of metric name -> score, not {type(content).__name__}")
    return {name: StoredScore.from_json(entry) for name, entry in content.items()}


def scores_json(scores: dict[str, StoredScore]) -> dict:
    """The inverse of stored_scores: name -> the entry as the files hold it."""
    return {name: score.to_json() for name, score in scores.items()}
