"""Drive a float learning rate from the host with any schedule or function."""

import inspect
import math
import numbers

import keras
import numpy as np

from keras_lr import _validation
from keras_lr.callbacks import _optimizer_rate
from keras_lr.schedules import evaluate

_LearningRateSchedule = keras.optimizers.schedules.LearningRateSchedule


@keras.saving.register_keras_serializable(package="keras_lr")
class LearningRateScheduler(keras.callbacks.Callback):
    """Set an optimizer's float learning rate from a schedule or a function.

    With `unit="epoch"` (Keras's `LearningRateScheduler`), `schedule` is
    called with the epoch index at the start of each epoch, as
    `schedule(epoch)` or `schedule(epoch, lr)` (`lr`: the current rate).
    Which of the two is decided from the function's signature, so a
    `TypeError` raised inside a user's function is never mistaken for the
    other signature (Keras retries with one argument on any `TypeError`).
    With `unit="step"`, it is called with the optimizer's global step
    before every batch (`schedule(step)` or `schedule(step, lr)`); with
    `gradient_accumulation_steps=n`, once per real update (before its first
    batch), with the update's index (`optimizer.iterations`), so that update
    `k` uses `schedule(k)`.

    The step is read from the optimizer (once per epoch), not counted by the
    callback, so training resumed with `BackupAndRestore` or after
    `load_model` continues at the right point.

    Prefer passing a `LearningRateSchedule` to the optimizer: it then runs
    inside the compiled train step at no cost. This callback is for Python
    functions, and for code migrating from Keras's callback; with
    `unit="step"` it writes the rate from the host before every batch, and
    with `steps_per_execution=k` it sets one rate per `k` steps.

    Args:
        schedule: a `LearningRateSchedule` (called with the epoch or the
            step) or a Python function returning a non-negative float.
        unit: `"epoch"` or `"step"`.
        verbose: 1 prints each epoch's new rate (`unit="epoch"` only).

    Raises:
        ValueError: at `on_train_begin`, if the optimizer was built with a
            schedule (pass the schedule to the optimizer instead); when the
            function returns something that is not a non-negative finite
            number.

    Example:

    ```python
    model.compile(keras.optimizers.SGD(0.1), loss="mse")
    halve = keras_lr.callbacks.LearningRateScheduler(lambda epoch: 0.1 / 2 ** epoch)
    model.fit(x, y, epochs=5, callbacks=[halve])
    ```
    """

    def __init__(self, schedule, unit="epoch", verbose=0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(
                "Argument `schedule` must be a LearningRateSchedule or a "
                f"function. Received: schedule={schedule!r}"
            )
        self.schedule = schedule
        self.unit = _validation.check_choice("unit", unit, ("epoch", "step"))
        if not isinstance(verbose, numbers.Integral):
            raise TypeError(
                f"Argument `verbose` must be an integer. Received: verbose={verbose!r}"
            )
        self.verbose = int(verbose)
        self._passes_rate = _passes_rate(schedule)
        self._first_step = None
        self._set_steps = []
        self._set_values = []

    def get_config(self):
        return {
            "schedule": keras.saving.serialize_keras_object(self.schedule),
            "unit": self.unit,
            "verbose": self.verbose,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["schedule"] = keras.saving.deserialize_keras_object(
            config["schedule"]
        )
        return cls(**config)

    def on_train_begin(self, logs=None):
        optimizer = _optimizer_rate.base_optimizer(self.model)
        if _optimizer_rate.is_schedule(optimizer):
            raise ValueError(
                f"{type(self).__name__} sets the learning rate of an optimizer "
                "built with a float, but this optimizer was built with the "
                f"schedule {optimizer._learning_rate!r}. Pass your schedule "
                "to the optimizer instead (it then runs inside the compiled "
                "train step), or build the optimizer with a float "
                "`learning_rate`."
            )
        self._optimizer = optimizer
        if self.unit == "step":
            _optimizer_rate.register_host_driver(optimizer, self)

    def on_train_end(self, logs=None):
        _optimizer_rate.unregister_host_driver(self._optimizer, self)

    def on_epoch_begin(self, epoch, logs=None):
        if self.unit == "epoch":
            rate = self._apply(epoch)
            if self.verbose > 0:
                print(
                    f"\nEpoch {epoch + 1}: {type(self).__name__} setting "
                    f"learning rate to {rate:.6g}."
                )
        else:
            self._first_step = None

    def on_train_batch_begin(self, batch, logs=None):
        if self.unit != "step":
            return
        carried = None
        if self._first_step is None:
            # One device read per epoch; later batches are counted from it
            # (`batch` is the epoch's batch index, stepping by
            # `steps_per_execution`).
            self._first_step = _optimizer_rate.read_batches(self._optimizer) - batch
            if self._set_steps:
                carried = self._set_steps[-1], self._set_values[-1]
            self._set_steps, self._set_values = [], []
        # The step is the index of the update this batch feeds: with
        # gradient accumulation, one rate per real update, set before its
        # first batch and in place when it is applied at its last.
        step = _optimizer_rate.update_of_batch(
            self._optimizer, self._first_step + batch
        )
        if self._set_steps and self._set_steps[-1] == step:
            return
        if carried is not None and carried[0] == step and (
            _optimizer_rate.float_rate_is(self._optimizer, carried[1])
        ):
            # An update that began in the previous epoch (or fit) keeps the
            # rate set for it: a `(step, lr)` function is not applied twice.
            self._set_steps.append(step)
            self._set_values.append(carried[1])
            return
        rate = self._apply(step)
        self._set_steps.append(step)
        self._set_values.append(rate)
        self._rate_set(step, rate)

    def _rate_set(self, step, rate):
        """Called after the rate of update `step` was set (for subclasses)."""

    def _apply(self, time):
        if isinstance(self.schedule, _LearningRateSchedule):
            rate = float(evaluate(self.schedule, time))
        elif self._passes_rate:
            rate = self.schedule(
                time, _optimizer_rate.float_rate(self._optimizer, self.model)
            )
        else:
            rate = self.schedule(time)
        rate = _check_rate(rate, self.unit, time)
        _optimizer_rate.set_float_rate(self.model, self._optimizer, rate)
        return rate

    def wrote_rate_at(self, step):
        """Whether this epoch's first rate written was for `step`."""
        return bool(self._set_steps) and self._set_steps[0] == step

    def applied_rates(self, steps):
        """The rates this callback gave the updates at `steps` this epoch."""
        set_steps = np.asarray(self._set_steps)
        index = np.searchsorted(set_steps, np.asarray(steps), side="right") - 1
        return np.asarray(self._set_values, dtype=np.float64)[np.maximum(index, 0)]


def _passes_rate(function):
    """Whether `function` takes `(time, lr)` rather than `(time)`."""
    if isinstance(function, _LearningRateSchedule):
        return False
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):  # Some builtins have no signature.
        return False
    try:
        signature.bind(0, 0.0)
    except TypeError:
        try:
            signature.bind(0)
        except TypeError:
            raise TypeError(
                "Argument `schedule` must accept `(epoch)` or `(epoch, lr)` "
                f"(`(step)` or `(step, lr)` with unit=\"step\"). Received: "
                f"schedule with signature {signature}"
            ) from None
        return False
    return True


def _check_rate(rate, unit, time):
    if keras.ops.is_tensor(rate):
        rate = keras.ops.convert_to_numpy(rate)
    if isinstance(rate, np.ndarray) and rate.shape == ():
        rate = rate[()]
    if isinstance(rate, (bool, np.bool_)) or not isinstance(
        rate, (numbers.Real, np.floating, np.integer)
    ):
        raise ValueError(
            "The `schedule` function must return a float learning rate. "
            f"Received: {rate!r} for {unit}={time}"
        )
    rate = float(rate)
    if not math.isfinite(rate) or rate < 0:
        raise ValueError(
            "The `schedule` function must return a non-negative finite "
            f"learning rate. Received: {rate!r} for {unit}={time}"
        )
    return rate
