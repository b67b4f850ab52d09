"""Plots of learning rate schedules (matplotlib is imported only when used)."""

import numpy as np

from keras_lr.schedules.base import evaluate


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

    if isinstance(steps, (int, np.integer)):
        if steps < 1:
            raise ValueError(
                f"Argument `steps` must be a positive integer. Received: steps={steps}"
            )
        steps = np.arange(int(steps))
    steps = np.asarray(steps)
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
