"""The harness: CLI, run specs, the one training runner, sweeps, the results store and reports."""
