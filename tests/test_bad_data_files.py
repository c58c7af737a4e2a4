"""A data file that is not what `--data-path` needs ends `bench run` in one line naming the file and
what was expected, exit code 2, before anything is written; nothing in it is unpickled."""
import numpy as np
import pytest


def written(path, content: bytes):
    path.write_bytes(content)
    return path


def npz_with(path, **arrays):
    np.savez(path, **arrays)                            # np.savez names it path + ".npz"
    return path.with_name(path.name + ".npz")


@pytest.mark.parametrize("make,messages", [
    (lambda p: written(p, b"root:x:0:0:root:/root:/bin/bash\n"),
     ["is not an .npz archive; expected the original dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"]),
    (lambda p: written(p, b"PK\x03\x04 truncated zip"), ["cannot read dSprites file", "BadZipFile"]),
    (lambda p: npz_with(p, images=np.zeros(3)), ["has no array 'imgs'"]),
    (lambda p: npz_with(p, imgs=np.array([{"a": 1}], dtype=object), latents_classes=np.zeros((1, 6))),
     ["it holds Python objects, not plain arrays; they are not loaded"]),
    (lambda p: npz_with(p, imgs=np.zeros((2, 64, 64), np.uint8), latents_classes=np.zeros((2, 6))),
     ["passwd.npz': imgs has shape (2, 64, 64); expected (737280, 64, 64)"]),
])
def test_a_file_that_is_not_dsprites_is_one_line(quick_run, tmp_path, refused, make, messages):
    path = make(tmp_path / "passwd")
    out = tmp_path / "out"
    error = refused([*quick_run, "--methods", "vae", "--dataset", "dsprites", "--data-path", str(path),
                     "--out", str(out)], *messages, untouched=[out])
    assert "pickled" not in error and "allow_pickle" not in error


def test_etc_passwd_as_data_path(quick_run, tmp_path, refused):
    refused([*quick_run, "--methods", "vae", "--dataset", "dsprites", "--data-path", "/etc/passwd",
             "--out", str(tmp_path / "out")], "dSprites file '/etc/passwd' is not an .npz archive",
            untouched=[tmp_path / "out"])


def test_a_data_path_for_a_dataset_that_reads_no_file(quick_run, tmp_path, refused):
    refused([*quick_run, "--methods", "vae", "--out", str(tmp_path / "out"), "--data-path", "/tmp/dsprites.npz"],
            "--data-path '/tmp/dsprites.npz' was given for dataset 'dsprites_small', which reads no file",
            "--data-path is for dsprites (dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz), shapes3d (3dshapes.h5)",
            untouched=[tmp_path / "out"])
