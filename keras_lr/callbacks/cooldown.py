"""Cool the learning rate down when the run is told to end."""

import math
import numbers
import warnings
import weakref

import keras
import numpy as np

from keras_lr import _keras_private
from keras_lr import _validation
from keras_lr._keras_private import OptimizerState
from keras_lr._keras_private import print_msg
from keras_lr.callbacks import _optimizer_rate
from keras_lr.callbacks.plateau import ReducedSchedule
from keras_lr.callbacks.plateau import _metric_direction
from keras_lr.callbacks.plateau import _booked
from keras_lr.schedules import evaluate
from keras_lr.schedules.cooldown import Cooldown

_LearningRateSchedule = keras.optimizers.schedules.LearningRateSchedule
# The attribute of the optimizer that carries the trigger state into weight
# files (see `_CooldownState`).
_STATE_ATTRIBUTE = "_keras_lr_cooldown_state"


def _new_book():
    return {"best": None, "wait": 0, "start_step": None}


def installed_cooldown(optimizer):
    """The `Cooldown` in the optimizer's rate (also under a plateau's
    `ReducedSchedule`), or None."""
    rate = _keras_private.rate_as_held(optimizer)
    if isinstance(rate, ReducedSchedule):
        rate = rate.schedule
    return rate if isinstance(rate, Cooldown) else None


class _CooldownState(OptimizerState):
    """The trigger's bookkeeping for one optimizer, saved with its weights.

    Every weights file of the optimizer (`BackupAndRestore`'s included)
    carries whether the cooldown was triggered, at which step, and the
    monitored metric's best value and wait; loading one whose cooldown was
    triggered installs the cooldown on an optimizer that lacks it (a run
    resumed from a backup rebuilds its optimizer with the original schedule).
    """

    def __init__(self, optimizer):
        # Weak: the optimizer holds this object (see plateau's state).
        self._optimizer = weakref.ref(optimizer)
        self.book = _new_book()
        self.callback = None

    def save_own_variables(self, store):
        book = self.book
        if self.callback is not None:
            book = self.callback._book_for_backup(book)
        store["best"] = np.array(
            np.nan if book["best"] is None else book["best"], dtype="float64"
        )
        store["wait"] = np.array(book["wait"], dtype="int64")
        start = book["start_step"]
        store["start_step"] = np.array(-1 if start is None else start, dtype="int64")

    def load_own_variables(self, store):
        if "start_step" not in set(store.keys()):
            return
        best = float(np.asarray(store["best"]))
        start = int(np.asarray(store["start_step"]))
        self.book.update(
            best=None if math.isnan(best) else best,
            wait=int(np.asarray(store["wait"])),
            start_step=None if start < 0 else start,
        )
        optimizer = self._optimizer()
        if (
            self.book["start_step"] is not None
            and installed_cooldown(optimizer) is None
            and self.callback is not None
        ):
            self.callback._install(optimizer, self.book["start_step"])


@keras.saving.register_keras_serializable(package="keras_lr")
class CooldownOnTrigger(keras.callbacks.Callback):
    """Cool the learning rate down when the run is told to end.

    Keeps the optimizer's schedule (a constant rate, a warmup then a
    constant, an inverse square root, anything) until a trigger, then
    replaces it with `keras_lr.schedules.Cooldown(schedule, start_step,
    decay_steps, shape, min_learning_rate)`, starting at the next update:
    the decay phase of warmup-stable-decay without fixing the run's length
    in advance (Hägele et al. 2024; WSD-S, Wen et al. 2024). The triggers,
    any of which ends the stable phase:

    - `start_epoch`: the cooldown starts with that epoch (0-based, as
      Keras's epoch indices; typically `epochs - cooldown epochs`);
    - `monitor`: where Keras's `EarlyStopping(monitor, min_delta, patience,
      mode)` would stop the run, the cooldown starts instead (the same
      patience rule and comparisons; a NaN or infinite value counts as no
      improvement);
    - `trigger()`: called by you or another callback. Outside `fit` the
      cooldown is installed at once; during `fit`, at the next epoch
      boundary.

    The trigger is taken once: afterwards the cooldown runs its course, and
    with `stop_training=True` the run stops at the end of the epoch in
    which the cooldown reaches `min_learning_rate` (choose `decay_steps` as
    a whole number of epochs to end on the last cooled-down step).

    Installing the cooldown recompiles the train step once (the schedule is
    a constant of the compiled step). The cooldown is part of the
    optimizer's learning rate, so `model.save` and `keras.models.load_model`
    keep it (no callback needed to continue it). The trigger's state (the
    start step, and the monitored metric's best value and wait) is saved in
    every weights file of the optimizer, so a run resumed by
    `keras.callbacks.BackupAndRestore` cools down from the same step, in
    either order of the two callbacks: a validation metric is read when
    validation ends, before any epoch-end callback, and a backup written
    at the end of an epoch before this callback has seen a training metric
    takes the state this callback is about to reach from the model's
    metrics. A metric that only another callback puts in the epoch's logs
    is the exception: with the backup listed first, that backup lags one
    epoch (list this callback first then). Before the trigger,
    `load_model` keeps the schedule but not the metric's best value and
    wait (Keras's optimizer config has no room for them), which start
    afresh as with `EarlyStopping`.

    The optimizer must have been built with a `LearningRateSchedule` (for a
    constant rate, `keras_lr.schedules.Constant(lr)`): a float rate is a
    variable of the optimizer, which a schedule cannot replace without
    breaking `BackupAndRestore`'s and `load_model`'s variable lists. Under a
    `keras_lr.callbacks.ReduceLROnPlateau` the cooldown goes beneath the
    plateau's scale.

    Args:
        decay_steps: the length of the cooldown in optimizer steps, a
            positive integer (about 20 % of the steps trained so far is the
            paper's advice).
        shape: `"1-sqrt"`, `"linear"` or `"cosine"`.
        min_learning_rate: the final rate; lowered to the schedule's rate at
            the trigger if that is smaller (with a warning).
        start_epoch: the epoch the cooldown starts with, or `None`.
        monitor: the metric to watch, a key of the epoch's logs, or `None`.
        patience: epochs without improvement before the cooldown starts.
        mode: `"auto"`, `"min"` or `"max"`, as `EarlyStopping`'s.
        min_delta: the margin an improvement must beat, >= 0.
        stop_training: stop the run when the cooldown is over.
        verbose: 1 prints the start and the end of the cooldown (through
            Keras's `print_msg`).

    Attributes:
        start_step: the step the cooldown starts at, or `None` before the
            trigger.
        best, wait: the monitored metric's bookkeeping.

    Example:

    ```python
    schedule = keras_lr.schedules.Warmup(keras_lr.schedules.Constant(3e-4), 1000)
    model.compile(keras.optimizers.AdamW(schedule), loss="mse")
    cooldown = keras_lr.callbacks.CooldownOnTrigger(
        decay_steps=5 * steps_per_epoch, monitor="val_loss", patience=3)
    model.fit(x, y, validation_split=0.1, epochs=1000, callbacks=[cooldown])
    ```
    """

    def __init__(
        self,
        decay_steps,
        shape="1-sqrt",
        min_learning_rate=0.0,
        start_epoch=None,
        monitor=None,
        patience=0,
        mode="auto",
        min_delta=0.0,
        stop_training=True,
        verbose=0,
    ):
        super().__init__()
        self.decay_steps = _validation.check_positive_int("decay_steps", decay_steps)
        self.shape = _validation.check_choice(
            "shape", shape, ("1-sqrt", "linear", "cosine")
        )
        self.min_learning_rate = _validation.check_learning_rate(
            "min_learning_rate", min_learning_rate
        )
        self.start_epoch = (
            None
            if start_epoch is None
            else _validation.check_non_negative_int("start_epoch", start_epoch)
        )
        if monitor is not None and (not isinstance(monitor, str) or not monitor):
            raise TypeError(
                "Argument `monitor` must be the name of a metric or None. "
                f"Received: monitor={monitor!r}"
            )
        self.monitor = monitor
        self.patience = _validation.check_non_negative_int("patience", patience)
        self.mode = _validation.check_choice("mode", mode, ("auto", "min", "max"))
        self.min_delta = _validation.check_number("min_delta", min_delta, minimum=0.0)
        self.stop_training = _validation.check_bool("stop_training", stop_training)
        if not isinstance(verbose, numbers.Integral) or isinstance(verbose, bool):
            raise TypeError(
                f"Argument `verbose` must be an integer. Received: verbose={verbose!r}"
            )
        self.verbose = int(verbose)
        self._state = None
        self._unattached_book = _new_book()
        self._requested = False
        self._needs_compile = False
        self._in_fit = False
        self._direction = None
        self._warned = set()
        self._epoch = None
        self._epoch_done = True
        self._epoch_first_batch = 0
        self._train_results = None

    def get_config(self):
        return {
            "decay_steps": self.decay_steps,
            "shape": self.shape,
            "min_learning_rate": self.min_learning_rate,
            "start_epoch": self.start_epoch,
            "monitor": self.monitor,
            "patience": self.patience,
            "mode": self.mode,
            "min_delta": self.min_delta,
            "stop_training": self.stop_training,
            "verbose": self.verbose,
        }

    # The bookkeeping belongs to the optimizer (see `_CooldownState`).

    def _book(self):
        return self._unattached_book if self._state is None else self._state.book

    @property
    def start_step(self):
        return self._book()["start_step"]

    best = _booked("best")
    wait = _booked("wait")

    def set_model(self, model):
        super().set_model(model)
        # Before any on_train_begin: `BackupAndRestore` loads its weights
        # there, and finds the state holder in place whichever comes first.
        if getattr(model, "optimizer", None) is not None:
            self._attach(_optimizer_rate.base_optimizer(model))

    def _attach(self, optimizer):
        state = getattr(optimizer, _STATE_ATTRIBUTE, None)
        if not isinstance(state, _CooldownState):
            state = _CooldownState(optimizer)
            setattr(optimizer, _STATE_ATTRIBUTE, state)
        state.callback = self
        self._state = state
        cooldown = installed_cooldown(optimizer)
        if cooldown is not None and state.book["start_step"] is None:
            # A model loaded with its cooldown (`load_model`): triggered.
            state.book["start_step"] = cooldown.start_step

    def trigger(self):
        """Start the cooldown: now outside `fit`, at the next epoch boundary
        during it. Once triggered, later calls do nothing."""
        if self.start_step is not None:
            return
        self._requested = True
        if not self._in_fit and self.model is not None:
            self._start(epoch=None)

    # --- the hooks ---------------------------------------------------------

    def on_train_begin(self, logs=None):
        self._in_fit = True
        self._direction = None
        optimizer = _optimizer_rate.base_optimizer(self.model)
        if getattr(optimizer, _STATE_ATTRIBUTE, None) is not self._state:
            self._attach(optimizer)
        if not isinstance(_keras_private.rate_as_held(optimizer), _LearningRateSchedule):
            raise TypeError(
                "CooldownOnTrigger needs an optimizer built with a "
                "LearningRateSchedule (for a constant rate, "
                "`keras_lr.schedules.Constant(lr)`). Received: "
                f"learning_rate={_keras_private.rate_as_held(optimizer)!r}"
            )

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._epoch_done = False
        self._train_results = None
        optimizer = _optimizer_rate.base_optimizer(self.model)
        self._epoch_first_batch = _optimizer_rate.read_batches(optimizer)
        if self.start_step is None and (
            self._requested
            or (self.start_epoch is not None and epoch >= self.start_epoch)
        ):
            self._start(epoch)
        if self._needs_compile:
            self._recompile()

    def on_test_begin(self, logs=None):
        if self._in_fit and self._watches_training_metric():
            # Validation is about to reset the metrics that hold this
            # epoch's training values; a backup may still need them.
            self._train_results = self.model.get_metrics_result()

    def on_test_end(self, logs=None):
        # A validation metric is decided as soon as validation ends: before
        # any epoch-end callback (`BackupAndRestore` included) runs.
        if self._in_fit and self.monitor is not None and self.monitor.startswith("val_"):
            values = {f"val_{k}": v for k, v in (logs or {}).items()}
            self._observe(values.get(self.monitor), values)

    def on_epoch_end(self, epoch, logs=None):
        self._epoch_done = True
        logs = logs if logs is not None else {}
        if self.monitor is not None and not self.monitor.startswith("val_"):
            self._observe(logs.get(self.monitor), logs)
        elif self.monitor is not None and self.monitor not in logs:
            self._warn_missing(logs)
        if self.start_step is None and self._requested:
            self._start(epoch + 1)
        start = self.start_step
        if (
            start is not None
            and self.stop_training
            and self._schedule_step() >= start + self.decay_steps
        ):
            self.model.stop_training = True
            if self.verbose > 0:
                print_msg(
                    f"\nEpoch {epoch + 1}: CooldownOnTrigger: the cooldown is "
                    "over, stopping training."
                )

    def on_train_end(self, logs=None):
        self._in_fit = False
        if self._needs_compile:
            # Triggered by the last epoch: a later fit (with or without this
            # callback) must not reuse the train step compiled before it.
            self._recompile()

    # --- the trigger -------------------------------------------------------

    def _observe(self, current, logs):
        """Advance the patience count with an epoch's monitored value, as
        `EarlyStopping` does, and trigger where it would stop."""
        if self.start_step is not None:
            return
        if current is None:
            self._warn_missing(logs)
            return
        current = float(current)
        if not math.isfinite(current):
            self._warn_once(
                "nonfinite",
                f"CooldownOnTrigger received {self.monitor}={current}; a NaN "
                "or infinite value counts as no improvement.",
            )
        book = self._book()
        best, wait, triggered = self._advance(book, current)
        book.update(best=best, wait=wait)
        if triggered:
            self._requested = True
            self._start(None if self._epoch is None else self._epoch + 1)

    def _advance(self, book, current):
        """`(best, wait, triggered)` after one epoch's value, as
        `EarlyStopping` counts (it never stops at epoch 0)."""
        best, wait = book["best"], book["wait"] + 1
        if math.isfinite(current) and (
            best is None or self._is_improvement(current, best)
        ):
            return current, 0, False
        return best, wait, wait >= self.patience and (self._epoch or 0) > 0

    def _watches_training_metric(self):
        return self.monitor is not None and not self.monitor.startswith("val_")

    def _book_for_backup(self, book):
        """The bookkeeping a weights file written now should hold.

        `BackupAndRestore` listed before this callback writes its backup at
        the end of an epoch before this callback has seen the epoch's
        training metric, and a resume starts after that epoch: so the
        backup gets the state this callback is about to reach, from the
        training metrics as validation found them (or the model's).
        """
        if (
            book["start_step"] is not None
            or not self._in_fit
            or self._epoch_done
            or not self._watches_training_metric()
        ):
            return book
        optimizer = _optimizer_rate.base_optimizer(self.model)
        steps = (self.params or {}).get("steps")
        if steps is None or (
            _optimizer_rate.read_batches(optimizer) - self._epoch_first_batch < steps
        ):
            return book
        results = self._train_results
        if results is None:
            results = self.model.get_metrics_result()
        current = results.get(self.monitor)
        if current is None:
            return book
        best, wait, triggered = self._advance(book, float(current))
        start = self._schedule_step() if triggered else None
        return dict(book, best=best, wait=wait, start_step=start)

    def _is_improvement(self, current, best):
        # Keras's comparison, in floatx as EarlyStopping makes it.
        if self._direction is None:
            self._direction = self.mode
            if self.mode == "auto":
                self._direction = _metric_direction(self.model, self.monitor)
        if self._direction == "min":
            result = keras.ops.less(current + self.min_delta, best)
        else:
            result = keras.ops.greater(current - self.min_delta, best)
        return bool(keras.ops.convert_to_numpy(result))

    def _schedule_step(self):
        """The step at which the optimizer's schedule gives the next update's
        rate (the batch count under gradient accumulation)."""
        optimizer = _optimizer_rate.base_optimizer(self.model)
        _optimizer_rate.sync_jax_state(self.model)
        return int(
            _optimizer_rate.schedule_steps(
                optimizer, _optimizer_rate.read_step(optimizer)
            )
        )

    def _start(self, epoch):
        optimizer = _optimizer_rate.base_optimizer(self.model)
        if installed_cooldown(optimizer) is not None:
            return
        start = self._schedule_step()
        self._install(optimizer, start)
        if not self._in_fit:
            self._recompile()
        if self.verbose > 0:
            rate = float(evaluate(installed_cooldown(optimizer), start))
            where = "" if epoch is None else f"Epoch {epoch + 1}: "
            print_msg(
                f"\n{where}CooldownOnTrigger starting a {self.shape} cooldown "
                f"over {self.decay_steps} steps at step {start}, from learning "
                f"rate {rate}."
            )

    def _install(self, optimizer, start):
        """Put `Cooldown(schedule, start, ...)` in place of the schedule."""
        rate = _keras_private.rate_as_held(optimizer)
        holder = rate if isinstance(rate, ReducedSchedule) else None
        schedule = holder.schedule if holder is not None else rate
        if not isinstance(schedule, _LearningRateSchedule):
            raise TypeError(
                "CooldownOnTrigger needs an optimizer built with a "
                "LearningRateSchedule (for a constant rate, "
                "`keras_lr.schedules.Constant(lr)`). Received: "
                f"learning_rate={schedule!r}"
            )
        peak = float(evaluate(schedule, start))
        minimum = self.min_learning_rate
        if minimum > peak:
            self._warn_once(
                "minimum",
                f"CooldownOnTrigger: the schedule's rate at step {start} "
                f"({peak}) is below min_learning_rate={minimum}; the "
                "cooldown ends at that rate instead.",
            )
            minimum = peak
        cooldown = Cooldown(
            schedule, start, self.decay_steps, self.shape, minimum
        )
        if holder is not None:
            holder.schedule = cooldown
        else:
            optimizer.learning_rate = cooldown
        self._requested = False
        self._book()["start_step"] = start
        self._needs_compile = True

    def _recompile(self):
        self.model.make_train_function(force=True)
        self._needs_compile = False

    def _warn_missing(self, logs):
        self._warn_once(
            "missing",
            f"CooldownOnTrigger is conditioned on metric `{self.monitor}` "
            "which is not available. Available metrics are: "
            f"{','.join(list(logs.keys()))}.",
        )

    def _warn_once(self, kind, message):
        if kind not in self._warned:
            self._warned.add(kind)
            warnings.warn(message, stacklevel=3)
