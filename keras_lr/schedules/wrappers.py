"""Wrappers that build a schedule from others: warmup, sequencing, epochs.

Each wrapper takes any `keras.optimizers.schedules.LearningRateSchedule`:
keras_lr's, Keras's built-ins, or a user's own registered one. The inner
schedules are serialized with the wrapper, so a wrapped schedule saves and
loads like any other. On the host, a keras_lr inner schedule runs its NumPy
twin; any other runs through `keras.ops` on a vector of steps.

This module also holds `_ramp`, the one ramp (linear, cosine, 1-sqrt) that
every keras_lr warmup, anneal and decay segment uses.
"""

import keras

from keras_lr import _validation
from keras_lr.schedules.base import Schedule
from keras_lr.schedules.cosine import _cosine_factor


def _ramp(low, high, near, shape, xp, far=None):
    """A rate on a ramp of `shape` between `low` and `high`.

    `near` and `far` are the distances from the ramp's low end and from its
    high end, as fractions of its length (`near + far == 1`; `far` is only
    read by `"1-sqrt"`). With the shape's factor `f` (0 at the low end, 1 at
    the high end) the rate is `low * (1 - f) + high * f`: exact at both
    ends, and since `f` is measured from the low end, accurate to the last
    bits as the rate approaches `low`, even in float32.

    ```python
    "linear":  f = near
    "cosine":  f = (1 - cos(pi * near)) / 2
    "1-sqrt":  f = 1 - sqrt(far)     # a decay's shape, seen from its end
    ```
    """
    if shape == "linear":
        factor = near
    elif shape == "cosine":
        factor = _cosine_factor(near, 1.0, xp)
    elif shape == "1-sqrt":
        # 1 - sqrt(x) == (1 - x) / (1 + sqrt(x)): exact as x approaches 1.
        factor = near / (1.0 + xp.sqrt(far))
    else:
        raise ValueError(f"Unknown ramp shape: {shape!r}")
    return low * (1.0 - factor) + high * factor


@keras.saving.register_keras_serializable(package="keras_lr")
class Warmup(Schedule):
    """Warm up from `initial_learning_rate` to the first rate of any schedule.

    ```python
    target = schedule(0)
    t = step / warmup_steps
    # for step < warmup_steps:
    lr(step) = initial + (target - initial) * t                     # "linear"
    lr(step) = initial + (target - initial) * (1 - cos(pi * t)) / 2  # "cosine"
    lr(step) = initial * (target / initial) ** t                    # "exponential"
    # for step >= warmup_steps:
    lr(step) = schedule(step - warmup_steps)
    ```

    The wrapped schedule is delayed by `warmup_steps`, so a decay starts at
    its peak once warmup ends, and the rate is continuous there. This is
    the one warmup of keras_lr: wrap any schedule rather than looking for a
    `warmup_steps` argument on it.

    `Warmup(CosineAnnealing(peak, decay_steps, alpha * peak), warmup_steps,
    initial)` equals Keras's `CosineDecay(initial, decay_steps, alpha,
    warmup_target=peak, warmup_steps=warmup_steps)`. The linear shape equals
    PyTorch's `SequentialLR([LinearLR(start_factor=initial / target,
    total_iters=warmup_steps), scheduler], milestones=[warmup_steps])`.
    Unlike optax's `warmup_cosine_decay_schedule`, whose `decay_steps`
    counts the warmup too, the wrapped schedule keeps all of its own steps.

    Args:
        schedule: any `LearningRateSchedule` (keras_lr's, a Keras built-in,
            or a user's registered one).
        warmup_steps: the length of the warmup, a positive integer.
        initial_learning_rate: the rate at step 0; must be > 0 for the
            `"exponential"` shape, which is a geometric ramp.
        shape: `"linear"`, `"cosine"` or `"exponential"`.

    Example:

    >>> from keras_lr.schedules import CosineAnnealing
    >>> schedule = Warmup(CosineAnnealing(0.1, decay_steps=100), warmup_steps=10)
    >>> schedule.numpy([0, 5, 10, 60, 110]).round(6).tolist()
    [0.0, 0.05, 0.1, 0.05, 0.0]
    """

    def __init__(
        self, schedule, warmup_steps, initial_learning_rate=0.0, shape="linear"
    ):
        self.schedule = _validation.check_schedule("schedule", schedule)
        self.warmup_steps = _validation.check_positive_int(
            "warmup_steps", warmup_steps
        )
        self.initial_learning_rate = _validation.check_learning_rate(
            "initial_learning_rate", initial_learning_rate
        )
        self.shape = _validation.check_choice(
            "shape", shape, ("linear", "cosine", "exponential")
        )
        if self.shape == "exponential" and self.initial_learning_rate == 0:
            raise ValueError(
                "Argument `initial_learning_rate` must be > 0 with "
                'shape="exponential" (a geometric ramp cannot start at 0). '
                f"Received: initial_learning_rate={initial_learning_rate!r}"
            )

    def _formula(self, step, xp):
        span = float(self.warmup_steps)
        initial = self.initial_learning_rate
        target = xp.schedule(self.schedule, xp.const(0.0))
        elapsed = xp.minimum(step, span)
        if self.shape == "exponential":
            ramp = initial * xp.power(target / initial, elapsed / span)
        else:
            # Measured from the lower end, usually (not always) `initial`.
            near = xp.where(target >= initial, elapsed, span - elapsed)
            ramp = _ramp(
                xp.minimum(target, initial),
                xp.maximum(target, initial),
                near / span,
                self.shape,
                xp,
            )
        after = xp.schedule(self.schedule, xp.maximum(step - span, 0.0))
        return xp.where(step < span, ramp, after)


@keras.saving.register_keras_serializable(package="keras_lr")
class Sequential(Schedule):
    """Run schedules one after another, each on its own clock.

    ```python
    lr(step) = schedules[i](step - boundaries[i - 1])
               for boundaries[i - 1] <= step < boundaries[i]
    ```

    with `boundaries[-1] = 0` for the first schedule and no end for the
    last. Schedule `i` starts at its own step 0 when it takes over, as in
    optax's `join_schedules` and PyTorch's `SequentialLR(schedulers,
    milestones=boundaries)`. A boundary is the first step of the next
    schedule.

    Args:
        schedules: at least two `LearningRateSchedule`s (keras_lr's, Keras
            built-ins, or a user's registered ones).
        boundaries: `len(schedules) - 1` strictly increasing positive
            integer steps.

    Example:

    >>> from keras_lr.schedules import Constant, StepDecay
    >>> schedule = Sequential(
    ...     [Constant(0.01), StepDecay(0.1, step_size=10, gamma=0.5)],
    ...     boundaries=[5])
    >>> schedule.numpy([0, 4, 5, 14, 15]).round(6).tolist()
    [0.01, 0.01, 0.1, 0.1, 0.05]
    """

    def __init__(self, schedules, boundaries):
        message = (
            "Argument `schedules` must be a list of at least two "
            f"LearningRateSchedule instances. Received: schedules={schedules!r}"
        )
        iterable = hasattr(schedules, "__iter__") and not isinstance(
            schedules, (str, bytes, dict)
        )
        self.schedules = list(schedules) if iterable else []
        if not iterable or not all(
            isinstance(s, keras.optimizers.schedules.LearningRateSchedule)
            for s in self.schedules
        ):
            raise TypeError(message)
        if len(self.schedules) < 2:
            raise ValueError(message)
        self.boundaries = _validation.check_steps("boundaries", boundaries)
        if len(self.boundaries) != len(self.schedules) - 1:
            raise ValueError(
                "Argument `boundaries` must have one element less than "
                f"`schedules` ({len(self.schedules)} - 1). "
                f"Received: boundaries={boundaries!r}"
            )
        if self.boundaries[0] == 0:
            raise ValueError(
                "Argument `boundaries` must start above 0, or the first "
                f"schedule never runs. Received: boundaries={boundaries!r}"
            )

    def _formula(self, step, xp):
        value = xp.schedule(self.schedules[0], step)
        for start, schedule in zip(self.boundaries, self.schedules[1:]):
            later = xp.schedule(schedule, xp.maximum(step - start, 0.0))
            value = xp.where(step < start, value, later)
        return value


@keras.saving.register_keras_serializable(package="keras_lr")
class Epochs(Schedule):
    """Count any schedule's steps in epochs.

    ```python
    lr(step) = schedule(floor(step / steps_per_epoch))   # staircase=True
    lr(step) = schedule(step / steps_per_epoch)          # staircase=False
    ```

    The wrapped schedule's step arguments (`step_size`, `decay_steps`,
    `boundaries`, ...) then read as epochs. With `staircase=True` the rate
    changes only at the first batch of an epoch, as a PyTorch scheduler
    stepped once per epoch does: `Epochs(StepDecay(0.1, step_size=10),
    steps_per_epoch=938)` is `StepLR(optimizer, step_size=10)` with
    `scheduler.step()` after each epoch of 938 batches. With
    `staircase=False` the wrapped schedule sees the fractional epoch, so
    its curve is smooth.

    Args:
        schedule: any `LearningRateSchedule` whose steps are epochs.
        steps_per_epoch: optimizer steps (batches) per epoch, a positive
            integer.
        staircase: whether to count whole epochs only.

    Example:

    >>> from keras_lr.schedules import StepDecay
    >>> schedule = Epochs(StepDecay(0.1, step_size=2), steps_per_epoch=100)
    >>> schedule.numpy([0, 199, 200, 399, 400]).round(6).tolist()
    [0.1, 0.1, 0.01, 0.01, 0.001]
    """

    def __init__(self, schedule, steps_per_epoch, staircase=True):
        self.schedule = _validation.check_schedule("schedule", schedule)
        self.steps_per_epoch = _validation.check_positive_int(
            "steps_per_epoch", steps_per_epoch
        )
        self.staircase = _validation.check_bool("staircase", staircase)

    def _formula(self, step, xp):
        if self.staircase:
            epoch = xp.floor_divide(step, float(self.steps_per_epoch))
        else:
            epoch = step / float(self.steps_per_epoch)
        return xp.schedule(self.schedule, epoch)
