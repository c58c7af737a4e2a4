"""A worked example of plug-ins for disentanglement-bench (docs/plugins.md): InfoVAE (a method the
harness does not ship), max_correlation (a metric) and bars (a procedural dataset), each found by
the harness through this package's entry points."""
