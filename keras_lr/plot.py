"""Plots of learning rate schedules (matplotlib is imported only when used)."""

import numpy as np

from keras_lr import _validation
from keras_lr.schedules.base import evaluate


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


def plot_schedule(schedule_or_mapping, steps, ax=None, log_scale=False):
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
    ax.set_ylabel("learning rate")
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


#: One colour per run, the same in every panel.
_COLOURS = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple",
            "tab:brown", "tab:pink", "tab:gray", "tab:olive", "tab:cyan",
            "black", "gold"]


def plot_comparison(results):
    """The MNIST comparison: learning rate, training loss, validation accuracy.

    Args:
        results: a mapping of run names to objects with `steps` and
            `learning_rates` (the per-step rate) and `history` (Keras's
            `History.history`, with `loss` and `val_accuracy`), and
            `steps_per_epoch`.

    Returns:
        The matplotlib figure.
    """
    import matplotlib.pyplot as plt

    figure, (rate_ax, loss_ax, accuracy_ax) = plt.subplots(
        1, 3, figsize=(17, 5)
    )
    for index, (name, result) in enumerate(results.items()):
        colour = _COLOURS[index % len(_COLOURS)]
        epochs = np.arange(1, len(result.history["loss"]) + 1)
        rate_ax.plot(np.asarray(result.steps) / result.steps_per_epoch,
                     result.learning_rates, color=colour, label=name)
        loss_ax.plot(epochs, result.history["loss"], color=colour)
        accuracy_ax.plot(epochs, result.history["val_accuracy"], color=colour)
    rate_ax.set(xlabel="epoch (step / steps per epoch)", ylabel="learning rate",
                yscale="log", title="Learning rate at every step")
    # Three decades show every peak; the last steps of annealing to 0 would
    # otherwise stretch the axis over many more.
    top = max(float(np.max(r.learning_rates, initial=0)) for r in results.values())
    if top > 0:
        rate_ax.set_ylim(top / 1e3, top * 1.5)
    loss_ax.set(xlabel="epoch", ylabel="training loss", yscale="log",
                title="Training loss")
    accuracy_ax.set(xlabel="epoch", ylabel="validation accuracy",
                    title="Validation accuracy")
    for ax in (rate_ax, loss_ax, accuracy_ax):
        ax.grid(True, alpha=0.3)
    figure.legend(loc="center right", fontsize="small", frameon=False)
    figure.tight_layout(rect=(0, 0, 0.88, 1))
    return figure
