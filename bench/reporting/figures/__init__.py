"""The figures of a results folder, one module per figure or family of figures; each gathers its
data first into a plain value (a dataclass or a DataFrame, testable without drawing) and draws it
second. bench/reporting/plots.py gathers what a folder's figures show and calls them.

    drawing          what the figures share: matplotlib set up headless, saving, image grids
    chance           the chance level of each metric key, as the metrics declare it
    metric_bars      metrics.png: each metric's headline key per configuration
    score_curves     curves.png: scores against the images seen
    training         training_curves*.png and kl_per_latent.png, from the runs' logs
    normalised_beta  metric_vs_normalised_beta.png: the paper's beta sweep
    generated        traversals, reconstructions and samples, from a run's checkpoint
    paper            replicas.png and protocols.png: a reproduction beside the paper
    methods_compared method_seeds.png and metric_correlation.png: the methods of a folder compared
                     (bench/reporting/method_comparison.py)
"""
