"""Drive a float learning rate from the host with any schedule or function."""

import inspect
import math
import numbers

import keras
import numpy as np

from keras_lr import _groups
from keras_lr import _keras_private
from keras_lr import _validation
from keras_lr._keras_private import print_msg
from keras_lr.callbacks import _optimizer_rate
from keras_lr.callbacks._planned import PlannedRates
from keras_lr.schedules import evaluate

_LearningRateSchedule = keras.optimizers.schedules.LearningRateSchedule


@keras.saving.register_keras_serializable(package="keras_lr")
class LearningRateScheduler(keras.callbacks.Callback):
    """Set an optimizer's float learning rate from a schedule or a function.

    A drop-in for `keras.callbacks.LearningRateScheduler` (same arguments in
    the same order, same verbose line, `logs["learning_rate"]` at each
    epoch's end for `History`), which also takes a `LearningRateSchedule`
    and can set the rate before every batch.

    With `unit="epoch"` (Keras's), `schedule` is called with the epoch index
    at the start of each epoch, as `schedule(epoch)` or
    `schedule(epoch, lr)` (`lr`: the current rate). Which of the two is
    decided from the function's signature, so a `TypeError` raised inside a
    user's function is never mistaken for the other signature (Keras retries
    with one argument on any `TypeError`). With `unit="step"`, it is called
    with the optimizer's global step before every batch (`schedule(step)`
    or `schedule(step, lr)`); with `gradient_accumulation_steps=n`, once per
    real update (before its first batch), with the update's index
    (`optimizer.iterations`), so that update `k` uses `schedule(k)`.

    The step is read from the optimizer (once per epoch), not counted by the
    callback, so training resumed with `BackupAndRestore` or after
    `load_model` continues at the right point.

    With `unit="step"` the function is called at each epoch's start for
    the whole epoch's updates (the steps per epoch are known from `fit`),
    and the compiled train step reads each batch's rate from a table
    written once per epoch: no host write per batch, no recompile, and the
    optimizer's float rate still holds, after each batch, the rate it used.
    So a function that reads outside state sees it as it was at the epoch's
    start, and the function has already been called for updates an epoch
    stopped early never made. With an unknown number of steps per epoch
    (`steps=None`, e.g. a generator) the rate is written from the host
    before every batch instead. With `steps_per_execution=k` one rate is
    set per `k` steps, as the rate set before each execution would be.
    Prefer passing a `LearningRateSchedule` to the optimizer where you can.

    Args:
        schedule: a `LearningRateSchedule` (called with the epoch or the
            step) or a Python function returning a non-negative float.
        verbose: 1 prints each epoch's new rate (`unit="epoch"` only), as
            Keras's does: `Epoch 1: LearningRateScheduler setting learning
            rate to 0.1.` (through Keras's `print_msg`, so it follows
            `keras.config.disable_interactive_logging()`).
        unit: `"epoch"` or `"step"`.

    Raises:
        TypeError: at `on_train_begin`, if the optimizer was built with a
            schedule (as Keras's raises when it sets the rate).
        ValueError: when the function returns something that is not a
            non-negative finite number.

    Example:

    >>> import keras, numpy as np, keras_lr
    >>> x, y = np.ones((8, 2)), np.ones((8, 1))
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile(keras.optimizers.SGD(0.1), loss="mse")
    >>> halve = keras_lr.callbacks.LearningRateScheduler(lambda epoch: 0.1 / 2**epoch)
    >>> history = model.fit(x, y, epochs=3, verbose=0, callbacks=[halve])
    >>> [round(lr, 6) for lr in history.history["learning_rate"]]
    [0.1, 0.05, 0.025]

    Per batch, with a schedule (`unit="step"`; 8 samples in batches of 2
    are 4 steps per epoch):

    >>> model.compile(keras.optimizers.SGD(0.1), loss="mse")
    >>> steps = keras_lr.callbacks.LearningRateScheduler(
    ...     keras_lr.schedules.PiecewiseConstant([2], [0.1, 0.01]), unit="step")
    >>> history = model.fit(x, y, batch_size=2, verbose=0, callbacks=[steps])
    >>> round(float(model.optimizer.learning_rate), 6)  # the rate of step 3
    0.01
    """

    def __init__(self, schedule, verbose=0, unit="epoch"):
        super().__init__()
        if not callable(schedule):
            raise TypeError(
                "Argument `schedule` must be a LearningRateSchedule or a "
                f"function. Received: schedule={schedule!r}"
            )
        self.schedule = schedule
        if not isinstance(verbose, numbers.Integral):
            raise TypeError(
                f"Argument `verbose` must be an integer. Received: verbose={verbose!r}"
            )
        self.verbose = int(verbose)
        self.unit = _validation.check_choice("unit", unit, ("epoch", "step"))
        self._passes_rate = _passes_rate(schedule)
        self._first_step = None
        self._planned = None
        self._in_epoch = False
        self._set_steps = []
        self._set_values = []

    def get_config(self):
        return {
            "schedule": keras.saving.serialize_keras_object(self.schedule),
            "verbose": self.verbose,
            "unit": self.unit,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["schedule"] = keras.saving.deserialize_keras_object(
            config["schedule"]
        )
        return cls(**config)

    # What a MultiOptimizer's refusal suggests instead (CyclicLR its own).
    _groups_instead = (
        "Give the base optimizer the schedule before "
        "`keras_lr.optimizers.scale_rates` or `layer_decay` (every group then "
        "follows it at its share), or use `keras_lr.callbacks."
        "ReduceLROnPlateau`, which reduces every group."
    )

    def on_train_begin(self, logs=None):
        _optimizer_rate.refuse_groups(
            self.model, f"{type(self).__name__} sets one optimizer's rate",
            self._groups_instead,
        )
        optimizer = _optimizer_rate.base_optimizer(self.model)
        if _optimizer_rate.is_schedule(optimizer):
            # Keras's callback fails the same way (with the same first
            # sentence) when it first sets the rate.
            raise TypeError(
                "This optimizer was created with a `LearningRateSchedule` "
                "object as its `learning_rate` constructor argument, hence "
                f"its learning rate is not settable by {type(self).__name__}. "
                f"Its schedule: {_keras_private.rate_as_held(optimizer)!r}. Pass your "
                "schedule to the optimizer instead (it then runs inside the "
                "compiled train step), or build the optimizer with a float "
                "`learning_rate`."
            )
        self._optimizer = optimizer
        self._planned = None
        self._in_epoch = False
        self._next_first = None
        self._dtype = self._stored_dtype()
        if self.unit == "step":
            _optimizer_rate.register_host_driver(optimizer, self)
            self._planned = self._table()

    def set_params(self, params):
        super().set_params(params)
        # In `fit`, before it builds its train function: a table put in place
        # here needs no rebuild of a function not built yet.
        if self.unit == "step":
            self._table()

    def _table(self):
        """The optimizer's table of planned rates (`_planned.py`): the
        epoch's rates, worked out at its start, are applied inside the
        compiled step. `None` with an unknown number of steps per epoch
        (`steps=None`): the rate is then written before every batch."""
        steps = (self.params or {}).get("steps")
        model = self.model
        if not steps or getattr(model, "optimizer", None) is None:
            return None
        optimizer = _optimizer_rate.base_optimizer(model)
        if _groups.is_multi(optimizer) or _optimizer_rate.is_schedule(optimizer):
            return None  # refused at on_train_begin
        return PlannedRates.of(model, optimizer, int(steps))

    def on_train_end(self, logs=None):
        _optimizer_rate.unregister_host_driver(self._optimizer, self)
        self._in_epoch = False
        if self._planned is not None:
            self._planned.switch_off(self.model)

    def on_epoch_begin(self, epoch, logs=None):
        if self.unit == "epoch":
            rate, returned = self._apply(epoch)
            if self.verbose > 0:
                print_msg(
                    f"\nEpoch {epoch + 1}: LearningRateScheduler setting "
                    f"learning rate to {returned}."
                )
            return
        self._first_step = None
        if self._planned is not None:
            self._plan_epoch()

    def on_epoch_end(self, epoch, logs=None):
        if self._in_epoch:
            self._in_epoch = False
            # The batches this epoch trained (fewer than planned when it
            # stopped early): what `_rate_set` reports.
            # One device read per epoch: the next epoch of this fit starts
            # there (nothing trains in between).
            self._next_first = _optimizer_rate.read_batches(self._optimizer)
            trained = self._next_first - self._epoch_first
            for at, step, rate, new in self._events:
                if at >= trained:
                    break
                if new:
                    self._rate_set(step, rate)
            if logs is not None:
                logs["learning_rate"] = self._rate_of_update(
                    _optimizer_rate.update_of_batch(self._optimizer, self._next_first) - 1
                )
            return
        # As Keras's: the rate in place at the epoch's end, for `History`.
        # Per step, the rate of the epoch's last update (under gradient
        # accumulation the next update's rate may already be in place).
        if logs is None:
            return
        logs["learning_rate"] = self._rate_of_update(
            _optimizer_rate.read_step(self._optimizer) - 1
        )

    def _rate_of_update(self, last):
        if self.unit == "step" and self._set_steps and self._set_steps[0] <= last:
            # As the optimizer's variable holds it (float32, say).
            rate = self.applied_rates([last])[0]
            dtype = getattr(_keras_private.rate_as_held(self._optimizer), "dtype", "float64")
            return float(np.asarray(rate, dtype=dtype))
        return _optimizer_rate.float_rate(self._optimizer, self.model)

    # --- per step, planned for the epoch at its start ---------------------

    def _plan_epoch(self):
        """Works out the rate in place at each batch of the epoch, as setting
        it before each batch would, and hands the table to the train step:
        one device read and one write per epoch."""
        _optimizer_rate.sync_jax_state(self.model)
        carried = None
        if self._set_steps:
            carried = self._set_steps[-1], self._set_values[-1]
        if self._next_first is None:
            self._next_first = _optimizer_rate.read_batches(self._optimizer)
        self._epoch_first, self._next_first = self._next_first, None
        self._set_steps, self._set_values, self._events = [], [], []
        self._dtype = self._stored_dtype()
        self._in_epoch = True
        self._plan_from(0, carried)

    def _replan(self):
        """Plans the rest of the epoch again, from the next batch (after
        something that changes the rates, such as `CyclicLR._reset`)."""
        if not self._in_epoch:
            return
        _optimizer_rate.sync_jax_state(self.model)
        begin = _optimizer_rate.read_batches(self._optimizer) - self._epoch_first
        if begin >= self.params["steps"]:
            return  # the epoch is over; the next one is planned at its start
        kept = sum(1 for event in self._events if event[0] < begin)
        del self._events[kept:], self._set_steps[kept:], self._set_values[kept:]
        self._plan_from(begin)

    def _plan_from(self, begin, carried=None):
        optimizer = self._optimizer
        steps = int(self.params["steps"])
        # The batches Keras calls `on_train_batch_begin` for: one per
        # execution of `steps_per_execution` batches.
        per_execution = int(getattr(self.model, "steps_per_execution", 1) or 1)
        begins = np.arange(begin, steps, per_execution, dtype=np.int64)
        updates = _optimizer_rate.update_of_batch(optimizer, self._epoch_first + begins)
        previous = np.concatenate([[-1 if not self._set_steps else self._set_steps[-1]],
                                   updates[:-1]])
        new = updates != previous
        begins, updates = begins[new].tolist(), updates[new].tolist()
        continues = bool(begins) and carried is not None and carried[0] == updates[0]
        held = None
        if continues or self._passes_rate:
            held = _optimizer_rate.float_rate(optimizer)
        if continues and float(np.asarray(carried[1], dtype=self._dtype)) == held:
            # An update that began in the previous epoch (or fit) keeps the
            # rate set for it: a `(step, lr)` function is not applied twice.
            self._record(begins.pop(0), updates.pop(0), carried[1], new=False)
        if self._set_values and self._passes_rate:
            held = float(np.asarray(self._set_values[-1], dtype=self._dtype))
        rates = self._rates(updates, held)
        self._events.extend(zip(begins, updates, rates, [True] * len(rates)))
        self._set_steps.extend(updates)
        self._set_values.extend(rates)
        at = np.asarray([event[0] for event in self._events])
        index = np.searchsorted(at, np.arange(steps), side="right") - 1
        self._planned.write(self.model, self._epoch_first,
                            np.asarray(self._set_values, dtype=np.float64)[index])

    def _record(self, at, step, rate, new):
        self._events.append((at, step, rate, new))
        self._set_steps.append(step)
        self._set_values.append(rate)

    def _rates(self, steps, lr=None):
        """The checked rates of updates `steps` (Python ints), in order; a
        `(step, lr)` function starts from `lr` and is given each rate as
        the optimizer holds it."""
        if isinstance(self.schedule, _LearningRateSchedule) and steps:
            rates = np.asarray(evaluate(self.schedule, steps), dtype=np.float64)
            bad = ~(np.isfinite(rates) & (rates >= 0))
            if bad.any():
                index = int(np.argmax(bad))
                _check_rate(rates[index], self.unit, steps[index])  # raises
            return rates.tolist()
        rates = []
        for step in steps:
            rate = _check_rate(self._rate(step, lr), self.unit, step)
            rates.append(rate)
            if self._passes_rate:
                lr = float(np.asarray(rate, dtype=self._dtype))
        return rates

    def _stored_dtype(self):
        """The dtype the optimizer's float rate holds, as NumPy knows it."""
        try:
            return np.dtype(_keras_private.rate_as_held(self._optimizer).dtype)
        except TypeError:  # e.g. bfloat16, unknown to NumPy
            return np.dtype("float64")

    # --- per step, written before every batch (`steps=None`) --------------

    def on_train_batch_begin(self, batch, logs=None):
        if self.unit != "step" or self._planned is not None:
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
        rate, _ = self._apply(step)
        self._set_steps.append(step)
        self._set_values.append(rate)
        self._rate_set(step, rate)

    def _rate_set(self, step, rate):
        """Called for each rate set for an update that trained (for
        subclasses): before its batch, or at the epoch's end when planned."""

    def _rate(self, time, lr=None):
        """What `schedule` returns for `time` (an epoch or a step); `lr`: the
        current rate for a `(time, lr)` function (read when not given)."""
        if isinstance(self.schedule, _LearningRateSchedule):
            return float(evaluate(self.schedule, time))
        if self._passes_rate:
            if lr is None:
                lr = _optimizer_rate.float_rate(self._optimizer, self.model)
            return self.schedule(time, lr)
        return self.schedule(time)

    def _apply(self, time):
        """Sets the rate for `time`: `(rate as a float, value returned)`."""
        returned = self._rate(time)
        rate = _check_rate(returned, self.unit, time)
        _optimizer_rate.set_float_rate(self.model, self._optimizer, rate)
        if not isinstance(returned, (float, np.floating)):
            returned = rate
        return rate, returned

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
