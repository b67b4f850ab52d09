"""Reduce the learning rate on a plateau, on top of a float or any schedule."""

import math
import numbers
import warnings

import keras
import numpy as np
from keras.src.saving.keras_saveable import KerasSaveable

from keras_lr import _validation
from keras_lr.callbacks import _optimizer_rate
from keras_lr.schedules.base import Schedule
from keras_lr.schedules.piecewise import Constant

_LearningRateSchedule = keras.optimizers.schedules.LearningRateSchedule
_STATE_KEYS = ("best", "wait", "cooldown_counter")
# The attribute of the optimizer that carries the plateau state into weight
# files (see `_PlateauWeights`).
_WEIGHTS_ATTRIBUTE = "_keras_lr_plateau_state"


@keras.saving.register_keras_serializable(package="keras_lr")
class ReducedSchedule(Schedule):
    """A schedule scaled down by `ReduceLROnPlateau`, floored at a minimum.

    ```python
    lr(step) = max(schedule(step) * scale,
                   min(min_learning_rate, schedule(step)))
    ```

    so a reduction keeps the shape of warmup or cosine at a lower level,
    never pushes the rate below `min_learning_rate`, and never lifts a
    schedule that itself goes lower. `ReduceLROnPlateau` installs it on the
    optimizer and owns `scale` (the one mutable value of a keras_lr
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


class _PlateauWeights(KerasSaveable):
    """Writes a `ReducedSchedule`'s scale and bookkeeping into weight files.

    Keras saves an optimizer's variables but not its learning rate object,
    so `BackupAndRestore` (which saves weights only) would resume at the
    full rate with fresh patience. Attached to the optimizer under its own
    attribute, this object is saved and restored with the optimizer; a file
    without it (or an optimizer without it) loads as before.
    """

    def __init__(self, schedule, owner):
        self.schedule = schedule
        self.owner = owner

    def _obj_type(self):
        # Keras walks only the kinds of object it knows. As an "Optimizer",
        # the walk skips every attribute an optimizer has and so visits
        # nothing inside this object.
        return "Optimizer"

    def save_own_variables(self, store):
        state, scale = self.owner.state_for_backup()
        store["scale"] = np.array(scale, dtype="float64")
        store["best"] = np.array(
            np.nan if state["best"] is None else state["best"], dtype="float64"
        )
        store["wait"] = np.array(state["wait"], dtype="int64")
        store["cooldown_counter"] = np.array(
            state["cooldown_counter"], dtype="int64"
        )

    def load_own_variables(self, store):
        if "scale" not in store.keys():
            return
        best = float(np.asarray(store["best"]))
        self.schedule.scale = float(np.asarray(store["scale"]))
        self.schedule.plateau_state.update(
            best=None if math.isnan(best) else best,
            wait=int(np.asarray(store["wait"])),
            cooldown_counter=int(np.asarray(store["cooldown_counter"])),
        )


@keras.saving.register_keras_serializable(package="keras_lr")
class ReduceLROnPlateau(keras.callbacks.Callback):
    """Reduce the learning rate when a metric stops improving, on any schedule.

    A drop-in for `keras.callbacks.ReduceLROnPlateau` (same arguments,
    defaults and patience rule: reduce once `wait >= patience` epochs passed
    without improvement) that also works when the optimizer was built with
    a `LearningRateSchedule`, where Keras's raises `TypeError`. A reduction
    multiplies the whole schedule by `factor`, so warmup and cosine keep
    their shape at a lower level:

    ```python
    lr(step) = max(schedule(step) * scale, min(min_lr, schedule(step)))
    scale = factor ** (number of reductions)
    ```

    A float rate is treated as a constant schedule. On the first `fit` the
    callback replaces the optimizer's rate with a `ReducedSchedule` wrapping
    it (idempotent: a second `fit`, or a model loaded with `load_model`,
    keeps the wrapper it has). A reduction recompiles the train step once
    (the scale is a constant of the compiled step, like every schedule
    argument), which costs one trace, a few times per training.

    Differences from the peers:

    - `threshold_mode="rel"` is PyTorch's: an improvement must beat
      `best * (1 - min_delta)` (`"min"`) or `best * (1 + min_delta)`
      (`"max"`); `"abs"` (the default) is Keras's `best -/+ min_delta`.
    - Patience counts as Keras's does: PyTorch's `patience=p` reduces after
      `p + 1` bad epochs, so it equals `patience=p + 1` here.
    - A NaN or infinite monitored value counts as no improvement (with one
      warning); a missing one warns once and names the keys that are there.
    - The bookkeeping (`best`, `wait`, the cooldown counter) is not reset by
      a new `fit`: it lives in the `ReducedSchedule`, and survives
      `keras.callbacks.BackupAndRestore` (in either order of the two
      callbacks) and `model.save` / `keras.models.load_model`. When the
      backup is listed first it is written before this callback sees the
      epoch's logs, so the backup takes the monitored value from the
      model's compiled metrics or the validation logs; a value that another
      callback adds to the logs, or an epoch of unknown length, leaves that
      backup one epoch behind.

    Args:
        monitor: the quantity to watch, a key of the epoch's logs.
        factor: the factor of each reduction, in (0, 1).
        patience: epochs without improvement before a reduction.
        mode: `"min"`, `"max"`, or `"auto"` (from the metric: `"min"` for a
            loss, the metric's own direction otherwise).
        min_delta: the margin an improvement must beat, >= 0.
        threshold_mode: `"abs"` or `"rel"`, see above.
        cooldown: epochs after a reduction during which patience is not
            counted.
        min_lr: the floor that reductions respect, >= 0.
        verbose: 1 prints each reduction, as
            `Epoch 5: ReduceLROnPlateau reducing learning rate from 0.1 to 0.01.`

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
        mode="auto",
        min_delta=1e-4,
        threshold_mode="abs",
        cooldown=0,
        min_lr=0.0,
        verbose=0,
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
        self.mode = _validation.check_choice("mode", mode, ("auto", "min", "max"))
        self.min_delta = _validation.check_number("min_delta", min_delta, minimum=0.0)
        self.threshold_mode = _validation.check_choice(
            "threshold_mode", threshold_mode, ("abs", "rel")
        )
        self.cooldown = _validation.check_non_negative_int("cooldown", cooldown)
        self.min_lr = _validation.check_learning_rate("min_lr", min_lr)
        if not isinstance(verbose, numbers.Integral):
            raise TypeError(
                f"Argument `verbose` must be an integer. Received: verbose={verbose!r}"
            )
        self.verbose = int(verbose)
        self.schedule = None
        self._compiled = None
        self._warned = set()

    def get_config(self):
        return {
            "monitor": self.monitor,
            "factor": self.factor,
            "patience": self.patience,
            "mode": self.mode,
            "min_delta": self.min_delta,
            "threshold_mode": self.threshold_mode,
            "cooldown": self.cooldown,
            "min_lr": self.min_lr,
            "verbose": self.verbose,
        }

    def set_model(self, model):
        super().set_model(model)
        # Before any on_train_begin: `BackupAndRestore` loads its weights
        # there, and finds the state holder in place whichever comes first.
        if getattr(model, "optimizer", None) is not None:
            self._install(_optimizer_rate.base_optimizer(model))

    def _install(self, optimizer):
        current = optimizer._learning_rate
        if isinstance(current, ReducedSchedule):
            schedule = current
        else:
            if isinstance(current, _LearningRateSchedule):
                base = current
            elif isinstance(current, keras.Variable):
                base = Constant(_optimizer_rate.float_rate(optimizer))
            else:
                raise ValueError(
                    "ReduceLROnPlateau needs an optimizer whose learning rate "
                    "is a float or a LearningRateSchedule. Received: "
                    f"learning_rate={current!r}"
                )
            schedule = ReducedSchedule(base, min_learning_rate=self.min_lr)
            # Keras stops tracking the float's variable: the rate now lives
            # in the schedule, and so in the optimizer's config.
            optimizer.learning_rate = schedule
        schedule.min_learning_rate = self.min_lr
        setattr(optimizer, _WEIGHTS_ATTRIBUTE, _PlateauWeights(schedule, self))
        self.schedule = schedule
        self._compiled = None

    def on_train_begin(self, logs=None):
        self._direction = None
        self._in_fit = True
        self._optimizer = _optimizer_rate.base_optimizer(self.model)
        if self._optimizer._learning_rate is not self.schedule:
            self._install(self._optimizer)

    def on_train_end(self, logs=None):
        self._in_fit = False

    def on_epoch_begin(self, epoch, logs=None):
        # The scale is baked into the compiled step. Recompile when it is
        # not the one compiled: the first epoch of a fit (a train function
        # from an earlier fit may hold another), or a scale that
        # `BackupAndRestore` restored after this callback's on_train_begin.
        if self._compiled != self._signature():
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

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        step = _optimizer_rate.read_step(self._optimizer)
        if step > 0:
            logs["learning_rate"] = self._rate_of_update(step - 1)
        current = logs.get(self.monitor)
        if current is None:
            self._warn_once(
                "missing",
                f"ReduceLROnPlateau is conditioned on metric `{self.monitor}`, "
                "which is not available. Available metrics are: "
                f"{', '.join(sorted(logs))}.",
            )
        elif not math.isfinite(float(current)):
            self._warn_once(
                "nonfinite",
                f"ReduceLROnPlateau received {self.monitor}={current}; a NaN or "
                "infinite value counts as no improvement.",
            )
        old = self._rate_of_update(step)
        state, scale = self._advance(current, step)
        self.schedule.plateau_state.update(state)
        self._epoch_done = True
        if scale != self.schedule.scale:
            self.schedule.scale = scale
            self._recompile()
            if self.verbose > 0:
                new = self._rate_of_update(step)
                print(
                    f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning "
                    f"rate from {old:.6g} to {new:.6g}."
                )

    def _advance(self, current, step):
        """The bookkeeping and scale after an epoch that ended with `current`.

        Keras's rule: a cooldown epoch resets the wait; an improvement
        resets it and records the best; otherwise, out of cooldown, the wait
        grows and at `patience` the rate is reduced if it is above `min_lr`.
        """
        state = dict(self.schedule.plateau_state)
        scale = self.schedule.scale
        if current is None:
            return state, scale
        current = float(current)
        if state["cooldown_counter"] > 0:
            state["cooldown_counter"] -= 1
            state["wait"] = 0
        if self._is_improvement(current, state["best"]):
            state["best"] = current
            state["wait"] = 0
        elif state["cooldown_counter"] == 0:
            state["wait"] += 1
            if state["wait"] >= self.patience and (
                self._rate_of_update(step) > self.min_lr
            ):
                scale *= self.factor
                state["cooldown_counter"] = self.cooldown
                state["wait"] = 0
        return state, scale

    def _rate_of_update(self, step):
        """The rate of the update `step` (`optimizer.iterations`)."""
        return float(self.schedule.numpy(
            _optimizer_rate.schedule_steps(self._optimizer, step)
        ))

    def _is_improvement(self, current, best):
        if not math.isfinite(current):
            return False
        if best is None:
            return True
        if self._get_direction() == "min":
            if self.threshold_mode == "rel":
                return current < best * (1.0 - self.min_delta)
            return current < best - self.min_delta
        if self.threshold_mode == "rel":
            return current > best * (1.0 + self.min_delta)
        return current > best + self.min_delta

    def _get_direction(self):
        if self._direction is None:
            self._direction = self.mode
            if self.mode == "auto":
                self._direction = _metric_direction(self.model, self.monitor)
        return self._direction

    def state_for_backup(self):
        """`(plateau_state, scale)` as a backup written now should hold them.

        `BackupAndRestore` listed before this callback writes its backup at
        the end of an epoch before this callback has seen the epoch's
        metric; a resume then starts after that epoch. So the backup gets
        the state this callback is about to reach, from the same metric
        values: the validation logs, the training metrics as validation
        found them, or the model's metrics.
        """
        schedule = self.schedule
        steps = (self.params or {}).get("steps")
        done = (
            not getattr(self, "_epoch_done", True)
            and steps is not None
            and _optimizer_rate.read_batches(self._optimizer) - self._epoch_first_step
            >= steps
        )
        if not done:
            return schedule.plateau_state, schedule.scale
        if self.monitor.startswith("val_"):
            current = (self._val_logs or {}).get(self.monitor[len("val_"):])
        elif self._train_results is not None:
            current = self._train_results.get(self.monitor)
        else:
            current = self.model.get_metrics_result().get(self.monitor)
        return self._advance(current, _optimizer_rate.read_step(self._optimizer))

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
        direction = getattr(metric, "_direction", None)
        if metric.name == name and direction in ("up", "down"):
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
