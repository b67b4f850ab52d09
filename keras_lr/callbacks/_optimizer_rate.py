"""What an optimizer's learning rate is, read and set from the host.

Every keras_lr callback needs the same few facts about the optimizer it
drives: its step (one device read), the object behind its learning rate (a
schedule, a float held in a variable, or a keras_lr callback that writes that
float from the host before each batch), and the rates that object gives over
a range of steps, evaluated on the host without touching the device.
"""

import copy
import weakref

import keras
import numpy as np

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


def read_step(optimizer):
    """The optimizer's iteration count: the step its next update will use."""
    return int(keras.ops.convert_to_numpy(optimizer.iterations))


def is_schedule(optimizer):
    return isinstance(optimizer._learning_rate, _LearningRateSchedule)


def float_rate(optimizer):
    """The current value of a rate that is not a schedule (one device read)."""
    return float(keras.ops.convert_to_numpy(optimizer.learning_rate))


def set_float_rate(model, optimizer, value):
    """Give the optimizer's float rate a new value from the host.

    On JAX the compiled step reads the optimizer's variables from the
    trainer's state, not from the variables, so the state is written back
    first; the trainer then reads it again, new rate included, before the
    next batch (the mechanism Keras provides for callbacks).
    """
    sync = getattr(model, "jax_state_sync", None)
    if sync is not None:
        sync()
    optimizer.learning_rate = value


def register_host_driver(optimizer, driver):
    """Declare that `driver.applied_rates(steps)` says what `optimizer` used."""
    _HOST_DRIVERS[optimizer] = driver


def unregister_host_driver(optimizer, driver):
    if _HOST_DRIVERS.get(optimizer) is driver:
        del _HOST_DRIVERS[optimizer]


def rate_snapshot(optimizer):
    """A function `steps -> float64 rates`, frozen at what is in place now.

    A schedule is copied (a `ReducedSchedule`'s scale may change at the end
    of the epoch); a float is read once. A host driver answers from the
    rates it wrote, when it wrote one at the first step asked about: a
    driver left registered by a fit that crashed did not.
    """
    if is_schedule(optimizer):
        frozen = copy.copy(optimizer._learning_rate)
        return lambda steps: evaluate(frozen, steps)
    value = float_rate(optimizer)
    driver = _HOST_DRIVERS.get(optimizer)

    def rates(steps):
        if driver is not None and driver.wrote_rate_at(steps[0]):
            return driver.applied_rates(steps)
        return np.full(np.shape(steps), value, dtype=np.float64)

    return rates
