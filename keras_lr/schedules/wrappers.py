"""Wrappers that build a schedule from others: warmup, offset, sequencing,
epochs.

Each wrapper takes any `keras.optimizers.schedules.LearningRateSchedule`:
keras_lr's, Keras's built-ins, or a user's own registered one. The inner
schedules are serialized with the wrapper, so a wrapped schedule saves and
loads like any other. On the host, a keras_lr inner schedule runs its NumPy
twin; any other runs through `keras.ops` on a vector of steps.

Each inner schedule is evaluated at its own step exactly (the step's whole
part stays an integer through `step - warmup_steps`, `step - offset`,
`step - boundary` and `step // steps_per_epoch`), so wrapping costs no
precision on any backend.
"""

import math

import keras

from keras_lr import _validation
from keras_lr.schedules._exact import exp_of_product
from keras_lr.schedules._shapes import between
from keras_lr.schedules.base import MAX_RATE
from keras_lr.schedules.base import Schedule
from keras_lr.schedules.base import evaluate
from keras_lr.schedules.power import power_of


@keras.saving.register_keras_serializable(package="keras_lr")
class Warmup(Schedule):
    """Warm up from `initial_learning_rate` to any schedule's rate.

    ```python
    t = step / warmup_steps
    # overlay=False (default): the schedule starts after the warmup
    target = schedule(0)
    lr(step) = schedule(step - warmup_steps)          for step >= warmup_steps
    # overlay=True: the warmup covers the schedule's first steps
    target = schedule(warmup_steps)
    lr(step) = schedule(step)                         for step >= warmup_steps
    # for step < warmup_steps, a ramp from `initial` to `target`:
    lr(step) = initial + (target - initial) * t                     # "linear"
    lr(step) = initial + (target - initial) * (1 - cos(pi * t)) / 2  # "cosine"
    lr(step) = initial * (target / initial) ** t                    # "exponential"
    lr(step) = initial + (target - initial) * t ** power            # "polynomial"
    ```

    The rate is continuous where the warmup ends, in both forms. This is
    the one warmup of keras_lr: wrap any schedule rather than looking for a
    `warmup_steps` argument on it.

    The peers use one form or the other:

    - Delayed (`overlay=False`): the wrapped schedule keeps all of its own
      steps and starts at its peak. Keras's `CosineDecay(warmup_target=...)`
      (`Warmup(CosineAnnealing(peak, decay_steps, alpha * peak),
      warmup_steps, initial)` equals `CosineDecay(initial, decay_steps,
      alpha, warmup_target=peak, warmup_steps=warmup_steps)`), Hugging
      Face's TensorFlow `WarmUp(initial_learning_rate, decay_schedule_fn,
      warmup_steps, power)` (`shape="polynomial"`, from 0, when
      `initial_learning_rate` is `decay_schedule_fn(0)`), and PyTorch's
      `SequentialLR([LinearLR(start_factor=initial / target,
      total_iters=warmup_steps), scheduler], milestones=[warmup_steps])`.
      optax's `warmup_cosine_decay_schedule` is delayed too, but its
      `decay_steps` counts the warmup.
    - Overlaid (`overlay=True`): the schedule's clock runs from step 0 and
      the warmup replaces its first `warmup_steps` rates. tf-models'
      `LinearWarmup(schedule, warmup_steps, warmup_learning_rate)` (linear,
      from `warmup_learning_rate`) and `PolynomialWarmUp(schedule,
      warmup_steps, power)` (`shape="polynomial"`, from 0; tf-models uses
      step 1 at step 0, so its first rate is `target / warmup_steps **
      power` where this one is 0). timm's warmup with `warmup_prefix=False`
      also keeps the clock running, but ramps to the schedule's first rate
      and then jumps to its rate at `warmup_steps`: neither form here.

    Args:
        schedule: any `LearningRateSchedule` (keras_lr's, a Keras built-in,
            or a user's registered one).
        warmup_steps: the length of the warmup, a positive integer.
        initial_learning_rate: the rate at step 0; must be > 0 for the
            `"exponential"` shape, which is a geometric ramp.
        shape: `"linear"`, `"cosine"`, `"exponential"` or `"polynomial"`.
        power: the exponent of the `"polynomial"` ramp, in (0, 100]; 1.0
            (linear) with any other shape.
        overlay: whether the schedule's clock runs during the warmup (the
            ramp then ends at `schedule(warmup_steps)`), as in tf-models;
            by default it starts after the warmup, at `schedule(0)`.

    Example:

    >>> from keras_lr.schedules import CosineAnnealing
    >>> schedule = Warmup(CosineAnnealing(0.1, decay_steps=100), warmup_steps=10)
    >>> schedule.numpy([0, 5, 10, 60, 110]).round(6).tolist()
    [0.0, 0.05, 0.1, 0.05, 0.0]
    >>> overlaid = Warmup(CosineAnnealing(0.1, decay_steps=100), warmup_steps=10,
    ...                   shape="polynomial", power=2.0, overlay=True)
    >>> overlaid.numpy([0, 5, 10, 50, 100]).round(6).tolist()
    [0.0, 0.024388, 0.097553, 0.05, 0.0]
    """

    def __init__(
        self,
        schedule,
        warmup_steps,
        initial_learning_rate=0.0,
        shape="linear",
        power=1.0,
        overlay=False,
    ):
        self.schedule = _validation.check_schedule("schedule", schedule)
        self.warmup_steps = _validation.check_positive_int(
            "warmup_steps", warmup_steps
        )
        self.initial_learning_rate = _validation.check_learning_rate(
            "initial_learning_rate", initial_learning_rate
        )
        self.shape = _validation.check_choice(
            "shape", shape, ("linear", "cosine", "exponential", "polynomial")
        )
        self.power = _validation.check_number(
            "power", power, minimum=0.0, maximum=100.0, open_min=True
        )
        if self.shape != "polynomial" and self.power != 1.0:
            raise ValueError(
                'Argument `power` must be 1.0 unless shape="polynomial" (it '
                f"has no effect with shape={self.shape!r}). Received: "
                f"power={power!r}"
            )
        self.overlay = _validation.check_bool("overlay", overlay)
        if self.shape == "exponential" and self.initial_learning_rate == 0:
            raise ValueError(
                "Argument `initial_learning_rate` must be > 0 with "
                'shape="exponential" (a geometric ramp cannot start at 0). '
                f"Received: initial_learning_rate={initial_learning_rate!r}"
            )
        target = self._target()
        at = self.warmup_steps if self.overlay else 0
        if not (math.isfinite(target) and 0 <= target <= MAX_RATE):
            raise ValueError(
                "Argument `schedule` must give a finite, non-negative rate "
                f"within float32's range at step {at}, where the warmup ends. "
                f"Received: schedule={schedule!r}, whose rate there is "
                f"{target!r}"
            )
        if self.shape == "exponential" and target == 0:
            raise ValueError(
                "Argument `schedule` must give a rate above 0 at step "
                f"{at} with shape=\"exponential\" (a geometric ramp cannot "
                f"end at 0). Received: schedule={schedule!r}"
            )

    def _target(self):
        """The rate the ramp ends at (a host float): the wrapped schedule's
        first rate, or its rate at `warmup_steps` when overlaid.

        A schedule is a pure function of the step, so it is read once on the
        host: the ramp is then made of host constants, which keeps the
        exponential ramp exact in float32 too.
        """
        target = self.__dict__.get("_target_rate")
        if target is None:
            at = self.warmup_steps if self.overlay else 0
            target = float(evaluate(self.schedule, at))
            self.__dict__["_target_rate"] = target
        return target

    def _formula(self, step, xp):
        span = float(self.warmup_steps)
        initial, target = self.initial_learning_rate, self._target()
        elapsed = xp.minimum(step, span)
        remaining = xp.until(self.warmup_steps)
        if self.shape == "exponential":
            # initial * (target / initial) ** t, from whichever end is
            # nearer, as exp(steps * c) with steps a whole number (exact in
            # float32, see exp_of_product).
            c = (math.log(target) - math.log(initial)) / span
            if initial >= 1e-30 and abs(c * span) < 80.0:
                from_start = initial * exp_of_product(elapsed, c, xp)
            else:  # A ramp over many orders of magnitude: in logs.
                from_start = xp.exp(math.log(initial) + elapsed * c)
            from_end = target * exp_of_product(remaining, -c, xp)
            rise = xp.where(2.0 * elapsed < span, from_start, from_end)
        elif self.shape == "polynomial":
            # 0 ** power is 0 (power > 0), as the formula says at step 0.
            moved = power_of(xp.maximum(elapsed / span, 2.0**-100), self.power, xp)
            moved = xp.where(elapsed > 0.0, moved, 0.0)
            rise = initial + (target - initial) * moved
        else:
            rise = between(
                initial, target, elapsed / span, remaining / span, self.shape, xp
            )
        if self.overlay:
            after = xp.schedule(self.schedule, step)
        else:
            after = xp.schedule_since(self.schedule, self.warmup_steps)
        return xp.where(remaining > 0.0, rise, after)


@keras.saving.register_keras_serializable(package="keras_lr")
class Offset(Schedule):
    """Hold a schedule's first rate for `offset` steps, then run it.

    ```python
    lr(step) = schedule(0)                for step < offset
    lr(step) = schedule(step - offset)    from offset on
    ```

    optax's `transition_begin` (`polynomial_schedule`, `exponential_decay`,
    ...), and tf-models' `*WithOffset` classes from `offset` on:
    `Offset(keras_lr.schedules.CosineDecay(...), offset)` equals tf-models'
    `CosineDecayWithOffset(offset=offset, ...)` from step `offset` on (as do
    `PiecewiseConstantDecay`, `PolynomialDecay` and `ExponentialDecay`).
    Before `offset`, tf-models hands the schedule a negative step, which
    Keras's schedules extrapolate (a polynomial or an exponential decay
    above its initial rate); tf-models always warms up over those steps.
    `Offset(PiecewiseLinear(boundaries, values, interpolation="cosine"),
    offset)` is tf-models' `StepCosineDecayWithOffset(boundaries, values,
    offset)` (with `boundaries[0] = 0`) before its last boundary, where
    tf-models' last interval divides by 0.

    Unlike `Warmup` and `Sequential`, it needs no other schedule for the
    first steps; `Sequential([Constant(lr), schedule], [offset])` holds
    another rate instead.

    Args:
        schedule: any `LearningRateSchedule`.
        offset: the step at which the schedule starts, a non-negative
            integer.

    Example:

    >>> from keras_lr.schedules import StepDecay
    >>> schedule = Offset(StepDecay(0.1, step_size=10), offset=5)
    >>> schedule.numpy([0, 5, 14, 15, 25]).round(6).tolist()
    [0.1, 0.1, 0.1, 0.01, 0.001]
    """

    def __init__(self, schedule, offset):
        self.schedule = _validation.check_schedule("schedule", schedule)
        self.offset = _validation.check_non_negative_int("offset", offset)

    def _formula(self, step, xp):
        return xp.schedule_since(self.schedule, self.offset)


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
            later = xp.schedule_since(schedule, start)
            value = xp.where(xp.until(start) > 0.0, value, later)
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
        return xp.schedule_epochs(
            self.schedule, self.steps_per_epoch, self.staircase
        )
