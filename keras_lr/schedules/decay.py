"""Step, multi-step, exponential, inverse-time and polynomial decays.

`ExponentialDecay`, `InverseTimeDecay` and `PolynomialDecay` share their
names with Keras's built-ins and are drop-in supersets of them: the same
positional order, defaults and keyword names (`name` included), so changing
`keras.optimizers.schedules.X(...)` to `keras_lr.schedules.X(...)` keeps every
rate; keras_lr's extras come after Keras's arguments.
"""

import math

import keras
import numpy as np

from keras_lr import _validation
from keras_lr.schedules._exact import exp_of_product
from keras_lr.schedules.base import Schedule


def _check_gamma(gamma):
    return _validation.check_number(
        "gamma", gamma, minimum=0.0, maximum=1.0, open_min=True
    )


_FLOAT32_TINY = float(np.finfo(np.float32).tiny)


def _power_of(rate, exponent, c, xp, scale):
    """`scale * rate ** exponent` for `rate >= 0`, `c = log(rate)`.

    A zero rate gives `scale` at exponent 0 and 0 after (as `0.0 ** p`
    does); a growing power saturates at MAX_RATE.
    """
    if rate == 0.0:
        return xp.where(exponent > 0, xp.const(0.0), xp.const(scale))
    return exp_of_product(exponent, c, xp, scale=scale)


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
        decays, _ = xp.divmod(self.step_size)
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
        passed = xp.count_reached(self.milestones)
        return self.initial_learning_rate * exp_of_product(
            passed, math.log(self.gamma), xp
        )


@keras.saving.register_keras_serializable(package="keras_lr")
class ExponentialDecay(Schedule):
    """Keras's `ExponentialDecay`, plus an optional floor.

    ```python
    p = step / decay_steps            # floor(step / decay_steps) if staircase
    lr(step) = max(initial_learning_rate * decay_rate ** p, min_learning_rate)
    ```

    A drop-in for `keras.optimizers.schedules.ExponentialDecay` (same
    arguments in the same order, `name` included; `decay_steps` may be
    fractional and `decay_rate` above 1, as Keras allows), computed exactly
    where Keras rounds in float32. A growing rate (`decay_rate > 1`) stops at
    float32's largest number where Keras's becomes `inf`. PyTorch's
    `ExponentialLR(gamma)` is `ExponentialDecay(lr, 1, gamma)`.

    Args:
        initial_learning_rate: the rate at step 0.
        decay_steps: the steps over which the rate is multiplied by
            `decay_rate` once, a positive number.
        decay_rate: the factor per `decay_steps`, a finite number >= 0.
        staircase: decay in whole periods of `decay_steps` only.
        name: the schedule's name, as in Keras (kept in the config).
        min_learning_rate: the floor, at most `initial_learning_rate`.

    Example:

    >>> schedule = ExponentialDecay(1.0, decay_steps=10, decay_rate=0.5)
    >>> schedule.numpy([0, 5, 10, 20]).round(6).tolist()
    [1.0, 0.707107, 0.5, 0.25]
    """

    def __init__(
        self,
        initial_learning_rate,
        decay_steps,
        decay_rate,
        staircase=False,
        name="ExponentialDecay",
        min_learning_rate=0.0,
    ):
        self.initial_learning_rate = _validation.check_learning_rate(
            "initial_learning_rate", initial_learning_rate
        )
        self.decay_steps = _validation.check_step_count("decay_steps", decay_steps)
        self.decay_rate = _validation.check_number(
            "decay_rate", decay_rate, minimum=0.0
        )
        self.staircase = _validation.check_bool("staircase", staircase)
        self.name = _validation.check_name("name", name)
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
        # the host: a float32 graph (JAX, torch) stays accurate over long
        # decays, where rate ** p would carry the rounding of `rate` into
        # every power.
        log_rate = math.log(self.decay_rate) if self.decay_rate else 0.0
        initial = self.initial_learning_rate
        if self.staircase:
            periods, _ = xp.divmod(self.decay_steps)
            rate = _power_of(self.decay_rate, periods, log_rate, xp, initial)
        else:
            rate = _power_of(
                self.decay_rate, step, log_rate / self.decay_steps, xp, initial
            )
        return xp.maximum(rate, self.min_learning_rate)


@keras.saving.register_keras_serializable(package="keras_lr")
class InverseTimeDecay(Schedule):
    """Keras's `InverseTimeDecay`, the "time-based" decay of Keras 2's SGD.

    ```python
    p = step / decay_steps            # floor(step / decay_steps) if staircase
    lr(step) = initial_learning_rate / (1 + decay_rate * p)
    ```

    A drop-in for `keras.optimizers.schedules.InverseTimeDecay` (same
    arguments in the same order, `name` included). Keras 2's
    `SGD(lr, decay=d)` is `InverseTimeDecay(lr, 1, d)`.

    Args:
        initial_learning_rate: the rate at step 0.
        decay_steps: a positive number.
        decay_rate: a finite number >= 0.
        staircase: decay in whole periods of `decay_steps` only.
        name: the schedule's name, as in Keras (kept in the config).

    Example:

    >>> InverseTimeDecay(0.1, decay_steps=10, decay_rate=1.0).numpy(
    ...     [0, 10, 30]).tolist()
    [0.1, 0.05, 0.025]
    """

    def __init__(
        self,
        initial_learning_rate,
        decay_steps,
        decay_rate,
        staircase=False,
        name="InverseTimeDecay",
    ):
        self.initial_learning_rate = _validation.check_learning_rate(
            "initial_learning_rate", initial_learning_rate
        )
        self.decay_steps = _validation.check_step_count("decay_steps", decay_steps)
        self.decay_rate = _validation.check_number(
            "decay_rate", decay_rate, minimum=0.0
        )
        self.staircase = _validation.check_bool("staircase", staircase)
        self.name = _validation.check_name("name", name)

    def _formula(self, step, xp):
        if self.staircase:
            periods, _ = xp.divmod(self.decay_steps)
        else:
            periods = step / float(self.decay_steps)
        return self.initial_learning_rate / (1.0 + self.decay_rate * periods)


@keras.saving.register_keras_serializable(package="keras_lr")
class PolynomialDecay(Schedule):
    """Keras's `PolynomialDecay`: a polynomial from one rate to another.

    ```python
    # cycle=False: decay over decay_steps, then hold end_learning_rate
    p = min(step, decay_steps) / decay_steps
    # cycle=True: decay over the first multiple of decay_steps >= step
    p = step / (decay_steps * max(1, ceil(step / decay_steps)))
    lr(step) = (initial_learning_rate - end_learning_rate) * (1 - p) ** power
               + end_learning_rate
    ```

    A drop-in for `keras.optimizers.schedules.PolynomialDecay` (same
    arguments, order and defaults: `end_learning_rate=1e-4`, `cycle`,
    `name`). `end_learning_rate` may be above `initial_learning_rate` (a
    polynomial warmup). Computed as `end * (1 - (1 - p) ** power) +
    initial * (1 - p) ** power`, two non-negative terms each accurate to the
    last bits, so that both ends are exact in float32 too. PyTorch's
    `PolynomialLR(total_iters=T, power=k)` is `PolynomialDecay(lr, T,
    end_learning_rate=0.0, power=k)`.

    Args:
        initial_learning_rate: the rate at step 0.
        decay_steps: a positive number.
        end_learning_rate: the rate reached at `decay_steps`.
        power: the polynomial's power, a finite number >= 0 (1 is linear).
        cycle: restart the decay from the next multiple of `decay_steps`
            instead of holding `end_learning_rate`, as Keras's `cycle`.
        name: the schedule's name, as in Keras (kept in the config).

    Example:

    >>> PolynomialDecay(0.1, decay_steps=100, end_learning_rate=0.0).numpy(
    ...     [0, 50, 100, 200]).tolist()
    [0.1, 0.05, 0.0, 0.0]
    """

    def __init__(
        self,
        initial_learning_rate,
        decay_steps,
        end_learning_rate=0.0001,
        power=1.0,
        cycle=False,
        name="PolynomialDecay",
    ):
        self.initial_learning_rate = _validation.check_learning_rate(
            "initial_learning_rate", initial_learning_rate
        )
        self.decay_steps = _validation.check_step_count("decay_steps", decay_steps)
        self.end_learning_rate = _validation.check_learning_rate(
            "end_learning_rate", end_learning_rate
        )
        self.power = _validation.check_number("power", power, minimum=0.0)
        self.cycle = _validation.check_bool("cycle", cycle)
        self.name = _validation.check_name("name", name)

    def _formula(self, step, xp):
        # Host numbers enter the graph as floats: JAX refuses a Python int
        # beyond int32 in any operation.
        span = float(self.decay_steps)
        if self.cycle:
            # Over the first multiple of decay_steps that is >= step (1 at
            # step 0): from (q, r) = divmod(step, decay_steps), that is q + 1
            # periods when r > 0, else q (at least 1).
            periods, rest, to_end = xp.cycle(self.decay_steps)
            partial = rest > 0
            total = span * xp.where(partial, periods + 1.0, xp.maximum(periods, 1.0))
            remaining = xp.where(
                partial, to_end, xp.where(periods > 0, 0.0, span)
            )
            elapsed = step
        else:
            total = span
            remaining = xp.until(span)
            elapsed = xp.minimum(step, span)
        left = remaining / total  # 1 - p, accurate near the end
        # p, accurate near the start (clamped: beyond 2**24 a float32 step
        # is rounded, and may land past `total`).
        done = xp.minimum(elapsed / total, 1.0)
        if self.power == 0.0:
            return xp.const(self.initial_learning_rate) + 0.0 * step
        if self.power == 1.0:
            kept, moved = left, done
        else:
            # A power beyond float32's range rounds to inf in the graph (inf *
            # log(1) is NaN), a subnormal one to 0 (0 * log(0) is NaN): held
            # within float32's normal numbers, every value stays the same.
            power = min(max(self.power, _FLOAT32_TINY), _validation.MAX_RATE)
            kept = xp.power(left, power)
            # log(1 - p) from whichever of p and 1 - p is accurate.
            log_left = xp.where(done < 0.5, xp.log1p(-done), xp.log(left))
            moved = -xp.expm1(power * log_left)
        return self.initial_learning_rate * kept + self.end_learning_rate * moved
