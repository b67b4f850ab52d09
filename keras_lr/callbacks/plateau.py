"""Reduce the learning rate on a plateau, on a float rate or any schedule."""

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
from keras_lr._keras_private import weights_file_name
from keras_lr.callbacks import _optimizer_rate
from keras_lr.schedules.base import Schedule

_LearningRateSchedule = keras.optimizers.schedules.LearningRateSchedule
_STATE_KEYS = ("best", "wait", "cooldown_counter")
# The attribute of the optimizer that carries the plateau state into weight
# files (see `_PlateauState`).
_STATE_ATTRIBUTE = "_keras_lr_plateau_state"


@keras.saving.register_keras_serializable(package="keras_lr")
class ReducedSchedule(Schedule):
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
    bookkeeping.

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

    def _formula(self, step, xp):
        base = xp.schedule(self.schedule, step)
        return xp.maximum(
            base * self.scale, xp.minimum(xp.const(self.min_learning_rate), base)
        )


def _check_plateau_state(state):
    if state is None:
        return {"best": None, "wait": 0, "cooldown_counter": 0}
    if not isinstance(state, dict) or set(state) != set(_STATE_KEYS):
        raise ValueError(
            "Argument `plateau_state` must be None or a dict with the keys "
            f"{list(_STATE_KEYS)}. Received: plateau_state={state!r}"
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


def _booked(key):
    """A property reading and writing `key` of a callback's bookkeeping.

    The bookkeeping is `self._book()`: a dict held by the optimizer's state
    once the callback is attached to a model (so it is saved and restored
    with the optimizer), and by the callback before that.
    """
    return property(
        lambda self: self._book()[key],
        lambda self, value: self._book().__setitem__(key, value),
    )


def _new_book():
    return {"best": None, "wait": 0, "cooldown_counter": 0}


class _PlateauState(OptimizerState):
    """The plateau bookkeeping of one optimizer, saved with its weights.

    On a schedule the bookkeeping lives in the `ReducedSchedule` (so in its
    config too); on a float rate it lives here, since a float optimizer's
    config is Keras's own. Either way, every weights file of the optimizer
    (`BackupAndRestore`'s included) carries the bookkeeping with the scale
    or the rate it belongs to, and loading one puts both back.
    """

    def __init__(self, optimizer):
        # Weak: the optimizer holds this object, and a strong reference back
        # would let Keras's saving walk into the optimizer a second time.
        self._optimizer = weakref.ref(optimizer)
        self.float_book = _new_book()
        self.callback = None

    def _rate(self):
        return _keras_private.rate_as_held(self._optimizer())

    def book(self):
        rate = self._rate()
        if isinstance(rate, ReducedSchedule):
            return rate.plateau_state
        return self.float_book

    def save_own_variables(self, store):
        book, level = self.callback._state_for_backup()
        store["best"] = np.array(
            np.nan if book["best"] is None else book["best"], dtype="float64"
        )
        store["wait"] = np.array(book["wait"], dtype="int64")
        store["cooldown_counter"] = np.array(book["cooldown_counter"], dtype="int64")
        if isinstance(self._rate(), ReducedSchedule):
            store["scale"] = np.array(level, dtype="float64")
        else:
            store["learning_rate"] = np.array(level, dtype="float64")

    def load_own_variables(self, store):
        keys = set(store.keys())
        if "wait" not in keys:
            return
        rate = self._rate()
        # Everything is checked as the constructor checks it before anything
        # is assigned: an edited or corrupted file is refused whole, and
        # never becomes an applied rate.
        try:
            book, scale, learning_rate = _read_state(store, keys)
        except (ValueError, TypeError) as error:
            raise _validation.invalid_state(
                "ReduceLROnPlateau state", weights_file_name(store), error
            ) from None
        self.book().update(book)
        if isinstance(rate, ReducedSchedule) and scale is not None:
            rate.scale = scale
        elif isinstance(rate, keras.Variable) and learning_rate is not None:
            # Runs after the optimizer's own variables were loaded: a backup
            # written before this epoch's reduction gets it here.
            rate.assign(learning_rate)


def _read_state(store, keys):
    """`(bookkeeping, scale or None, learning rate or None)` from a store,
    each checked as `ReducedSchedule` and `ReduceLROnPlateau` check them."""
    best = _validation.stored_value(store, "best")
    # NaN is how a missing best is saved.
    if isinstance(best, float) and math.isnan(best):
        best = None
    book = _check_plateau_state({
        "best": best,
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
    return book, scale, learning_rate


@keras.saving.register_keras_serializable(package="keras_lr")
class ReduceLROnPlateau(keras.callbacks.Callback):
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

    A reduction of a schedule recompiles the train step once (the scale is
    a constant of the compiled step, like every schedule argument).

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
        self._state = None
        self._unattached_book = _new_book()
        self._compiled = None
        self._direction = None
        self._warned = set()

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

    # Keras's callback keeps its bookkeeping in these attributes; here they
    # read and write the optimizer's.
    best = _booked("best")
    wait = _booked("wait")
    cooldown_counter = _booked("cooldown_counter")

    def in_cooldown(self):
        return self.cooldown_counter > 0

    def _book(self):
        if self._state is None:
            return self._unattached_book
        return self._state.book()

    def set_model(self, model):
        super().set_model(model)
        # Before any on_train_begin: `BackupAndRestore` loads its weights
        # there, and finds the state holder in place whichever comes first.
        if getattr(model, "optimizer", None) is not None:
            self._install(_optimizer_rate.base_optimizer(model))

    def _install(self, optimizer):
        state = getattr(optimizer, _STATE_ATTRIBUTE, None)
        if not isinstance(state, _PlateauState):
            state = _PlateauState(optimizer)
            setattr(optimizer, _STATE_ATTRIBUTE, state)
        current = _keras_private.rate_as_held(optimizer)
        if isinstance(current, ReducedSchedule):
            schedule = current
        elif isinstance(current, _LearningRateSchedule):
            schedule = ReducedSchedule(
                current, min_learning_rate=self.min_lr,
                plateau_state=dict(state.float_book),
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
        if schedule is not None:
            schedule.min_learning_rate = self.min_lr
        state.callback = self
        self._state = state
        self._optimizer = optimizer
        self.schedule = schedule
        self._compiled = None

    def on_train_begin(self, logs=None):
        self._direction = None
        self._in_fit = True
        optimizer = _optimizer_rate.base_optimizer(self.model)
        rate = _keras_private.rate_as_held(optimizer)
        if (
            getattr(optimizer, _STATE_ATTRIBUTE, None) is not self._state
            or (self.schedule is None) != isinstance(rate, keras.Variable)
            or (self.schedule is not None and rate is not self.schedule)
        ):
            self._install(optimizer)

    def on_train_end(self, logs=None):
        self._in_fit = False

    def on_epoch_begin(self, epoch, logs=None):
        # A scale is baked into the compiled step. Recompile when it is not
        # the one compiled: the first epoch of a fit (a train function from
        # an earlier fit may hold another), or a scale that
        # `BackupAndRestore` restored after this callback's on_train_begin.
        if self.schedule is not None and self._compiled != self._signature():
            self._recompile()
        self._epoch_done = False
        self._epoch_first_step = _optimizer_rate.read_batches(self._optimizer)
        self._train_results = None
        self._val_logs = None

    def on_test_begin(self, logs=None):
        if getattr(self, "_in_fit", False) and not self.monitor.startswith("val_"):
            # Validation is about to reset the metrics that hold this
            # epoch's training values; a backup may still need them.
            self._train_results = self.model.get_metrics_result()

    def on_test_end(self, logs=None):
        if getattr(self, "_in_fit", False):
            self._val_logs = dict(logs or {})

    def _signature(self):
        return (self.schedule.scale, self.schedule.min_learning_rate)

    def _recompile(self):
        self.model.make_train_function(force=True)
        self._compiled = self._signature()

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
        current = logs.get(self.monitor)
        if current is None:
            self._warn_once(
                "missing",
                "Learning rate reduction is conditioned on metric "
                f"`{self.monitor}` which is not available. Available metrics "
                f"are: {','.join(list(logs.keys()))}.",
            )
        elif not math.isfinite(float(current)):
            self._warn_once(
                "nonfinite",
                f"ReduceLROnPlateau received {self.monitor}={current}; a NaN or "
                "infinite value counts as no improvement.",
            )
        book, reduce = self._advance(current, rate)
        self._book().update(book)
        self._epoch_done = True
        if not reduce:
            return
        if self.schedule is None:
            new = self._reduced_rate(rate)
            _optimizer_rate.set_float_rate(self.model, self._optimizer, new)
        else:
            self.schedule.scale *= self.factor
            self._recompile()
            new = self._rate_of_update(step)
        if self.verbose > 0:
            print_msg(
                f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning "
                f"rate to {new}."
            )

    def _reduced_rate(self, rate):
        return max(rate * self.factor, self.min_lr)

    def _advance(self, current, rate):
        """`(bookkeeping, reduce)` after an epoch that ended with `current`.

        Keras's rule: a cooldown epoch resets the wait; an improvement
        resets it and records the best; otherwise, out of cooldown, the wait
        grows and at `patience` the rate is reduced if it can be.
        """
        book = dict(self._book())
        if current is None:
            return book, False
        current = float(current)
        if book["cooldown_counter"] > 0:
            book["cooldown_counter"] -= 1
            book["wait"] = 0
        if self._is_improvement(current, book["best"]):
            book["best"] = current
            book["wait"] = 0
        elif book["cooldown_counter"] == 0:
            book["wait"] += 1
            if book["wait"] >= self.patience and self._can_reduce(rate):
                book["cooldown_counter"] = self.cooldown
                book["wait"] = 0
                return book, True
        return book, False

    def _can_reduce(self, rate):
        # Keras compares with the float32 `min_lr`; PyTorch skips a
        # reduction smaller than `eps`.
        if not rate > np.float32(self.min_lr):
            return False
        return self.eps == 0 or rate - self._reduced_rate(rate) > self.eps

    def _is_improvement(self, current, best):
        if not math.isfinite(current):
            return False
        if best is None:
            return True
        smaller = self._get_direction() == "min"
        if self.threshold_mode == "rel":
            if smaller:
                return current < best * (1.0 - self.min_delta)
            return current > best * (1.0 + self.min_delta)
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
                self._direction = _metric_direction(self.model, self.monitor)
        return self._direction

    def _state_for_backup(self):
        """`(bookkeeping, scale or rate)` as a backup written now should hold.

        `BackupAndRestore` listed before this callback writes its backup at
        the end of an epoch before this callback has seen the epoch's
        metric; a resume then starts after that epoch. So the backup gets
        the state this callback is about to reach, from the same metric
        values: the validation logs, the training metrics as validation
        found them, or the model's metrics.
        """
        step = _optimizer_rate.read_step(self._optimizer)
        rate = self._current_rate(step)
        level = rate if self.schedule is None else self.schedule.scale
        steps = (self.params or {}).get("steps")
        done = (
            not getattr(self, "_epoch_done", True)
            and steps is not None
            and _optimizer_rate.read_batches(self._optimizer) - self._epoch_first_step
            >= steps
        )
        if not done:
            return self._book(), level
        if self.monitor.startswith("val_"):
            current = (self._val_logs or {}).get(self.monitor[len("val_"):])
        elif self._train_results is not None:
            current = self._train_results.get(self.monitor)
        else:
            current = self.model.get_metrics_result().get(self.monitor)
        book, reduce = self._advance(current, rate)
        if reduce:
            level = (
                self._reduced_rate(rate) if self.schedule is None
                else level * self.factor
            )
        return book, level

    def _warn_once(self, kind, message):
        if kind not in self._warned:
            self._warned.add(kind)
            warnings.warn(message, stacklevel=3)


def _metric_direction(model, monitor):
    """"min" for a loss, else the direction the compiled metric declares."""
    name = monitor.removeprefix("val_")
    if name == "loss" or name.endswith("_loss"):
        return "min"
    for metric in _compiled_metrics(model):
        direction = _keras_private.metric_direction(metric)
        if metric.name == name and direction is not None:
            return "max" if direction == "up" else "min"
    raise ValueError(
        f"ReduceLROnPlateau cannot tell whether `{monitor}` should go up or "
        'down. Pass mode="min" or mode="max". Received: '
        f'monitor={monitor!r}, mode="auto"'
    )


def _compiled_metrics(model):
    for metric in getattr(model, "metrics", []):
        yield metric
        yield from getattr(metric, "metrics", [])
