"""The running layer: run specs and sweep files, the one training runner, sweeps, and the results store."""
