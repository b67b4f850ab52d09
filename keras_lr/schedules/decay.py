"""Step, multi-step, exponential, inverse-time and polynomial decays."""

import math

import keras

from keras_lr import _validation
from keras_lr.schedules.base import Schedule
from keras_lr.schedules.base import exp_of_product


def _check_gamma(gamma):
    return _validation.check_number(
        "gamma", gamma, minimum=0.0, maximum=1.0, open_min=True
    )


@keras.saving.register_keras_serializable(package="keras_lr")
class StepDecay(Schedule):
    """Multiply the rate by `gamma` every `step_size` steps (PyTorch `StepLR`).

    ```python
    lr(step) = initial_learning_rate * gamma ** floor(step / step_size)
    ```

    Equals `torch.optim.lr_scheduler.StepLR(step_size=step_size,
    gamma=gamma)` stepped once per optimizer step. To count in epochs, as
    PyTorch users usually step it, wrap it in `keras_lr.schedules.Epochs`.

    Args:
        initial_learning_rate: the rate at step 0.
        step_size: steps between two decays, a positive integer.
        gamma: the factor applied at each decay, in (0, 1].

    Example:

    >>> StepDecay(0.1, step_size=30).numpy([0, 29, 30, 60]).round(6).tolist()
    [0.1, 0.1, 0.01, 0.001]
    """

    def __init__(self, initial_learning_rate, step_size, gamma=0.1):
        self.initial_learning_rate = _validation.check_learning_rate(
            "initial_learning_rate", initial_learning_rate
        )
        self.step_size = _validation.check_positive_int("step_size", step_size)
        self.gamma = _check_gamma(gamma)

    def _formula(self, step, xp):
        decays = xp.floor_divide(step, float(self.step_size))
        return self.initial_learning_rate * exp_of_product(
            decays, math.log(self.gamma), xp
        )


@keras.saving.register_keras_serializable(package="keras_lr")
class MultiStepDecay(Schedule):
    """Multiply the rate by `gamma` at each milestone (PyTorch `MultiStepLR`).

    ```python
    lr(step) = initial_learning_rate * gamma ** (number of milestones <= step)
    ```

    Equals `torch.optim.lr_scheduler.MultiStepLR(milestones, gamma)` for
    strictly increasing milestones. PyTorch also accepts unsorted or repeated
    milestones (sorting them, and applying `gamma` once per repeat); keras_lr
    rejects both as a likely mistake.

    Args:
        initial_learning_rate: the rate before the first milestone.
        milestones: strictly increasing non-negative integer steps.
        gamma: the factor applied at each milestone, in (0, 1].

    Example:

    >>> schedule = MultiStepDecay(1.0, milestones=[10, 25], gamma=0.5)
    >>> schedule.numpy([0, 9, 10, 24, 25, 1000]).tolist()
    [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
    """

    def __init__(self, initial_learning_rate, milestones, gamma=0.1):
        self.initial_learning_rate = _validation.check_learning_rate(
            "initial_learning_rate", initial_learning_rate
        )
        self.milestones = _validation.check_steps("milestones", milestones)
        self.gamma = _check_gamma(gamma)

    def _formula(self, step, xp):
        passed = xp.searchsorted(xp.const(self.milestones), step, side="right")
        return self.initial_learning_rate * exp_of_product(
            xp.to_float(passed), math.log(self.gamma), xp
        )


@keras.saving.register_keras_serializable(package="keras_lr")
class ExponentialDecay(Schedule):
    """Exponential decay, with an optional floor.

    ```python
    p = step / decay_steps            # floor(step / decay_steps) if staircase
    lr(step) = max(initial_learning_rate * decay_rate ** p, min_learning_rate)
    ```

    With `decay_steps=1` it equals PyTorch's `ExponentialLR(gamma=decay_rate)`;
    without `min_learning_rate` it equals Keras's `ExponentialDecay`.

    Args:
        initial_learning_rate: the rate at step 0.
        decay_rate: the factor per `decay_steps`, in (0, 1].
        decay_steps: a positive integer.
        staircase: decay in whole periods of `decay_steps` only.
        min_learning_rate: the floor, at most `initial_learning_rate`.

    Example:

    >>> schedule = ExponentialDecay(1.0, decay_rate=0.5, decay_steps=10)
    >>> schedule.numpy([0, 5, 10, 20]).round(6).tolist()
    [1.0, 0.707107, 0.5, 0.25]
    """

    def __init__(
        self,
        initial_learning_rate,
        decay_rate,
        decay_steps=1,
        staircase=False,
        min_learning_rate=0.0,
    ):
        self.initial_learning_rate = _validation.check_learning_rate(
            "initial_learning_rate", initial_learning_rate
        )
        self.decay_rate = _validation.check_number(
            "decay_rate", decay_rate, minimum=0.0, maximum=1.0, open_min=True
        )
        self.decay_steps = _validation.check_positive_int(
            "decay_steps", decay_steps
        )
        self.staircase = _validation.check_bool("staircase", staircase)
        self.min_learning_rate = _validation.check_not_above(
            "min_learning_rate",
            _validation.check_learning_rate(
                "min_learning_rate", min_learning_rate
            ),
            "initial_learning_rate",
            self.initial_learning_rate,
        )

    def _formula(self, step, xp):
        # rate ** p as exp(p * log(rate)), with the log taken in float64 on
        # the host: a float32 graph (JAX) stays accurate over long decays,
        # where rate ** p would carry the rounding of `rate` into every power.
        log_rate = math.log(self.decay_rate)
        if self.staircase:
            periods = xp.floor_divide(step, float(self.decay_steps))
            decayed = exp_of_product(periods, log_rate, xp)
        else:
            decayed = exp_of_product(step, log_rate / self.decay_steps, xp)
        return xp.maximum(
            self.initial_learning_rate * decayed, self.min_learning_rate
        )


@keras.saving.register_keras_serializable(package="keras_lr")
class InverseTimeDecay(Schedule):
    """Inverse time decay, the classic "time-based" decay of Keras 2's SGD.

    ```python
    p = step / decay_steps            # floor(step / decay_steps) if staircase
    lr(step) = initial_learning_rate / (1 + decay_rate * p)
    ```

    Equals Keras's `InverseTimeDecay`.

    Args:
        initial_learning_rate: the rate at step 0.
        decay_rate: a finite number >= 0.
        decay_steps: a positive integer.
        staircase: decay in whole periods of `decay_steps` only.

    Example:

    >>> InverseTimeDecay(0.1, decay_rate=1.0, decay_steps=10).numpy(
    ...     [0, 10, 30]).tolist()
    [0.1, 0.05, 0.025]
    """

    def __init__(
        self, initial_learning_rate, decay_rate, decay_steps=1, staircase=False
    ):
        self.initial_learning_rate = _validation.check_learning_rate(
            "initial_learning_rate", initial_learning_rate
        )
        self.decay_rate = _validation.check_number(
            "decay_rate", decay_rate, minimum=0.0
        )
        self.decay_steps = _validation.check_positive_int(
            "decay_steps", decay_steps
        )
        self.staircase = _validation.check_bool("staircase", staircase)

    def _formula(self, step, xp):
        if self.staircase:
            periods = xp.floor_divide(step, float(self.decay_steps))
        else:
            periods = step / self.decay_steps
        return self.initial_learning_rate / (1.0 + self.decay_rate * periods)


@keras.saving.register_keras_serializable(package="keras_lr")
class PolynomialDecay(Schedule):
    """Polynomial decay to `end_learning_rate` over `decay_steps`, then hold.

    ```python
    s = min(step, decay_steps)
    lr(step) = (initial_learning_rate - end_learning_rate)
               * (1 - s / decay_steps) ** power + end_learning_rate
    ```

    With `end_learning_rate=0` it equals PyTorch's
    `PolynomialLR(total_iters=decay_steps, power=power)`; it equals Keras's
    `PolynomialDecay` with `cycle=False` (keras_lr has no `cycle`: use
    `CosineRestarts` or `Sequential` for restarts).

    Args:
        initial_learning_rate: the rate at step 0.
        decay_steps: a positive integer.
        end_learning_rate: the rate from `decay_steps` on.
        power: a finite number > 0 (1 is linear).

    Example:

    >>> PolynomialDecay(0.1, decay_steps=100).numpy([0, 50, 100, 200]).tolist()
    [0.1, 0.05, 0.0, 0.0]
    """

    def __init__(
        self,
        initial_learning_rate,
        decay_steps,
        end_learning_rate=0.0,
        power=1.0,
    ):
        self.initial_learning_rate = _validation.check_learning_rate(
            "initial_learning_rate", initial_learning_rate
        )
        self.decay_steps = _validation.check_positive_int(
            "decay_steps", decay_steps
        )
        self.end_learning_rate = _validation.check_learning_rate(
            "end_learning_rate", end_learning_rate
        )
        self.power = _validation.check_number(
            "power", power, minimum=0.0, open_min=True
        )

    def _formula(self, step, xp):
        # `decay_steps - s` is exact, unlike `1 - s / decay_steps` near the end.
        remaining = (
            self.decay_steps - xp.minimum(step, float(self.decay_steps))
        ) / self.decay_steps
        return (
            self.initial_learning_rate - self.end_learning_rate
        ) * xp.power(remaining, self.power) + self.end_learning_rate
