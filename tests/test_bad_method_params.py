"""A bad method parameter (`--set METHOD.PARAM=VALUE`) ends `bench run` in one line naming the value
and the valid ones (bench/settings.py's rules), exit code 2, before anything is written."""
import pytest


@pytest.mark.parametrize("flags,message", [
    (["--set", "vae.latent_dim=0"], "vae.latent_dim must be a positive integer, not 0"),
    (["--set", "vae.batch_size=-3"], "vae.batch_size must be a positive integer, not -3"),
    (["--set", "vae.lr=0"], "vae.lr (a learning rate) must be above 0, not 0.0"),
    (["--set", "vae.beta=nan"], "vae.beta takes a finite number, not nan"),
    (["--set", "vae.beta=1,x"], "vae.beta takes a number, not 'x'"),
    (["--set", "vae.latent_dim=4,5.5"], "vae.latent_dim takes an integer, not '5.5'"),
    (["--set", "vae.architecture=fc,cnn"], "unknown value for vae.architecture 'cnn'; valid: conv, fc"),
    (["--set", "vae.gamma=1"], "unknown parameter of vae 'gamma'; valid: "),
    (["--set", "beta_vae.beta=1"], "--set 'beta_vae.beta=1' names method 'beta_vae', which is not in --methods (vae)"),
    (["--set", "vae.beta=1", "--set", "vae.beta=4"],
     "--set gives vae.beta twice; give its values once, comma-separated (e.g. --set vae.beta=1,4)"),
])
def test_a_bad_parameter_fails_before_anything_is_written(quick_run, results_folder, refused, flags, message):
    refused([*quick_run, "--methods", "vae", "--out", str(results_folder), *flags], message,
            untouched=[results_folder])
