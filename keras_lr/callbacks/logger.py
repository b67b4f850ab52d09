"""Per-step learning rate logging to TensorBoard without a device read per batch."""

import dataclasses
import itertools
import os
import re
import socket
import time
import weakref

import keras
import numpy as np
from tensorboard.compat.proto import event_pb2

from keras_lr import _groups
from keras_lr import _validation
from keras_lr.callbacks import _optimizer_rate
from keras_lr.callbacks._optimizer_state import CallbackState


@keras.saving.register_keras_serializable(package="keras_lr")
class LearningRateLogger(keras.callbacks.Callback):
    """Logs the learning rate of every update to TensorBoard and `History`.

    The value logged at step `s` is the rate update `s` used (Keras's step
    convention: the first update is step 0), on the x axis of the optimizer's
    global step, so that cyclical, one-cycle and warmup schedules show their
    real shape. Keras's `TensorBoard` callback logs the rate once per epoch,
    as the value for the *next* step.

    With gradient accumulation (`SGD(..., gradient_accumulation_steps=n)`)
    only every n-th batch updates the weights. The x axis then counts real
    updates, as `optimizer.iterations` does (Keras's own step under
    accumulation, also the x axis of `TensorBoard`'s
    `evaluation_*_vs_iterations`), and step `k` shows the rate update `k`
    really used: for a schedule passed to the optimizer that is
    `schedule(k * n + n - 1)`, because Keras calls the schedule with the
    count of batches and applies the update at the last batch of its `n`.
    So a run with `batch_size=b, gradient_accumulation_steps=n` and one with
    `batch_size=n * b` and no accumulation draw the same number of points on
    the same axis. Keras's `TensorBoard(update_freq="batch")` counts batches
    instead (from 1, restarting at every `fit`); divide its step by `n` to
    compare.

    Nothing is read from the device per batch: the callback reads the
    optimizer's step once per epoch and evaluates the rates of the epoch's
    steps on the host (keras_lr schedules are pure functions of the step;
    Keras's built-in schedules run through `keras.ops` on a vector of steps),
    then writes them in one go. It is exact for a float rate (also one a
    callback changes between epochs), any schedule, a schedule under
    `ReduceLROnPlateau`, keras_lr's `LearningRateScheduler` and `CyclicLR`,
    with `steps_per_execution > 1`, with `gradient_accumulation_steps`, and
    under `tf.distribute.MirroredStrategy`.

    Crashes and resumes: every applied step is in the event file before
    any weights file that holds it is written (a backup or checkpoint
    written mid-epoch makes the logger write the epoch's steps so far), and
    each `fit` starts with TensorBoard's restart marker (a `SessionLog.START`
    event) at its first step. A job killed after logging steps its last
    backup does not hold, and resumed from that backup, logs those steps
    again; TensorBoard then drops the orphaned points of the run at that
    step or later (Keras's `TensorBoard` events in the same run included),
    so each applied step shows once. Event files are named in creation
    order, so TensorBoard reads them in the order they were written.

    Events go to `<log_dir>/train`, the run layout of
    `keras.callbacks.TensorBoard`, so both can share a `log_dir`. Only the
    chief process (`jax.process_index() == 0`, the TensorFlow distribution
    strategy's chief task, or rank 0 of an initialized `torch.distributed`)
    writes. A `MirroredStrategy` runs one process, and so one writer.

    Beside the rate, it logs the momentum-like hyperparameter (tag
    `"momentum"` for SGD, `"beta_1"` for the Adam family and Lion) and the
    weight decay (`"weight_decay"`) each update used, the same way (host
    values, no device read), when they are schedules (`keras_lr.optimizers`)
    and, with `log_momentum=True` / `log_weight_decay=True`, when they are
    floats (Lightning's `LearningRateMonitor` arguments), for Keras's own
    optimizers too. Each also goes into `logs` (and `History`) under its tag.

    With a `keras.optimizers.MultiOptimizer` every group gets its own
    tags, `<tag>/<group>` (`momentum/<group>`, ... beside it) and the same
    keys in `logs`, for the groups of `keras_lr.optimizers.groups`
    (`"default"`, then the `OptimizerMap`'s keys); each sub-optimizer may
    hold any float or schedule, and be a `keras_lr.optimizers` optimizer.

    Args:
        log_dir: the TensorBoard log directory, or `None` to only set
            `logs["learning_rate"]` (and so `History`).
        update_freq: `"step"` (every update), an integer `N` (the steps that
            are multiples of `N`), or `"epoch"` (the epoch's last update).
            Steps count real updates.
        tag: the TensorBoard tag.
        log_momentum: `None` (log a scheduled momentum / `beta_1`), `True`
            (also a float one) or `False` (never).
        log_weight_decay: the same for the weight decay (never logged when
            it is `None`, Keras's "no weight decay").

    At each epoch end, `logs["learning_rate"]` is the rate the epoch's last
    update used (with gradient accumulation an epoch may end before any
    update: then the rate of the last update before it, if this `fit` made
    one).

    Example:

    >>> import keras, numpy as np, keras_lr
    >>> x, y = np.ones((8, 2)), np.ones((8, 1))
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> schedule = keras_lr.schedules.CosineAnnealing(0.1, decay_steps=4)
    >>> model.compile(keras.optimizers.SGD(schedule), loss="mse")
    >>> logger = keras_lr.callbacks.LearningRateLogger(log_dir=None)
    >>> history = model.fit(x, y, batch_size=4, epochs=2, verbose=0,
    ...                     callbacks=[logger])
    >>> [round(lr, 6) for lr in history.history["learning_rate"]]  # steps 1, 3
    [0.085355, 0.014645]

    To TensorBoard, beside Keras's callback in the same run:

    ```python
    schedule = keras_lr.schedules.CosineAnnealing(0.1, decay_steps=1000)
    model.compile(keras.optimizers.SGD(schedule), loss="mse")
    model.fit(x, y, epochs=5, callbacks=[
        keras_lr.callbacks.LearningRateLogger("logs"),
        keras.callbacks.TensorBoard("logs"),
    ])
    ```
    """

    def __init__(
        self,
        log_dir=None,
        update_freq="step",
        tag="learning_rate",
        log_momentum=None,
        log_weight_decay=None,
    ):
        super().__init__()
        if log_dir is not None and not isinstance(log_dir, (str, os.PathLike)):
            raise TypeError(
                "Argument `log_dir` must be a path or None. "
                f"Received: log_dir={log_dir!r}"
            )
        if isinstance(update_freq, str):
            _validation.check_choice("update_freq", update_freq, ("step", "epoch"))
        else:
            update_freq = _validation.check_positive_int("update_freq", update_freq)
        if not isinstance(tag, str) or not tag:
            raise TypeError(
                f"Argument `tag` must be a non-empty string. Received: tag={tag!r}"
            )
        for name, value in (
            ("log_momentum", log_momentum),
            ("log_weight_decay", log_weight_decay),
        ):
            if value is not None:
                _validation.check_bool(name, value)
        self.log_dir = None if log_dir is None else os.fspath(log_dir)
        self.update_freq = update_freq
        self.tag = tag
        self.log_momentum = log_momentum
        self.log_weight_decay = log_weight_decay
        self._writer = None
        self._groups = None
        self._optimizer = None

    def get_config(self):
        return {
            "log_dir": self.log_dir,
            "update_freq": self.update_freq,
            "tag": self.tag,
            "log_momentum": self.log_momentum,
            "log_weight_decay": self.log_weight_decay,
        }

    def set_model(self, model):
        super().set_model(model)
        # Before `BackupAndRestore` or `ModelCheckpoint` can write a file.
        if getattr(model, "optimizer", None) is not None:
            _Flush.of(_optimizer_rate.base_optimizer(model)).loggers.add(self)

    def on_train_begin(self, logs=None):
        self._optimizer = _optimizer_rate.base_optimizer(self.model)
        self._groups = None
        self._last = {}
        self._restarted = False
        if self.log_dir is not None and _is_chief(self.model):
            self._writer = _open_writer(os.path.join(self.log_dir, "train"))

    def on_epoch_begin(self, epoch, logs=None):
        self._groups = None

    def on_train_batch_begin(self, batch, logs=None):
        # Only the first batch of an epoch does anything. By then every
        # on_epoch_begin hook has run (e.g. Keras's LearningRateScheduler),
        # and only a host driver (whose writes the snapshot asks for) can
        # change the rate before the epoch's last update. A batch *begin*
        # hook costs a Python call: unlike an end hook it does not make
        # Keras wait for the device or give up asynchronous dispatch.
        if self._groups is None:
            # Here rather than at on_train_begin: a MultiOptimizer on a
            # callable knows its groups once `fit` has built it.
            multi = _groups.is_multi(self._optimizer)
            self._groups = [
                self._snapshot(sub, f"/{name}" if multi else "")
                for name, sub in _groups.groups(self._optimizer).items()
            ]
            if self._writer is not None and not self._restarted:
                # After `BackupAndRestore` loaded its backup: this is the
                # step the run resumes at (the default group's).
                self._writer.write_restart(self._groups[0].first_step)
                self._restarted = True

    def _snapshot(self, optimizer, suffix):
        """What one group's updates will use this epoch: its step now, and
        host functions of the step for its rate and each logged
        hyperparameter. `suffix` ("/<group>" for a MultiOptimizer) follows
        each tag and `logs` key."""
        first_step = _optimizer_rate.read_step(optimizer)
        return _GroupSnapshot(
            optimizer=optimizer,
            suffix=suffix,
            first_step=first_step,
            # The steps from here on not yet in the event file.
            unwritten=first_step,
            rates=_optimizer_rate.rate_snapshot(optimizer),
            hyperparameters={
                name: _optimizer_rate.hyperparameter_snapshot(optimizer, name)
                for name in self._hyperparameters_to_log(optimizer)
            },
        )

    def on_epoch_end(self, epoch, logs=None):
        if self._groups is None:
            return
        for group in self._groups:
            steps = np.arange(
                group.first_step, _optimizer_rate.read_step(group.optimizer)
            )
            if not steps.size:
                continue
            values = np.asarray(group.rates(steps), dtype=np.float64)
            self._last["learning_rate" + group.suffix] = float(values[-1])
            for name, snapshot in group.hyperparameters.items():
                self._last[name + group.suffix] = float(snapshot(steps[-1:])[0])
            self._write(group, steps, values, epoch_end=True)
        if logs is not None:
            # The epoch's last values (or, for a group the epoch did not
            # update, the last before it in this fit).
            logs.update(self._last)

    def _write(self, group, steps, values, epoch_end):
        """Write one group's steps not written yet, the rate's and each
        logged hyperparameter's; at an epoch's end with
        `update_freq="epoch"` only its last."""
        if self._writer is None:
            return
        new = steps >= group.unwritten
        if self.update_freq == "epoch":
            new &= steps == steps[-1] if epoch_end else False
        elif self.update_freq != "step":
            new &= steps % self.update_freq == 0
        if np.any(new):
            self._writer.write_scalars(
                self.tag + group.suffix, steps[new], values[new]
            )
            for name, snapshot in group.hyperparameters.items():
                self._writer.write_scalars(
                    name + group.suffix, steps[new],
                    np.asarray(snapshot(steps[new]), dtype=np.float64),
                )
        # `update_freq="epoch"` waits for the epoch's end, whose step a
        # mid-epoch backup does not hold: a resume redoes it.
        if epoch_end or self.update_freq != "epoch":
            group.unwritten = int(steps[-1]) + 1

    def _flush(self):
        """Write the steps applied so far: a weights file is being written."""
        if self._writer is None or self._groups is None:
            return
        for group in self._groups:
            steps = np.arange(
                group.unwritten, _optimizer_rate.read_step(group.optimizer)
            )
            if steps.size:
                values = np.asarray(group.rates(steps), dtype=np.float64)
                self._write(group, steps, values, epoch_end=False)

    def _hyperparameters_to_log(self, optimizer):
        """The momentum-like hyperparameter and the weight decay, when
        scheduled or asked for (`log_momentum`, `log_weight_decay`)."""
        names = []
        for name, wanted in (
            (_optimizer_rate.momentum_name(optimizer), self.log_momentum),
            ("weight_decay", self.log_weight_decay),
        ):
            if name is None or wanted is False:
                continue
            value = _optimizer_rate.hyperparameter(optimizer, name)
            if value is None:
                continue
            if wanted or isinstance(value, keras.optimizers.schedules.LearningRateSchedule):
                names.append(name)
        return names

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
            self._writer = None


@dataclasses.dataclass
class _GroupSnapshot:
    """One group's epoch, as `LearningRateLogger._snapshot` froze it."""

    optimizer: object
    suffix: str
    first_step: int
    unwritten: int
    rates: object
    hyperparameters: dict


class _Flush(CallbackState):
    """Makes the loggers of an optimizer write their pending steps whenever
    a weights file of the optimizer is written.

    `BackupAndRestore` (also listed before the logger, also every
    `save_freq` batches) and `ModelCheckpoint` write weights files; a job
    resumed from one redoes only the steps after it, so the steps before it
    must be in the event file by then. Nothing is saved in the file.
    """

    attribute = "_keras_lr_logger_flush"

    def __init__(self, optimizer):
        super().__init__(optimizer)
        self.loggers = weakref.WeakSet()

    def save_own_variables(self, store):
        for logger in list(self.loggers):
            logger._flush()

    def load_own_variables(self, store):
        pass


_FILE_NUMBERS = itertools.count()
_OUR_FILE = re.compile(r"events\.out\.tfevents\.(\d+)\..*\.learning_rate$")


def _tensorflow(use):
    """TensorFlow, or None: where it is not installed, or `use` is False."""
    if use is False:
        return None
    try:
        import tensorflow as tf
    except ImportError:
        return None
    return tf


class _LocalFiles:
    """The two directory operations of `tf.io.gfile` that `_EventFile`
    needs, on the local file system (without TensorFlow)."""

    @staticmethod
    def makedirs(directory):
        os.makedirs(directory, exist_ok=True)

    listdir = staticmethod(os.listdir)


class _EventFile:
    """One TensorBoard event file, written synchronously in bulk.

    An event file is a TFRecord file of `Event` protos; TensorFlow's record
    writer frames and checksums them in C++, about 1 microsecond per value
    and no background thread competing with training for the CPU
    (TensorBoard's queued `EventFileWriter`, whose checksum is pure Python,
    takes about 12; eager `tf.summary.scalar` about 300). Without
    TensorFlow (or with `tensorflow=False`), the `tensorboard` package's
    own `RecordWriter` writes the same bytes over a plain file,
    synchronously too, and `os` makes and lists the directory.
    """

    def __init__(self, directory, tensorflow=None):
        tf = _tensorflow(tensorflow)
        # TensorFlow's file system also writes to remote paths (gs://...).
        files = tf.io.gfile if tf is not None else _LocalFiles
        files.makedirs(directory)
        # A new file per fit. TensorBoard reads a run's files in the order
        # of their names, and its restart marker only drops points it read
        # before: so a name sorts after every earlier file of ours, also one
        # another process (the job before a crash) wrote in this second or
        # with a clock ahead, and the zero-padded counter keeps two fits of
        # one process in one second in order.
        earlier = [
            int(match.group(1)) for match in map(
                _OUR_FILE.match, files.listdir(directory)
            ) if match
        ]
        seconds = int(time.time())
        if earlier and max(earlier) >= seconds:
            seconds = max(earlier) + 1
        name = "events.out.tfevents.%010d.%s.%d.%09d.learning_rate" % (
            seconds, socket.gethostname(), os.getpid(), next(_FILE_NUMBERS),
        )
        path = os.path.join(directory, name)
        if tf is not None:
            self._file = tf.io.TFRecordWriter(path)
        else:
            from tensorboard.summary.writer.record_writer import RecordWriter

            self._file = RecordWriter(open(path, "wb"))
        header = event_pb2.Event(wall_time=time.time(), file_version="brain.Event:2")
        self._file.write(header.SerializeToString())
        self._file.flush()

    def write_restart(self, step):
        """TensorBoard's restart marker: points of the run at `step` or
        later that were read before it are orphans of a dead job."""
        event = event_pb2.Event(wall_time=time.time(), step=step)
        event.session_log.status = event_pb2.SessionLog.START
        self._file.write(event.SerializeToString())
        self._file.flush()

    def write_scalars(self, tag, steps, values):
        event = event_pb2.Event(wall_time=time.time())
        scalar = event.summary.value.add(tag=tag)
        records = []
        for step, value in zip(steps.tolist(), values.tolist()):
            event.step = step
            scalar.simple_value = value
            records.append(event.SerializeToString())
        write = self._file.write
        for record in records:
            write(record)
        self._file.flush()

    def write_summary(self, summary, step):
        """One `Summary` proto (from TensorFlow or TensorBoard) at `step`."""
        event = event_pb2.Event(wall_time=time.time(), step=step)
        event.summary.ParseFromString(summary.SerializeToString())
        self._file.write(event.SerializeToString())
        self._file.flush()

    def close(self):
        self._file.close()


def _open_writer(path):
    """An event file, or a clear error now rather than after an epoch."""
    try:
        return _EventFile(path)
    except Exception as error:
        raise ValueError(
            "Argument `log_dir` must be a directory that can be written. "
            f"Received: log_dir={os.path.dirname(path)!r} ({error})"
        ) from error


def _is_chief(model):
    """Whether this process writes: process 0 of a multi-process run."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return jax.process_index() == 0
    if backend == "tensorflow":
        strategy = getattr(model, "distribute_strategy", None)
        resolver = getattr(strategy, "cluster_resolver", None)
        if resolver is None or not resolver.task_type:
            return True
        # TensorFlow's convention: the "chief" task, or worker 0 when the
        # cluster has no chief.
        if "chief" in resolver.cluster_spec().as_dict():
            return resolver.task_type == "chief"
        return resolver.task_type == "worker" and resolver.task_id == 0
    if backend == "torch":
        import torch.distributed

        if torch.distributed.is_available() and torch.distributed.is_initialized():
            return torch.distributed.get_rank() == 0
    return True
