"""Inverse square root and power-law decays (Transformer, T5, tf-models).

`InverseSqrtDecay` is the decay of Hugging Face's `get_inverse_sqrt_schedule`
(warm it up with `Warmup`); `PowerDecay` and `PowerAndLinearDecay` are
tf-models' `DirectPowerDecay` and `PowerAndLinearDecay`, with their argument
names.
"""

import keras
import numpy as np

from keras_lr import _validation
from keras_lr.schedules.base import MAX_RATE
from keras_lr.schedules.base import Schedule

# Powers of two that float32 holds as normal numbers: the range `power_of`
# splits a base into.
_LOWEST_EXPONENT, _HIGHEST_EXPONENT = -126, 128


def power_of(x, p, xp):
    """`x ** p` for `x > 0` and a host float `p`, accurate in float32 too.

    float32's `pow` (or `exp(p * log(x))`) carries the rounding of
    `p * log(x)`, about `6e-8 * |p * log(x)|` relative: 1e-6 off at step
    2**24 with `p = -1`. Here `x = 2**k * m` with `m` in [1, 2), exactly
    (a scaling by a power of two), so `x ** p = 2**(k * p) * m ** p`: the
    first factor is looked up in a table computed on the host in float64,
    and `m ** p` is an exponential of at most `|p| * log(2)`. A few float32
    roundings, whatever `x` is. float64 (the host, TensorFlow's graph) takes
    `pow` directly. `x` outside float32's normal range is clamped to it.
    """
    if xp.eps < 1e-10:
        return xp.power(x, p)
    exponents = np.arange(_LOWEST_EXPONENT, _HIGHEST_EXPONENT, dtype=np.float64)
    scales = xp.const(2.0 ** -exponents)
    with np.errstate(over="ignore", under="ignore"):
        powers = xp.const(np.minimum(2.0 ** (p * exponents), MAX_RATE))
    # floor(log2(x)) may be one off near a power of two: corrected below
    # with exact comparisons, so `m` lands in [1, 2).
    guess = xp.floor(xp.log2(x))
    guess = xp.minimum(
        xp.maximum(guess, float(_LOWEST_EXPONENT)), _HIGHEST_EXPONENT - 1.0
    )
    index = xp.to_index(guess - _LOWEST_EXPONENT)
    mantissa = x * xp.take(scales, index)
    index = xp.where(mantissa >= 2.0, index + 1, index)
    index = xp.where(mantissa < 1.0, index - 1, index)
    index = xp.minimum(
        xp.maximum(index, 0), _HIGHEST_EXPONENT - _LOWEST_EXPONENT - 1
    )
    mantissa = x * xp.take(scales, index)
    return xp.take(powers, index) * xp.exp(p * xp.log(mantissa))


def _check_power(power):
    """A decay's exponent, in [-100, 0]: a positive one would make the rate
    grow without bound, and below -100 the rate at step 2 is already under
    1e-30 of the initial one."""
    return _validation.check_number("power", power, minimum=-100.0, maximum=0.0)


@keras.saving.register_keras_serializable(package="keras_lr")
class InverseSqrtDecay(Schedule):
    """The inverse square root decay of the Transformer and T5.

    ```python
    lr(step) = initial_learning_rate / sqrt(1 + step / timescale)
    ```

    `Warmup(InverseSqrtDecay(lr, timescale), warmup_steps)` equals Hugging
    Face's `get_inverse_sqrt_schedule(optimizer, num_warmup_steps=
    warmup_steps, timescale=timescale)` step for step (its default
    `timescale` is `num_warmup_steps`, or 10,000 without warmup), the
    schedule of big_vision's `rsqrt` decay. With `timescale = warmup_steps`
    it is the Transformer's `d_model**-0.5 * min(step**-0.5, ...)` decay
    after its warmup, scaled to start at `initial_learning_rate`.

    Args:
        initial_learning_rate: the rate at step 0.
        timescale: the steps over which the rate falls to `1 / sqrt(2)` of
            the initial rate, a positive number.

    Example:

    >>> schedule = InverseSqrtDecay(1.0, timescale=100)
    >>> schedule.numpy([0, 100, 300, 9900]).round(6).tolist()
    [1.0, 0.707107, 0.5, 0.1]
    """

    def __init__(self, initial_learning_rate, timescale=10000):
        self.initial_learning_rate = _validation.check_learning_rate(
            "initial_learning_rate", initial_learning_rate
        )
        self.timescale = _validation.check_step_count("timescale", timescale)

    def _formula(self, step, xp):
        return self.initial_learning_rate / xp.sqrt(
            1.0 + step / float(self.timescale)
        )


@keras.saving.register_keras_serializable(package="keras_lr")
class PowerDecay(Schedule):
    """A power of the step: tf-models' `DirectPowerDecay`.

    ```python
    lr(step) = initial_learning_rate * max(step, 1) ** power
    ```

    Equals tf-models' `DirectPowerDecay(initial_learning_rate, power)`
    (`official.modeling.optimization.lr_schedule`, the `"power"` learning
    rate of its optimizer factory) step for step, computed exactly where
    tf-models rounds in float32. Two deliberate differences: `power` must
    be <= 0 and defaults to -0.5 (tf-models defaults to `power=1.0`, a rate
    that grows without bound: pass the power you use), and there is no
    `name`. `power=-0.5` is the classic `1 / sqrt(step)` decay; warm it up
    with `Warmup(..., overlay=True)` as tf-models does.

    Args:
        initial_learning_rate: the rate at steps 0 and 1.
        power: the exponent, a finite number <= 0.

    Example:

    >>> schedule = PowerDecay(1.0, power=-0.5)
    >>> schedule.numpy([0, 1, 4, 100]).round(6).tolist()
    [1.0, 1.0, 0.5, 0.1]
    """

    def __init__(self, initial_learning_rate, power=-0.5):
        self.initial_learning_rate = _validation.check_learning_rate(
            "initial_learning_rate", initial_learning_rate
        )
        self.power = _check_power(power)

    def _formula(self, step, xp):
        return self.initial_learning_rate * power_of(
            xp.maximum(step, 1.0), self.power, xp
        )


@keras.saving.register_keras_serializable(package="keras_lr")
class PowerAndLinearDecay(Schedule):
    """A power decay whose last fraction is multiplied by a linear decay to 0.

    ```python
    s = step - offset
    lr(step) = initial_learning_rate                         for s < 0
    lr(step) = initial_learning_rate * max(s, 1) ** power
               * min(1, (total_decay_steps - s)
                        / (total_decay_steps * linear_decay_fraction))
    lr(step) = 0                                  from s >= total_decay_steps
    ```

    Equals tf-models' `PowerAndLinearDecay(initial_learning_rate,
    total_decay_steps, power, linear_decay_fraction, offset)` step for step
    (same argument names and order), computed exactly where tf-models
    rounds in float32. With `linear_decay_fraction=0` it is
    `PowerDecay` delayed by `offset`. As in `PowerDecay`, `power` must be
    <= 0 and defaults to -0.5 (tf-models: 1.0), and there is no `name`.

    Args:
        initial_learning_rate: the rate before and at the start of the
            decay.
        total_decay_steps: the steps from `offset` to a rate of 0, a
            positive integer.
        power: the exponent, a finite number <= 0.
        linear_decay_fraction: the fraction of `total_decay_steps`, at their
            end, over which a linear decay to 0 multiplies the power decay,
            in [0, 1].
        offset: the step at which the decay starts, a non-negative integer.

    Example:

    >>> schedule = PowerAndLinearDecay(1.0, total_decay_steps=100, power=-1.0,
    ...                                linear_decay_fraction=0.5)
    >>> schedule.numpy([0, 40, 60, 100]).round(6).tolist()
    [1.0, 0.025, 0.013333, 0.0]
    """

    def __init__(
        self,
        initial_learning_rate,
        total_decay_steps,
        power=-0.5,
        linear_decay_fraction=0.1,
        offset=0,
    ):
        self.initial_learning_rate = _validation.check_learning_rate(
            "initial_learning_rate", initial_learning_rate
        )
        self.total_decay_steps = _validation.check_positive_int(
            "total_decay_steps", total_decay_steps
        )
        self.power = _check_power(power)
        self.linear_decay_fraction = _validation.check_number(
            "linear_decay_fraction", linear_decay_fraction, minimum=0.0, maximum=1.0
        )
        self.offset = _validation.check_non_negative_int("offset", offset)

    def _formula(self, step, xp):
        rate = self.initial_learning_rate * power_of(
            xp.maximum(xp.since(self.offset), 1.0), self.power, xp
        )
        span = self.total_decay_steps * self.linear_decay_fraction
        if span > 0:
            # (total_decay_steps - s), exact in its whole part.
            left = xp.until(self.offset + self.total_decay_steps)
            # Selected, not clamped: a span below float32's range rounds to
            # 0 there, and `0 / 0` at the end of the decay would be NaN.
            fraction = xp.where(left < span, left / span, 1.0)
            rate = rate * xp.where(left > 0.0, fraction, 0.0)
        return rate
