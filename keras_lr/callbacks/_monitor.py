"""What the callbacks that watch a metric share, as Keras's `MonitorCallback`.

`ReduceLROnPlateau` and `CooldownOnTrigger` both count epochs without
improvement of a metric (Keras's patience rule), keep that state on the
optimizer so that it is resumed with it, and, when `BackupAndRestore` writes
its backup before they have seen the epoch, give the backup the state they
are about to reach.
"""

import math
import warnings

import keras

from keras_lr import _keras_private
from keras_lr.callbacks import _optimizer_rate
from keras_lr.callbacks._optimizer_state import CallbackState


class MonitorState(CallbackState):
    """A monitoring callback's state on its optimizer, saved with its weights.

    `initial` is the state of a fresh optimizer (`best`, `wait`, and a
    subclass's own keys); `callback` is the callback attached last, which
    says what a weights file written now holds (`_state_for_backup`). It is
    held strongly: a weights file saved after `fit`, when nothing else holds
    the callback, still asks it.
    """

    dtypes = {"best": "float64", "wait": "int64"}
    initial = {"best": None, "wait": 0}

    def __init__(self, optimizer):
        super().__init__(optimizer)
        self.values = self.new_state()
        self.callback = None

    @classmethod
    def new_state(cls):
        return dict(cls.initial)

    def state(self):
        """The state, a dict (a subclass may keep it elsewhere)."""
        return self.values

    def save_own_variables(self, store):
        self.write(store, self.callback._state_for_backup(self))


def state_property(key):
    """A property reading and writing `key` of a callback's state.

    The state is `self._state()`: a dict held by the optimizer once the
    callback is attached to a model (so it is saved and restored with the
    optimizer), and by the callback before that.
    """
    return property(
        lambda self: self._state()[key],
        lambda self, value: self._state().__setitem__(key, value),
    )


class PatienceMonitor(keras.callbacks.Callback):
    """Base class of the callbacks that watch a metric with a patience.

    A subclass sets `monitor`, `mode` (`"auto"`, `"min"` or `"max"`) and
    `min_delta` in its constructor, names its state (`state_class`, a
    `MonitorState`), and implements `_state_for_backup(holder)`. It may
    prepare the optimizer before the state is attached (`_prepare`).
    """

    state_class = MonitorState
    # Who "is conditioned on metric ..." in the warning for a missing one
    # (the class name when None).
    _missing_subject = None

    def __init__(self):
        super().__init__()
        self._holder = None
        self._unattached_state = self.state_class.new_state()
        self._direction = None
        self._warned = set()
        self._in_fit = False
        self._epoch_done = True
        self._epoch_first_batch = 0
        self._train_results = None
        self._val_logs = None

    # Keras's callbacks keep their state in these attributes; here they read
    # and write the optimizer's.
    best = state_property("best")
    wait = state_property("wait")

    def _state(self):
        if self._holder is None:
            return self._unattached_state
        return self._holder.state()

    # --- the state on the optimizer ------------------------------------------

    def set_model(self, model):
        super().set_model(model)
        # Before any on_train_begin: `BackupAndRestore` loads its weights
        # there, and finds the state holder in place whichever comes first.
        if getattr(model, "optimizer", None) is not None:
            self._attach(_optimizer_rate.base_optimizer(model))

    def _attach(self, optimizer):
        holder = self.state_class.of(optimizer)
        self._prepare(optimizer, holder)
        holder.callback = self
        self._holder = holder

    def _prepare(self, optimizer, holder):
        """Ready `optimizer` for this callback, before `holder` is its."""

    def _needs_attach(self, optimizer):
        """Whether `optimizer` is not the one this callback is attached to."""
        return getattr(optimizer, self.state_class.attribute, None) is not self._holder

    def _rebuild_train_function(self):
        # The optimizer's schedule changed form (a wrapper put in place, its
        # numbers now read from variables): a train step traced before holds
        # the old one. Once per attach; a reduction or a trigger later only
        # assigns variables (`_live`).
        if getattr(self.model, "train_function", None) is not None:
            self.model.make_train_function(force=True)

    # --- the hooks -----------------------------------------------------------

    def on_train_begin(self, logs=None):
        self._in_fit = True
        self._direction = None
        optimizer = _optimizer_rate.base_optimizer(self.model)
        if self._needs_attach(optimizer):
            self._attach(optimizer)

    def on_train_end(self, logs=None):
        self._in_fit = False

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_done = False
        self._epoch_first_batch = _optimizer_rate.read_batches(
            _optimizer_rate.base_optimizer(self.model)
        )
        self._train_results = None
        self._val_logs = None

    def on_epoch_end(self, epoch, logs=None):
        self._epoch_done = True

    def on_test_begin(self, logs=None):
        if self._in_fit and self._watches_training_metric():
            # Validation is about to reset the metrics that hold this
            # epoch's training values; a backup may still need them.
            self._train_results = self.model.get_metrics_result()

    def on_test_end(self, logs=None):
        if self._in_fit:
            self._val_logs = dict(logs or {})

    def _watches_training_metric(self):
        return self.monitor is not None and not self.monitor.startswith("val_")

    # --- what a backup holds -------------------------------------------------

    def _epoch_unseen(self):
        """Whether the epoch's batches are all trained but this callback has
        not seen its end.

        `BackupAndRestore` listed before this callback writes its backup
        then, and a resume starts after that epoch: so the backup must hold
        the state this callback is about to reach (`_pending_value`).
        """
        steps = (self.params or {}).get("steps")
        return (
            not self._epoch_done
            and steps is not None
            and _optimizer_rate.read_batches(_optimizer_rate.base_optimizer(self.model))
            - self._epoch_first_batch
            >= steps
        )

    def _pending_value(self):
        """The monitored value the epoch's logs are about to hold: from the
        validation logs, the training metrics as validation found them, or
        the model's metrics."""
        if self.monitor.startswith("val_"):
            return (self._val_logs or {}).get(self.monitor[len("val_"):])
        results = self._train_results
        if results is None:
            results = self.model.get_metrics_result()
        return results.get(self.monitor)

    # --- the monitored value and its comparison ------------------------------

    def _monitored(self, logs):
        """The monitored value in `logs` as a float, or None when it is
        missing; warns once for a missing, NaN or infinite one, naming the
        caller of the method that asked (for a hook, Keras's callback list,
        as Keras's `ReduceLROnPlateau` does)."""
        current = logs.get(self.monitor)
        if current is None:
            self._warn_missing(logs, stacklevel=5)
            return None
        current = float(current)
        if not math.isfinite(current):
            self._warn_once(
                "nonfinite",
                f"{type(self).__name__} received {self.monitor}={current}; a "
                "NaN or infinite value counts as no improvement.",
                stacklevel=4,
            )
        return current

    def _warn_missing(self, logs, stacklevel=4):
        # By default the warning names the caller of the method calling this.
        subject = self._missing_subject or type(self).__name__
        self._warn_once(
            "missing",
            f"{subject} is conditioned on metric `{self.monitor}` which is not "
            f"available. Available metrics are: {','.join(list(logs.keys()))}.",
            stacklevel=stacklevel,
        )

    def _is_improvement(self, current, best):
        """Whether `current` improves on `best`: a NaN or infinite value
        never does, any finite one does when there is no best yet."""
        if not math.isfinite(current):
            return False
        if best is None:
            return True
        return self._beats(current, best, self._get_direction() == "min")

    def _beats(self, current, best, smaller):
        # Keras's arithmetic, compared in `floatx` as Keras does.
        if smaller:
            result = keras.ops.less(current + self.min_delta, best)
        else:
            result = keras.ops.greater(current - self.min_delta, best)
        return bool(keras.ops.convert_to_numpy(result))

    def _get_direction(self):
        if self._direction is None:
            self._direction = self.mode
            if self.mode == "auto":
                self._direction = _metric_direction(
                    self.model, self.monitor, type(self).__name__)
        return self._direction

    def _warn_once(self, kind, message, stacklevel=3):
        # Once per callback and kind. `stacklevel` counts from here: 3 names
        # the caller of the method calling this.
        if kind not in self._warned:
            self._warned.add(kind)
            warnings.warn(message, stacklevel=stacklevel)


def _metric_direction(model, monitor, callback):
    """"min" for a loss, else the direction the compiled metric declares;
    `callback` (its class name) is named in the error."""
    name = monitor.removeprefix("val_")
    if name == "loss" or name.endswith("_loss"):
        return "min"
    for metric in _compiled_metrics(model):
        direction = _keras_private.metric_direction(metric)
        if metric.name == name and direction is not None:
            return "max" if direction == "up" else "min"
    raise ValueError(
        f"{callback} cannot tell whether `{monitor}` should go up or "
        'down. Pass mode="min" or mode="max". Received: '
        f'monitor={monitor!r}, mode="auto"'
    )


def _compiled_metrics(model):
    for metric in getattr(model, "metrics", []):
        yield metric
        yield from getattr(metric, "metrics", [])
