"""The bounds each schedule's docstring promises, from its arguments.

`bounds(schedule)` is `(low, high)`: every rate the schedule gives, at any
step, lies in `[low, high]`. Used by the numerics and fuzz tests; never
imported by the package.
"""

import keras
import numpy as np

from keras_lr import schedules as S
from keras_lr.callbacks import ReducedSchedule

MAX_RATE = float(np.finfo(np.float32).max)


def _span(*rates):
    return min(rates), max(rates)


def bounds(schedule):
    kind = type(schedule)
    if kind is S.Constant:
        return _span(schedule.learning_rate)
    if kind in (S.PiecewiseConstant, S.PiecewiseLinear, S.PiecewiseConstantDecay):
        return _span(*schedule.values)
    if kind in (
        S.StepDecay, S.MultiStepDecay, S.InverseTimeDecay, S.InverseSqrtDecay,
        S.PowerDecay, S.PowerAndLinearDecay,
    ):
        return 0.0, schedule.initial_learning_rate
    if kind is S.ExponentialDecay:
        if schedule.decay_rate > 1.0:
            return schedule.initial_learning_rate, MAX_RATE
        return schedule.min_learning_rate, schedule.initial_learning_rate
    if kind is S.PolynomialDecay:
        return _span(schedule.initial_learning_rate, schedule.end_learning_rate)
    if kind in (S.CosineAnnealing, S.CosineRestarts):
        return schedule.min_learning_rate, schedule.initial_learning_rate
    if kind is S.CosineDecay:
        peak = (
            schedule.initial_learning_rate
            if schedule.warmup_target is None
            else schedule.warmup_target
        )
        return _span(schedule.initial_learning_rate, peak, schedule.alpha * peak)
    if kind is S.CosineDecayRestarts:
        initial = schedule.initial_learning_rate
        low, high = _span(initial, schedule.alpha * initial)
        if schedule.m_mul > 1.0:
            high = MAX_RATE
        return low, high
    if kind is S.CyclicalLearningRate:
        return schedule.initial_learning_rate, schedule.maximal_learning_rate
    if kind is S.OneCycle:
        initial = schedule.maximal_learning_rate / schedule.div_factor
        return _span(
            initial, schedule.maximal_learning_rate, initial / schedule.final_div_factor
        )
    if kind in (S.CyclicalMomentum, S.OneCycleMomentum):
        return schedule.base_momentum, schedule.max_momentum
    if kind is S.WarmupStableDecay:
        return _span(
            schedule.initial_learning_rate,
            schedule.min_learning_rate,
            schedule.peak_learning_rate,
        )
    if kind is S.Warmup:
        low, high = bounds(schedule.schedule)
        return _span(low, high, schedule.initial_learning_rate)
    if kind is S.Sequential:
        spans = [bounds(inner) for inner in schedule.schedules]
        return min(s[0] for s in spans), max(s[1] for s in spans)
    if kind in (S.Epochs, S.Offset):
        return bounds(schedule.schedule)
    if kind is S.Cooldown:
        low, high = bounds(schedule.schedule)
        return min(low, schedule.min_learning_rate), high
    if kind is ReducedSchedule:
        low, high = bounds(schedule.schedule)
        return min(low * schedule.scale, schedule.min_learning_rate, low), high
    if isinstance(schedule, keras.optimizers.schedules.LearningRateSchedule):
        # A Keras built-in inside a wrapper: bounded by what it gives over a
        # long range of steps (they are all monotone or periodic).
        values = S.evaluate(schedule, np.arange(0, 200_000, 7))
        return float(values.min()), float(values.max())
    raise TypeError(f"No bounds known for {schedule!r}")


def assert_within(values, schedule, float32=False):
    """Every value finite and within `bounds(schedule)`.

    `float32`: the values are float32 (a graph's output), so the bounds are
    taken as float32 rounds them, one ulp wider; a lower bound below
    float32's smallest normal number may read 0 (TensorFlow's CPU kernels
    flush subnormal results to zero).
    """
    values = np.asarray(values, dtype=np.float64)
    low, high = bounds(schedule)
    if float32:
        low = max(float(np.nextafter(np.float32(low), np.float32(-np.inf))), 0.0)
        if low < np.finfo(np.float32).tiny:
            low = 0.0
        high32 = np.float32(high)  # may round up, to MAX_RATE at most
        if high32 < np.float32(MAX_RATE):
            high = float(np.nextafter(high32, np.float32(np.inf)))
        else:
            high = MAX_RATE
    else:
        low, high = low * (1 - 1e-12), high * (1 + 1e-12)
    assert np.all(np.isfinite(values)), values
    outside = (values < low) | (values > high)
    assert not outside.any(), (
        f"{schedule!r}: {values[outside][:5]} outside [{low!r}, {high!r}]"
    )
