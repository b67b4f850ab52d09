"""An anytime cooldown: decay any schedule to its end from any step."""

import math

import keras

from keras_lr import _validation
from keras_lr.schedules._shapes import ramp
from keras_lr.schedules.base import MAX_RATE
from keras_lr.schedules.base import Schedule
from keras_lr.schedules.base import evaluate


@keras.saving.register_keras_serializable(package="keras_lr")
class Cooldown(Schedule):
    """Follow a schedule, then cool down from wherever it is to a minimum.

    ```python
    peak = schedule(start_step)
    t = (step - start_step) / decay_steps
    lr(step) = schedule(step)                      for step < start_step
    lr(step) = min + (peak - min) * d(t)           for t in [0, 1]
    lr(step) = min                                 from start_step + decay_steps on
    # d(t): 1 - sqrt(t) ("1-sqrt"), 1 - t ("linear"), (1 + cos(pi * t)) / 2 ("cosine")
    ```

    The decay phase of warmup-stable-decay, added when the run is to end
    rather than fixed in advance: train on a constant (or any) schedule for
    as long as it pays, then cool down over the last steps (Hägele et al.
    2024, "Scaling Laws and Compute-Optimal Training Beyond Fixed Training
    Durations", who find a `"1-sqrt"` cooldown over about 20 % of the run
    matches a cosine schedule tuned to the run's length; Bergsma et al.
    2025 find a linear decay to zero best). A checkpoint taken before
    `start_step` can continue training at the schedule's own rate, and be
    cooled down again later (WSD-S, Wen et al. 2024).
    `keras_lr.callbacks.CooldownOnTrigger` installs it on a running
    optimizer, at a given epoch, on a plateau, or when asked.

    Args:
        schedule: any `LearningRateSchedule`, followed until `start_step`.
        start_step: the first step of the cooldown, a non-negative integer.
        decay_steps: the length of the cooldown, a positive integer.
        shape: `"1-sqrt"`, `"linear"` or `"cosine"`.
        min_learning_rate: the final rate, at most `schedule(start_step)`.

    Example:

    >>> from keras_lr.schedules import Constant
    >>> schedule = Cooldown(Constant(0.1), start_step=100, decay_steps=100,
    ...                     shape="linear")
    >>> schedule.numpy([0, 99, 100, 150, 200, 300]).round(6).tolist()
    [0.1, 0.1, 0.1, 0.05, 0.0, 0.0]
    """

    def __init__(
        self, schedule, start_step, decay_steps, shape="1-sqrt",
        min_learning_rate=0.0,
    ):
        self.schedule = _validation.check_schedule("schedule", schedule)
        self.start_step = _validation.check_non_negative_int(
            "start_step", start_step
        )
        self.decay_steps = _validation.check_positive_int(
            "decay_steps", decay_steps
        )
        self.shape = _validation.check_choice(
            "shape", shape, ("1-sqrt", "linear", "cosine")
        )
        peak = self._peak()
        if not (math.isfinite(peak) and 0 <= peak <= MAX_RATE):
            raise ValueError(
                "Argument `schedule` must give a finite, non-negative rate "
                f"within float32's range at `start_step` ({self.start_step}). "
                f"Received: schedule={schedule!r}, whose rate there is {peak!r}"
            )
        self.min_learning_rate = _validation.check_learning_rate(
            "min_learning_rate", min_learning_rate
        )
        if self.min_learning_rate > peak:
            raise ValueError(
                "Argument `min_learning_rate` must be <= the schedule's rate "
                f"at start_step={self.start_step} ({peak!r}). "
                f"Received: min_learning_rate={min_learning_rate!r}"
            )

    def _peak(self):
        """The schedule's rate at `start_step`, where the cooldown starts.

        Read once on the host (a schedule is a pure function of the step),
        so the cooldown is made of host constants.
        """
        peak = self.__dict__.get("_peak_rate")
        if peak is None:
            peak = float(evaluate(self.schedule, self.start_step))
            self.__dict__["_peak_rate"] = peak
        return peak

    def _formula(self, step, xp):
        span = float(self.decay_steps)
        # Distances to the cooldown's end, exact in their whole part;
        # clamped to `span` before the cooldown starts.
        near = xp.minimum(xp.until(self.start_step + self.decay_steps), span)
        # The distance from the cooldown's start, measured from that start
        # (a fractional step keeps its precision there too).
        far = xp.minimum(xp.since(self.start_step), span) / span
        cooled = ramp(
            self.min_learning_rate, self._peak(), near / span, self.shape, xp,
            far=far,
        )
        before = xp.schedule(self.schedule, step)
        return xp.where(xp.until(self.start_step) > 0.0, before, cooled)
