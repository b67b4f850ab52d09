"""Cool the learning rate down when the run is told to end."""

import math
import numbers

import keras
import numpy as np

from keras_lr import _keras_private
from keras_lr import _validation
from keras_lr._keras_private import print_msg
from keras_lr.callbacks import _optimizer_rate
from keras_lr.callbacks._live import LiveValues
from keras_lr.callbacks._monitor import MonitorState
from keras_lr.callbacks._monitor import PatienceMonitor
from keras_lr.callbacks.plateau import ReducedSchedule
from keras_lr.schedules import evaluate
from keras_lr.schedules._shapes import ramp
from keras_lr.schedules.base import Schedule
from keras_lr.schedules.cooldown import Cooldown

_SHAPES = ("1-sqrt", "linear", "cosine")


@keras.saving.register_keras_serializable(package="keras_lr")
class PendingCooldown(LiveValues, Schedule):
    """A schedule until a trigger sets `start_step`, then its `Cooldown`.

    ```python
    lr(step) = schedule(step)                          while start_step is None
    lr(step) = Cooldown(schedule, start_step, decay_steps, shape,
                        min(min_learning_rate, schedule(start_step)))(step)
    ```

    `CooldownOnTrigger` installs it before training, so that the trigger
    only sets `start_step`: the compiled train step reads the start and the
    cooldown's two ends from variables of the optimizer, and cools down from
    the next update without a recompile. Its config holds `start_step`, so a
    saved model continues the cooldown (or waits for it) without the
    callback.

    Args:
        schedule: any `LearningRateSchedule`, followed until `start_step`.
        decay_steps: the length of the cooldown, a positive integer.
        shape: `"1-sqrt"`, `"linear"` or `"cosine"`.
        min_learning_rate: the final rate (lowered to the schedule's rate at
            `start_step` if that is smaller).
        start_step: the first step of the cooldown, or `None` before the
            trigger.

    Example:

    >>> from keras_lr.schedules import Constant
    >>> pending = PendingCooldown(Constant(0.1), decay_steps=100, shape="linear")
    >>> pending.numpy([0, 150]).round(6).tolist()
    [0.1, 0.1]
    >>> pending.start_step = 100
    >>> pending.numpy([99, 150, 200]).round(6).tolist()
    [0.1, 0.05, 0.0]
    """

    _live_kinds = {"start_step": "int", "peak": "float", "floor": "float"}

    def __init__(
        self, schedule, decay_steps, shape="1-sqrt", min_learning_rate=0.0,
        start_step=None,
    ):
        self.schedule = _validation.check_schedule("schedule", schedule)
        self.decay_steps = _validation.check_positive_int("decay_steps", decay_steps)
        self.shape = _validation.check_choice("shape", shape, _SHAPES)
        self.min_learning_rate = _validation.check_learning_rate(
            "min_learning_rate", min_learning_rate
        )
        self.start_step = start_step

    @property
    def start_step(self):
        return self.__dict__["_start_step"]

    @start_step.setter
    def start_step(self, start):
        cooldown = None
        if start is not None:
            start = _validation.check_non_negative_int("start_step", start)
            peak = float(evaluate(self.schedule, start))
            # `Cooldown` checks the rate at the start (finite, in range).
            cooldown = Cooldown(
                self.schedule, start, self.decay_steps, self.shape,
                min(self.min_learning_rate, peak),
            )
        self.__dict__.update(_start_step=start, _cooldown=cooldown)
        self._refresh_live()

    def __copy__(self):
        # A copy is a snapshot of what may change only between epochs (the
        # logger takes one per epoch; a plateau's scale is frozen in it). The
        # trigger changes rates only from `start_step` on, the update after
        # it, never one already taken: a snapshot shares it, and so sees a
        # trigger in the middle of its epoch.
        return self

    @property
    def cooldown(self):
        """The `Cooldown` in place since the trigger, or `None` before it."""
        return self.__dict__["_cooldown"]

    def _live_number(self, name, dtype):
        cooldown = self.cooldown
        if cooldown is None:
            # Not triggered: a start no step reaches.
            value = np.iinfo(dtype).max if name == "start_step" else 0.0
        elif name == "start_step":
            value = cooldown.start_step
        else:
            value = cooldown._peak() if name == "peak" else cooldown.min_learning_rate
        return np.asarray(value, dtype=dtype)

    def _formula(self, step, xp):
        start = self._read_live("start_step", step, xp)
        if start is None:
            inner = self.schedule if self.cooldown is None else self.cooldown
            return xp.schedule(inner, step)
        # `Cooldown`'s formula, with its start and ends read from variables
        # (exact in whole steps below 2**24 in float32, 2**53 in float64).
        span = float(self.decay_steps)
        near = xp.minimum(xp.maximum(start + span - step, 0.0), span)
        far = xp.minimum(xp.maximum(step - start, 0.0), span) / span
        cooled = ramp(
            self._read_live("floor", step, xp), self._read_live("peak", step, xp),
            near / span, self.shape, xp, far=far,
        )
        return xp.where(step < start, xp.schedule(self.schedule, step), cooled)


def _scheduled(optimizer):
    """`(schedule, its ReducedSchedule or None)`: the optimizer's schedule,
    beneath a plateau's scale when there is one."""
    rate = _keras_private.rate_as_held(optimizer)
    if isinstance(rate, ReducedSchedule):
        return rate.schedule, rate
    return rate, None


def installed_cooldown(optimizer):
    """The cooldown in the optimizer's rate (also under a plateau's
    `ReducedSchedule`): a `Cooldown`, a triggered `PendingCooldown`, or
    None."""
    schedule, _ = _scheduled(optimizer)
    if isinstance(schedule, PendingCooldown):
        return schedule if schedule.start_step is not None else None
    return schedule if isinstance(schedule, Cooldown) else None


def _needs_schedule(rate):
    return TypeError(
        "CooldownOnTrigger needs an optimizer built with a "
        "LearningRateSchedule (for a constant rate, "
        "`keras_lr.schedules.Constant(lr)`). Received: "
        f"learning_rate={rate!r}"
    )


class _CooldownState(MonitorState):
    """The trigger's state for one optimizer, saved with its weights.

    Every weights file of the optimizer (`BackupAndRestore`'s included)
    carries whether the cooldown was triggered, at which step, and the
    monitored metric's best value and wait; loading one whose cooldown was
    triggered installs the cooldown on an optimizer that lacks it (a run
    resumed from a backup rebuilds its optimizer with the original schedule).
    """

    attribute = "_keras_lr_cooldown_state"
    initial = {**MonitorState.initial, "start_step": None}
    dtypes = {**MonitorState.dtypes, "start_step": "int64"}

    def load_own_variables(self, store):
        if "start_step" not in set(store.keys()):
            return
        best = float(np.asarray(store["best"]))
        start = int(np.asarray(store["start_step"]))
        self.values.update(
            best=None if math.isnan(best) else best,
            wait=int(np.asarray(store["wait"])),
            start_step=None if start < 0 else start,
        )
        optimizer = self.optimizer()
        if (
            self.values["start_step"] is not None
            and installed_cooldown(optimizer) is None
            and self.callback is not None
        ):
            self.callback._install(optimizer, self.values["start_step"])


@keras.saving.register_keras_serializable(package="keras_lr")
class CooldownOnTrigger(PatienceMonitor):
    """Cool the learning rate down when the run is told to end.

    Keeps the optimizer's schedule (a constant rate, a warmup then a
    constant, an inverse square root, anything) until a trigger, then
    follows `keras_lr.schedules.Cooldown(schedule, start_step,
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
    - `trigger()`: called by you or another callback, in `fit` (from any
      hook) or outside it: the cooldown starts with the next update.

    The trigger is taken once: afterwards the cooldown runs its course, and
    with `stop_training=True` the run stops at the end of the epoch in
    which the cooldown reaches `min_learning_rate` (choose `decay_steps` as
    a whole number of epochs to end on the last cooled-down step).

    The callback wraps the optimizer's schedule in a `PendingCooldown`
    before training, whose compiled form reads the start from a variable:
    the trigger recompiles nothing. The cooldown is part of the
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

    A cooldown from epoch 2 over 4 steps (2 epochs of 2 steps), read back
    through `LearningRateLogger` (each epoch's last rate); the run stops
    when it is over:

    >>> import keras, numpy as np, keras_lr
    >>> x, y = np.ones((8, 2)), np.ones((8, 1))
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile(keras.optimizers.SGD(keras_lr.schedules.Constant(0.1)), loss="mse")
    >>> cooldown = keras_lr.callbacks.CooldownOnTrigger(
    ...     decay_steps=4, shape="linear", start_epoch=2)
    >>> history = model.fit(x, y, batch_size=4, epochs=10, verbose=0, callbacks=[
    ...     cooldown, keras_lr.callbacks.LearningRateLogger(log_dir=None)])
    >>> [round(lr, 6) for lr in history.history["learning_rate"]]
    [0.1, 0.1, 0.075, 0.025]
    >>> cooldown.start_step
    4

    On a validation metric, as `EarlyStopping` would stop:

    ```python
    schedule = keras_lr.schedules.Warmup(keras_lr.schedules.Constant(3e-4), 1000)
    model.compile(keras.optimizers.AdamW(schedule), loss="mse")
    cooldown = keras_lr.callbacks.CooldownOnTrigger(
        decay_steps=5 * steps_per_epoch, monitor="val_loss", patience=3)
    model.fit(x, y, validation_split=0.1, epochs=1000, callbacks=[cooldown])
    ```
    """

    state_class = _CooldownState

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
        if not isinstance(verbose, numbers.Integral):
            raise TypeError(
                f"Argument `verbose` must be an integer. Received: verbose={verbose!r}"
            )
        self.verbose = int(verbose)
        self._requested = False
        self._epoch = None

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

    # The state belongs to the optimizer (see `_CooldownState`).

    @property
    def start_step(self):
        return self._state()["start_step"]

    def _prepare(self, optimizer, holder):
        """Put a `PendingCooldown` in place of the schedule, bound to the
        optimizer, so that the trigger only assigns its variables."""
        schedule, reduced = _scheduled(optimizer)
        if isinstance(schedule, Cooldown):
            # A model saved with its cooldown by an earlier release: a
            # schedule already cooling down, which nothing changes any more.
            pending = None
        elif isinstance(schedule, PendingCooldown) and (
            schedule.start_step is not None or self._arguments_of(schedule)
        ):
            pending = schedule
        elif isinstance(schedule, keras.optimizers.schedules.LearningRateSchedule):
            if isinstance(schedule, PendingCooldown):  # another callback's
                schedule = schedule.schedule
            pending = PendingCooldown(
                schedule, self.decay_steps, self.shape, self.min_learning_rate
            )
            if reduced is not None:
                reduced.schedule = pending
            else:
                optimizer.learning_rate = pending
        else:  # a float rate, refused at on_train_begin
            return
        changed = pending is not schedule
        if pending is not None:
            changed |= pending.bind(optimizer, _optimizer_rate.wrapper(self.model))
        cooldown = installed_cooldown(optimizer)
        if cooldown is not None and holder.values["start_step"] is None:
            # A model loaded with its cooldown (`load_model`): triggered.
            holder.values["start_step"] = cooldown.start_step
        if changed:
            self._rebuild_train_function()

    def _arguments_of(self, pending):
        return (pending.decay_steps, pending.shape, pending.min_learning_rate) == (
            self.decay_steps, self.shape, self.min_learning_rate
        )

    def trigger(self):
        """Start the cooldown with the next update, during `fit` or outside
        it (the next `fit` of a callback not yet given a model). Once
        triggered, later calls do nothing."""
        if self.start_step is not None:
            return
        self._requested = True
        if self.model is not None:
            self._start(epoch=self._epoch if self._in_fit else None)

    # --- the hooks ---------------------------------------------------------

    def on_train_begin(self, logs=None):
        # Before anything is attached: the MultiOptimizer's own rate is a
        # placeholder that no update uses.
        _optimizer_rate.refuse_groups(
            self.model, "CooldownOnTrigger cools down one optimizer's schedule",
            "Give the base optimizer a `keras_lr.schedules.Cooldown` (or "
            "`WarmupStableDecay`) before `keras_lr.optimizers.scale_rates` or "
            "`layer_decay`, or use `keras_lr.callbacks.ReduceLROnPlateau`, "
            "which reduces every group.",
        )
        super().on_train_begin(logs)
        optimizer = _optimizer_rate.base_optimizer(self.model)
        if not _optimizer_rate.is_schedule(optimizer):
            raise _needs_schedule(_keras_private.rate_as_held(optimizer))

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        super().on_epoch_begin(epoch, logs)
        if self.start_step is None and (
            self._requested
            or (self.start_epoch is not None and epoch >= self.start_epoch)
        ):
            self._start(epoch)

    def on_test_end(self, logs=None):
        super().on_test_end(logs)
        # A validation metric is decided as soon as validation ends: before
        # any epoch-end callback (`BackupAndRestore` included) runs.
        if self._in_fit and self.monitor is not None and self.monitor.startswith("val_"):
            self._observe({f"val_{k}": v for k, v in (logs or {}).items()})

    def on_epoch_end(self, epoch, logs=None):
        super().on_epoch_end(epoch, logs)
        logs = logs if logs is not None else {}
        if self._watches_training_metric():
            self._observe(logs)
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

    # --- the trigger -------------------------------------------------------

    def _observe(self, logs):
        """Advance the patience count with an epoch's monitored value (in
        `logs`), as `EarlyStopping` does, and trigger where it would stop."""
        if self.start_step is not None:
            return
        current = self._monitored(logs)
        if current is None:
            return
        state = self._state()
        best, wait, triggered = self._advance(state, current)
        state.update(best=best, wait=wait)
        if triggered:
            self._requested = True
            self._start(None if self._epoch is None else self._epoch + 1)

    def _advance(self, state, current):
        """`(best, wait, triggered)` after one epoch's value, as
        `EarlyStopping` counts (it never stops at epoch 0)."""
        best, wait = state["best"], state["wait"] + 1
        if self._is_improvement(current, best):
            return current, 0, False
        return best, wait, wait >= self.patience and (self._epoch or 0) > 0

    def _state_for_backup(self, holder):
        """The state a weights file of `holder`'s optimizer written now
        should hold: the state this callback is about to reach when the
        epoch's end, and so its training metric, is pending
        (`_epoch_unseen`; a validation metric was seen when validation
        ended)."""
        state = holder.state()
        if (
            state["start_step"] is not None
            or not self._in_fit
            or not self._watches_training_metric()
            or not self._epoch_unseen()
        ):
            return state
        current = self._pending_value()
        if current is None:
            return state
        best, wait, triggered = self._advance(state, float(current))
        start = self._schedule_step() if triggered else None
        return dict(state, best=best, wait=wait, start_step=start)

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
        if self._needs_attach(optimizer):
            self._attach(optimizer)
        if installed_cooldown(optimizer) is not None:
            return
        start = self._schedule_step()
        self._install(optimizer, start)
        if self.verbose > 0:
            rate = float(evaluate(installed_cooldown(optimizer), start))
            where = "" if epoch is None else f"Epoch {epoch + 1}: "
            print_msg(
                f"\n{where}CooldownOnTrigger starting a {self.shape} cooldown "
                f"over {self.decay_steps} steps at step {start}, from learning "
                f"rate {rate}."
            )

    def _install(self, optimizer, start):
        """Start the optimizer's `PendingCooldown` at `start`: assigns the
        variables its compiled form reads (after the JAX trainer gave them
        back, mid-epoch too), so the next update cools down."""
        schedule, _ = _scheduled(optimizer)
        if not isinstance(schedule, PendingCooldown):
            raise _needs_schedule(schedule)
        peak = float(evaluate(schedule.schedule, start))
        if self.min_learning_rate > peak:
            self._warn_once(
                "minimum",
                f"CooldownOnTrigger: the schedule's rate at step {start} "
                f"({peak}) is below min_learning_rate={self.min_learning_rate}; "
                "the cooldown ends at that rate instead.",
            )
        _optimizer_rate.sync_jax_state(self.model)
        schedule.start_step = start
        self._requested = False
        self._state()["start_step"] = start
