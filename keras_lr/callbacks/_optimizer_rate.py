"""What an optimizer's learning rate is, read and set from the host.

Every keras_lr callback needs the same few facts about the optimizer it
drives: its step (one device read), the object behind its learning rate (a
schedule, a float held in a variable, or a keras_lr callback that writes that
float from the host before each batch), and the rates that object gives over
a range of steps, evaluated on the host without touching the device.

Steps here are *updates*: with Keras's `gradient_accumulation_steps=n` only
every n-th train step (batch) updates the weights, and `optimizer.iterations`
counts those real updates. Keras evaluates a schedule passed to the optimizer
at the count of train steps instead, every batch, and the update made at the
last batch of each group of n uses the value computed there: update `k` uses
`schedule(k * n + n - 1)` (`schedule_steps`). Without accumulation (n = 1)
both counts are the same.
"""

import copy
import weakref

import keras
import numpy as np

from keras_lr import _groups
from keras_lr import _keras_private
from keras_lr.schedules import evaluate

_LearningRateSchedule = keras.optimizers.schedules.LearningRateSchedule

# optimizer -> the callback writing its float rate before every batch. Weak,
# so that a finished fit does not keep a model alive.
_HOST_DRIVERS = weakref.WeakKeyDictionary()


def base_optimizer(model):
    """The optimizer that owns the rate (inside a `LossScaleOptimizer` too)."""
    optimizer = model.optimizer
    if optimizer is None:
        raise ValueError(
            "The model must be compiled with an optimizer before it is "
            "trained with a keras_lr callback."
        )
    return getattr(optimizer, "inner_optimizer", optimizer)


def refuse_groups(model, what, instead):
    """A Keras-style error when the model's optimizer is a `MultiOptimizer`
    for a callback that `what` (drives one optimizer's rate, say): Keras's
    wrapper has no `learning_rate` of its own, and driving every group the
    same way would erase the groups' shares. `instead`: what to do."""
    optimizer = base_optimizer(model)
    if not _groups.is_multi(optimizer):
        return
    raise ValueError(
        f"{what}; the model's optimizer is a MultiOptimizer with groups "
        f"{list(_groups.groups(optimizer))}. {instead} "
        f"Received: optimizer={optimizer!r}"
    )


def wrapper(model):
    """The `LossScaleOptimizer` around the optimizer that owns the rate, or
    None."""
    optimizer = model.optimizer
    return optimizer if getattr(optimizer, "inner_optimizer", None) is not None else None


def read_step(optimizer):
    """The number of real updates so far: the index of the next one.

    This is `optimizer.iterations`, which Keras divides by
    `gradient_accumulation_steps` (rounding down).
    """
    return int(keras.ops.convert_to_numpy(optimizer.iterations))


def accumulation_steps(optimizer):
    """Batches per real update: `gradient_accumulation_steps`, or 1."""
    return int(getattr(optimizer, "gradient_accumulation_steps", None) or 1)


def read_batches(optimizer):
    """The number of train steps (batches) the optimizer has seen.

    The raw counter behind `optimizer.iterations`, which Keras advances every
    batch, accumulating or not. It is the step a schedule is called with.
    """
    return int(keras.ops.convert_to_numpy(_keras_private.batch_counter(optimizer)))


def update_of_batch(optimizer, batch):
    """The index of the real update that the train step `batch` feeds.

    Under gradient accumulation the batches `k * n .. k * n + n - 1` feed
    update `k`, applied at the last of them.
    """
    return batch // accumulation_steps(optimizer)


def schedule_steps(optimizer, updates):
    """The steps at which the optimizer's schedule gives the rates of `updates`.

    Keras applies the accumulated update `k` at train step `k * n + n - 1`
    and evaluates the schedule there (see the module docstring).
    """
    n = accumulation_steps(optimizer)
    return np.asarray(updates, dtype=np.int64) * n + (n - 1)


def is_schedule(optimizer):
    return isinstance(_keras_private.rate_as_held(optimizer), _LearningRateSchedule)


def float_rate(optimizer, model=None):
    """The current value of a rate that is not a schedule (one device read).

    Pass the model to read between two batches: on JAX the trainer then
    holds the variables' values (the variables are emptied), and writes them
    back first.
    """
    if model is not None:
        sync_jax_state(model)
    return float(keras.ops.convert_to_numpy(optimizer.learning_rate))


def sync_jax_state(model):
    sync = getattr(model, "jax_state_sync", None)
    if sync is not None:
        sync()


def float_rate_is(optimizer, value):
    """Whether the float rate still holds `value` (one device read).

    `value` is compared as the rate's variable stores it (float32, say).
    """
    stored = np.asarray(value, dtype=_keras_private.rate_as_held(optimizer).dtype)
    return float(stored) == float_rate(optimizer)


def set_float_rate(model, optimizer, value):
    """Give the optimizer's float rate a new value from the host.

    On JAX the compiled step reads the optimizer's variables from the
    trainer's state, not from the variables, so the state is written back
    first; the trainer then reads it again, new rate included, before the
    next batch (the mechanism Keras provides for callbacks).
    """
    sync_jax_state(model)
    optimizer.learning_rate = value


def register_host_driver(optimizer, driver):
    """Declare that `driver.applied_rates(steps)` says what `optimizer` used."""
    _HOST_DRIVERS[optimizer] = driver


def unregister_host_driver(optimizer, driver):
    if _HOST_DRIVERS.get(optimizer) is driver:
        del _HOST_DRIVERS[optimizer]


def rate_snapshot(optimizer):
    """A function `steps -> float64 rates`, frozen at what is in place now.

    `steps` count real updates (`read_step`). A schedule is copied (a
    `ReducedSchedule`'s scale may change at the end of the epoch) and
    evaluated where Keras evaluates it for each update; a float is read
    once. A host driver answers from the rates it wrote, when it wrote one
    at the first step asked about: a driver left registered by a fit that
    crashed did not.
    """
    if is_schedule(optimizer):
        frozen = copy.copy(_keras_private.rate_as_held(optimizer))
        return lambda steps: evaluate(frozen, schedule_steps(optimizer, steps))
    value = float_rate(optimizer)
    driver = _HOST_DRIVERS.get(optimizer)

    def rates(steps):
        if driver is not None and driver.wrote_rate_at(steps[0]):
            return driver.applied_rates(steps)
        return np.full(np.shape(steps), value, dtype=np.float64)

    return rates


def momentum_name(optimizer):
    """The name of the optimizer's momentum-like hyperparameter, or None.

    `"momentum"` for SGD (and RMSprop), `"beta_1"` for the Adam family,
    Lion and Lamb: the one PyTorch's `cycle_momentum` drives (SGD's
    `momentum`, Adam's `betas[0]`). Read without evaluating anything.
    """
    schedulable = getattr(type(optimizer), "schedulable", None)
    if schedulable:  # a keras_lr optimizer: reading it could evaluate a schedule
        return schedulable[0]
    for name in ("beta_1", "momentum"):
        if isinstance(getattr(optimizer, name, None), (int, float)):
            return name
    return None


def hyperparameter(optimizer, name):
    """What the hyperparameter `name` holds: a schedule, a float or None.

    A keras_lr optimizer's schedule as given (no device read), a float as
    Keras's optimizers keep it (a Python float attribute).
    """
    schedules = getattr(optimizer, "hyperparameter_schedules", None) or {}
    if name in schedules:
        return schedules[name]
    value = getattr(optimizer, name, None)
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)):
        return None
    return float(value)


def hyperparameter_snapshot(optimizer, name):
    """A function `steps -> float64 values` of the hyperparameter `name`.

    A schedule is evaluated on the host where the optimizer evaluates it,
    the learning rate's step (`schedule_steps`); a float is constant.
    """
    value = hyperparameter(optimizer, name)
    if isinstance(value, _LearningRateSchedule):
        return lambda steps: evaluate(value, schedule_steps(optimizer, steps))
    return lambda steps: np.full(np.shape(steps), value, dtype=np.float64)

