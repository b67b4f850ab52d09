"""Plots of learning rate schedules (matplotlib is imported only when used)."""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from keras_lr import _validation
from keras_lr.schedules import cyclical
from keras_lr.schedules.base import evaluate

if TYPE_CHECKING:
    import matplotlib.axes
    from keras.optimizers.schedules import LearningRateSchedule


#: The most steps a plot evaluates: every step is evaluated and drawn, and
#: 10 million take about 10 s and 1.5 GB (the `keras-lr` command's bound).
MAX_PLOT_STEPS = 10_000_000


def _step_count(steps):
    """A number of steps to plot, a positive integer within the bound."""
    count = _validation.check_positive_int("steps", steps)
    if count > MAX_PLOT_STEPS:
        raise ValueError(
            f"Argument `steps` must be at most {MAX_PLOT_STEPS:,} (every step "
            f"is evaluated and drawn). Received: steps={steps!r}"
        )
    return count


def _steps(steps):
    """`steps` (a count from 0, or the steps themselves) as a checked array."""
    if isinstance(steps, (bool, np.bool_)) or steps is None:
        raise TypeError(
            "Argument `steps` must be a positive integer or a 1-D array of "
            f"steps. Received: steps={steps!r}"
        )
    if isinstance(steps, (int, np.integer, float, np.floating)):
        return np.arange(_step_count(steps))
    array = np.asarray(steps)
    if array.dtype == bool or not np.issubdtype(array.dtype, np.number) or (
        np.issubdtype(array.dtype, np.complexfloating)
    ):
        raise TypeError(
            "Argument `steps` must be a positive integer or a 1-D array of "
            f"steps. Received: steps={steps!r}"
        )
    if array.ndim != 1 or not array.size or array.size > MAX_PLOT_STEPS or not (
        np.isfinite(array).all()
    ):
        raise ValueError(
            "Argument `steps` must be a positive integer or a non-empty 1-D "
            f"array of at most {MAX_PLOT_STEPS:,} finite steps. "
            f"Received: steps={steps!r}"
        )
    return array


def plot_schedule(
    schedule_or_mapping: (
        LearningRateSchedule | float | Mapping[str, LearningRateSchedule | float]
    ),
    steps: int | Sequence[int] | np.ndarray,
    ax: matplotlib.axes.Axes | None = None,
    log_scale: bool = False,
) -> matplotlib.axes.Axes:
    """Plot one schedule, or a `{label: schedule}` mapping, on one axes.

    Values come from the host (`numpy()` for keras_lr schedules), so nothing
    runs on a device.

    Args:
        schedule_or_mapping: a `LearningRateSchedule` (or float), or a
            mapping of labels to them.
        steps: the number of steps to plot from 0 (an int), or the steps.
        ax: a matplotlib axes; a new figure's axes when None.
        log_scale: a logarithmic learning rate axis.

    Returns:
        The matplotlib axes.

    Example:

    ```python
    import keras_lr
    schedule = keras_lr.schedules.CosineAnnealing(0.1, decay_steps=1000)
    ax = keras_lr.plot_schedule(schedule, 1000)
    ax.figure.savefig("cosine.png")
    ```
    """
    import matplotlib.pyplot as plt

    steps = _steps(steps)
    log_scale = _validation.check_bool("log_scale", log_scale)
    if hasattr(schedule_or_mapping, "items"):
        series = dict(schedule_or_mapping)
    else:
        series = {type(schedule_or_mapping).__name__: schedule_or_mapping}
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    for label, schedule in series.items():
        ax.plot(steps, evaluate(schedule, steps), label=label)
    ax.set_xlabel("step")
    momentum = (cyclical.CyclicalMomentum, cyclical.OneCycleMomentum)
    ax.set_ylabel("momentum" if all(
        isinstance(schedule, momentum) for schedule in series.values()
    ) else "learning rate")
    if log_scale:
        ax.set_yscale("log")
    ax.grid(True, alpha=0.3)
    if len(series) > 1 or hasattr(schedule_or_mapping, "items"):
        ax.legend(fontsize="small")
    return ax


def plot_step_schedule(schedule, steps):
    """A piecewise schedule as a 2-D step plot, each level labelled.

    Args:
        schedule: a `LearningRateSchedule` (or float).
        steps: the number of steps to plot from 0, or the steps.

    Returns:
        The matplotlib figure.
    """
    import matplotlib.pyplot as plt

    steps = _steps(steps)
    rates = evaluate(schedule, steps)
    figure, ax = plt.subplots(figsize=(7, 4))
    ax.step(steps, rates, where="post", linewidth=2)
    # One label per constant stretch, at its middle.
    starts = np.flatnonzero(np.r_[True, np.diff(rates) != 0])
    ends = np.r_[starts[1:], len(steps)] - 1
    for start, end in zip(starts, ends):
        ax.annotate(
            f"{steps[start]}–{steps[end]}: {rates[start]:g}",
            ((steps[start] + steps[end]) / 2, rates[start]),
            xytext=(0, 6),
            textcoords="offset points",
            ha="center",
            fontsize=9,
        )
    ax.set_xlabel("step")
    ax.set_ylabel("learning rate")
    ax.set_ylim(0, rates.max() * 1.15)
    ax.set_title(f"{type(schedule).__name__}: the rate in force at each step")
    ax.grid(True, alpha=0.3)
    figure.tight_layout()
    return figure


def plot_rate_over_parameters(schedule, steps, extent=3.0, resolution=121):
    """The rate as height over a 2-D parameter plane (a conceptual picture).

    Gradient descent starts on the rim of the plane and reaches the minimum
    at the centre on its last step, so each point is drawn at the height of
    the rate in force when training passes it: big steps far out, small
    ones near the minimum.

    Args:
        schedule: a `LearningRateSchedule` (or float).
        steps: the number of training steps, a positive integer.
        extent: the plane spans `[-extent, extent]` in both parameters.
        resolution: grid points per axis.

    Returns:
        The matplotlib figure.
    """
    import matplotlib.pyplot as plt

    total = _step_count(steps)
    # A polar grid keeps the plane round, so every terrace is a full ring.
    radius, angle = np.meshgrid(
        np.linspace(0.0, extent, resolution),
        np.linspace(0.0, 2 * np.pi, resolution),
    )
    step = np.round((1.0 - radius / extent) * (total - 1)).astype(np.int64)
    rate = evaluate(schedule, step)
    figure = plt.figure(figsize=(7, 5.5))
    ax = figure.add_subplot(projection="3d")
    ax.plot_surface(
        radius * np.cos(angle), radius * np.sin(angle), rate,
        cmap="viridis", linewidth=0, rcount=resolution, ccount=resolution,
    )
    # From high up, so the inner, lower terraces are not hidden by walls.
    ax.view_init(elev=55, azim=-60)
    ax.set_xlabel("parameter $w_1$")
    ax.set_ylabel("parameter $w_2$")
    ax.set_zlabel("learning rate")
    ax.set_title(
        "Learning rate over the parameter plane\n"
        "(rim: early steps, centre: last steps)"
    )
    figure.tight_layout()
    return figure


def plot_rate_surface(schedule, steps, steps_per_epoch):
    """The rate over training as a 3-D surface: epoch by batch in the epoch.

    Args:
        schedule: a `LearningRateSchedule` (or float).
        steps: the number of training steps, a positive integer.
        steps_per_epoch: batches per epoch, a positive integer.

    Returns:
        The matplotlib figure.
    """
    import matplotlib.pyplot as plt

    total = _step_count(steps)
    steps_per_epoch = _validation.check_positive_int(
        "steps_per_epoch", steps_per_epoch
    )
    # The grid is epochs x steps_per_epoch points.
    _validation.check_not_above("steps_per_epoch", steps_per_epoch, "steps", total)
    epochs = -(-total // steps_per_epoch)
    epoch, batch = np.meshgrid(np.arange(epochs), np.arange(steps_per_epoch))
    rate = evaluate(schedule, epoch * steps_per_epoch + batch)
    figure = plt.figure(figsize=(7, 5.5))
    ax = figure.add_subplot(projection="3d")
    ax.plot_surface(epoch, batch, rate, cmap="plasma", linewidth=0)
    ax.set_xlabel("epoch")
    ax.set_ylabel("batch in the epoch")
    ax.set_zlabel("learning rate")
    ax.set_title(f"{type(schedule).__name__} over training steps")
    figure.tight_layout()
    return figure


def plot_descent(runs, loss, extent=3.0):
    """Gradient descent runs on a 2-D loss: rate, loss and path per run.

    Args:
        runs: a mapping of labels to `(rates, path)`, where `rates[i]` is the
            rate of update `i` and `path` the `(len(rates) + 1, 2)` array of
            parameters from the start point on.
        loss: the loss as a function of two parameter arrays `(x, y)`.
        extent: the trajectory panel spans `[-extent, extent]`.

    Returns:
        The matplotlib figure.
    """
    import matplotlib.pyplot as plt

    figure, (rate_ax, loss_ax, path_ax) = plt.subplots(1, 3, figsize=(15, 4.5))
    axis = np.linspace(-extent, extent, 201)
    x, y = np.meshgrid(axis, axis)
    path_ax.contour(x, y, loss(x, y), levels=15, colors="0.75", linewidths=0.8)
    for label, (rates, path) in runs.items():
        path = np.asarray(path)
        (line,) = rate_ax.plot(np.arange(len(rates)), rates, label=label)
        loss_ax.plot(np.arange(len(path)), loss(path[:, 0], path[:, 1]))
        path_ax.plot(path[:, 0], path[:, 1], ".-", color=line.get_color(),
                     markersize=3, linewidth=1)
    path_ax.plot(*path[0], "k*", markersize=10)
    rate_ax.set(xlabel="iteration", ylabel="learning rate", title="Learning rate")
    loss_ax.set(xlabel="iteration", ylabel="loss", yscale="log", title="Loss")
    path_ax.set(xlabel="x", ylabel="y", title="Trajectories", aspect="equal")
    for ax in (rate_ax, loss_ax):
        ax.grid(True, alpha=0.3)
    rate_ax.legend(fontsize="small")
    figure.tight_layout()
    return figure


def plot_comparison(results, summaries=None, baseline="constant", columns=4):
    """The MNIST comparison as small multiples, one panel per schedule.

    Each panel shows the schedule's learning rate at every step (top; one
    line per seed, which differ only where a callback such as the plateau
    reacts to the seed's losses) and its validation accuracy, mean ± one
    standard deviation over the seeds (bottom), against the baseline's
    (grey). With `summaries`, the last two panels show every schedule's
    paired difference from the baseline with its confidence interval: final
    validation accuracy (points) and final training loss (ratio, log axis).

    Args:
        results: a mapping of schedule names to objects with
            `steps_per_epoch`, `rates` (per seed, `(steps, rates)`) and
            `histories` (per seed, Keras's `History.history` with
            `val_accuracy`).
        summaries: `keras_lr.comparison.stats.summarize`'s result, or None.
        baseline: the name of the baseline in `results`.
        columns: panels per row.

    Returns:
        The matplotlib figure.
    """
    import matplotlib.pyplot as plt

    names = list(results)
    panels = len(names) + (2 if summaries else 0)
    rows = -(-panels // columns)
    from matplotlib.ticker import FuncFormatter

    figure = plt.figure(figsize=(4 * columns, 3.6 * rows))
    grid = figure.add_gridspec(rows, columns, hspace=0.35, wspace=0.3)
    plain = FuncFormatter(lambda value, _: f"{value:g}")

    def band(name):
        accuracy = 100 * np.array([h["val_accuracy"] for h in results[name].histories])
        return (np.arange(1, accuracy.shape[1] + 1), accuracy.mean(axis=0),
                accuracy.std(axis=0, ddof=1) if len(accuracy) > 1
                else np.zeros(accuracy.shape[1]))

    bands = {name: band(name) for name in names}
    # One accuracy scale for every panel, from the end of the first quarter
    # of training on: the first epochs would otherwise take the whole axis.
    shown = np.concatenate([mean[len(mean) // 4:] for _, mean, _ in bands.values()])
    low, high = float(shown.min()), float(shown.max())
    margin = max(0.1, 0.15 * (high - low))
    epochs, base_mean, base_sd = bands[baseline]
    for index, name in enumerate(names):
        row, column = divmod(index, columns)
        cell = grid[row, column].subgridspec(2, 1, height_ratios=[1, 2], hspace=0.08)
        rate_ax = figure.add_subplot(cell[0])
        accuracy_ax = figure.add_subplot(cell[1], sharex=rate_ax)
        result = results[name]
        for steps, rates in result.rates:
            rate_ax.plot(np.asarray(steps) / result.steps_per_epoch, rates,
                         color="tab:blue", linewidth=1)
        rate_ax.set_ylim(0, None)
        rate_ax.yaxis.set_major_formatter(plain)
        rate_ax.tick_params(labelbottom=False, labelsize="small")
        title = name
        if summaries and name != baseline:
            interval = summaries[name].accuracy_vs_baseline
            title += f"   {100 * interval.mean:+.2f} pts"
            if interval.low is not None:
                title += f" [{100 * interval.low:+.2f}, {100 * interval.high:+.2f}]"
        rate_ax.set_title(title, fontsize="medium", loc="left")
        if name != baseline:
            accuracy_ax.plot(epochs, base_mean, color="0.45", linestyle="--",
                             linewidth=1, label=baseline)
            accuracy_ax.fill_between(epochs, base_mean - base_sd,
                                     base_mean + base_sd, color="0.8", alpha=0.6)
        x, mean, sd = bands[name]
        accuracy_ax.plot(x, mean, color="tab:red", linewidth=1.5, label=name)
        accuracy_ax.fill_between(x, mean - sd, mean + sd, color="tab:red", alpha=0.25)
        accuracy_ax.set_ylim(low - margin, high + margin)
        accuracy_ax.tick_params(labelsize="small")
        accuracy_ax.grid(True, alpha=0.3)
        rate_ax.grid(True, alpha=0.3)
        if column == 0:
            rate_ax.set_ylabel("rate", fontsize="small")
            accuracy_ax.set_ylabel("val accuracy (%)", fontsize="small")
        accuracy_ax.set_xlabel("epoch", fontsize="small", labelpad=1)
        if index == 1:
            accuracy_ax.legend(
                [accuracy_ax.lines[1], accuracy_ax.lines[0]],
                ["this schedule, mean ± sd", f"{baseline}, mean ± sd"],
                fontsize="x-small", loc="lower right",
            )
    if summaries:
        _plot_differences(figure, grid, names, summaries, baseline, columns)
    figure.suptitle(
        "Learning rate (top) and validation accuracy (bottom) of each "
        f"schedule, against {baseline}", y=0.995,
    )
    figure.subplots_adjust(left=0.05, right=0.98, top=0.95, bottom=0.05)
    return figure


def _plot_differences(figure, grid, names, summaries, baseline, columns):
    """Forest plots: each schedule's paired difference from the baseline.

    The two panels take the two cells after the last schedule's (or the
    next row's first two), and share the schedule names between them.
    """
    from matplotlib.ticker import FixedLocator
    from matplotlib.ticker import FuncFormatter
    from matplotlib.ticker import NullLocator

    others = [name for name in names if name != baseline]
    positions = np.arange(len(others))[::-1]
    row, column = divmod(len(names), columns)
    if column + 2 > columns:
        row, column = row + 1, 0
    pair = grid[row, column:column + 2].subgridspec(1, 2, wspace=0.75)
    accuracy_ax = figure.add_subplot(pair[0])
    loss_ax = figure.add_subplot(pair[1], sharey=accuracy_ax)

    def forest(ax, intervals, transform, zero, better):
        for position, interval in zip(positions, intervals):
            # Grey where the interval holds the baseline: seed noise.
            colour = {0: "0.5", better: "tab:green"}.get(interval.sign, "tab:red")
            if interval.low is not None:
                ax.plot(transform(np.array([interval.low, interval.high])),
                        [position, position], color=colour, linewidth=2)
            ax.plot(transform(interval.mean), position, "o", color=colour,
                    markersize=4)
        ax.axvline(zero, color="black", linewidth=0.8)
        ax.grid(True, axis="x", alpha=0.3)
        ax.tick_params(axis="x", which="both", labelsize="x-small")

    forest(accuracy_ax, [summaries[n].accuracy_vs_baseline for n in others],
           lambda value: 100 * value, 0.0, 1)
    forest(loss_ax, [summaries[n].log_loss_vs_baseline for n in others],
           np.exp, 1.0, -1)
    # The names between the panels, for both.
    accuracy_ax.set_yticks(positions, others, fontsize="small")
    accuracy_ax.yaxis.tick_right()
    accuracy_ax.tick_params(axis="y", length=0, pad=6)
    for label in loss_ax.get_yticklabels():
        label.set_visible(False)
    loss_ax.tick_params(axis="y", length=0)
    loss_ax.set_xscale("log")
    low, high = loss_ax.get_xlim()
    # A few labelled ratios, 1x always: matplotlib's log minor labels
    # collide on a narrow axis, and its major ones are powers of ten.
    ticks = [t for t in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100)
             if low <= t <= high]
    if len(ticks) < 3:
        ticks = [t for t in (0.5, 0.67, 0.8, 1, 1.25, 1.5, 2) if low <= t <= high]
    loss_ax.xaxis.set_major_locator(FixedLocator(ticks))
    loss_ax.xaxis.set_minor_locator(NullLocator())
    loss_ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}x"))
    accuracy_ax.set_title(f"final val accuracy\nvs {baseline} (points)",
                          fontsize="medium", loc="left")
    loss_ax.set_title(f"final train loss\n/ {baseline}'s", fontsize="medium",
                      loc="left")
    for ax in (accuracy_ax, loss_ax):
        ax.set_xlabel("mean, 95 % CI; grey: noise", fontsize="x-small")
