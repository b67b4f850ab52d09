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


#: The key columns, in the order the HParams tab shows them.
KEY_HPARAMS = ("schedule", "optimizer", "peak_learning_rate", "model", "epochs", "seed")


def _hparams(settings, names, runs):
    """`{key: HParam}`: the typed HParams of the experiment.

    TensorBoard's HParams tab sorts its columns by name, after putting the
    ones marked "differs" first, and shows the first five: so the key
    columns are marked, and named with their rank ("1_schedule", shown as
    "schedule").
    """
    from tensorboard.plugins.hparams import api as hp

    peaks = [run["peak_learning_rate"] for run in runs]

    def values(key):
        return sorted({run[key] for run in runs})

    domains = {
        "schedule": (hp.Discrete(list(names)), "the run's schedule"),
        "optimizer": (hp.Discrete(values("optimizer")), ""),
        "peak_learning_rate": (
            hp.RealInterval(min(peaks), max(peaks)), "the largest rate of the run"
        ),
        "model": (hp.Discrete([settings["model"]]), ""),
        "epochs": (hp.IntInterval(settings["epochs"], settings["epochs"]), ""),
        "seed": (
            hp.Discrete(list(settings["seeds"])),
            "the initial weights and batch order: the same for every schedule",
        ),
        "data": (hp.Discrete([settings["data"]]), settings["data_description"]),
        "batch_size": (hp.Discrete([settings["batch_size"]]), ""),
        "schedule_class": (hp.Discrete(values("schedule_class")), ""),
        "schedule_config": (
            hp.Discrete(values("schedule_config")),
            "the schedule's get_config(), as JSON",
        ),
    }
    hparams = {}
    for key, (domain, description) in domains.items():
        name = key
        if key in KEY_HPARAMS:
            name = f"{KEY_HPARAMS.index(key) + 1}_{key}"
        display = "peak rate" if key == "peak_learning_rate" else key
        hparams[key] = hp.HParam(name, domain, display_name=display,
                                 description=description)
    return hparams


def _experiment_summary(hparams):
    from tensorboard.plugins.hparams import api as hp
    from tensorboard.plugins.hparams import plugin_data_pb2

    summary = hp.hparams_config_pb(
        hparams=list(hparams.values()),
        metrics=[
            hp.Metric(tag, display_name=label, description=text)
            for tag, (label, text) in METRICS.items()
        ],
    )
    # `hparams_config_pb` cannot mark columns: mark the key ones in place.
    content = summary.value[0].metadata.plugin_data
    data = plugin_data_pb2.HParamsPluginData.FromString(content.content)
    keys = {hparams[key].name for key in KEY_HPARAMS}
    for info in data.experiment.hparam_infos:
        info.differs = info.name in keys
    content.content = data.SerializeToString()
    return summary


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


def write_hparams(settings, names, runs):
    """Each run's HParams session and metrics, with the experiment's config.

    Args:
        settings: the experiment's settings (`model`, `epochs`, `seeds`,
            `data`, `data_description`, `batch_size`).
        names: every schedule of the experiment, in order.
        runs: `(run_dir, hparam values, metric values)` of every run (its
            events go to `<run_dir>/train`); a metric that is `None` is not
            written.
    """
    from tensorboard.plugins.custom_scalar import summary as custom_scalars
    from tensorboard.plugins.hparams import api as hp

    hparams = _hparams(settings, names, [values for _, values, _ in runs])
    experiment = _experiment_summary(hparams)
    layout = custom_scalars.pb(_layout())
    step = np.array([settings["epochs"]])
    for run_dir, values, metrics in runs:
        file = _event_file(run_dir)
        try:
            file.write_summary(experiment, step=0)
            file.write_summary(layout, step=0)
            session = {hparam: values[key] for key, hparam in hparams.items()}
            trial = os.path.relpath(run_dir, os.path.dirname(os.path.dirname(run_dir)))
            file.write_summary(hp.hparams_pb(session, trial_id=trial), step=0)
            for tag in METRICS:
                if metrics.get(tag) is not None:
                    file.write_scalars(tag, step, np.array([metrics[tag]]))
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
