"""`keras_lr.compare` and `keras-lr compare` on a tiny model of their own.

A Dense model on 3 features (200 samples, 2 epochs, 1-2 seeds) trains in
this process (`engine="inline"`), except where a test checks the worker
processes, the Ray engine (a local Ray of 2 CPUs on 127.0.0.1, for this
module) or a killed comparison. Each run logs its rate and writes its
`history.json`; the tests read those back.
"""

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import keras
import numpy as np
import pytest

import keras_lr
from keras_lr.comparison import Run
from keras_lr.comparison.tensorboard import read_scalars
from tests.support.command import run_main
from tests.support.paths import ROOT

LOSS = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
SAMPLES, BATCH = 200, 32


def build_model():
    return keras.Sequential([keras.Input((3,)), keras.layers.Dense(3)])


def arrays(samples=SAMPLES, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(samples, 3)).astype("float32")
    return x, np.argmax(x, axis=1).astype("int64")


def quiet(_):
    pass


def compare(data, runs, tmp_path, **kwargs):
    options = dict(seeds=2, epochs=2, out=str(tmp_path), loss=LOSS,
                   batch_size=BATCH, engine="inline", report=quiet)
    options.update(kwargs)
    return keras_lr.compare(build_model, data, runs, **options)


def history(run_dir):
    with open(os.path.join(run_dir, "history.json")) as file:
        return json.load(file)


# --- the API -------------------------------------------------------------------


@pytest.fixture(scope="module")
def on_arrays(tmp_path_factory):
    out = tmp_path_factory.mktemp("arrays")
    # "same" is the baseline under another name: with the same initial
    # weights and batch order it must train to the same numbers.
    return compare(arrays(), ["cosine", Run("same", 0.1)], out)


def test_arrays_are_split_and_every_run_trains_with_every_seed(on_arrays):
    result = on_arrays
    assert list(result.results) == ["constant", "cosine", "same"]
    assert result.settings["steps_per_epoch"] == 5  # 160 samples, batch 32
    assert result.settings["data_description"].startswith(
        "160 training and 40 validation samples"
    )
    assert [(row["schedule"], row["seed"]) for row in result.runs] == [
        (name, seed) for seed in (0, 1) for name in ("constant", "cosine", "same")
    ]
    for name, schedule in (("constant", keras_lr.schedules.Constant(0.1)),
                           ("cosine", keras_lr.schedules.CosineAnnealing(0.1, 10))):
        for run_dir in result.results[name].run_dirs:
            steps, rates = read_scalars(os.path.join(run_dir, "train"), "learning_rate")
            assert steps.tolist() == list(range(10))
            np.testing.assert_allclose(rates, schedule.numpy(np.arange(10)), rtol=1e-6)


def test_within_a_seed_every_run_starts_alike_and_sees_the_same_batches(on_arrays):
    results = on_arrays.results
    assert results["same"].histories == results["constant"].histories
    # ... and the seeds differ.
    assert results["constant"].histories[0] != results["constant"].histories[1]


def test_the_summary_is_the_histories_paired_with_the_baseline(on_arrays):
    result = on_arrays
    rows = {row["schedule"]: row for row in result.summary}
    base = [h["val_accuracy"][-1] for h in result.results["constant"].histories]
    cosine = [h["val_accuracy"][-1] for h in result.results["cosine"].histories]
    assert rows["cosine"]["final_val_accuracy_mean"] == pytest.approx(np.mean(cosine))
    assert rows["cosine"]["val_accuracy_difference"] == pytest.approx(
        np.mean(np.subtract(cosine, base))
    )
    assert rows["same"]["val_accuracy_difference"] == 0
    assert rows["same"]["loss_ratio"] == pytest.approx(1.0)
    assert rows["constant"]["val_accuracy_verdict"] == "baseline"
    assert "cosine" in result.table and "same" in result.table
    for name in ("summary.md", "summary.csv", "runs.csv", "comparison.png",
                 "experiment.json"):
        assert os.path.isfile(os.path.join(result.directory, name)), name


def test_datasets_train_with_their_own_batches(tmp_path):
    import tensorflow as tf

    x, y = arrays()
    train = tf.data.Dataset.from_tensor_slices((x[:150], y[:150])).batch(50)
    validation = tf.data.Dataset.from_tensor_slices((x[150:], y[150:])).batch(50)
    result = compare((train, validation), ["linear"], tmp_path, seeds=1)
    assert result.settings["steps_per_epoch"] == 3
    assert result.settings["data"] == "datasets"
    steps, rates = read_scalars(
        os.path.join(result.results["linear"].run_dirs[0], "train"), "learning_rate"
    )
    np.testing.assert_allclose(rates, 0.1 * (1 - np.arange(6) / 6), rtol=1e-6, atol=1e-9)
    # The baseline's last validation accuracy is the model's on the
    # validation dataset: evaluated again from the same seed and training.
    keras.utils.set_random_seed(0)
    model = build_model()
    model.compile(keras.optimizers.SGD(0.1, momentum=0.9), LOSS, metrics=["accuracy"])
    model.fit(train, epochs=2, verbose=0, shuffle=False)
    _, accuracy = model.evaluate(validation, verbose=0)
    assert result.results["constant"].histories[0]["val_accuracy"][-1] == (
        pytest.approx(accuracy, abs=1e-6)
    )


def shuffled_datasets():
    """A function returning datasets: called after the seed is set, once per
    training, so that a shuffled dataset repeats its order within a seed."""
    import tensorflow as tf

    x, y = arrays()
    train = tf.data.Dataset.from_tensor_slices((x[:150], y[:150]))
    validation = tf.data.Dataset.from_tensor_slices((x[150:], y[150:])).batch(50)
    return train.shuffle(150).batch(50), validation


def test_a_function_returning_shuffled_datasets_keeps_the_pairs(tmp_path):
    result = compare(shuffled_datasets, [Run("same", 0.1)], tmp_path)
    results = result.results
    assert results["same"].histories == results["constant"].histories


def explode(learning_rate):
    raise RuntimeError("the user's optimizer factory is broken")


def test_a_failing_run_is_recorded_and_the_others_go_on(tmp_path):
    result = compare(arrays(), [
        Run("diverges", 1e38), Run("broken", 0.1, optimizer=explode), "cosine",
    ], tmp_path, seeds=2)
    rows = {(row["schedule"], row["seed"]): row for row in result.runs}
    for seed in (0, 1):
        assert rows[("cosine", seed)]["status"] == "ok"
        assert rows[("broken", seed)]["status"] == "failed"
        assert rows[("broken", seed)]["error"] == (
            "RuntimeError: the user's optimizer factory is broken"
        )
        diverged = rows[("diverges", seed)]
        assert diverged["status"] == "failed"
        assert diverged["error"].startswith("FloatingPointError: the training loss is")
    summary = {row["schedule"]: row for row in result.summary}
    assert summary["broken"]["seeds"] == 0
    assert summary["broken"]["val_accuracy_verdict"] == "failed"
    assert summary["broken"]["failed_seeds"] == [0, 1]
    assert summary["cosine"]["seeds"] == 2
    text = open(os.path.join(result.directory, "summary.md")).read()
    assert "broken seed 1: RuntimeError: the user's optimizer factory is broken" in text
    assert "| broken | failed |" in text


def test_peaks_search_with_the_first_seed_then_train_every_seed_at_the_best(tmp_path):
    result = compare(arrays(), ["cosine"], tmp_path, peaks=[0.01, 1.0], seeds=2)
    search = result.peak_search
    assert set(search) == {"constant", "cosine"}
    for name in ("constant", "cosine"):
        scores = search[name]
        assert sorted(scores) == [0.01, 1.0]
        best = max(scores, key=lambda scale: (scores[scale], -scale))
        chosen = result.results[name]
        assert chosen.scale == best
        assert chosen.peak_learning_rate == pytest.approx(0.1 * best)
        # Seed 0 is the search run at the chosen peak; seed 1 trained at it.
        assert chosen.run_dirs[0].endswith(os.path.join(name, "peaks", f"x{best:.4g}",
                                                        "seed-0"))
        assert history(chosen.run_dirs[1])["scale"] == best
        steps, rates = read_scalars(os.path.join(chosen.run_dirs[1], "train"),
                                    "learning_rate")
        assert rates.max() == pytest.approx(0.1 * best, rel=1e-6)
    # The search trains 2 x 2, then 2 runs for seed 1.
    assert [row["phase"] for row in result.runs].count("search") == 2
    assert len(result.runs) == 4
    rows = {row["schedule"]: row for row in result.summary}
    assert rows["cosine"]["peak_learning_rate"] == pytest.approx(
        0.1 * result.results["cosine"].scale)
    assert "peak rate" in result.table


def test_bad_arguments_are_refused_before_any_training(tmp_path):
    def raises():
        raise ValueError("no such layer")

    with pytest.raises(ValueError, match="Argument `build_model` raised ValueError: no such layer"):
        keras_lr.compare(raises, arrays(), ["cosine"], out=str(tmp_path), loss=LOSS,
                         report=quiet)
    x, y = arrays()
    with pytest.raises(ValueError, match="Argument `data` does not fit the model"):
        compare((x[:, :2], y), ["cosine"], tmp_path)
    with pytest.raises(ValueError, match="as many labels as inputs"):
        compare((x, y[:10]), ["cosine"], tmp_path)
    with pytest.raises(ValueError, match="Argument `runs` must hold names of"):
        compare((x, y), ["cosinus"], tmp_path)
    with pytest.raises(ValueError, match="Argument `loss` is required"):
        keras_lr.compare(build_model, (x, y), ["cosine"], out=str(tmp_path),
                         report=quiet)
    with pytest.raises(ValueError, match="Argument `peaks` must be at least 2"):
        compare((x, y), ["cosine"], tmp_path, peaks=1)
    assert os.listdir(tmp_path) == []


# --- the Ray engine ------------------------------------------------------------------

#: Ray's single-machine mode (its default on macOS and Windows): every Ray
#: server listens on 127.0.0.1 only. Read when `ray` is imported.
_RAY_ENVIRONMENT = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
                    "RAY_USAGE_STATS_ENABLED": "0"}


@contextlib.contextmanager
def deadline(seconds):
    """A `TimeoutError` in this thread after `seconds` (the Ray engine
    waits a second at a time, so it stops within a second)."""
    def expired(signum, frame):
        raise TimeoutError(f"over {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture(scope="module")
def ray_cluster():
    """A local Ray of 2 CPUs on 127.0.0.1, shut down after this module."""
    saved = {key: os.environ.get(key) for key in _RAY_ENVIRONMENT}
    os.environ.update(_RAY_ENVIRONMENT)
    assert "ray" not in sys.modules, "ray imported before its environment was set"
    import ray

    try:
        with deadline(60):
            # No idle workers started beforehand: the engine's tasks ask for
            # workers with their own environment, and would not use them.
            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
                     _system_config={"enable_worker_prestart": False})
        assert ray.get_runtime_context().gcs_address.startswith("127.0.0.1:")
        assert {node["NodeManagerAddress"] for node in ray.nodes()} == {"127.0.0.1"}
        yield ray
    finally:
        ray.shutdown()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="module")
def on_ray(ray_cluster, tmp_path_factory):
    """The runs of `on_arrays` but "same", and a broken one, as Ray tasks."""
    printed = []
    with deadline(120):
        result = compare(arrays(), ["cosine", Run("broken", 0.1, optimizer=explode)],
                         tmp_path_factory.mktemp("ray"), engine="ray",
                         report=printed.append)
    return result, printed


def cells(table, name):
    """The cells of `name`'s row in a printed table."""
    (line,) = [line for line in table.splitlines() if line.startswith(name + " ")]
    return re.split(r"\s{2,}", line.strip())


def test_ray_trains_the_numbers_of_the_local_engine(on_ray, on_arrays):
    result, printed = on_ray
    assert result.settings["engine"] == "ray"
    for name in ("constant", "cosine"):
        assert result.results[name].histories == on_arrays.results[name].histories
        assert cells(result.table, name) == cells(on_arrays.table, name)
        ray_row, local_row = ({key: value for key, value in row.items()
                               if "wall_time" not in key}
                              for rows in (result.summary, on_arrays.summary)
                              for row in rows if row["schedule"] == name)
        assert ray_row == local_row
        # The rate of every update, read back from the driver's directory:
        # the worker sent its TensorBoard files.
        for ray_dir, local_dir in zip(result.results[name].run_dirs,
                                      on_arrays.results[name].run_dirs):
            assert ray_dir.startswith(result.directory)
            ray_steps, ray_rates = read_scalars(os.path.join(ray_dir, "train"),
                                                "learning_rate")
            steps, rates = read_scalars(os.path.join(local_dir, "train"), "learning_rate")
            assert ray_steps.tolist() == steps.tolist() == list(range(10))
            assert ray_rates.tolist() == rates.tolist()
            # events.out.tfevents.<time>.<host>.<pid>.<n>.<suffix>: the rates
            # and epoch metrics by a worker, the HParams by this process.
            writers = [int(name.split(".")[-3])
                       for name in sorted(os.listdir(os.path.join(ray_dir, "train")))]
            assert writers[-1] == os.getpid() and os.getpid() not in writers[:-1]
    # The failed run is recorded, and the others went on.
    rows = {(row["schedule"], row["seed"]): row for row in result.runs}
    assert [rows[("broken", seed)]["error"] for seed in (0, 1)] == [
        "RuntimeError: the user's optimizer factory is broken"] * 2
    assert [rows[(name, seed)]["status"] for name in ("constant", "cosine")
            for seed in (0, 1)] == ["ok"] * 4
    assert "| broken | failed |" in open(os.path.join(result.directory, "summary.md")).read()
    # One line per finished training, with the time left but on the last.
    assert "Ray tasks of 1 CPU on 2 CPUs and 0 GPUs, 2 at a time" in printed[1]
    lines = [line for line in printed if line.startswith("[")]
    assert [line[:5] for line in lines] == [f"[{k}/6]" for k in range(1, 7)]
    assert all(re.search(r" s  about .+ left$", line) for line in lines[:-1])
    assert re.search(r"\d s$", lines[-1])
    assert sum("FAILED: RuntimeError" in line for line in lines) == 2


def test_ray_resumes_the_missing_and_failed_runs_only(on_ray, tmp_path):
    result, _ = on_ray
    directory = shutil.copytree(result.directory, tmp_path / "copy", symlinks=True)
    # cosine seed 1 killed half-way: its TensorBoard files, no history.json.
    os.remove(directory / "cosine" / "seed-1" / "history.json")
    kept = {folder: (directory / folder / "history.json").read_bytes()
            for folder in ("constant/seed-0", "constant/seed-1", "cosine/seed-0")}
    printed = []
    with deadline(120):
        resumed = compare(arrays(), ["cosine", Run("broken", 0.1, optimizer=explode)],
                          directory, engine="ray", resume=True, report=printed.append)
    assert os.path.realpath(resumed.directory) == os.path.realpath(directory)
    assert any("Runs: 3 of 6 runs already finished" in line for line in printed)
    progress = [line for line in printed if line.startswith("[")]
    trained = sorted(re.match(r"\[\d/6\] (\S+) +seed (\d)", line).groups()
                     for line in progress)
    assert trained == [("broken", "0"), ("broken", "1"), ("cosine", "1")]
    # Counted on from the 3 finished before: the last line is [6/6].
    assert [line[:5] for line in progress] == ["[4/6]", "[5/6]", "[6/6]"]
    assert "left" not in progress[-1]
    for folder, text in kept.items():
        assert (directory / folder / "history.json").read_bytes() == text
    assert resumed.results["cosine"].histories == result.results["cosine"].histories
    assert resumed.table == result.table


def test_ray_refuses_an_address_where_this_process_is_connected(ray_cluster, tmp_path):
    with pytest.raises(ValueError, match="connected to Ray already.*Received: "
                       "address='127.0.0.1:1'"):
        compare(arrays(), ["cosine"], tmp_path, engine="ray", address="127.0.0.1:1")
    assert os.listdir(tmp_path) == []


def test_ray_refuses_what_it_cannot_send_before_any_training(ray_cluster, tmp_path):
    # (`ray_cluster`: this test imports ray, which must come after the
    # fixture's environment.)
    import tensorflow as tf

    x, y = arrays()
    datasets = (tf.data.Dataset.from_tensor_slices((x, y)).batch(50),
                tf.data.Dataset.from_tensor_slices((x, y)).batch(50))
    with pytest.raises(ValueError, match="Argument `engine`: Ray cannot send"):
        compare(datasets, ["cosine"], tmp_path, engine="ray")
    with pytest.raises(ValueError, match="Argument `gpus_per_run` must be a finite number >= 0. "
                       "Received: gpus_per_run=-1"):
        compare((x, y), ["cosine"], tmp_path, engine="ray", gpus_per_run=-1)
    with pytest.raises(ValueError, match="Argument `gpus_per_run` is what each Ray task"):
        compare((x, y), ["cosine"], tmp_path, gpus_per_run=1)
    assert os.listdir(tmp_path) == []


def test_without_ray_the_engine_names_the_extra_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises
    with pytest.raises(ImportError, match=r"Argument `engine` is 'ray', which needs "
                       r"Ray.*pip install \"keras_lr\[ray\]\".*Received: engine='ray'"):
        compare(arrays(), ["cosine"], tmp_path, engine="ray")
    with pytest.raises(ValueError, match="Argument `address` is the Ray cluster"):
        compare(arrays(), ["cosine"], tmp_path, address="head:6379")
    assert os.listdir(tmp_path) == []


# --- resume after kill -9 ------------------------------------------------------------

_KILLED = textwrap.dedent("""
    import sys
    import keras
    import numpy as np
    import keras_lr
    from tests.tool import test_compare as t

    keras_lr.compare(
        t.build_model, t.arrays(), ["cosine"], seeds=2, epochs=2,
        out=sys.argv[1], loss=t.LOSS, batch_size=t.BATCH, engine="inline",
        resume=len(sys.argv) > 2,
    )
""")


def test_resume_after_kill_9_keeps_the_finished_runs(tmp_path):
    out = tmp_path / "out"
    script = tmp_path / "killed.py"
    script.write_text(_KILLED)
    env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="3")
    process = subprocess.Popen([sys.executable, str(script), str(out)], cwd=ROOT,
                               env=env, stdout=subprocess.PIPE, text=True)
    finished = []
    deadline = time.monotonic() + 120
    try:
        while not finished and time.monotonic() < deadline:
            assert process.poll() is None, "finished before it was killed"
            finished = [folder for folder, _, files in os.walk(out)
                        if "history.json" in files]
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert 1 <= len(finished) < 4
    kept = {folder: open(os.path.join(folder, "history.json")).read()
            for folder in finished}
    printed = []
    result = keras_lr.compare(
        build_model, arrays(), ["cosine"], seeds=2, epochs=2, out=str(out),
        loss=LOSS, batch_size=BATCH, engine="inline", resume=True,
        report=printed.append,
    )
    assert os.path.dirname(result.directory) == str(out)
    assert len(os.listdir(out)) == 2  # the directory and `latest`: no new one
    for folder, text in kept.items():  # untouched
        assert open(os.path.join(folder, "history.json")).read() == text
    trained = [line for line in printed if line.startswith("[")]
    assert [line[:5] for line in trained] == [
        f"[{k}/4]" for k in range(len(finished) + 1, 5)]
    assert any(f"{len(finished)} of 4 runs already finished" in line for line in printed)
    assert [row["status"] for row in result.runs] == ["ok"] * 4
    # A killed run left no half files behind: its folder was started again.
    for row in result.runs:
        folder = os.path.join(result.directory, row["run_dir"])
        assert not [name for name in os.listdir(folder) if name.endswith(".tmp")]
    # Resumed, the same seeds train the same numbers as in one go.
    fresh = compare(arrays(), ["cosine"], tmp_path / "fresh")
    for name in ("constant", "cosine"):
        assert result.results[name].histories == fresh.results[name].histories


def test_resume_refuses_other_settings(tmp_path):
    compare(arrays(), ["cosine"], tmp_path, seeds=1, epochs=1)
    with pytest.raises(ValueError, match="compares with epochs=1, not 2"):
        compare(arrays(), ["cosine"], tmp_path, seeds=1, epochs=2, resume=True)


# --- the command ---------------------------------------------------------------------

_MODULE = textwrap.dedent("""
    import keras
    import numpy as np

    def build_model():
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(3)])
        model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        return model

    def broken_model():
        raise ValueError("my builder is broken")

    def load():
        rng = np.random.default_rng(0)
        x = rng.normal(size=(200, 3)).astype("float32")
        return x, np.argmax(x, axis=1)

    def wrong_shape():
        x, y = load()
        return x[:, :2], y

    VALUE = 3
""")


@pytest.fixture
def user_package(tmp_path, monkeypatch):
    package = tmp_path / "my_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "experiment.py").write_text(_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_command_compares_module_functions_in_worker_processes(user_package, capsys):
    out = user_package / "runs"
    status, printed, err = run_main([
        "compare", "my_pkg.experiment:build_model", "--data", "my_pkg.experiment:load",
        "--runs", "cosine", "--seeds", "1", "--epochs", "1", "--batch-size", "40",
        "--out", str(out), "--jobs", "1",
    ], capsys)
    assert status == 0, err
    (directory,) = [d for d in os.listdir(out) if d != "latest"]
    assert directory.endswith("_build_model_1ep_1seed")
    settings = json.load(open(out / directory / "experiment.json"))
    assert settings["engine"] == "processes"
    assert settings["schedules"] == ["constant", "cosine"]
    record = history(out / directory / "cosine" / "seed-0")
    assert record["status"] == "ok" and len(record["history"]["loss"]) == 1
    assert "[2/2] " in printed and "TensorBoard: " in printed


@pytest.mark.parametrize("argv, fragment", [
    (["no_such_pkg.mod:build", "--data", "my_pkg.experiment:load"],
     "model no_such_pkg.mod:build: no module named 'no_such_pkg'"),
    (["my_pkg.experiment:build_modle", "--data", "my_pkg.experiment:load"],
     "has no 'build_modle'; did you mean `build_model`?"),
    (["my_pkg.experiment:VALUE", "--data", "my_pkg.experiment:load"],
     "my_pkg.experiment:VALUE: not a function (an int)"),
    (["my_pkg.experiment:broken_model", "--data", "my_pkg.experiment:load"],
     "Argument `build_model` raised ValueError: my builder is broken"),
    (["my_pkg.experiment:build_model", "--data", "my_pkg.experiment:wrong_shape"],
     "Argument `data` does not fit the model of `build_model`"),
    (["my_pkg.experiment:build_model", "--data", "my_pkg.experiment:load",
      "--runs", "cosin"], "unknown run 'cosin'; did you mean `cosine`"),
    (["my_pkg.experiment:build_model", "--data", "my_pkg.experiment:load",
      "--runs", "my_pkg.experiment:VALUE"], "must be a keras_lr.comparison.Run"),
    (["my_pkg:experiment:x", "--data", "my_pkg.experiment:load"],
     "must be module:function"),
    (["my_pkg.experiment:build_model", "--data", "my_pkg.experiment:load",
      "--peaks", "1"], "--peaks 1: one value is the number of peaks"),
    (["my_pkg.experiment:build_model", "--data", "my_pkg.experiment:load",
      "--address", "head:6379"], "Argument `address` is the Ray cluster of engine='ray'"),
    (["my_pkg.experiment:build_model", "--data", "my_pkg.experiment:load",
      "--gpus-per-run", "-1"], "--gpus-per-run: must be a finite number >= 0, got '-1'"),
])
def test_the_command_refuses_bad_references_in_one_line(user_package, capsys, argv,
                                                        fragment):
    out = user_package / "runs"
    status, printed, err = run_main(["compare", *argv, "--out", str(out)], capsys)
    assert status == 2
    (line,) = err.strip().splitlines()
    assert line.startswith("keras-lr compare: error: ")
    assert fragment in line
    assert not out.exists() or os.listdir(out) == []


def test_the_command_on_ray_records_runs_whose_module_the_workers_lack(
        ray_cluster, user_package, capsys):
    # `my_pkg` is on this process's path only: each Ray task fails to
    # unpickle the builder, a failed run, and with the baseline's seeds all
    # failed nothing can be compared.
    out = user_package / "runs"
    with deadline(60):
        status, printed, err = run_main([
            "compare", "my_pkg.experiment:build_model", "--data", "my_pkg.experiment:load",
            "--runs", "cosine", "--seeds", "1", "--epochs", "1", "--engine", "ray",
            "--out", str(out)], capsys)
    assert status == 1
    assert "Ray tasks of 1 CPU on 2 CPUs and 0 GPUs, 2 at a time" in printed
    assert printed.count("FAILED: ModuleNotFoundError: No module named 'my_pkg'") == 2
    assert "The baseline 'constant' failed with every seed" in err
    (directory,) = [d for d in os.listdir(out) if d != "latest"]
    record = history(out / directory / "cosine" / "seed-0")
    assert record["status"] == "failed"
    assert record["error"] == "ModuleNotFoundError: No module named 'my_pkg'"


def test_the_command_without_ray_says_which_extra_to_install(user_package, capsys,
                                                             monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)
    out = user_package / "runs"
    status, printed, err = run_main([
        "compare", "my_pkg.experiment:build_model", "--data", "my_pkg.experiment:load",
        "--engine", "ray", "--out", str(out)], capsys)
    assert status == 2
    (line,) = err.strip().splitlines()
    assert line.startswith("keras-lr compare: error: Argument `engine` is 'ray'")
    assert 'pip install "keras_lr[ray]"' in line
    assert not out.exists()


def test_the_command_on_an_address_no_ray_answers_is_one_line(user_package, capsys,
                                                               monkeypatch):
    import ray

    def refuse(**kwargs):
        raise ConnectionError(f"Could not find any running Ray instance at {kwargs}")

    # As in a process not connected to Ray (this module's local Ray may be).
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", refuse)
    out = user_package / "runs"
    status, printed, err = run_main([
        "compare", "my_pkg.experiment:build_model", "--data", "my_pkg.experiment:load",
        "--engine", "ray", "--address", "ray://nowhere:10001", "--out", str(out)],
        capsys)
    assert status == 2
    (line,) = err.strip().splitlines()
    assert line.startswith("keras-lr compare: error: Argument `address` must name a "
                           "Ray cluster this process can reach (Could not find any")
    assert line.endswith("Received: address='ray://nowhere:10001'")
    assert "[1/" not in printed  # nothing trained


_HELP = textwrap.dedent("""
    import sys
    import keras_lr_cli
    try:
        keras_lr_cli.main(["compare", "--help"])
    except SystemExit:
        pass
    assert "keras" not in sys.modules, "keras imported"
""")


def test_compare_help_needs_no_keras():
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", _HELP], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "MODULE:FUNCTION" in result.stdout and "--peaks" in result.stdout
    assert time.perf_counter() - started < 1.0
