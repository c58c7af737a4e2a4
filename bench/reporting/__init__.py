"""The reporting layer: tables, claims, statistics and figures read from a results folder, never retraining."""
