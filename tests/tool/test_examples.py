"""The example scripts, run in quick mode through their `main(argv)`.

Each MNIST example trains once per module (the offline subset: 4,000 images,
63 batches of 64 per epoch); the tests read its outputs back, the TensorBoard
runs with TensorBoard's own `EventAccumulator`, and check them against closed
forms and against what the script printed.
"""

import contextlib
import csv
import importlib.util
import io
import math
import os
import re

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure
from tensorboard.backend.event_processing import event_accumulator
from tensorboard.util import tensor_util

from keras_lr.finder import RangeTestResult
from keras_lr.schedules import OneCycle
from tests.support.paths import ROOT

matplotlib.use("Agg")

EXAMPLES = os.path.join(ROOT, "examples")
STEPS_PER_EPOCH = 63  # the subset's 4,000 training images in batches of 64


def load_example(name):
    spec = importlib.util.spec_from_file_location(
        name, os.path.join(EXAMPLES, f"{name}.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_example(name, out):
    """`(module, printed)` after `main(["--quick", ...])` into `out`."""
    module = load_example(name)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        status = module.main(["--quick", "--data", "subset", "--out", str(out)])
    assert status == 0
    return module, printed.getvalue()


def scalar_events(path, tag):
    """`{step: value}` of a scalar, whichever way it was written."""
    events = event_accumulator.EventAccumulator(
        str(path),
        size_guidance={event_accumulator.SCALARS: 0, event_accumulator.TENSORS: 0},
    )
    events.Reload()
    if tag in events.Tags()["scalars"]:
        return {e.step: e.value for e in events.Scalars(tag)}
    return {
        e.step: float(tensor_util.make_ndarray(e.tensor_proto))
        for e in events.Tensors(tag)
    }


def logged_series(path, tag, count):
    logged = scalar_events(path, tag)
    assert sorted(logged) == list(range(count)), tag
    return np.array([logged[s] for s in range(count)])


def png_pixels(path):
    with open(path, "rb") as file:
        assert file.read(8) == b"\x89PNG\r\n\x1a\n"
    return matplotlib.image.imread(path)


# --- mnist_schedules.py ---------------------------------------------------------


@pytest.fixture(scope="module")
def schedules_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("mnist_schedules")
    module, printed = run_example("mnist_schedules", out)
    return module, out, printed


def test_mnist_schedules_logs_every_step_of_each_schedule(schedules_run):
    module, out, _ = schedules_run
    steps = np.arange(STEPS_PER_EPOCH)  # one epoch in quick mode
    runs = module.make_schedules(STEPS_PER_EPOCH)
    assert len(runs) == 5
    logged = {
        name: logged_series(out / name / "train", "learning_rate", len(steps))
        for name in runs
    }
    for name, schedule in runs.items():
        # float32 in the optimizer and in the summaries.
        np.testing.assert_allclose(
            logged[name], schedule.numpy(steps), rtol=1e-6, atol=1e-12,
            err_msg=name,
        )
    # Closed forms, independent of keras_lr.
    np.testing.assert_allclose(logged["constant"], 0.1, rtol=1e-7)
    np.testing.assert_allclose(
        logged["cosine"], 0.05 * (1 + np.cos(np.pi * steps / len(steps))),
        rtol=1e-6, atol=1e-9,
    )
    np.testing.assert_allclose(
        logged["linear_to_zero"], 0.1 * (1 - steps / len(steps)),
        rtol=1e-6, atol=1e-9,
    )
    # One-cycle peaks at 0.2 after 30 % of the run and ends far below its
    # start of 0.2 / 25; its momentum (keras_lr's SGD) falls as it rises.
    one_cycle = logged["one_cycle"]
    assert one_cycle[0] == pytest.approx(0.2 / 25, rel=1e-6)
    assert np.argmax(one_cycle) == 18  # the peak is at step 0.3 * 63 - 1 = 17.9
    assert one_cycle.max() == pytest.approx(0.2, rel=1e-3)
    momentum = logged_series(out / "one_cycle" / "train", "momentum", len(steps))
    np.testing.assert_allclose(
        momentum, runs["one_cycle"].momentum_schedule().numpy(steps), rtol=1e-6
    )
    assert momentum[0] == pytest.approx(0.95) and np.argmin(momentum) == 18


def test_mnist_schedules_prints_the_validation_accuracy_keras_logged(
    schedules_run,
):
    module, out, printed = schedules_run
    for name in module.make_schedules(STEPS_PER_EPOCH):
        # Keras's TensorBoard callback, in the same run directory.
        (accuracy,) = scalar_events(out / name / "validation",
                                    "epoch_accuracy").values()
        line = re.search(rf"^{name} +final val accuracy (\S+)$", printed, re.M)
        assert float(line.group(1)) == pytest.approx(accuracy, abs=5e-5)
        assert accuracy > 0.5, name  # chance is 0.1
    assert f"tensorboard --logdir {out}" in printed


# --- plateau_on_cosine.py ---------------------------------------------------------


@pytest.fixture(scope="module")
def plateau_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("plateau_on_cosine")
    _, printed = run_example("plateau_on_cosine", out)
    return out, printed


def test_plateau_rate_drops_exactly_when_the_verbose_line_says(plateau_run):
    out, printed = plateau_run
    epochs = 6
    total = epochs * STEPS_PER_EPOCH
    reductions = [
        (int(epoch), float(rate)) for epoch, rate in re.findall(
            r"Epoch (\d+): ReduceLROnPlateau reducing learning rate to (\S+)\.",
            printed,
        )
    ]
    # The quick run is short but does plateau: at least one reduction.
    assert reductions
    steps = np.arange(total)
    logged = logged_series(out / "train", "learning_rate", total)
    # After "Epoch n: ...", from the first update of epoch n + 1 on, the
    # whole cosine is halved.
    first_reduced = np.array([epoch * STEPS_PER_EPOCH for epoch, _ in reductions])
    scale = 0.5 ** np.sum(steps[:, None] >= first_reduced[None, :], axis=1)
    cosine = 0.15 * (1 + np.cos(np.pi * steps / total))
    np.testing.assert_allclose(logged, cosine * scale, rtol=2e-6, atol=1e-9)
    for step, (_, rate) in zip(first_reduced, reductions):
        assert logged[step] == pytest.approx(rate, rel=1e-6)
        assert logged[step] < 0.6 * logged[step - 1]

    # The table's scale column says the same, epoch by epoch.
    rows = re.findall(r"^ +(\d+) +\S+ +(\S+) +(\S+) +(\S+)$", printed, re.M)
    assert [int(row[0]) for row in rows] == list(range(1, epochs + 1))
    for epoch, rate, alone, table_scale in rows:
        last = int(epoch) * STEPS_PER_EPOCH - 1
        assert float(rate) == pytest.approx(logged[last], rel=1e-5)
        assert float(alone) == pytest.approx(cosine[last], rel=1e-5)
        assert float(table_scale) == pytest.approx(scale[last], rel=1e-3)


# --- find_then_one_cycle.py -------------------------------------------------------


@pytest.fixture(scope="module")
def find_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("find_then_one_cycle")
    _, printed = run_example("find_then_one_cycle", out)
    with open(out / "lr_find.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    result = RangeTestResult(
        [float(row["learning_rate"]) for row in rows],
        [float(row["loss"]) for row in rows],
        [float(row["smoothed_loss"]) for row in rows],
    )
    return out, printed, result


def test_one_cycle_trains_at_the_printed_suggestion(find_run):
    out, printed, result = find_run
    suggestion = result.suggestion()
    shown = float(re.search(r"suggested learning rate (\S+)", printed).group(1))
    assert shown == pytest.approx(suggestion, rel=5e-4)
    assert f"Range test: {len(result.learning_rates)} steps" in printed
    # The sweep: exponential from 1e-5 towards 10 over 100 steps.
    np.testing.assert_allclose(
        result.learning_rates,
        1e-5 * 1e6 ** (np.arange(len(result.learning_rates)) / 99), rtol=1e-9,
    )

    total = 2 * STEPS_PER_EPOCH
    steps = np.arange(total)
    logged = logged_series(out / "train", "learning_rate", total)
    # OneCycle scales with its peak: the logged rates are the unit one-cycle
    # times the suggestion, at every step.
    np.testing.assert_allclose(
        logged / OneCycle(1.0, total).numpy(steps), suggestion, rtol=2e-6
    )
    # Its peak (between steps 36 and 37: 0.3 * 126 - 1 = 36.8) is the
    # suggestion, up to where the steps fall.
    assert logged.max() == pytest.approx(suggestion, rel=2e-3)
    assert logged.max() <= suggestion * (1 + 1e-6)
    momentum = logged_series(out / "train", "momentum", total)
    assert momentum[0] == pytest.approx(0.95) and momentum.min() < 0.851
    assert f"OneCycle({shown:.4g}, total_steps={total})" in printed
    assert png_pixels(out / "lr_find.png")[..., :3].std() > 0.05


def test_range_test_plot_clips_the_divergence_and_marks_the_suggestion(find_run):
    _, _, result = find_run
    smoothed = result.smoothed_losses
    lowest = int(np.argmin(smoothed))
    # A real range test: it stopped on divergence, far above its start.
    assert smoothed[-1] > 4 * smoothed[lowest]
    assert smoothed[-1] > 2 * smoothed[0]

    ax = result.plot(ax=Figure().subplots())
    bottom, top = ax.get_ylim()
    # Everything up to the minimum is in view, with a small margin ...
    descent = smoothed[: lowest + 1]
    assert bottom < descent.min() and descent.max() < top
    span = descent.max() - descent.min()
    assert top - bottom <= 1.25 * span
    # ... and the divergence tail runs off the top.
    assert smoothed[-1] > top
    assert ax.get_xscale() == "log"

    curve, marker = ax.get_lines()
    np.testing.assert_array_equal(curve.get_ydata(), smoothed)
    suggestion = result.suggestion()
    (index,) = np.flatnonzero(result.learning_rates == suggestion)
    assert marker.get_xdata()[0] == suggestion
    assert marker.get_ydata()[0] == pytest.approx(smoothed[index], rel=1e-12)
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels == ["smoothed loss", f"suggestion (steepest) {suggestion:.2g}"]


# --- convex_bowl.py and piecewise_lr.py ---------------------------------------


def closed_form_rates(name, peak, steps):
    """The seed notebook's schedules scaled to `peak`, written out."""
    if name == "constant":
        return np.full(len(steps), peak)
    if name == "step decay":
        return peak * 0.5 ** (steps // 20)
    if name == "exponential":
        return peak * np.exp(-0.05 * steps)
    # Triangles from peak / 8 up to peak in 15 steps and back in 15.
    distance = np.abs((steps % 30) - 15) / 15
    return peak / 8 + (peak - peak / 8) * (1 - distance)


def final_loss(rates):
    # Each coordinate of gradient descent on 0.5 (x^2 + 2 y^2) shrinks by
    # its own factor every step.
    x = 2.5 * np.prod(1 - rates)
    y = 2.5 * np.prod(1 - 2 * rates)
    return 0.5 * (x**2 + 2 * y**2)


def printed_rows(printed):
    rows = re.findall(
        r"^(.+?) +peak (\S+)  final loss (\S+)  steps at rate >= 1: (\d+)$",
        printed, re.M,
    )
    return {name: (float(peak), float(loss), int(high))
            for name, peak, loss, high in rows}


def test_convex_bowl_is_gradient_descent_with_the_seed_schedules(tmp_path, capsys):
    bowl = load_example("convex_bowl")
    steps = np.arange(80)
    path = bowl.descend(np.full(80, 0.08))
    np.testing.assert_allclose(path[-1], [2.5 * 0.92**80, 2.5 * 0.84**80])

    assert bowl.main(["--out", str(tmp_path)]) == 0
    assert png_pixels(tmp_path / "convex_bowl.png")[..., :3].std() > 0.05
    printed = capsys.readouterr().out
    assert "start loss 9.3750" in printed
    rows = printed_rows(printed)
    assert list(rows) == ["constant", "step decay", "exponential", "cyclical"]
    for name, schedule in bowl.compared_schedules().items():
        rates = closed_form_rates(name, 0.08, steps)
        np.testing.assert_allclose(schedule.numpy(steps), rates, rtol=1e-12,
                                   err_msg=name)
        peak, loss, high = rows[name]
        assert peak == 0.08 and high == 0
        assert loss == pytest.approx(final_loss(rates), rel=1e-3)
    # At the seed's common peak the constant rate is the best of the four.
    assert rows["constant"][1] == min(loss for _, loss, _ in rows.values())


def test_convex_bowl_fair_variant_picks_each_schedules_best_peak(tmp_path, capsys):
    bowl = load_example("convex_bowl")
    assert bowl.main(["--fair", "--out", str(tmp_path)]) == 0
    assert png_pixels(tmp_path / "convex_bowl_fair.png")[..., :3].std() > 0.05
    rows = printed_rows(capsys.readouterr().out)
    steps = np.arange(80)
    peaks = bowl.PEAKS
    assert peaks[0] == pytest.approx(0.01) and peaks[-1] == pytest.approx(10.0)
    for name, (peak, loss, high) in rows.items():
        finals = np.array([final_loss(closed_form_rates(name, p, steps))
                           for p in peaks])
        best = int(np.nanargmin(finals))
        assert peak == pytest.approx(peaks[best], rel=5e-4), name
        if finals[best] == 0:
            assert loss == 0
        else:
            assert loss == pytest.approx(finals[best], rel=1e-3), name
        assert high == np.sum(closed_form_rates(name, peaks[best], steps) >= 1)
        # The best peak is inside the grid, not cut off at its ends.
        assert 0 < best < len(peaks) - 1, name
    # The best constant rate for curvatures 1 and 2 is 2 / 3 (where
    # |1 - lr| = |1 - 2 lr|): the chosen one is a grid point next to it.
    index = int(np.argmin(np.abs(peaks - rows["constant"][0])))
    assert peaks[index - 1] < 2 / 3 < peaks[index + 1]


def test_piecewise_script_writes_its_three_figures(tmp_path):
    assert load_example("piecewise_lr").main(["--out", str(tmp_path)]) == 0
    for name in ("piecewise_lr", "piecewise_lr_parameters_3d",
                 "piecewise_lr_surface_3d"):
        pixels = png_pixels(tmp_path / f"{name}.png")
        assert pixels[..., :3].std() > 0.05


# --- compare_your_model.py ----------------------------------------------------


def test_compare_your_model_compares_its_own_model(tmp_path, capsys):
    module = load_example("compare_your_model")
    assert module.main(["--quick", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    (directory,) = [d for d in os.listdir(tmp_path) if d != "latest"]
    assert directory.endswith("_build_model_2ep_1seed")
    with open(tmp_path / directory / "summary.csv", newline="") as file:
        rows = {row["schedule"]: row for row in csv.DictReader(file)}
    assert list(rows) == ["constant", "cosine", "one_cycle", "warmup_cosine",
                          "constant_plateau"]
    for name, row in rows.items():
        assert row["seeds"] == "1"
        line = re.search(rf"^{name} +final val accuracy (\S+)  verdict (\S+)$",
                         printed, re.M)
        assert float(line.group(1)) == pytest.approx(
            float(row["final_val_accuracy_mean"]), abs=5e-5)
        assert line.group(2) == row["val_accuracy_verdict"]
    # 300 training samples in batches of 32: 10 steps an epoch, 20 in all.
    steps = np.arange(20)
    rates = logged_series(tmp_path / directory / "warmup_cosine" / "seed-0" / "train",
                          "learning_rate", 20)
    # keras_lr's Warmup rises linearly from 0 over 2 steps.
    expected = np.where(steps < 2, 0.1 * steps / 2,
                        0.05 * (1 + np.cos(np.pi * (steps - 2) / 18)))
    np.testing.assert_allclose(rates, expected, rtol=1e-5, atol=1e-9)
    assert png_pixels(tmp_path / directory / "comparison.png")[..., :3].std() > 0.05
