"""What the comparison writes for TensorBoard, and reads back from it.

Each training run is one TensorBoard run, `<schedule>/seed-<k>/train`: the
learning rate of every update, the epoch metrics (at the step each epoch
ended on, so that they line up with the rate), the run's HParams session
and the experiment's HParams configuration and custom-scalars layout.
TensorBoard reads the configuration and the layout from any run (it merges
identical layouts), so no run of the experiment is empty.
"""

import os

import numpy as np

#: The epoch metrics of Keras's `History` that each run logs.
EPOCH_METRICS = ("loss", "accuracy", "val_loss", "val_accuracy")

#: The HParams metrics, with their display names and descriptions.
METRICS = {
    "final_val_accuracy": ("final val accuracy", "validation accuracy after the last epoch"),
    "best_val_accuracy": ("best val accuracy", "the best validation accuracy of any epoch"),
    "final_loss": ("final training loss", "training loss of the last epoch"),
    "epochs_to_baseline": (
        "epochs to baseline",
        "the first epoch whose validation accuracy reaches the best of the "
        "constant baseline with the same seed (missing: never)",
    ),
}


def _event_file(run_dir):
    # keras_lr's logger's own event file: its name sorts after the logger's
    # file of the run, so that TensorBoard reads the logger's restart
    # marker (step 0) first and keeps what this file holds.
    from keras_lr.callbacks.logger import _EventFile

    return _EventFile(os.path.join(run_dir, "train"))


def write_epoch_metrics(run_dir, history, steps_per_epoch):
    """Keras's epoch metrics at the step each epoch ended on."""
    file = _event_file(run_dir)
    try:
        for tag in EPOCH_METRICS:
            values = np.asarray(history[tag], dtype=np.float64)
            steps = steps_per_epoch * np.arange(1, len(values) + 1)
            file.write_scalars(tag, steps, values)
    finally:
        file.close()


def _hparams(settings, names, runs):
    """The typed HParams of the experiment, the key columns first."""
    from tensorboard.plugins.hparams import api as hp

    peaks = [run["peak_learning_rate"] for run in runs]
    return [
        hp.HParam("schedule", hp.Discrete(list(names)), description="the run's schedule"),
        hp.HParam(
            "optimizer", hp.Discrete(sorted({run["optimizer"] for run in runs}))
        ),
        hp.HParam(
            "peak_learning_rate", hp.RealInterval(min(peaks), max(peaks)),
            display_name="peak rate", description="the largest rate of the run",
        ),
        hp.HParam("model", hp.Discrete([settings["model"]])),
        hp.HParam("epochs", hp.IntInterval(settings["epochs"], settings["epochs"])),
        hp.HParam("seed", hp.Discrete(list(settings["seeds"]))),
        hp.HParam("data", hp.Discrete([settings["data"]])),
        hp.HParam("batch_size", hp.Discrete([settings["batch_size"]])),
        hp.HParam(
            "schedule_class", hp.Discrete(sorted({run["schedule_class"] for run in runs}))
        ),
        hp.HParam(
            "schedule_config",
            hp.Discrete(sorted({run["schedule_config"] for run in runs})),
            description="the schedule's get_config(), as JSON",
        ),
    ]


def _layout():
    from tensorboard.plugins.custom_scalar import layout_pb2

    def chart(title, tag):
        return layout_pb2.Chart(
            title=title,
            multiline=layout_pb2.MultilineChartContent(tag=[rf"^{tag}$"]),
        )

    return layout_pb2.Layout(
        category=[
            layout_pb2.Category(
                title="Learning rate and validation accuracy, every run",
                chart=[
                    chart("learning rate of every update", "learning_rate"),
                    chart("validation accuracy (at each epoch's last step)",
                          "val_accuracy"),
                ],
            ),
            layout_pb2.Category(
                title="Losses, every run",
                chart=[
                    chart("training loss", "loss"),
                    chart("validation loss", "val_loss"),
                ],
            ),
        ]
    )


def write_run_summary(run_dir, settings, names, runs, run, metrics):
    """A run's HParams session and metrics, with the experiment's config.

    Args:
        run_dir: the run's directory (its events go to `<run_dir>/train`).
        settings: the experiment's settings (`model`, `epochs`, `seeds`,
            `data`, `batch_size`).
        names: every schedule of the experiment, in order.
        runs: every run's HParams values (for the domains).
        run: this run's HParams values.
        metrics: this run's metric values; a `None` is not written.
    """
    from tensorboard.plugins.custom_scalar import summary as custom_scalars
    from tensorboard.plugins.hparams import api as hp

    hparams = _hparams(settings, names, runs)
    file = _event_file(run_dir)
    try:
        file.write_summary(
            hp.hparams_config_pb(
                hparams=hparams,
                metrics=[
                    hp.Metric(tag, display_name=label, description=text)
                    for tag, (label, text) in METRICS.items()
                ],
            ),
            step=0,
        )
        file.write_summary(custom_scalars.pb(_layout()), step=0)
        values = {h: run[h.name] for h in hparams}
        trial = os.path.relpath(run_dir, os.path.dirname(os.path.dirname(run_dir)))
        file.write_summary(hp.hparams_pb(values, trial_id=trial), step=0)
        step = settings["epochs"]
        for tag in METRICS:
            if metrics.get(tag) is not None:
                file.write_scalars(tag, np.array([step]), np.array([metrics[tag]]))
    finally:
        file.close()


def read_scalars(log_dir, tag):
    """`(steps, values)` of a scalar in a TensorBoard run, read by TensorBoard.

    Reads both kinds of scalar event: `tf.summary.scalar`'s tensors and the
    `simple_value` ones that TensorBoard's own writer makes.
    """
    from tensorboard.backend.event_processing import event_accumulator
    from tensorboard.util import tensor_util

    accumulator = event_accumulator.EventAccumulator(
        log_dir,
        size_guidance={event_accumulator.SCALARS: 0, event_accumulator.TENSORS: 0},
    )
    accumulator.Reload()
    if tag in accumulator.Tags()[event_accumulator.SCALARS]:
        pairs = [(event.step, event.value) for event in accumulator.Scalars(tag)]
    else:
        pairs = [
            (event.step, tensor_util.make_ndarray(event.tensor_proto).item())
            for event in accumulator.Tensors(tag)
        ]
    steps, values = zip(*pairs) if pairs else ((), ())
    return np.array(steps, dtype=np.int64), np.array(values, dtype=np.float64)
