"""The release: the sdist and the wheel as a user gets them.

Builds the sdist from a copy of this tree and the wheel from the unpacked
sdist (as `python -m build` does), with the installed setuptools: no
network. The wheel goes into a fresh virtual environment whose other
dependencies come from this one (a `.pth` line), so nothing is downloaded;
there `import keras_lr`, the `keras-lr` command, and a `.keras` file saved
by the test process and loaded and trained on there, must work.

Runs once, on the TensorFlow pass of `make test` (not `backend_neutral`).
"""

import configparser
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile

import keras
import numpy as np
import pytest

import keras_lr
from tests.support.paths import ROOT

NAME = f"keras_lr-{keras_lr.__version__}"
_IGNORED = shutil.ignore_patterns(
    ".git", ".venv", ".venv-notf", "__pycache__", "*.pyc", "build", "dist",
    "*.egg-info", ".pytest_cache", ".hypothesis", "runs", ".ci",
)


def _build(hook, source, out):
    subprocess.run(
        [sys.executable, "-c",
         f"import sys, setuptools.build_meta as b; b.{hook}(sys.argv[1])", out],
        cwd=source, check=True, capture_output=True, timeout=300,
    )


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    """`(sdist path, wheel path, unpacked sdist directory)`."""
    tmp = tmp_path_factory.mktemp("dist")
    source, out = tmp / "source", tmp / "out"
    shutil.copytree(ROOT, source, ignore=_IGNORED)
    out.mkdir()
    _build("build_sdist", source, out)
    (sdist,) = out.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        archive.extractall(tmp / "unpacked", filter="data")
    unpacked = tmp / "unpacked" / NAME
    _build("build_wheel", unpacked, out)
    (wheel,) = out.glob("*.whl")
    return sdist, wheel, unpacked


def _tree_files(directory):
    """Every file under `directory` but what `_IGNORED` leaves out, as
    paths relative to the root."""
    files = set()
    for folder, subfolders, names in os.walk(os.path.join(ROOT, directory)):
        skip = _IGNORED(folder, subfolders + names)
        subfolders[:] = [name for name in subfolders if name not in skip]
        files.update(
            os.path.relpath(os.path.join(folder, name), ROOT).replace(os.sep, "/")
            for name in names if name not in skip
        )
    return files


def test_the_sdist_holds_the_licence_and_everything_the_tests_need(dist):
    """What `make test` needs from an unpacked sdist: every file of the
    package, the tests (modules, support modules, data files), the examples
    and the benchmarks, and the top-level files. (That the suite collects
    from such a tree is what this very run shows.)"""
    sdist, _, _ = dist
    with tarfile.open(sdist) as archive:
        names = {name.removeprefix(NAME + "/") for name in archive.getnames()}
    for required in ("LICENSE", "README.md", "CHANGELOG.md", "CONTRIBUTING.md",
                     "setup.cfg", "pyproject.toml", "MANIFEST.in", "Makefile",
                     "keras_lr_cli.py"):
        assert required in names
    for directory in ("keras_lr", "tests", "examples", "bench", "docs"):
        files = _tree_files(directory)
        assert len(files) > 1 and files <= names, sorted(files - names)
    assert not [name for name in names if "__pycache__" in name]


def test_the_wheel_holds_the_licence_metadata_and_no_tests(dist):
    _, wheel, _ = dist
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = archive.read(f"{NAME}.dist-info/METADATA").decode()
        entry_points = archive.read(f"{NAME}.dist-info/entry_points.txt").decode()
        licence = archive.read(f"{NAME}.dist-info/licenses/LICENSE").decode()
    with open(os.path.join(ROOT, "LICENSE")) as file:
        assert licence == file.read()
    assert "Apache License" in licence and "Version 2.0, January 2004" in licence
    assert "keras_lr_cli.py" in names
    # `python -m keras_lr`, and the file the front runs before keras_lr is
    # imported (it loads it by path).
    assert {"keras_lr/__main__.py", "keras_lr/demo/startup.py"} <= names
    # PEP 561: the type hints are for type checkers too.
    assert "keras_lr/py.typed" in names
    assert not [name for name in names if name.startswith(("tests/", "examples/"))]
    headers = [line for line in metadata.split("\n\n")[0].splitlines()]
    assert "License: Apache-2.0" in headers
    assert "License-File: LICENSE" in headers
    assert "Requires-Python: >=3.11" in headers
    # Only versions the suite has run on are listed: this one must be.
    assert (
        f"Classifier: Programming Language :: Python :: "
        f"{sys.version_info.major}.{sys.version_info.minor}"
    ) in headers
    assert "keras-lr = keras_lr_cli:main" in entry_points


def test_dev_holds_everything_the_demo_and_the_docs_install():
    config = configparser.ConfigParser()
    config.read(os.path.join(ROOT, "setup.cfg"))
    extras = config["options.extras_require"]

    def requirements(extra):
        return {line.strip() for line in extras[extra].splitlines()
                if line.strip() and not line.strip().startswith("#")}

    assert requirements("examples") <= requirements("dev")
    # `make test`'s JAX pass installs `jax` and `test`, and no TensorFlow.
    assert requirements("test") <= requirements("dev")
    assert requirements("tensorflow") <= requirements("examples")
    assert requirements("tensorflow") <= requirements("dev")
    for extra in ("jax", "test"):
        assert not [r for r in requirements(extra) if r.startswith("tensorflow")]
    assert not [r for r in config["options"]["install_requires"].splitlines()
                if r.strip().startswith("tensorflow")]
    # `make test` builds the documentation site.
    assert requirements("docs") <= requirements("dev")
    assert not {"pytest", "hypothesis", "jax"} & {
        requirement.split(">")[0].split("=")[0]
        for requirement in requirements("examples")
    }


@pytest.fixture(scope="module")
def venv(dist, tmp_path_factory):
    """A fresh venv with the wheel; the rest from this environment."""
    _, wheel, _ = dist
    path = tmp_path_factory.mktemp("venv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)],
                   check=True, timeout=120)
    python = path / "bin" / "python"
    # The wheel goes in first, into an empty environment: pip then sees no
    # other keras_lr to replace (not even this tree's `keras_lr.egg-info`,
    # which an editable install leaves here, through PYTHONPATH=.).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install",
         "--quiet", "--no-deps", "--no-index", str(wheel)],
        check=True, capture_output=True, timeout=300, env=env,
    )
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    # Appended after the venv's own site-packages, and `.pth` files are not
    # run from a directory added this way: this environment's editable
    # keras_lr stays invisible there.
    parents = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    with open(os.path.join(site, "parent_environment.pth"), "w") as file:
        file.write("\n".join(sorted(parents)) + "\n")
    return path, site


def _run(venv, argv, tmp_path):
    path, _ = venv
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "TF_CPP_MIN_LOG_LEVEL")}
    env.update(KERAS_BACKEND="tensorflow", PATH=f"{path / 'bin'}:{env['PATH']}")
    # Not from this tree: the current directory would shadow the wheel.
    return subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300)


def test_the_command_runs_from_the_wheel(venv, tmp_path):
    path, _ = venv
    script = str(path / "bin" / "keras-lr")
    result = _run(venv, [script, "--help"], tmp_path)
    assert result.returncode == 0 and result.stdout.startswith("usage: keras-lr")
    result = _run(venv, [script, "--version"], tmp_path)
    assert result.stdout == f"keras-lr {keras_lr.__version__}\n"
    result = _run(venv, [script, "list"], tmp_path)
    assert result.returncode == 0
    assert "  cosine_annealing (CosineAnnealing)" in result.stdout


_LOAD = """
import sys
import keras, numpy as np
import keras_lr
assert keras_lr.__file__.startswith(sys.argv[2]), keras_lr.__file__
model = keras.models.load_model(sys.argv[1] + "/model.keras")
schedule = keras.saving.deserialize_keras_object(
    model.optimizer.get_config()["learning_rate"])
expected = keras_lr.schedules.Warmup(
    keras_lr.schedules.CosineAnnealing(0.1, 40), warmup_steps=8)
assert schedule == expected, schedule
assert int(model.optimizer.iterations) == 16
assert float(model.optimizer.learning_rate) == np.float32(expected.numpy(16))
x = np.random.RandomState(0).rand(64, 3).astype("float32")
y = x.sum(axis=1, keepdims=True)
model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
assert int(model.optimizer.iterations) == 32
np.testing.assert_allclose(
    model.get_weights()[0], np.load(sys.argv[1] + "/expected.npy"), rtol=1e-6)
print("continued")
"""


def test_a_keras_file_saved_in_one_process_loads_and_trains_in_another(
    venv, tmp_path
):
    """Saved here, by this tree's keras_lr; loaded and trained on by the
    wheel's, in its own process."""
    path, site = venv
    x = np.random.RandomState(0).rand(64, 3).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    schedule = keras_lr.schedules.Warmup(
        keras_lr.schedules.CosineAnnealing(0.1, 40), warmup_steps=8)
    model.compile(keras.optimizers.SGD(schedule, momentum=0.9), loss="mse")
    model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    model.save(tmp_path / "model.keras")
    # What the other process must reach: two more epochs, here.
    model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    np.save(tmp_path / "expected.npy", model.get_weights()[0])
    loaded = _run(venv, [str(path / "bin" / "python"), "-c", _LOAD, str(tmp_path), site],
                  tmp_path)
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    assert loaded.stdout == "continued\n"
