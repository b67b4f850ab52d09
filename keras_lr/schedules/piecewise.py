"""Constant, piecewise constant and piecewise linear schedules."""

import keras
import numpy as np

from keras_lr import _validation
from keras_lr.schedules._exact import offset_from
from keras_lr.schedules._exact import offset_to
from keras_lr.schedules._shapes import cosine_factor
from keras_lr.schedules.base import Schedule


@keras.saving.register_keras_serializable(package="keras_lr")
class Constant(Schedule):
    """A constant learning rate, as a schedule.

    ```python
    lr(step) = learning_rate
    ```

    Useful as a baseline, as a segment of `Sequential`, and wherever a
    schedule object is needed for what would otherwise be a float.

    Args:
        learning_rate: the rate, a non-negative finite float.

    Example:

    >>> Constant(0.01).numpy([0, 1000]).tolist()
    [0.01, 0.01]
    """

    def __init__(self, learning_rate):
        self.learning_rate = _validation.check_learning_rate(
            "learning_rate", learning_rate
        )

    def _formula(self, step, xp):
        return xp.const(self.learning_rate)


@keras.saving.register_keras_serializable(package="keras_lr")
class PiecewiseConstant(Schedule):
    """Piecewise constant learning rate: `values[i]` between two boundaries.

    ```python
    lr(step) = values[i]  for boundaries[i-1] <= step < boundaries[i]
    ```

    A boundary is the first step of the next value. This differs from
    Keras's `PiecewiseConstantDecay`, which still gives the earlier value
    *at* the boundary step (`step <= boundary`): with boundaries `[50]`,
    keras_lr switches at step 50, Keras at step 51. keras_lr's convention is
    PyTorch's `MultiStepLR` one and reads as "from step 50 on". For Keras's
    convention, `keras_lr.schedules.PiecewiseConstantDecay` is the drop-in.

    The lookup is a sorted search, so its cost grows as O(log n) in the
    number of boundaries (Keras's builds one branch per boundary).

    Args:
        boundaries: strictly increasing non-negative integer steps.
        values: `len(boundaries) + 1` non-negative learning rates.

    Example:

    >>> schedule = PiecewiseConstant([50, 100, 150], [0.1, 0.05, 0.01, 0.005])
    >>> schedule.numpy([0, 49, 50, 99, 100, 150]).tolist()
    [0.1, 0.1, 0.05, 0.05, 0.01, 0.005]
    """

    def __init__(self, boundaries, values):
        self.boundaries = _validation.check_steps("boundaries", boundaries)
        self.values = _validation.check_learning_rates("values", values)
        if len(self.values) != len(self.boundaries) + 1:
            raise ValueError(
                "Argument `values` must have one more element than "
                f"`boundaries` ({len(self.boundaries)} + 1). "
                f"Received: values={values!r}"
            )

    def _formula(self, step, xp):
        return xp.take(xp.const(self.values), xp.locate(self.boundaries))


@keras.saving.register_keras_serializable(package="keras_lr")
class PiecewiseLinear(Schedule):
    """Interpolation between points `(boundaries[i], values[i])`.

    ```python
    t = (step - boundaries[i-1]) / (boundaries[i] - boundaries[i-1])
        for boundaries[i-1] <= step <= boundaries[i]
    lr(step) = values[i-1] + (values[i] - values[i-1]) * t                 # "linear"
    lr(step) = values[i-1] + (values[i] - values[i-1]) * (1 - cos(pi * t)) / 2
                                                                      # "cosine"
    ```

    Flat at `values[0]` before the first boundary and at `values[-1]` after
    the last. The linear form is `numpy.interp(step, boundaries, values)`.
    Both are optax's `piecewise_interpolate_schedule(interpolation,
    init_value, boundaries_and_scales)` written with absolute points:
    `boundaries = [0, *sorted(b)]` and `values` the running products
    `init_value * scale * ...`. The cosine form is tf-models'
    `StepCosineDecayWithOffset(boundaries, values)` (with `boundaries[0] =
    0`) before its last boundary (see `Offset` for its `offset`).

    Args:
        boundaries: at least two strictly increasing non-negative integer
            steps.
        values: one non-negative learning rate per boundary.
        interpolation: `"linear"` or `"cosine"`.

    Example:

    >>> schedule = PiecewiseLinear([0, 100, 200], [0.0, 0.1, 0.01])
    >>> schedule.numpy([0, 50, 100, 150, 300]).round(6).tolist()
    [0.0, 0.05, 0.1, 0.055, 0.01]
    >>> PiecewiseLinear([0, 100], [0.1, 0.0], interpolation="cosine").numpy(
    ...     [0, 25, 50, 100]).round(6).tolist()
    [0.1, 0.085355, 0.05, 0.0]
    """

    def __init__(self, boundaries, values, interpolation="linear"):
        self.boundaries = _validation.check_steps(
            "boundaries", boundaries, min_length=2
        )
        self.values = _validation.check_learning_rates("values", values)
        if len(self.values) != len(self.boundaries):
            raise ValueError(
                "Argument `values` must have as many elements as `boundaries` "
                f"({len(self.boundaries)}). Received: values={values!r}"
            )
        self.interpolation = _validation.check_choice(
            "interpolation", interpolation, ("linear", "cosine")
        )

    def _formula(self, step, xp):
        # Segment i runs from boundaries[i] to boundaries[i + 1]; before the
        # first and after the last the nearest segment is clamped flat.
        last = len(self.boundaries) - 2
        lower = xp.minimum(xp.maximum(xp.locate(self.boundaries) - 1, 0), last)
        spans = np.diff(np.asarray(self.boundaries, dtype=np.float64))
        span = xp.take(xp.const(spans), lower)
        # Both distances exact in their whole part (the spans are exact on
        # the host), so neither end of a segment loses precision.
        elapsed = xp.minimum(
            xp.maximum(offset_from(xp, self.boundaries[:-1], lower), 0.0), span
        )
        remaining = xp.minimum(
            xp.maximum(offset_to(xp, self.boundaries[1:], lower), 0.0), span
        )
        if self.interpolation == "cosine":
            # Each weight as sin**2 of its own distance: accurate near 0 at
            # both ends of the segment.
            from_start = cosine_factor(elapsed, span, xp)
            from_end = cosine_factor(remaining, span, xp)
        else:
            from_start, from_end = elapsed / span, remaining / span
        values = xp.const(self.values)
        return (
            xp.take(values, lower) * from_end
            + xp.take(values, lower + 1) * from_start
        )


@keras.saving.register_keras_serializable(package="keras_lr")
class PiecewiseConstantDecay(Schedule):
    """Keras's `PiecewiseConstantDecay`: a rate for each range of steps.

    ```python
    lr(step) = values[0]  for step <= boundaries[0]
    lr(step) = values[i]  for boundaries[i-1] < step <= boundaries[i]
    lr(step) = values[-1] for step > boundaries[-1]
    ```

    A drop-in for `keras.optimizers.schedules.PiecewiseConstantDecay`
    (same arguments and `name`, Keras's boundary convention: the earlier
    value still applies AT a boundary step), with an O(log n) lookup where
    Keras builds one branch per boundary. keras_lr's own
    `PiecewiseConstant` switches at the boundary step instead (PyTorch's
    `MultiStepLR` convention). Boundaries must be strictly increasing
    (Keras does not check; equal or decreasing boundaries there make some
    values unreachable).

    Args:
        boundaries: strictly increasing finite numbers (steps; fractional
            boundaries are compared as numbers, as in Keras).
        values: `len(boundaries) + 1` non-negative learning rates.
        name: the schedule's name, as in Keras (kept in the config).

    Example:

    >>> schedule = PiecewiseConstantDecay([50, 100], [0.1, 0.05, 0.01])
    >>> schedule.numpy([0, 50, 51, 100, 101]).tolist()
    [0.1, 0.1, 0.05, 0.05, 0.01]
    """

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        self.boundaries = _validation.check_boundaries("boundaries", boundaries)
        self.values = _validation.check_learning_rates("values", values)
        if len(self.values) != len(self.boundaries) + 1:
            raise ValueError(
                "Argument `values` must have one more element than "
                f"`boundaries` ({len(self.boundaries)} + 1). "
                f"Received: values={values!r}"
            )
        self.name = _validation.check_name("name", name)

    def _formula(self, step, xp):
        passed = xp.count_passed(self.boundaries)
        return xp.take(xp.const(self.values), xp.to_index(passed))
