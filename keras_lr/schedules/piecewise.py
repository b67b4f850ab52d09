"""Constant, piecewise constant and piecewise linear schedules."""

import keras

from keras_lr import _validation
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
    PyTorch's `MultiStepLR` one and reads as "from step 50 on".

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
        index = xp.searchsorted(
            xp.const(self.boundaries), step, side="right"
        )
        return xp.take(xp.const(self.values), index)


@keras.saving.register_keras_serializable(package="keras_lr")
class PiecewiseLinear(Schedule):
    """Linear interpolation between points `(boundaries[i], values[i])`.

    ```python
    lr(step) = values[i-1] + (values[i] - values[i-1])
               * (step - boundaries[i-1]) / (boundaries[i] - boundaries[i-1])
               for boundaries[i-1] <= step <= boundaries[i]
    ```

    Flat at `values[0]` before the first boundary and at `values[-1]` after
    the last. Like `optax.piecewise_interpolate_schedule` with absolute
    points, or `numpy.interp(step, boundaries, values)`.

    Args:
        boundaries: at least two strictly increasing non-negative integer
            steps.
        values: one non-negative learning rate per boundary.

    Example:

    >>> schedule = PiecewiseLinear([0, 100, 200], [0.0, 0.1, 0.01])
    >>> schedule.numpy([0, 50, 100, 150, 300]).round(6).tolist()
    [0.0, 0.05, 0.1, 0.055, 0.01]
    """

    def __init__(self, boundaries, values):
        self.boundaries = _validation.check_steps(
            "boundaries", boundaries, min_length=2
        )
        self.values = _validation.check_learning_rates("values", values)
        if len(self.values) != len(self.boundaries):
            raise ValueError(
                "Argument `values` must have as many elements as `boundaries` "
                f"({len(self.boundaries)}). Received: values={values!r}"
            )

    def _formula(self, step, xp):
        return xp.interp(step, self.boundaries, self.values)
