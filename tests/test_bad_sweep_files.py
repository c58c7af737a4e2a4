"""A bad sweep file given to `bench run --config`: one line naming the file, the bad key or value and
the valid ones, exit code 2, nothing on disk changed. Each key's own rules: tests/test_config.py."""
import pytest


@pytest.mark.parametrize("toml,message", [
    ('methods = ["vae"\nsteps = 10\n', "sweep.toml: invalid TOML: "),
    ('methods = ["vae"]\nsteps = 10\nseed = 3\n', "sweep.toml: unknown key 'seed'; valid: "),
    ('methods = ["beta_vae"]\n[params.beta_vae]\nbeta = [1, "four"]\n', "beta_vae.beta takes a number, not 'four'"),
    ('methods = ["beta_vae"]\nsteps = 1.5\n', "steps takes a positive number of training steps, not a number (1.5)"),
])
def test_a_bad_sweep_file(quick_run, tmp_path, results_folder, refused, toml, message):
    path = tmp_path / "sweep.toml"
    path.write_text(toml)
    refused([*quick_run, "--config", str(path), "--out", str(results_folder)], message, untouched=[results_folder])


def test_malformed_toml_names_file_and_line(tmp_path, refused):
    path = tmp_path / "sweep.toml"
    path.write_text('methods = ["vae"]\n\nsteps = = 10\n')
    refused(["run", "--config", str(path), "--out", str(tmp_path / "out")], f"{path}: invalid TOML: ",
            "(at line 3, column", untouched=[tmp_path / "out"])


def test_a_sweep_file_that_does_not_exist(quick_run, results_folder, refused):
    refused([*quick_run, "--methods", "beta_vae", "--out", str(results_folder), "--config", "/nonexistent/sweep.toml"],
            "cannot read sweep file '/nonexistent/sweep.toml'", untouched=[results_folder])
