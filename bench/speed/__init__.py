"""The speed layer: `bench speed`'s measurements (measure), timing the runner's own training step against a
plain PyTorch loop (plain_loop), the networks alone and their matrix products (ceiling), and
disentanglement_lib's metric code on the same samples (reference)."""
