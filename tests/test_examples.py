"""The example scripts: the MNIST comparison (quick mode) and the seed figures.

The quick MNIST run happens once per module; every test reads its output
back, the TensorBoard runs with TensorBoard's own `EventAccumulator`.
"""

import contextlib
import csv
import importlib.util
import io
import math
import os

import matplotlib
import numpy as np
import pytest
from tensorboard.backend.event_processing import event_accumulator
from tensorboard.plugins.hparams import plugin_data_pb2
from tensorboard.util import tensor_util

from keras_lr import demo
from keras_lr.schedules import evaluate

matplotlib.use("Agg")

EXAMPLES = os.path.join(os.path.dirname(__file__), os.pardir, "examples")
QUICK_STEPS_PER_EPOCH = 63  # 4,000 images in batches of 64
QUICK_STEPS = QUICK_STEPS_PER_EPOCH * demo.QUICK_EPOCHS


def load_example(name):
    spec = importlib.util.spec_from_file_location(
        name, os.path.join(EXAMPLES, f"{name}.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def accumulator(path):
    result = event_accumulator.EventAccumulator(
        path,
        size_guidance={event_accumulator.SCALARS: 0, event_accumulator.TENSORS: 0},
    )
    result.Reload()
    return result


def scalar_events(path, tag):
    """`{step: value}` of a scalar, whichever way it was written."""
    events = accumulator(path)
    if tag in events.Tags()["scalars"]:
        return {e.step: e.value for e in events.Scalars(tag)}
    return {
        e.step: float(tensor_util.make_ndarray(e.tensor_proto))
        for e in events.Tensors(tag)
    }


def png_pixels(path):
    with open(path, "rb") as file:
        assert file.read(8) == b"\x89PNG\r\n\x1a\n"
    return matplotlib.image.imread(path)


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("mnist")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        status = load_example("mnist_schedules").main(
            ["--quick", "--data", "subset", "--out", str(out)]
        )
    assert status == 0
    return out, printed.getvalue()


@pytest.fixture(scope="module")
def summary(quick_run):
    out, _ = quick_run
    with open(out / "summary.csv", newline="") as file:
        return {row["schedule"]: row for row in csv.DictReader(file)}


def test_quick_run_has_a_summary_row_per_schedule_all_well_above_chance(summary):
    assert list(summary) == list(demo.RUNS)
    for name, row in summary.items():
        final = float(row["final_val_accuracy"])
        assert 0.8 <= final <= float(row["best_val_accuracy"]) <= 1.0, name
        assert float(row["wall_time_s"]) > 0


@pytest.mark.parametrize("name", list(demo.RUNS))
def test_quick_run_logs_the_schedule_at_every_step(quick_run, name):
    out, _ = quick_run
    logged = scalar_events(str(out / name / "train"), "learning_rate")
    assert sorted(logged) == list(range(QUICK_STEPS))
    schedule = demo.make_run(name, QUICK_STEPS_PER_EPOCH, demo.QUICK_EPOCHS)
    expected = evaluate(schedule.learning_rate, np.arange(QUICK_STEPS))
    # float32 on the optimizer side; the logger writes float32 summaries.
    np.testing.assert_allclose(
        [logged[s] for s in range(QUICK_STEPS)], expected, rtol=1e-6, atol=1e-12
    )


def test_quick_run_rates_match_closed_forms(quick_run):
    out, _ = quick_run
    steps = np.arange(QUICK_STEPS)
    constant = scalar_events(str(out / "constant" / "train"), "learning_rate")
    np.testing.assert_allclose(list(constant.values()), 0.1, rtol=1e-7)
    cosine = scalar_events(str(out / "cosine" / "train"), "learning_rate")
    np.testing.assert_allclose(
        [cosine[s] for s in steps],
        0.05 * (1 + np.cos(np.pi * steps / QUICK_STEPS)),
        rtol=1e-6, atol=1e-9,
    )
    piecewise = scalar_events(str(out / "piecewise" / "train"), "learning_rate")
    quarter = QUICK_STEPS / 4
    expected = np.select(
        [steps < round(quarter), steps < round(2 * quarter),
         steps < round(3 * quarter)],
        [0.1, 0.05, 0.01], 0.005,
    )
    np.testing.assert_allclose([piecewise[s] for s in steps], expected, rtol=1e-6)


@pytest.mark.parametrize("name", list(demo.RUNS))
def test_quick_run_has_epoch_metrics_and_hparams(quick_run, summary, name):
    out, _ = quick_run
    run = out / name
    validation = scalar_events(str(run / "validation"), "epoch_accuracy")
    assert sorted(validation) == list(range(demo.QUICK_EPOCHS))
    final = validation[demo.QUICK_EPOCHS - 1]
    assert final == pytest.approx(float(summary[name]["final_val_accuracy"]), abs=6e-5)
    assert len(scalar_events(str(run / "train"), "epoch_loss")) == demo.QUICK_EPOCHS

    events = accumulator(str(run))
    content = events.PluginTagToContent("hparams")
    starts = [
        plugin_data_pb2.HParamsPluginData.FromString(data).session_start_info
        for data in content.values()
    ]
    (start,) = [s for s in starts if s.hparams]
    hparams = start.hparams
    assert hparams["schedule"].string_value == name
    expected_class = type(
        demo.make_run(name, QUICK_STEPS_PER_EPOCH, demo.QUICK_EPOCHS).learning_rate
    ).__name__
    assert hparams["schedule_class"].string_value == expected_class
    assert hparams["optimizer"].string_value in ("SGD", "AdamW")
    assert scalar_events(str(run), "final_val_accuracy")[
        demo.QUICK_EPOCHS
    ] == pytest.approx(final, abs=1e-6)
    assert math.isfinite(scalar_events(str(run), "final_val_loss")[demo.QUICK_EPOCHS])


def test_quick_run_hparams_record_the_schedule_parameters(quick_run):
    out, _ = quick_run
    content = accumulator(str(out / "warmup_cosine_adamw")).PluginTagToContent(
        "hparams"
    )
    (hparams,) = [
        info.hparams
        for info in (
            plugin_data_pb2.HParamsPluginData.FromString(data).session_start_info
            for data in content.values()
        )
        if info.hparams
    ]
    assert hparams["optimizer"].string_value == "AdamW"
    assert hparams["schedule_class"].string_value == "Warmup"
    assert hparams["lr.warmup_steps"].number_value == QUICK_STEPS // 10
    assert hparams["lr.schedule"].string_value == "CosineAnnealing"
    assert hparams["lr.schedule.initial_learning_rate"].number_value == (
        pytest.approx(1e-3)
    )
    assert hparams["lr.schedule.decay_steps"].number_value == (
        QUICK_STEPS - QUICK_STEPS // 10
    )


def test_quick_run_writes_summary_table_figure_and_prints_progress(quick_run):
    out, printed = quick_run
    table = (out / "summary.md").read_text().splitlines()
    rows = [line for line in table if line.startswith("| ") and "schedule" not in line]
    assert [row.split("|")[1].strip() for row in rows] == list(demo.RUNS)
    pixels = png_pixels(out / "comparison.png")
    assert pixels.shape[0] > 200 and pixels.shape[1] > 600
    assert pixels[..., :3].std() > 0.05
    for name in demo.RUNS:
        assert f"{name:20s} epoch   3/3" in printed
    assert f"tensorboard --logdir {out}" in printed


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
    def offline():
        raise OSError("Name or service not known")

    monkeypatch.setattr(demo, "_keras_mnist", offline)
    notices = []
    (x_train, _), _, _ = demo.load_mnist("auto", notice=notices.append)
    assert len(x_train) == 4000
    assert len(notices) == 1 and "\n" not in notices[0]
    assert "Name or service not known" in notices[0]
    with pytest.raises(demo.DataUnavailable, match="--data subset"):
        demo.load_mnist("keras")


def test_piecewise_script_writes_its_three_figures(tmp_path):
    assert load_example("piecewise_lr").main(["--out", str(tmp_path)]) == 0
    for name in ("piecewise_lr", "piecewise_lr_parameters_3d",
                 "piecewise_lr_surface_3d"):
        pixels = png_pixels(tmp_path / f"{name}.png")
        assert pixels[..., :3].std() > 0.05


def test_convex_bowl_descent_is_gradient_descent(tmp_path, capsys):
    bowl = load_example("convex_bowl")
    # Constant rate: each coordinate shrinks by its own factor per step.
    path = bowl.descend(np.full(80, 0.08))
    np.testing.assert_allclose(path[-1], [2.5 * 0.92**80, 2.5 * 0.84**80])

    assert bowl.main(["--out", str(tmp_path)]) == 0
    png_pixels(tmp_path / "convex_bowl.png")
    printed = capsys.readouterr().out
    start = bowl.loss(*bowl.START)
    assert f"start loss {start:.4f}" in printed
    for label, schedule in bowl.compared_schedules().items():
        final = bowl.loss(*bowl.descend(schedule.numpy(np.arange(80)))[-1])
        assert final < start / 1000, label
        assert f"{label:14s} final loss {final:.3e}" in printed
