"""Cosine annealing and cosine annealing with warm restarts (SGDR)."""

import math

import keras

from keras_lr import _validation
from keras_lr.schedules.base import Schedule


def _cosine_factor(remaining, period, xp):
    """`(1 + cos(pi * (period - remaining) / period)) / 2`, without cancellation.

    That is `sin(theta) ** 2` with `theta = pi/2 * remaining / period`, which
    keeps full relative precision as `remaining` reaches 0. It is computed
    as `tan(theta)**2 / (1 + tan(theta)**2)`: the same value, and NumPy's
    float64 `tan` is about 8x faster than its `sin` (which is what keeps
    `numpy()` over a million steps within budget).
    """
    tangent = xp.square(xp.tan((0.5 * math.pi) * remaining / period))
    return tangent / (1.0 + tangent)


def _check_min(min_learning_rate, initial_learning_rate):
    return _validation.check_not_above(
        "min_learning_rate",
        _validation.check_learning_rate("min_learning_rate", min_learning_rate),
        "initial_learning_rate",
        initial_learning_rate,
    )


@keras.saving.register_keras_serializable(package="keras_lr")
class CosineAnnealing(Schedule):
    """Half a cosine from `initial_learning_rate` to `min_learning_rate`.

    ```python
    s = min(step, decay_steps)
    lr(step) = min_learning_rate + (initial_learning_rate - min_learning_rate)
               * (1 + cos(pi * s / decay_steps)) / 2
    ```

    Equals PyTorch's `CosineAnnealingLR(T_max=decay_steps,
    eta_min=min_learning_rate)` for steps `0..decay_steps`; after that
    keras_lr holds the minimum, whereas PyTorch's recursive form climbs back
    up along the cosine. Equals Keras's `CosineDecay` (no warmup) with
    `alpha = min_learning_rate / initial_learning_rate`. For warmup, wrap it
    in `keras_lr.schedules.Warmup`.

    Args:
        initial_learning_rate: the rate at step 0.
        decay_steps: steps to reach the minimum, a positive integer.
        min_learning_rate: the final rate, at most `initial_learning_rate`.

    Example:

    >>> schedule = CosineAnnealing(0.1, decay_steps=100, min_learning_rate=0.01)
    >>> schedule.numpy([0, 50, 100, 150]).round(6).tolist()
    [0.1, 0.055, 0.01, 0.01]
    """

    def __init__(self, initial_learning_rate, decay_steps, min_learning_rate=0.0):
        self.initial_learning_rate = _validation.check_learning_rate(
            "initial_learning_rate", initial_learning_rate
        )
        self.decay_steps = _validation.check_positive_int(
            "decay_steps", decay_steps
        )
        self.min_learning_rate = _check_min(
            min_learning_rate, self.initial_learning_rate
        )

    def _formula(self, step, xp):
        remaining = self.decay_steps - xp.minimum(step, float(self.decay_steps))
        return self.min_learning_rate + (
            self.initial_learning_rate - self.min_learning_rate
        ) * _cosine_factor(remaining, float(self.decay_steps), xp)


@keras.saving.register_keras_serializable(package="keras_lr")
class CosineRestarts(Schedule):
    """Cosine annealing with warm restarts (SGDR, Loshchilov & Hutter 2017).

    Cycle `i` (from 0) lasts `T_i = first_decay_steps * t_mul ** i` steps and
    starts at `start_i = sum(T_0 .. T_{i-1})`; inside it:

    ```python
    t = step - start_i
    lr(step) = min_learning_rate + (initial_learning_rate - min_learning_rate)
               * m_mul ** i * (1 + cos(pi * t / T_i)) / 2
    ```

    Equals PyTorch's `CosineAnnealingWarmRestarts(T_0=first_decay_steps,
    T_mult=t_mul, eta_min=min_learning_rate)` when `m_mul=1` and `t_mul` is a
    whole number (PyTorch accepts only those); a fractional `t_mul >= 1`
    gives cycles of fractional length, as in Keras's `CosineDecayRestarts`
    (which this equals with `alpha = min_learning_rate /
    initial_learning_rate`). `m_mul` scales each restart's peak above the
    minimum.

    Precision: with a whole-number `t_mul` every cycle starts on an exact
    step. A fractional `t_mul` puts cycle starts between steps; a float32
    graph (the JAX backend without `jax_enable_x64`) holds them to about
    1e-7 relative, so after tens of thousands of steps the rate near the end
    of a cycle, where it is close to the minimum, can differ from `numpy()`
    by up to ~1e-6 of the cycle's peak (TensorFlow computes in float64 and
    agrees to 1e-6 relative everywhere).

    Args:
        initial_learning_rate: the rate at step 0.
        first_decay_steps: the length of the first cycle, a positive integer.
        t_mul: each cycle is `t_mul` times longer than the previous, >= 1.
        m_mul: each restart's peak (above the minimum) is `m_mul` times the
            previous one, in (0, 1].
        min_learning_rate: the rate each cycle anneals to, at most
            `initial_learning_rate`.

    Example:

    >>> schedule = CosineRestarts(0.1, first_decay_steps=10, t_mul=2.0)
    >>> schedule.numpy([0, 5, 10, 20, 30]).round(6).tolist()
    [0.1, 0.05, 0.1, 0.05, 0.1]
    """

    def __init__(
        self,
        initial_learning_rate,
        first_decay_steps,
        t_mul=2.0,
        m_mul=1.0,
        min_learning_rate=0.0,
    ):
        self.initial_learning_rate = _validation.check_learning_rate(
            "initial_learning_rate", initial_learning_rate
        )
        self.first_decay_steps = _validation.check_positive_int(
            "first_decay_steps", first_decay_steps
        )
        self.t_mul = _validation.check_number("t_mul", t_mul, minimum=1.0)
        self.m_mul = _validation.check_number(
            "m_mul", m_mul, minimum=0.0, maximum=1.0, open_min=True
        )
        self.min_learning_rate = _check_min(
            min_learning_rate, self.initial_learning_rate
        )

    def _formula(self, step, xp):
        first = float(self.first_decay_steps)
        if self.t_mul == 1.0:
            cycle = xp.floor_divide(step, first)
            period = first
            remaining = first * (cycle + 1.0) - step
        else:
            t_mul, log_t_mul = self.t_mul, math.log(self.t_mul)
            cycle = xp.floor(xp.log1p(step * (t_mul - 1.0) / first) / log_t_mul)
            # Cycle i starts at T_0 * (t_mul**i - 1) / (t_mul - 1); `growth`
            # is t_mul**cycle, kept in step with every correction below.
            if xp.eps < 1e-10:  # float64: exp is exact enough, and faster
                growth = xp.exp(cycle * log_t_mul)
            else:  # float32: the log's rounding would move cycle starts
                growth = xp.power(t_mul, cycle)
            scale = first / (t_mul - 1.0)
            # The logarithm, and the geometric sum, can land a hair on the
            # wrong side of a restart (T_0 * (t_mul - 1) / (t_mul - 1) need not
            # round to T_0): move to the cycle whose [start, next start) holds
            # the step, counting a start within rounding of the step as reached.
            slack = 1.0 + 16.0 * xp.eps
            early = step * slack < scale * (growth - 1.0)
            cycle = xp.where(early, cycle - 1.0, cycle)
            growth = xp.where(early, growth / t_mul, growth)
            late = step * slack >= scale * (growth * t_mul - 1.0)
            cycle = xp.where(late, cycle + 1.0, cycle)
            growth = xp.where(late, growth * t_mul, growth)
            period = first * growth
            remaining = xp.maximum(scale * (growth * t_mul - 1.0) - step, 0.0)
        peak = (self.initial_learning_rate - self.min_learning_rate) * xp.exp(
            cycle * math.log(self.m_mul)
        )
        return self.min_learning_rate + peak * _cosine_factor(
            remaining, period, xp
        )
