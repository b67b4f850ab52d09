"""`keras-lr demo`: the statistical comparison, read back from what it wrote.

Two invocations share one `--out`: every schedule with two seeds (two epochs,
two workers), then two schedules with one seed in one worker. Every test
reads their files back: TensorBoard's event files with TensorBoard's own
`EventAccumulator`, the tables with `csv`.
"""

import collections
import csv
import json
import math
import os

import matplotlib
import numpy as np
import pytest
import scipy.stats
from tensorboard.backend.event_processing import event_accumulator
from tensorboard.plugins.custom_scalar import layout_pb2
from tensorboard.plugins.hparams import api_pb2
from tensorboard.plugins.hparams import plugin_data_pb2

from keras_lr import demo
from keras_lr.comparison import stats
from tests.support.command import run_command
from tests.support.command import run_main

EPOCHS = 2
STEPS_PER_EPOCH = 63  # 4,000 images in batches of 64
SEEDS = [0, 1]


Runs = collections.namedtuple(
    "Runs", ["out", "first", "second", "printed", "command", "resumed"])


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """`Runs`: `out`, the two invocations, and what each printed.

    The second invocation is the real command, at TensorFlow's most
    talkative log level (`command`, its completed process); `second` is
    what resuming it reads back from its files, with nothing left to train
    (`resumed`, the lines that printed).
    """
    out = tmp_path_factory.mktemp("mnist")
    printed = []
    first = demo.compare(
        epochs=EPOCHS, out=str(out), data="subset", seeds=len(SEEDS), quick=True,
        jobs=2, report=printed.append,
    )
    command = run_command(
        ["demo", "--schedules", "cosine", "--epochs", str(EPOCHS), "--out", str(out),
         "--data", "subset", "--seeds", "1", "--quick", "--jobs", "1"],
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="0", KERAS_BACKEND="tensorflow"),
    )
    resumed = []
    second = demo.compare(
        ["cosine"], epochs=EPOCHS, out=str(out), data="subset", seeds=1,
        quick=True, jobs=1, report=resumed.append, resume=True,
    )
    return Runs(out, first, second, printed, command, resumed)


def test_the_command_prints_no_tensorflow_lines(runs):
    command = runs.command
    assert command.returncode == 0, command.stderr
    assert command.stderr == ""
    assert "TensorBoard: " in command.stdout


def test_resuming_a_finished_comparison_trains_nothing(runs):
    second, command, resumed = runs.second, runs.command, runs.resumed
    assert list(second.results) == ["constant", "cosine"]
    assert not [line for line in resumed if line.startswith("[")], resumed
    assert any(line.endswith("all 2 runs already finished.") for line in resumed)
    assert second.table in command.stdout


def test_the_command_resumes_and_refuses_other_settings(runs, capsys):
    # `keras-lr demo --resume` with the settings of the last demo: nothing
    # left to train, the same table; with other settings: one line, exit 2.
    arguments = ["demo", "--schedules", "cosine", "--out", str(runs.out),
                 "--data", "subset", "--seeds", "1", "--quick", "--jobs", "1",
                 "--resume"]
    status, out, err = run_main([*arguments, "--epochs", str(EPOCHS)], capsys)
    assert (status, err) == (0, "")
    assert "all 2 runs already finished." in out
    assert not [line for line in out.splitlines() if line.startswith("[")]
    assert runs.second.table in out
    status, out, err = run_main([*arguments, "--epochs", str(EPOCHS + 1)], capsys)
    assert status == 2
    assert err.startswith("keras-lr demo: error: Argument `resume`: ")
    assert f"epochs={EPOCHS}, not {EPOCHS + 1}" in err
    assert len(err.splitlines()) == 1


def read_csv(path):
    with open(path, newline="") as file:
        return list(csv.DictReader(file))


def accumulator(path):
    result = event_accumulator.EventAccumulator(
        str(path),
        size_guidance={event_accumulator.SCALARS: 0, event_accumulator.TENSORS: 0},
    )
    result.Reload()
    return result


def hparams_data(run_dir):
    content = accumulator(os.path.join(run_dir, "train")).PluginTagToContent("hparams")
    return {
        tag: plugin_data_pb2.HParamsPluginData.FromString(data)
        for tag, data in content.items()
    }


def test_each_invocation_has_its_own_directory_and_latest_points_to_the_last(runs):
    out, first, second, *_ = runs
    assert first.directory != second.directory
    assert sorted(os.listdir(out)) == sorted(
        [os.path.basename(first.directory), os.path.basename(second.directory),
         "latest"]
    )
    assert os.path.realpath(out / "latest") == os.path.realpath(second.directory)
    assert os.path.basename(first.directory).endswith("_mlp_2ep_2seeds_quick")
    assert os.path.basename(second.directory).endswith("_mlp_2ep_1seed_quick")
    # The baseline is always trained: the second asked for cosine only.
    assert list(second.results) == ["constant", "cosine"]
    assert sorted(os.listdir(second.directory)) == sorted([
        "constant", "cosine", "comparison.png", "experiment.json", "runs.csv",
        "summary.csv", "summary.md",
    ])
    assert sorted(os.listdir(os.path.join(first.directory, "cosine"))) == [
        "seed-0", "seed-1"
    ]


def test_experiment_json_records_the_settings_and_versions(runs):
    _, first, second, *_ = runs
    for experiment, seeds in ((first, SEEDS), (second, [0])):
        with open(os.path.join(experiment.directory, "experiment.json")) as file:
            recorded = json.load(file)
        assert recorded["seeds"] == seeds
        assert recorded["model"] == "mlp" and recorded["epochs"] == EPOCHS
        assert recorded["data"] == "subset" and recorded["quick"] is True
        assert recorded["steps_per_epoch"] == STEPS_PER_EPOCH
        assert recorded["batch_size"] == 64
        assert {"python", "keras", "backend", "numpy", "keras_lr"} <= set(
            recorded["versions"]
        )
        assert recorded["schedules"] == list(experiment.results)


def test_runs_in_one_worker_or_two_train_the_same(runs):
    """Seed 0 of constant and cosine trained in both invocations: one worker
    of one thread each time, so the histories are bit for bit the same."""
    _, first, second, *_ = runs
    for name in ("constant", "cosine"):
        assert second.results[name].histories[0] == first.results[name].histories[0]


def test_one_tensorboard_run_per_training_run(runs):
    _, first, *_ = runs
    with_events = {
        os.path.relpath(directory, first.directory)
        for directory, _, files in os.walk(first.directory)
        if any(name.startswith("events.out.tfevents") for name in files)
    }
    assert with_events == {
        os.path.join(name, f"seed-{seed}", "train")
        for name in demo.RUNS for seed in SEEDS
    }


@pytest.mark.parametrize("name", list(demo.RUNS))
def test_every_run_logs_its_schedule_at_every_step(runs, name):
    _, first, *_ = runs
    run = demo.make_run(name, STEPS_PER_EPOCH, EPOCHS)
    expected = run.rates(np.arange(STEPS_PER_EPOCH * EPOCHS))
    # cosine_plateau: with patience 2, two epochs cannot reduce the rate.
    for steps, rates in first.results[name].rates:
        assert steps.tolist() == list(range(STEPS_PER_EPOCH * EPOCHS))
        np.testing.assert_allclose(rates, expected, rtol=1e-6, atol=1e-12)


def test_epoch_metrics_are_at_the_step_each_epoch_ended_on(runs):
    _, first, *_ = runs
    result = first.results["one_cycle"]
    events = accumulator(os.path.join(result.run_dirs[1], "train"))
    for tag in ("loss", "accuracy", "val_loss", "val_accuracy"):
        points = events.Scalars(tag)
        assert [p.step for p in points] == [63, 126]
        np.testing.assert_allclose(
            [p.value for p in points], result.histories[1][tag], rtol=1e-6
        )


def test_hparams_are_typed_with_the_key_columns_first(runs):
    _, first, *_ = runs
    data = hparams_data(first.results["cosine"].run_dirs[0])
    experiment = data["_hparams_/experiment"].experiment
    # TensorBoard shows the columns marked `differs` first, by name.
    shown = sorted(experiment.hparam_infos, key=lambda i: (not i.differs, i.name))
    assert [info.display_name for info in shown][:6] == [
        "schedule", "optimizer", "peak rate", "model", "epochs", "seed"
    ]
    infos = {info.display_name: info for info in experiment.hparam_infos}
    assert infos["schedule"].type == api_pb2.DATA_TYPE_STRING
    assert [v.string_value for v in infos["schedule"].domain_discrete.values] == (
        sorted(demo.RUNS)
    )
    assert [v.string_value for v in infos["optimizer"].domain_discrete.values] == [
        "AdamW", "SGD", "ScheduleFreeAdamW"
    ]
    peak = infos["peak rate"]
    assert peak.type == api_pb2.DATA_TYPE_FLOAT64
    assert (peak.domain_interval.min_value, peak.domain_interval.max_value) == (
        pytest.approx((1e-3, 0.1))
    )
    assert [v.number_value for v in infos["seed"].domain_discrete.values] == SEEDS
    assert infos["epochs"].type == api_pb2.DATA_TYPE_FLOAT64
    assert all(info.type != api_pb2.DATA_TYPE_UNSET for info in infos.values())
    assert [m.name.tag for m in experiment.metric_infos] == [
        "final_val_accuracy", "best_val_accuracy", "final_loss", "epochs_to_baseline"
    ]


@pytest.mark.parametrize("name", ["constant", "warmup_cosine_adamw",
                                  "schedule_free_adamw"])
def test_each_run_has_its_hparams_session_and_metrics(runs, name):
    _, first, *_ = runs
    result, summary = first.results[name], first.summaries[name]
    run = demo.make_run(name, STEPS_PER_EPOCH, EPOCHS)
    for index, seed in enumerate(SEEDS):
        start = hparams_data(result.run_dirs[index])[
            "_hparams_/session_start_info"
        ].session_start_info
        values = start.hparams
        assert values["1_schedule"].string_value == name
        assert values["6_seed"].number_value == seed
        assert values["4_model"].string_value == "mlp"
        assert values["5_epochs"].number_value == EPOCHS
        assert values["2_optimizer"].string_value == run.optimizer
        assert values["data"].string_value == "subset"
        assert values["3_peak_learning_rate"].number_value == pytest.approx(
            max(run.rates(np.arange(STEPS_PER_EPOCH * EPOCHS)))
        )
        assert json.loads(values["schedule_config"].string_value) == (
            run.learning_rate.get_config()
        )
        events = accumulator(os.path.join(result.run_dirs[index], "train"))
        history = result.histories[index]
        (final,) = events.Scalars("final_val_accuracy")
        assert final.value == pytest.approx(history["val_accuracy"][-1])
        (best,) = events.Scalars("best_val_accuracy")
        assert best.value == pytest.approx(max(history["val_accuracy"]))
        (loss,) = events.Scalars("final_loss")
        assert loss.value == pytest.approx(history["loss"][-1])
        reached = summary.epochs_to_baseline[index]
        tags = events.Tags()["scalars"]
        if reached is None:
            assert "epochs_to_baseline" not in tags
        else:
            assert events.Scalars("epochs_to_baseline")[0].value == reached


def test_the_layout_puts_rate_and_validation_accuracy_side_by_side(runs):
    _, first, *_ = runs
    events = accumulator(os.path.join(first.results["linear"].run_dirs[0], "train"))
    (content,) = events.PluginTagToContent("custom_scalars").values()
    tensors = events.Tensors("custom_scalars__config__")
    layout = layout_pb2.Layout.FromString(tensors[0].tensor_proto.string_val[0])
    assert content is not None
    first_category = layout.category[0]
    assert [list(chart.multiline.tag) for chart in first_category.chart] == [
        ["^learning_rate$"], ["^val_accuracy$"]
    ]


def _interval(differences):
    """The reference: SciPy's t interval of the mean."""
    differences = np.asarray(differences)
    mean = differences.mean()
    half = scipy.stats.t.ppf(0.975, len(differences) - 1) * differences.std(
        ddof=1
    ) / math.sqrt(len(differences))
    return mean, mean - half, mean + half


def test_summary_statistics_are_those_of_the_per_seed_histories(runs):
    _, first, *_ = runs
    rows = {row["schedule"]: row for row in read_csv(
        os.path.join(first.directory, "summary.csv"))}
    assert list(rows) == list(demo.RUNS)
    base = first.results["constant"].histories
    for name, row in rows.items():
        histories = first.results[name].histories
        final = np.array([h["val_accuracy"][-1] for h in histories])
        loss = np.array([h["loss"][-1] for h in histories])
        assert int(row["seeds"]) == 2
        assert float(row["final_val_accuracy_mean"]) == pytest.approx(final.mean())
        assert float(row["final_val_accuracy_std"]) == pytest.approx(
            final.std(ddof=1), abs=1e-6
        )
        assert float(row["best_val_accuracy_mean"]) == pytest.approx(
            np.mean([max(h["val_accuracy"]) for h in histories])
        )
        assert float(row["final_loss_mean"]) == pytest.approx(loss.mean(), rel=1e-5)
        base_final = np.array([h["val_accuracy"][-1] for h in base])
        mean, low, high = _interval(final - base_final)
        assert float(row["val_accuracy_difference"]) == pytest.approx(mean, abs=1e-6)
        if name == "constant":
            assert row["val_accuracy_verdict"] == "baseline"
            continue
        assert float(row["val_accuracy_difference_low"]) == pytest.approx(
            low, rel=1e-5, abs=1e-6
        )
        assert float(row["val_accuracy_difference_high"]) == pytest.approx(
            high, rel=1e-5, abs=1e-6
        )
        verdict = "better" if low > 0 else "worse" if high < 0 else "noise"
        assert row["val_accuracy_verdict"] == verdict
        log_ratio = np.log(loss) - np.log([h["loss"][-1] for h in base])
        mean, low, high = _interval(log_ratio)
        assert float(row["loss_ratio"]) == pytest.approx(math.exp(mean), rel=1e-5)
        assert float(row["loss_ratio_low"]) == pytest.approx(math.exp(low), rel=1e-5)
        assert float(row["loss_ratio_high"]) == pytest.approx(math.exp(high), rel=1e-5)


def test_epochs_to_baseline_and_speed_up_follow_the_histories(runs):
    _, first, *_ = runs
    per_run = read_csv(os.path.join(first.directory, "runs.csv"))
    assert len(per_run) == len(demo.RUNS) * len(SEEDS)
    base = first.results["constant"].histories
    for row in per_run:
        seed = int(row["seed"])
        history = first.results[row["schedule"]].histories[seed]
        target = max(base[seed]["val_accuracy"])
        reached = [
            epoch for epoch, value in enumerate(history["val_accuracy"], start=1)
            if value >= target
        ]
        assert row["epochs_to_baseline"] == (str(reached[0]) if reached else "")
        assert float(row["final_val_accuracy"]) == pytest.approx(
            history["val_accuracy"][-1], rel=1e-5
        )
        assert float(row["wall_time_s"]) > 0
        assert os.path.isfile(os.path.join(
            first.directory, row["run_dir"], "history.json"
        ))


def test_no_column_of_the_table_is_empty(runs):
    _, first, _, printed, *_ = runs
    text = open(os.path.join(first.directory, "summary.md")).read()
    table = [line for line in text.splitlines() if line.startswith("| ")]
    header, *body = [
        [cell.strip() for cell in line.strip("|").split("|")] for line in table
    ]
    assert header[0] == "schedule" and len(body) == len(demo.RUNS)
    for column in range(1, len(header)):
        assert any(row[column] not in ("", "–") for row in body), header[column]
    assert "95% t interval (1 degrees of freedom)" in text


def test_t_quantile_is_students():
    for dof in (1, 2, 3, 9, 30, 200):
        assert stats.t_quantile(0.975, dof) == pytest.approx(
            scipy.stats.t.ppf(0.975, dof), rel=1e-7
        )
    assert stats.t_quantile(0.5, 4) == pytest.approx(0, abs=1e-9)
    with pytest.raises(ValueError, match="probability"):
        stats.t_quantile(1.0, 3)


def test_summarize_a_hand_made_comparison():
    histories = {
        "constant": {
            0: {"val_accuracy": [0.5, 0.7, 0.8], "loss": [1.0, 0.5, 0.4]},
            1: {"val_accuracy": [0.6, 0.9, 0.85], "loss": [1.0, 0.5, 0.2]},
        },
        "fast": {
            0: {"val_accuracy": [0.8, 0.85, 0.9], "loss": [1.0, 0.5, 0.1]},
            1: {"val_accuracy": [0.7, 0.95, 0.96], "loss": [1.0, 0.5, 0.1]},
        },
        "slow": {
            0: {"val_accuracy": [0.1, 0.2, 0.3], "loss": [1.0, 0.9, 0.8]},
            1: {"val_accuracy": [0.1, 0.2, 0.9], "loss": [1.0, 0.9, 0.8]},
        },
    }
    summary = stats.summarize(histories, "constant")
    assert summary["constant"].epochs_to_baseline == [3, 2]
    assert summary["fast"].epochs_to_baseline == [1, 2]
    assert summary["fast"].speed_ups == [3.0, 1.0]
    assert summary["slow"].epochs_to_baseline == [None, 3]
    assert summary["slow"].speed_ups == [2 / 3]
    accuracy = summary["fast"].accuracy_vs_baseline
    assert accuracy.mean == pytest.approx(((0.9 - 0.8) + (0.96 - 0.85)) / 2)
    # Differences 0.10 and 0.11: standard error 0.005, and with 1 degree of
    # freedom 12.706 of them on each side: [0.041, 0.169], above 0.
    assert accuracy.high - accuracy.mean == pytest.approx(
        scipy.stats.t.ppf(0.975, 1) * 0.005, rel=1e-6
    )
    assert accuracy.sign == 1
    # Differences -0.5 and +0.05: the interval holds 0.
    assert summary["slow"].accuracy_vs_baseline.mean == pytest.approx(-0.225)
    assert summary["slow"].accuracy_vs_baseline.sign == 0
    loss = summary["fast"].log_loss_vs_baseline
    assert loss.mean == pytest.approx((math.log(0.1 / 0.4) + math.log(0.1 / 0.2)) / 2)
    with pytest.raises(ValueError, match="seeds"):
        stats.summarize({"constant": histories["constant"], "x": {0: {}}}, "constant")


def test_the_console_shows_progress_the_table_and_a_working_command(runs):
    _, first, _, printed, *_ = runs
    total = len(demo.RUNS) * len(SEEDS)
    progress = [line for line in printed if line.startswith("[")]
    assert [line.split("]")[0] for line in progress] == [
        f"[{k:2d}/{total}" for k in range(1, total + 1)
    ]
    assert all("left" in line for line in progress[:-1])
    assert "left" not in progress[-1]
    assert not any("epoch 1/" in line for line in printed)  # not --verbose
    (command,) = [line for line in printed if line.startswith("TensorBoard: ")]
    assert command.endswith(
        f"--logdir {first.directory} --samples_per_plugin scalars=0"
    )
    binary = command.split()[1]
    assert os.access(binary, os.X_OK)
    assert any(line.startswith("schedule ") for line in printed)


def test_the_comparison_figure_is_written(runs):
    _, first, second, *_ = runs
    for experiment, panels in ((first, 16), (second, 4)):
        path = os.path.join(experiment.directory, "comparison.png")
        with open(path, "rb") as file:
            assert file.read(8) == b"\x89PNG\r\n\x1a\n"
        pixels = matplotlib.image.imread(path)
        assert pixels[..., :3].std() > 0.05
    # Four panels a row: the first (14 schedules, 2 comparison panels) is
    # four rows high, the second (2 schedules and 2 panels) one.
    first_height = matplotlib.image.imread(
        os.path.join(first.directory, "comparison.png")).shape[0]
    second_height = matplotlib.image.imread(
        os.path.join(second.directory, "comparison.png")).shape[0]
    assert first_height == pytest.approx(4 * second_height, rel=0.05)


def test_subset_split_is_shuffled_stratified_and_disjoint():
    (x_train, y_train), (x_val, y_val), description = demo.load_mnist("subset")
    assert x_train.shape == (4000, 28, 28) and x_val.shape == (1000, 28, 28)
    assert x_train.dtype == np.float32 and 0.0 <= x_train.min() < x_train.max() <= 1.0
    assert np.bincount(y_train).tolist() == [400] * 10
    assert np.bincount(y_val).tolist() == [100] * 10
    # The source is sorted by label; the split must not be.
    assert len(set(y_train[:50].tolist())) > 5
    train_rows = {row.tobytes() for row in x_train}
    assert not any(row.tobytes() in train_rows for row in x_val)
    assert "subset" in description


def test_auto_falls_back_to_the_subset_with_one_notice(monkeypatch):
    from keras_lr.demo import data

    def offline():
        raise OSError("Name or service not known")

    monkeypatch.setattr(data, "_keras_mnist", offline)
    notices = []
    (x_train, _), _, _ = demo.load_mnist("auto", notice=notices.append)
    assert len(x_train) == 4000
    assert len(notices) == 1 and "\n" not in notices[0]
    assert "Name or service not known" in notices[0]
    with pytest.raises(demo.DataUnavailable, match="--data subset"):
        demo.load_mnist("keras")
