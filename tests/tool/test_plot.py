"""The figure functions of keras_lr.plot: the data they draw, read back."""

import types

import matplotlib
import numpy as np
import pytest

from keras_lr import plot
from keras_lr import schedules

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

LEVELS = [0.1, 0.05, 0.01, 0.005]


@pytest.fixture
def seed_schedule():
    yield schedules.PiecewiseConstant([50, 100, 150], LEVELS)
    plt.close("all")


def test_plot_schedule_still_returns_axes_with_the_rates(seed_schedule):
    ax = plot.plot_schedule(seed_schedule, 200)
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), np.arange(200))
    np.testing.assert_allclose(
        ax.lines[0].get_ydata(), np.repeat(LEVELS, 50)
    )


def test_a_momentum_schedule_is_labelled_momentum(seed_schedule):
    cycle = schedules.OneCycle(0.1, total_steps=100)
    assert plot.plot_schedule(seed_schedule, 100).get_ylabel() == "learning rate"
    assert plot.plot_schedule(cycle.momentum_schedule(), 100).get_ylabel() == "momentum"
    both = {"rate": cycle, "momentum": cycle.momentum_schedule()}
    assert plot.plot_schedule(both, 100).get_ylabel() == "learning rate"


def test_step_plot_draws_each_level_and_labels_its_range(seed_schedule):
    figure = plot.plot_step_schedule(seed_schedule, 200)
    (ax,) = figure.axes
    (line,) = ax.lines
    assert line.get_drawstyle() == "steps-post"
    np.testing.assert_allclose(line.get_ydata(), np.repeat(LEVELS, 50))
    labels = [text.get_text() for text in ax.texts]
    assert labels == ["0–49: 0.1", "50–99: 0.05", "100–149: 0.01", "150–199: 0.005"]


def face_values(figure):
    (ax,) = figure.axes
    (surface,) = ax.collections
    return np.asarray(surface.get_array())


def test_parameter_plane_puts_the_first_rate_on_the_rim_the_last_at_the_centre(
    seed_schedule,
):
    values = face_values(plot.plot_rate_over_parameters(seed_schedule, 200))
    assert values.max() == pytest.approx(0.1)
    assert values.min() == pytest.approx(0.005)
    for level in LEVELS:
        assert np.isclose(values, level).any(), level


def test_rate_surface_spans_epochs_by_batches(seed_schedule):
    figure = plot.plot_rate_surface(seed_schedule, 200, steps_per_epoch=16)
    (ax,) = figure.axes
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "batch in the epoch"
    values = face_values(figure)
    # 13 epochs by 16 batches: 12 x 15 faces, from 0.1 down to 0.005.
    assert values.shape == (12 * 15,)
    assert values.max() == pytest.approx(0.1)
    assert values.min() == pytest.approx(0.005)
    with pytest.raises(ValueError, match="steps_per_epoch"):
        plot.plot_rate_surface(seed_schedule, 200, steps_per_epoch=0)


def test_descent_figure_draws_rates_losses_and_paths():
    rates = np.array([0.5, 0.25])
    path = np.array([[2.0, 2.0], [1.0, 0.0], [0.75, 0.0]])
    figure = plot.plot_descent({"run": (rates, path)}, lambda x, y: x**2 + y**2)
    rate_ax, loss_ax, path_ax = figure.axes
    np.testing.assert_allclose(rate_ax.lines[0].get_ydata(), rates)
    np.testing.assert_allclose(loss_ax.lines[0].get_ydata(), [8.0, 1.0, 0.5625])
    np.testing.assert_allclose(path_ax.lines[0].get_xydata(), path)
    plt.close(figure)


def test_comparison_figure_draws_each_schedule_against_the_baseline():
    from keras_lr.comparison import stats

    def result(rates, *accuracies):
        return types.SimpleNamespace(
            steps_per_epoch=2,
            rates=[(np.arange(len(rates)), np.asarray(rates))] * len(accuracies),
            histories=[{"val_accuracy": a, "loss": [1.0, 0.5]} for a in accuracies],
        )

    results = {
        "constant": result([0.1] * 4, [0.8, 0.9], [0.7, 0.8]),
        "decay": result([0.1, 0.05, 0.02, 0.01], [0.7, 0.95], [0.6, 0.85]),
    }
    summaries = stats.summarize(
        {name: dict(enumerate(r.histories)) for name, r in results.items()},
        "constant",
    )
    figure = plot.plot_comparison(results, summaries)
    # Two axes per schedule (rate, accuracy), then the two forest plots.
    assert len(figure.axes) == 6
    rate_ax, accuracy_ax = figure.axes[2:4]
    np.testing.assert_allclose(rate_ax.lines[0].get_xdata(), [0, 0.5, 1, 1.5])
    np.testing.assert_allclose(rate_ax.lines[0].get_ydata(), [0.1, 0.05, 0.02, 0.01])
    baseline, mean = accuracy_ax.lines
    np.testing.assert_allclose(baseline.get_xydata(), [[1, 75], [2, 85]])
    np.testing.assert_allclose(mean.get_xydata(), [[1, 65], [2, 90]])
    assert baseline.get_linestyle() == "--"
    # The difference panel: the mean of 95 - 90 and 85 - 80 points, at 5.
    accuracy_forest = figure.axes[4]
    assert accuracy_forest.lines[-2].get_xdata()[0] == pytest.approx(5.0)
    assert "decay   +5.00 pts" in rate_ax.get_title(loc="left")
    plt.close(figure)
