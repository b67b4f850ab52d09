"""Cosine annealing, with warm restarts (SGDR), and Keras's cosine drop-ins."""

import math

import keras
import numpy as np

from keras_lr import _validation
from keras_lr.schedules._exact import exp_of_product
from keras_lr.schedules._exact import offset_from
from keras_lr.schedules._exact import offset_to
from keras_lr.schedules._shapes import cosine_factor
from keras_lr.schedules._shapes import ramp
from keras_lr.schedules.base import MAX_RATE
from keras_lr.schedules.base import Schedule
from keras_lr.schedules.power import power_of

# A restart table stops at the first cycle that starts beyond any step an
# optimizer counts (int64), or after this many cycles (a `t_mul` very close
# to 1, where cycles barely grow).
_MAX_CYCLES = 2**16
_LAST_STEP = 2.0**63
# A cycle longer than this is as long as forever for any countable step;
# capping it keeps float32 finite.
_LONGEST = 2.0**100


def _check_min(min_learning_rate, initial_learning_rate):
    return _validation.check_not_above(
        "min_learning_rate",
        _validation.check_learning_rate("min_learning_rate", min_learning_rate),
        "initial_learning_rate",
        initial_learning_rate,
    )


def _restarts_end(first, t_mul):
    """The step at which restart number _MAX_CYCLES comes (float64)."""
    if t_mul == 1.0:
        return first * _MAX_CYCLES
    with np.errstate(over="ignore"):
        return first * float(np.expm1(_MAX_CYCLES * np.log1p(t_mul - 1.0))) / (
            t_mul - 1.0
        )


def _check_t_mul(t_mul, first):
    """`t_mul >= 1`, and restarts not so frequent that _MAX_CYCLES of them
    come before step 2**31 (the int32 counter of JAX and torch): each
    restart is placed on its exact step from a table of that many."""
    t_mul = _validation.check_number("t_mul", t_mul, minimum=1.0)
    if t_mul > 1.0 and _restarts_end(first, t_mul) < 2.0**31:
        low, high = t_mul, 2.0
        for _ in range(60):  # the smallest t_mul that is enough, to say so
            middle = (low + high) / 2
            low, high = (middle, high) if _restarts_end(first, middle) < 2.0**31 else (low, middle)
        raise ValueError(
            f"Argument `t_mul` must be 1.0 or at least {high:.6g} with "
            f"first_decay_steps={first!r}: cycles growing more slowly restart "
            f"more than {_MAX_CYCLES:,} times within 2**31 steps, too often "
            f"to place every restart on its exact step. Received: t_mul={t_mul!r}"
        )
    return t_mul


def _check_alpha(alpha, reference_name, reference):
    alpha = _validation.check_number("alpha", alpha, minimum=0.0)
    if alpha * reference > MAX_RATE:
        raise ValueError(
            f"Argument `alpha` must keep `alpha * {reference_name}` within "
            f"float32's range ({MAX_RATE:.8g}). Received: alpha={alpha!r}"
        )
    return alpha


class _RestartTable:
    """Where each SGDR cycle starts, computed once on the host in float64.

    Cycle `i` lasts `T_0 * t_mul**i` steps and starts at
    `T_0 * (t_mul**i - 1) / (t_mul - 1)`. Both evaluators look the step's
    cycle up in this table and measure the distance to the cycle's end from
    its start as (whole part, fraction): exact, where a float32 geometric
    sum would be off by a whole step after 2**24 steps. Whole-number `T_0`
    and `t_mul` give whole-number starts, computed with Python integers.
    """

    def __init__(self, first, t_mul):
        if float(first).is_integer() and float(t_mul).is_integer() and (
            t_mul <= _LAST_STEP
        ):
            first, t_mul = int(first), int(t_mul)
            starts = [0]
            while starts[-1] <= _LAST_STEP and len(starts) <= _MAX_CYCLES:
                starts.append(starts[-1] + first * t_mul ** (len(starts) - 1))
            starts = np.array([min(s, 2 * _LAST_STEP) for s in starts], dtype=np.float64)
        else:
            # Cycles until _LAST_STEP: log(1 + x) / log(t_mul), with x =
            # _LAST_STEP * (t_mul - 1) / first taken in logs (it can overflow).
            log_x = math.log(_LAST_STEP) + math.log(t_mul - 1.0) - math.log(first)
            count = (math.log1p(math.exp(log_x)) if log_x < 700 else log_x) / (
                math.log(t_mul)
            )
            count = min(int(count) + 3, _MAX_CYCLES + 1)
            index = np.arange(count, dtype=np.float64)
            with np.errstate(over="ignore"):
                starts = first * np.expm1(index * math.log1p(t_mul - 1.0)) / (
                    t_mul - 1.0
                )
            # A start a few ulps off a whole step is that step: the rounding
            # of the geometric sum must not move a restart by one step.
            nearest = np.round(starts)
            with np.errstate(invalid="ignore"):  # inf - inf past the last
                near = np.abs(starts - nearest) <= 1e-12 * np.maximum(starts, 1.0)
            starts = np.where(near, nearest, starts)
        # `starts` ends with the first start beyond _LAST_STEP, or after
        # _MAX_CYCLES cycles: then steps from the last start on are outside
        # the table (`self.end`).
        beyond = np.flatnonzero(starts > _LAST_STEP)
        if beyond.size:
            starts = starts[: beyond[0] + 1]
        self.complete = bool(starts[-1] > _LAST_STEP)
        self.end = float(starts[-1])
        self.starts = starts[:-1]
        self.next_starts = starts[1:]
        self.periods = np.minimum(self.next_starts - self.starts, _LONGEST)
        # The first whole step of each cycle after the first.
        self.thresholds = np.ceil(self.starts[1:])


def _restarts(step, xp, table, first, t_mul):
    """`(cycle, elapsed, remaining, period, index)` of SGDR: cycle `i` lasts
    `first * t_mul**i`.

    `elapsed` and `remaining` are the distances from the start of the step's
    cycle and to its end, exact in their whole part. The cycle is one of
    `cycle` (a float) and `index` (indices of the restart table, for
    `xp.at_index`), the other None.
    """
    if t_mul == 1.0:
        cycle, elapsed, remaining = xp.cycle(first)
        return cycle, elapsed, remaining, xp.const(float(first)), None
    index = xp.locate(table.thresholds)
    period = xp.take(xp.const(table.periods), index)
    # The step's distance from its cycle's start, and to the next start,
    # each as (whole part exactly) + (fractions).
    elapsed = offset_from(xp, table.starts, index)
    to_end = offset_to(xp, np.minimum(table.next_starts, _LAST_STEP), index)
    # A cycle whose end no whole step can reach is measured from its start.
    reachable = xp.take(
        xp.const(table.next_starts <= min(xp.largest_whole(), _LAST_STEP)), index
    )
    remaining = xp.where(reachable > 0, to_end, period - elapsed)
    remaining = xp.minimum(xp.maximum(remaining, 0.0), period)
    elapsed = xp.minimum(xp.maximum(elapsed, 0.0), period)
    if table.complete:
        return None, elapsed, remaining, period, index
    # Beyond the table (t_mul very close to 1): the geometric formula.
    late_cycle, late_remaining, late_period = _restarts_by_log(
        step, xp, first, t_mul
    )
    late = step >= table.end
    cycle = xp.where(late, late_cycle, xp.to_float(index))
    remaining = xp.where(late, late_remaining, remaining)
    elapsed = xp.where(late, late_period - late_remaining, elapsed)
    period = xp.where(late, late_period, period)
    return cycle, elapsed, remaining, period, None


def _restarts_by_log(step, xp, first, t_mul):
    """SGDR's cycle from the closed form, for steps beyond the table."""
    first = float(first)
    log_t_mul = math.log(t_mul)
    cycle = xp.floor(xp.log1p(step * (t_mul - 1.0) / first) / log_t_mul)
    growth = xp.exp(cycle * log_t_mul)
    scale = first / (t_mul - 1.0)
    # The logarithm can land a hair on the wrong side of a restart.
    early = step < scale * (growth - 1.0)
    cycle = xp.where(early, cycle - 1.0, cycle)
    growth = xp.where(early, growth / t_mul, growth)
    late = step >= scale * (growth * t_mul - 1.0)
    cycle = xp.where(late, cycle + 1.0, cycle)
    growth = xp.where(late, growth * t_mul, growth)
    period = xp.minimum(first * growth, _LONGEST)
    remaining = xp.minimum(
        xp.maximum(scale * (growth * t_mul - 1.0) - step, 0.0), period
    )
    return cycle, remaining, period


def _sgdr(step, xp, table, initial, minimum, first, t_mul, m_mul):
    """`minimum + (initial - minimum) * m_mul**cycle * cosine(remaining)`."""
    cycle, elapsed, remaining, period, index = _restarts(
        step, xp, table, first, t_mul
    )

    def per_cycle(function):
        # A function of the cycle, once per cycle where it is a table index.
        return function(cycle) if index is None else xp.at_index(function, index)

    height = initial - minimum
    if height >= 0:
        if m_mul == 0.0:
            peak = per_cycle(
                lambda n: xp.where(n > 0, xp.const(0.0), xp.const(height))
            )
        else:
            # Growing restarts saturate where the peak reaches MAX_RATE.
            peak = per_cycle(
                lambda n: exp_of_product(n, math.log(m_mul), xp, scale=height)
            )
        rate = minimum + peak * cosine_factor(remaining, period, xp)
        return xp.minimum(rate, MAX_RATE) if m_mul > 1.0 else rate
    # A minimum above the initial rate (Keras's alpha > 1, m_mul <= 1): the
    # rate rises from `initial` to `minimum`, as the convex combination
    # `minimum * (1 - g) + initial * g`, g = m_mul**cycle * cos-factor, with
    # 1 - g = (1 - m_mul**cycle) + m_mul**cycle * (1 - cos-factor): two
    # non-negative terms, no cancellation.
    if m_mul == 0.0:
        kept = per_cycle(lambda n: xp.where(n > 0, xp.const(0.0), xp.const(1.0)))
    else:
        kept = per_cycle(lambda n: exp_of_product(n, math.log(m_mul), xp))
    to_initial = kept * cosine_factor(remaining, period, xp)
    to_minimum = (1.0 - kept) + kept * cosine_factor(elapsed, period, xp)
    return minimum * to_minimum + initial * to_initial


@keras.saving.register_keras_serializable(package="keras_lr")
class CosineAnnealing(Schedule):
    """Half a cosine from `initial_learning_rate` to `min_learning_rate`.

    ```python
    s = min(step, decay_steps)
    lr(step) = min_learning_rate + (initial_learning_rate - min_learning_rate)
               * ((1 + cos(pi * s / decay_steps)) / 2) ** exponent
    ```

    Equals PyTorch's `CosineAnnealingLR(T_max=decay_steps,
    eta_min=min_learning_rate)` for steps `0..decay_steps`; after that
    keras_lr holds the minimum, whereas PyTorch's recursive form climbs back
    up along the cosine. Equals Keras's `CosineDecay` (no warmup) with
    `alpha = min_learning_rate / initial_learning_rate` (keras_lr's
    `CosineDecay` is the exact drop-in), and optax's
    `cosine_decay_schedule(initial_learning_rate, decay_steps, alpha,
    exponent)` with the same `alpha`. An `exponent` above 1 spends less time
    near the peak and more near the minimum. For warmup, wrap it in
    `keras_lr.schedules.Warmup`.

    Args:
        initial_learning_rate: the rate at step 0.
        decay_steps: steps to reach the minimum, a positive integer.
        min_learning_rate: the final rate, at most `initial_learning_rate`.
        exponent: the power of the cosine factor, in (0, 100] (optax's
            `exponent`).

    Example:

    >>> schedule = CosineAnnealing(0.1, decay_steps=100, min_learning_rate=0.01)
    >>> schedule.numpy([0, 50, 100, 150]).round(6).tolist()
    [0.1, 0.055, 0.01, 0.01]
    >>> CosineAnnealing(0.1, 100, exponent=2.0).numpy([0, 50, 100]).round(6).tolist()
    [0.1, 0.025, 0.0]
    """

    def __init__(
        self, initial_learning_rate, decay_steps, min_learning_rate=0.0,
        exponent=1.0,
    ):
        self.initial_learning_rate = _validation.check_learning_rate(
            "initial_learning_rate", initial_learning_rate
        )
        self.decay_steps = _validation.check_positive_int(
            "decay_steps", decay_steps
        )
        self.min_learning_rate = _check_min(
            min_learning_rate, self.initial_learning_rate
        )
        self.exponent = _validation.check_number(
            "exponent", exponent, minimum=0.0, maximum=100.0, open_min=True
        )

    def _formula(self, step, xp):
        remaining = xp.until(self.decay_steps)
        factor = cosine_factor(remaining, float(self.decay_steps), xp)
        if self.exponent != 1.0:
            # The factor is accurate to the last bits near 0 (its end), and
            # so is its power: `power_of` adds a few roundings, not
            # `exponent * log(factor)`'s.
            powered = power_of(xp.maximum(factor, 2.0**-120), self.exponent, xp)
            factor = xp.where(factor > 0.0, powered, 0.0)
        return self.min_learning_rate + (
            self.initial_learning_rate - self.min_learning_rate
        ) * factor


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
    initial_learning_rate`; keras_lr's `CosineDecayRestarts` is the exact
    drop-in). `m_mul` scales each restart's peak above the minimum.

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
        self.t_mul = _check_t_mul(t_mul, self.first_decay_steps)
        self.m_mul = _validation.check_number(
            "m_mul", m_mul, minimum=0.0, maximum=1.0, open_min=True
        )
        self.min_learning_rate = _check_min(
            min_learning_rate, self.initial_learning_rate
        )

    def _formula(self, step, xp):
        return _sgdr(
            step,
            xp,
            _table(self, self.first_decay_steps, self.t_mul),
            self.initial_learning_rate,
            self.min_learning_rate,
            self.first_decay_steps,
            self.t_mul,
            self.m_mul,
        )


def _table(schedule, first, t_mul):
    """The schedule's restart table, built on first use (None for t_mul=1)."""
    if t_mul == 1.0:
        return None
    table = schedule.__dict__.get("_restart_table")
    if table is None:
        table = _RestartTable(first, t_mul)
        schedule.__dict__["_restart_table"] = table
    return table


@keras.saving.register_keras_serializable(package="keras_lr")
class CosineDecay(Schedule):
    """Keras's `CosineDecay`: optional linear warmup, then a cosine decay.

    ```python
    # warmup_target=None: decay from initial_learning_rate
    s = min(step, decay_steps)
    lr(step) = initial * (alpha + (1 - alpha) * (1 + cos(pi * s / decay_steps)) / 2)
    # warmup_target set: a linear warmup, then the decay from the target
    lr(step) = initial + (warmup_target - initial) * step / warmup_steps
                                       for step < warmup_steps
    lr(step) = warmup_target * (alpha + (1 - alpha) * (1 + cos(pi * t / decay_steps)) / 2)
               with t = min(step - warmup_steps, decay_steps)
    ```

    A drop-in for `keras.optimizers.schedules.CosineDecay` (same arguments,
    order and defaults, `name` included; fractional step counts as Keras
    allows), computed in float64 (float32 on JAX and torch) so that the rate
    near the minimum keeps its precision, where Keras's `1 + cos(...)`
    cancels in float32. For a warmup of another shape, or before any other
    schedule, use `keras_lr.schedules.Warmup`.

    Args:
        initial_learning_rate: the rate at step 0.
        decay_steps: the length of the cosine decay, a positive number.
        alpha: the final rate as a fraction of the decay's first rate, >= 0.
        name: the schedule's name, as in Keras (kept in the config).
        warmup_target: the rate the warmup reaches, or `None` for no warmup.
        warmup_steps: the length of the warmup, a non-negative number.

    Example:

    >>> schedule = CosineDecay(0.0, 100, alpha=0.1, warmup_target=1.0,
    ...                        warmup_steps=10)
    >>> schedule.numpy([0, 5, 10, 60, 110, 200]).round(6).tolist()
    [0.0, 0.5, 1.0, 0.55, 0.1, 0.1]
    """

    def __init__(
        self,
        initial_learning_rate,
        decay_steps,
        alpha=0.0,
        name="CosineDecay",
        warmup_target=None,
        warmup_steps=0,
    ):
        self.initial_learning_rate = _validation.check_learning_rate(
            "initial_learning_rate", initial_learning_rate
        )
        self.decay_steps = _validation.check_step_count("decay_steps", decay_steps)
        self.name = _validation.check_name("name", name)
        self.warmup_target = (
            None
            if warmup_target is None
            else _validation.check_learning_rate("warmup_target", warmup_target)
        )
        self.warmup_steps = _validation.check_step_count(
            "warmup_steps", warmup_steps, allow_zero=True
        )
        peak = self._peak()
        self.alpha = _check_alpha(
            alpha,
            "initial_learning_rate" if warmup_target is None else "warmup_target",
            peak,
        )

    def _peak(self):
        if self.warmup_target is None:
            return self.initial_learning_rate
        return self.warmup_target

    def _formula(self, step, xp):
        peak = self._peak()
        warmup = self.warmup_steps if self.warmup_target is not None else 0
        span = float(self.decay_steps)
        remaining = xp.minimum(xp.until(warmup + self.decay_steps), span)
        minimum = self.alpha * peak
        if minimum <= peak:
            decay = minimum + (peak - minimum) * cosine_factor(remaining, span, xp)
        else:
            # alpha > 1 (Keras allows it): a rise from the peak to a minimum
            # far above it, measured from the peak's end; `minimum + (peak -
            # minimum) * f` would lose the peak in the minimum's rounding.
            elapsed = xp.minimum(xp.since(warmup), span)
            decay = ramp(peak, minimum, elapsed / span, "cosine", xp)
        if not warmup:
            return decay
        initial = self.initial_learning_rate
        near_start = xp.minimum(step, float(warmup)) / float(warmup)
        near_end = xp.until(warmup) / float(warmup)
        if peak >= initial:
            rise = ramp(initial, peak, near_start, "linear", xp)
        else:
            rise = ramp(peak, initial, near_end, "linear", xp)
        return xp.where(xp.until(warmup) > 0, rise, decay)


@keras.saving.register_keras_serializable(package="keras_lr")
class CosineDecayRestarts(Schedule):
    """Keras's `CosineDecayRestarts`: cosine decay with warm restarts (SGDR).

    ```python
    # cycle i lasts first_decay_steps * t_mul ** i steps; t = step - its start
    lr(step) = initial * (alpha + (1 - alpha) * m_mul ** i
                          * (1 + cos(pi * t / (first_decay_steps * t_mul ** i))) / 2)
    ```

    A drop-in for `keras.optimizers.schedules.CosineDecayRestarts` (same
    arguments, order and defaults, `name` included), with each restart on
    the exact step: Keras finds the cycle with a float32 logarithm and a
    geometric sum, which put restarts a step early or late in long runs.
    `t_mul` must be >= 1 (Keras's cycles shrink for `t_mul < 1` and its rate
    becomes NaN once they run out); `m_mul > 1` (growing restarts) stops at
    float32's largest number where Keras's becomes `inf`. keras_lr's
    `CosineRestarts` is the same schedule in PyTorch's terms
    (`min_learning_rate` instead of `alpha`).

    Args:
        initial_learning_rate: the rate at step 0.
        first_decay_steps: the length of the first cycle, a positive number.
        t_mul: each cycle is `t_mul` times longer than the previous, >= 1.
        m_mul: each restart's peak (above the minimum) is `m_mul` times the
            previous one, >= 0.
        alpha: the minimum rate as a fraction of `initial_learning_rate`,
            >= 0.
        name: the schedule's name, as in Keras (kept in the config).

    Example:

    >>> schedule = CosineDecayRestarts(1.0, 10, t_mul=2.0, m_mul=0.5)
    >>> schedule.numpy([0, 5, 10, 20, 30]).round(6).tolist()
    [1.0, 0.5, 0.5, 0.25, 0.25]
    """

    def __init__(
        self,
        initial_learning_rate,
        first_decay_steps,
        t_mul=2.0,
        m_mul=1.0,
        alpha=0.0,
        name="SGDRDecay",
    ):
        self.initial_learning_rate = _validation.check_learning_rate(
            "initial_learning_rate", initial_learning_rate
        )
        self.first_decay_steps = _validation.check_step_count(
            "first_decay_steps", first_decay_steps
        )
        self.t_mul = _check_t_mul(t_mul, self.first_decay_steps)
        self.m_mul = _validation.check_number("m_mul", m_mul, minimum=0.0)
        self.alpha = _check_alpha(
            alpha, "initial_learning_rate", self.initial_learning_rate
        )
        if self.alpha > 1.0 and self.m_mul > 1.0:
            raise ValueError(
                "Argument `m_mul` must be <= 1 when `alpha` > 1: growing "
                "restarts below a minimum above the initial rate would turn "
                f"the rate negative. Received: m_mul={m_mul!r}, alpha={alpha!r}"
            )
        self.name = _validation.check_name("name", name)

    def _formula(self, step, xp):
        initial = self.initial_learning_rate
        return _sgdr(
            step,
            xp,
            _table(self, self.first_decay_steps, self.t_mul),
            initial,
            self.alpha * initial,
            self.first_decay_steps,
            self.t_mul,
            self.m_mul,
        )
