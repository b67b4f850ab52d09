"""Reduce the learning rate on a plateau, on a float rate or any schedule."""

import numbers

import keras
import numpy as np

from keras_lr import _keras_private
from keras_lr import _validation
from keras_lr._keras_private import print_msg
from keras_lr._keras_private import weights_file_name
from keras_lr.callbacks import _optimizer_rate
from keras_lr.callbacks._live import LiveValues
from keras_lr.callbacks._monitor import MonitorState
from keras_lr.callbacks._monitor import PatienceMonitor
from keras_lr.callbacks._monitor import state_property
from keras_lr.schedules.base import Schedule

_LearningRateSchedule = keras.optimizers.schedules.LearningRateSchedule


@keras.saving.register_keras_serializable(package="keras_lr")
class ReducedSchedule(LiveValues, Schedule):
    """A schedule scaled down by `ReduceLROnPlateau`, floored at a minimum.

    ```python
    lr(step) = max(schedule(step) * scale,
                   min(min_learning_rate, schedule(step)))
    ```

    so a reduction keeps the shape of warmup or cosine at a lower level,
    never pushes the rate below `min_learning_rate`, and never lifts a
    schedule that itself goes lower. `ReduceLROnPlateau` installs it on an
    optimizer built with a schedule (a float rate stays a float) and owns
    `scale` (the one mutable value of a keras_lr
    schedule) and `plateau_state`, its patience bookkeeping; both are part of
    the config, so a saved model resumes at the reduced rate with the same
    bookkeeping. While the callback drives it, the compiled train step reads
    `scale` and `min_learning_rate` from variables of the optimizer, so a
    reduction takes effect at the next update without a recompile.

    Args:
        schedule: any `LearningRateSchedule`.
        scale: the product of the reductions so far, in (0, 1].
        min_learning_rate: the floor that reductions respect.
        plateau_state: `None` or a dict with `best` (a float or `None`),
            `wait` and `cooldown_counter` (non-negative integers).

    Example:

    >>> from keras_lr.schedules import CosineAnnealing
    >>> reduced = ReducedSchedule(CosineAnnealing(0.1, 100), scale=0.1,
    ...                           min_learning_rate=0.002)
    >>> reduced.numpy([0, 50, 90, 100]).round(6).tolist()
    [0.01, 0.005, 0.002, 0.0]
    """

    def __init__(self, schedule, scale=1.0, min_learning_rate=0.0, plateau_state=None):
        self.schedule = _validation.check_schedule("schedule", schedule)
        self.scale = _validation.check_number(
            "scale", scale, minimum=0.0, maximum=1.0, open_min=True
        )
        self.min_learning_rate = _validation.check_learning_rate(
            "min_learning_rate", min_learning_rate
        )
        self.plateau_state = _check_plateau_state(plateau_state)

    _live_kinds = {"scale": "float", "min_learning_rate": "float"}

    scale = property(
        lambda self: self._scale, lambda self, value: self._set_live("scale", value)
    )
    min_learning_rate = property(
        lambda self: self._min_learning_rate,
        lambda self, value: self._set_live("min_learning_rate", value),
    )

    def _formula(self, step, xp):
        base = xp.schedule(self.schedule, step)
        scale = self._read_live("scale", step, xp)
        floor = self._read_live("min_learning_rate", step, xp)
        if scale is None:
            scale, floor = self.scale, xp.const(self.min_learning_rate)
        return xp.maximum(base * scale, xp.minimum(floor, base))


def _check_plateau_state(state):
    if state is None:
        return _PlateauState.new_state()
    if not isinstance(state, dict) or set(state) != set(_PlateauState.initial):
        raise ValueError(
            "Argument `plateau_state` must be None or a dict with the keys "
            f"{list(_PlateauState.initial)}. Received: plateau_state={state!r}"
        )
    best = state["best"]
    if best is not None:
        best = _validation.check_number("plateau_state['best']", best)
    return {
        "best": best,
        "wait": _validation.check_non_negative_int(
            "plateau_state['wait']", state["wait"]
        ),
        "cooldown_counter": _validation.check_non_negative_int(
            "plateau_state['cooldown_counter']", state["cooldown_counter"]
        ),
    }


class _PlateauState(MonitorState):
    """The plateau state of one optimizer, saved with its weights.

    On a schedule the state lives in the `ReducedSchedule` (so in its config
    too); on a float rate it lives here (`values`), since a float
    optimizer's config is Keras's own. Either way, every weights file of the
    optimizer (`BackupAndRestore`'s included) carries the state with the
    scale or the rate it belongs to, and loading one puts both back.
    """

    attribute = "_keras_lr_plateau_state"
    initial = {**MonitorState.initial, "cooldown_counter": 0}
    dtypes = {
        **MonitorState.dtypes,
        "cooldown_counter": "int64",
        "scale": "float64",
        "learning_rate": "float64",
    }

    def rate(self):
        return _keras_private.rate_as_held(self.optimizer())

    def state(self):
        rate = self.rate()
        if isinstance(rate, ReducedSchedule):
            return rate.plateau_state
        return self.values

    def load_own_variables(self, store):
        keys = set(store.keys())
        if "wait" not in keys:
            return
        rate = self.rate()
        # Everything is checked as the constructor checks it before anything
        # is assigned: an edited or corrupted file is refused whole, and
        # never becomes an applied rate.
        try:
            state, scale, learning_rate = _read_state(store, keys)
        except (ValueError, TypeError) as error:
            raise _validation.invalid_state(
                "ReduceLROnPlateau state", weights_file_name(store), error
            ) from None
        self.state().update(state)
        if isinstance(rate, ReducedSchedule) and scale is not None:
            rate.scale = scale
        elif isinstance(rate, keras.Variable) and learning_rate is not None:
            # Runs after the optimizer's own variables were loaded: a backup
            # written before this epoch's reduction gets it here.
            rate.assign(learning_rate)


def _read_state(store, keys):
    """`(state, scale or None, learning rate or None)` from a store, each
    checked as `ReducedSchedule` and `ReduceLROnPlateau` check them."""
    state = _check_plateau_state({
        "best": _PlateauState.read(store, "best"),
        "wait": _validation.stored_value(store, "wait"),
        "cooldown_counter": _validation.stored_value(store, "cooldown_counter"),
    })
    scale = learning_rate = None
    if "scale" in keys:
        scale = _validation.check_number(
            "scale", _validation.stored_value(store, "scale"),
            minimum=0.0, maximum=1.0, open_min=True,
        )
    if "learning_rate" in keys:
        learning_rate = _validation.check_learning_rate(
            "learning_rate", _validation.stored_value(store, "learning_rate")
        )
    return state, scale, learning_rate


@keras.saving.register_keras_serializable(package="keras_lr")
class ReduceLROnPlateau(PatienceMonitor):
    """Reduce the learning rate when a metric stops improving, on any rate.

    A drop-in for `keras.callbacks.ReduceLROnPlateau`: the same arguments in
    the same order with the same defaults, the same patience and cooldown
    rule (reduce once `wait >= patience` epochs passed without improvement),
    the same comparisons, `logs["learning_rate"]` and verbose line. On a
    float rate it does what Keras's does: it assigns the optimizer's rate
    variable (`max(lr * factor, min_lr)`), so Keras's or keras_lr's
    `LearningRateScheduler` and `optimizer.learning_rate = x` keep working
    beside it. It also works when the optimizer was built with a
    `LearningRateSchedule`, where Keras's raises `TypeError`: it wraps the
    schedule in a `ReducedSchedule` and a reduction multiplies the whole
    schedule by `factor`, so warmup and cosine keep their shape lower down:

    ```python
    lr(step) = max(schedule(step) * scale, min(min_lr, schedule(step)))
    scale = factor ** (number of reductions)
    ```

    A reduction takes effect at the next update without recompiling the
    train step: the compiled step reads the scale from a variable.

    Beyond Keras's callback:

    - `threshold_mode="rel"` is PyTorch's: an improvement must beat
      `best * (1 - min_delta)` (`"min"`) or `best * (1 + min_delta)`
      (`"max"`); `"abs"` (the default) is Keras's `best -/+ min_delta`.
    - `eps` is PyTorch's: a reduction smaller than `eps` is not made.
      PyTorch's `ReduceLROnPlateau(patience=p, cooldown=c, eps=e, ...)`
      reduces at the same epochs as `patience=p + 1, cooldown=c + 1,
      eps=e` here (PyTorch counts an epoch as bad before it looks at the
      cooldown, Keras after).
    - A NaN or infinite monitored value counts as no improvement and never
      becomes `best` (with one warning); a missing one warns once.
    - The bookkeeping (`best`, `wait`, `cooldown_counter`) belongs to the
      optimizer, not to the callback: a new `fit` or a new callback does not
      reset it, and it survives `keras.callbacks.BackupAndRestore` (in either
      order of the two callbacks, with the reduced rate or scale). With a
      schedule, `model.save` / `keras.models.load_model` keep it too (it is
      in the `ReducedSchedule`'s config); with a float, the `.keras` file
      keeps the reduced rate but not the bookkeeping (Keras's optimizer
      config has no room for it), which then starts afresh as with Keras's
      callback. When the backup is listed first it is written before this
      callback sees the epoch's logs, so the backup takes the monitored
      value from the model's compiled metrics or the validation logs; a
      value that another callback adds to the logs, or an epoch of unknown
      length, leaves that backup one epoch behind.

    Args:
        monitor: the quantity to watch, a key of the epoch's logs.
        factor: the factor of each reduction, in (0, 1).
        patience: epochs without improvement before a reduction.
        verbose: 1 prints each reduction, as Keras's does:
            `Epoch 5: ReduceLROnPlateau reducing learning rate to 0.01.`
            (through Keras's `print_msg`, so it follows
            `keras.config.disable_interactive_logging()`).
        mode: `"min"`, `"max"`, or `"auto"` (from the metric: `"min"` for a
            loss, the metric's own direction otherwise).
        min_delta: the margin an improvement must beat, >= 0.
        cooldown: epochs after a reduction during which patience is not
            counted.
        min_lr: the floor that reductions respect, >= 0.
        threshold_mode: `"abs"` or `"rel"`, see above.
        eps: the smallest reduction made, >= 0 (PyTorch's default is 1e-8).

    Attributes:
        best, wait, cooldown_counter: the bookkeeping, as on Keras's
            callback (readable and writable).

    Example:

    ```python
    schedule = keras_lr.schedules.CosineAnnealing(0.1, decay_steps=10_000)
    model.compile(keras.optimizers.SGD(schedule), loss="mse")
    model.fit(x, y, validation_split=0.2, epochs=50, callbacks=[
        keras_lr.callbacks.ReduceLROnPlateau(factor=0.5, patience=3),
    ])
    ```
    """

    state_class = _PlateauState
    # Keras's wording of the warning for a missing metric.
    _missing_subject = "Learning rate reduction"

    def __init__(
        self,
        monitor="val_loss",
        factor=0.1,
        patience=10,
        verbose=0,
        mode="auto",
        min_delta=1e-4,
        cooldown=0,
        min_lr=0.0,
        threshold_mode="abs",
        eps=0.0,
    ):
        super().__init__()
        if not isinstance(monitor, str) or not monitor:
            raise TypeError(
                "Argument `monitor` must be the name of a metric. "
                f"Received: monitor={monitor!r}"
            )
        self.monitor = monitor
        self.factor = _validation.check_number(
            "factor", factor, minimum=0.0, maximum=1.0, open_min=True
        )
        if self.factor == 1.0:
            raise ValueError(
                "Argument `factor` must be a finite number in (0, 1). "
                f"Received: factor={factor!r}"
            )
        self.patience = _validation.check_non_negative_int("patience", patience)
        if not isinstance(verbose, numbers.Integral):
            raise TypeError(
                f"Argument `verbose` must be an integer. Received: verbose={verbose!r}"
            )
        self.verbose = int(verbose)
        self.mode = _validation.check_choice("mode", mode, ("auto", "min", "max"))
        self.min_delta = _validation.check_number("min_delta", min_delta, minimum=0.0)
        self.cooldown = _validation.check_non_negative_int("cooldown", cooldown)
        self.min_lr = _validation.check_learning_rate("min_lr", min_lr)
        self.threshold_mode = _validation.check_choice(
            "threshold_mode", threshold_mode, ("abs", "rel")
        )
        self.eps = _validation.check_number("eps", eps, minimum=0.0)
        self.schedule = None

    def get_config(self):
        return {
            "monitor": self.monitor,
            "factor": self.factor,
            "patience": self.patience,
            "verbose": self.verbose,
            "mode": self.mode,
            "min_delta": self.min_delta,
            "cooldown": self.cooldown,
            "min_lr": self.min_lr,
            "threshold_mode": self.threshold_mode,
            "eps": self.eps,
        }

    # Beside `best` and `wait`: Keras's callback keeps its state in these
    # attributes; here they read and write the optimizer's.
    cooldown_counter = state_property("cooldown_counter")

    def in_cooldown(self):
        return self.cooldown_counter > 0

    def _prepare(self, optimizer, holder):
        current = _keras_private.rate_as_held(optimizer)
        if isinstance(current, ReducedSchedule):
            schedule = current
        elif isinstance(current, _LearningRateSchedule):
            schedule = ReducedSchedule(
                current, min_learning_rate=self.min_lr,
                plateau_state=dict(holder.values),
            )
            optimizer.learning_rate = schedule
        elif isinstance(current, keras.Variable):
            schedule = None
        else:
            raise ValueError(
                "ReduceLROnPlateau needs an optimizer whose learning rate "
                "is a float or a LearningRateSchedule. Received: "
                f"learning_rate={current!r}"
            )
        changed = schedule is not None and schedule is not current
        if schedule is not None:
            changed |= schedule.bind(optimizer, _optimizer_rate.wrapper(self.model))
            schedule.min_learning_rate = self.min_lr
        self._optimizer = optimizer
        self.schedule = schedule
        if changed:
            self._rebuild_train_function()

    def _needs_attach(self, optimizer):
        rate = _keras_private.rate_as_held(optimizer)
        return (
            super()._needs_attach(optimizer)
            or (self.schedule is None) != isinstance(rate, keras.Variable)
            or (self.schedule is not None and rate is not self.schedule)
        )

    def _current_rate(self, step):
        """The rate the next update will use, as the reduction sees it."""
        if self.schedule is None:
            return _optimizer_rate.float_rate(self._optimizer, self.model)
        return self._rate_of_update(step)

    def _rate_of_update(self, step):
        """The schedule's rate for update `step` (`optimizer.iterations`):
        under gradient accumulation, the rate at its last batch."""
        return float(self.schedule.numpy(
            _optimizer_rate.schedule_steps(self._optimizer, step)
        ))

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        step = _optimizer_rate.read_step(self._optimizer)
        rate = self._current_rate(step)
        # As Keras: the rate in place before this epoch's decision, which
        # for a schedule is the rate of the epoch's last update.
        if self.schedule is None:
            logs["learning_rate"] = rate
        elif step > 0:
            logs["learning_rate"] = self._rate_of_update(step - 1)
        state, reduce = self._advance(self._monitored(logs), rate)
        self._state().update(state)
        super().on_epoch_end(epoch, logs)
        if not reduce:
            return
        if self.schedule is None:
            new = self._reduced_rate(rate)
            _optimizer_rate.set_float_rate(self.model, self._optimizer, new)
        else:
            self.schedule.scale *= self.factor
            new = self._rate_of_update(step)
        if self.verbose > 0:
            print_msg(
                f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning "
                f"rate to {new}."
            )

    def _reduced_rate(self, rate):
        return max(rate * self.factor, self.min_lr)

    def _advance(self, current, rate):
        """`(state, reduce)` after an epoch that ended with `current`.

        Keras's rule: a cooldown epoch resets the wait; an improvement
        resets it and records the best; otherwise, out of cooldown, the wait
        grows and at `patience` the rate is reduced if it can be.
        """
        state = dict(self._state())
        if current is None:
            return state, False
        current = float(current)
        if state["cooldown_counter"] > 0:
            state["cooldown_counter"] -= 1
            state["wait"] = 0
        if self._is_improvement(current, state["best"]):
            state["best"] = current
            state["wait"] = 0
        elif state["cooldown_counter"] == 0:
            state["wait"] += 1
            if state["wait"] >= self.patience and self._can_reduce(rate):
                state["cooldown_counter"] = self.cooldown
                state["wait"] = 0
                return state, True
        return state, False

    def _can_reduce(self, rate):
        # Keras compares with the float32 `min_lr`; PyTorch skips a
        # reduction smaller than `eps`.
        if not rate > np.float32(self.min_lr):
            return False
        return self.eps == 0 or rate - self._reduced_rate(rate) > self.eps

    def _beats(self, current, best, smaller):
        if self.threshold_mode == "abs":
            return super()._beats(current, best, smaller)
        if smaller:
            return current < best * (1.0 - self.min_delta)
        return current > best * (1.0 + self.min_delta)

    def _state_for_backup(self, holder):
        """The state, with the scale or the rate, that a weights file of
        `holder`'s optimizer written now should hold: the state this
        callback is about to reach when the epoch's end is pending
        (`_epoch_unseen`)."""
        step = _optimizer_rate.read_step(self._optimizer)
        rate = self._current_rate(step)
        level = rate if self.schedule is None else self.schedule.scale
        state = self._state()
        if self._epoch_unseen():
            state, reduce = self._advance(self._pending_value(), rate)
            if reduce:
                level = (
                    self._reduced_rate(rate) if self.schedule is None
                    else level * self.factor
                )
        key = "scale" if isinstance(holder.rate(), ReducedSchedule) else "learning_rate"
        return dict(state, **{key: level})
