"""Cyclical, one-cycle and warmup-stable-decay schedules."""

import math

import keras

from keras_lr import _validation
from keras_lr.schedules._exact import exp_of_product
from keras_lr.schedules._shapes import ramp
from keras_lr.schedules.base import Schedule


@keras.saving.register_keras_serializable(package="keras_lr")
class CyclicalLearningRate(Schedule):
    """Cyclical learning rate (CLR, Smith 2017): triangles between two rates.

    Each cycle rises linearly from `initial_learning_rate` to
    `maximal_learning_rate` over `step_size` steps, then falls back over
    `step_size_down` steps (`step_size` when `None`):

    ```python
    period = step_size + step_size_down
    cycle = floor(step / period)                 # 0, 1, 2, ...
    x = step - cycle * period                    # position in the cycle
    f = x / step_size                   if x <= step_size
        (period - x) / step_size_down   otherwise
    lr(step) = initial + (maximal - initial) * f * scale
    # scale: 1 ("triangular"), 1 / 2 ** cycle ("triangular2"),
    #        gamma ** step ("exp_range")
    ```

    Equals PyTorch's `CyclicLR(base_lr=initial_learning_rate,
    max_lr=maximal_learning_rate, step_size_up=step_size,
    step_size_down=step_size_down, mode=mode, gamma=gamma)` step for step,
    asymmetric cycles included; PyTorch's cycled momentum
    (`cycle_momentum=True`) is `momentum_schedule()`. With
    `step_size_down=None` it equals tensorflow-addons'
    `TriangularCyclicalLearningRate`, `Triangular2CyclicalLearningRate`
    and `ExponentialCyclicalLearningRate`, whose argument names it keeps:
    migrating is a change of class name plus `mode`. TFA's generic
    `CyclicalLearningRate` took a Python `scale_fn`, which a `.keras` file
    cannot store safely; keras_lr names the three scalings with `mode`
    instead (for another shape, write a `Schedule` subclass).

    Args:
        initial_learning_rate: the low end of each cycle, and the rate at
            step 0.
        maximal_learning_rate: the high end of the first cycle, at least
            `initial_learning_rate`.
        step_size: steps from the low end to the high end, a positive
            integer (PyTorch's `step_size_up`).
        step_size_down: steps back down, a positive integer, or `None` for
            `step_size` (symmetric cycles).
        mode: `"triangular"` (every cycle the same), `"triangular2"` (the
            amplitude halves each cycle) or `"exp_range"` (the amplitude
            shrinks by `gamma` every step).
        gamma: the per-step factor of `"exp_range"`, in (0, 1]; must stay
            1.0 with the other modes, which ignore it in PyTorch.

    Example:

    >>> schedule = CyclicalLearningRate(0.001, 0.006, step_size=4,
    ...                                 mode="triangular2")
    >>> schedule.numpy([0, 2, 4, 6, 8, 12, 16]).round(6).tolist()
    [0.001, 0.0035, 0.006, 0.0035, 0.001, 0.0035, 0.001]
    """

    def __init__(
        self,
        initial_learning_rate,
        maximal_learning_rate,
        step_size,
        step_size_down=None,
        mode="triangular",
        gamma=1.0,
    ):
        self.initial_learning_rate = _validation.check_learning_rate(
            "initial_learning_rate", initial_learning_rate
        )
        self.maximal_learning_rate = _validation.check_learning_rate(
            "maximal_learning_rate", maximal_learning_rate
        )
        _validation.check_not_above(
            "initial_learning_rate",
            self.initial_learning_rate,
            "maximal_learning_rate",
            self.maximal_learning_rate,
        )
        self.step_size = _validation.check_positive_int("step_size", step_size)
        self.step_size_down = (
            None
            if step_size_down is None
            else _validation.check_positive_int("step_size_down", step_size_down)
        )
        self.mode = _validation.check_choice(
            "mode", mode, ("triangular", "triangular2", "exp_range")
        )
        self.gamma = _validation.check_number(
            "gamma", gamma, minimum=0.0, maximum=1.0, open_min=True
        )
        if self.mode != "exp_range" and self.gamma != 1.0:
            raise ValueError(
                'Argument `gamma` must be 1.0 unless mode="exp_range" (it '
                f"has no effect with mode={self.mode!r}). Received: "
                f"gamma={gamma!r}"
            )

    def _formula(self, step, xp):
        return self.initial_learning_rate + (
            self.maximal_learning_rate - self.initial_learning_rate
        ) * _cycle_height(self, step, xp)

    def momentum_schedule(self, base_momentum=0.8, max_momentum=0.9):
        """The momentum PyTorch's `CyclicLR(cycle_momentum=True)` pairs with
        this rate: high where the rate is low, and the other way round.

        Pass it as `momentum` to `keras_lr.optimizers.SGD` or as `beta_1`
        to `keras_lr.optimizers.Adam` (and the rest of that family), as
        PyTorch sets SGD's `momentum` or Adam's `betas[0]`.

        Args:
            base_momentum: the momentum at the rate's peak, in [0, 1].
            max_momentum: the momentum at the rate's low end, in
                [`base_momentum`, 1].

        Returns:
            A `CyclicalMomentum` with this schedule's cycle.

        Example:

        >>> rate = CyclicalLearningRate(0.001, 0.006, step_size=4)
        >>> rate.momentum_schedule().numpy([0, 2, 4, 8]).round(6).tolist()
        [0.9, 0.85, 0.8, 0.9]
        """
        return CyclicalMomentum(
            base_momentum,
            max_momentum,
            self.step_size,
            self.step_size_down,
            self.mode,
            self.gamma,
        )


def _cycle_height(schedule, step, xp):
    """Where `step` is in its triangle, 0 (low end) to 1 (peak), scaled by
    the mode: the shape `CyclicalLearningRate` and `CyclicalMomentum` share.
    """
    up = schedule.step_size
    down = schedule.step_size_down or schedule.step_size
    # Whole cycles and the position in the cycle, from the integer step.
    cycle, position, remaining = xp.cycle(up + down)
    up, down = float(up), float(down)
    # Distances to the low end, so that the rate near it keeps its
    # precision in float32.
    factor = xp.where(position <= up, position / up, remaining / down)
    factor = xp.minimum(xp.maximum(factor, 0.0), 1.0)
    if schedule.mode == "triangular2":
        # 0.5 ** cycle as one exponential (NumPy's power is 4x slower).
        factor = factor * exp_of_product(cycle, -math.log(2.0), xp)
    elif schedule.mode == "exp_range":
        factor = factor * exp_of_product(step, math.log(schedule.gamma), xp)
    return factor


def _check_momentum_pair(base_momentum, max_momentum):
    base = _validation.check_number(
        "base_momentum", base_momentum, minimum=0.0, maximum=1.0
    )
    top = _validation.check_number(
        "max_momentum", max_momentum, minimum=0.0, maximum=1.0
    )
    _validation.check_not_above("base_momentum", base, "max_momentum", top)
    return base, top


@keras.saving.register_keras_serializable(package="keras_lr")
class CyclicalMomentum(Schedule):
    """PyTorch's `CyclicLR` momentum: cycles inversely to the rate.

    The same triangles as `CyclicalLearningRate` (usually built with its
    `momentum_schedule()`), upside down, between `max_momentum` (at the
    rate's low end) and `base_momentum` (at its peak):

    ```python
    momentum(step) = max_momentum - (max_momentum - base_momentum) * f * scale
    # f and scale: those of CyclicalLearningRate at the same step
    ```

    Equals the momentum (SGD's `momentum`, Adam's `betas[0]`) that
    `torch.optim.lr_scheduler.CyclicLR(base_lr, max_lr, step_size_up=step_size,
    step_size_down=step_size_down, mode=mode, gamma=gamma,
    cycle_momentum=True, base_momentum=base_momentum,
    max_momentum=max_momentum)` gives each update, step for step, in every
    mode. Unlike PyTorch, `base_momentum` may not exceed `max_momentum`.

    Args:
        base_momentum: the momentum at the rate's peak, in [0, 1].
        max_momentum: the momentum at the rate's low end (and at step 0),
            in [`base_momentum`, 1].
        step_size: steps from the rate's low end to its peak, a positive
            integer (PyTorch's `step_size_up`).
        step_size_down: steps back, a positive integer, or `None` for
            `step_size`.
        mode: `"triangular"`, `"triangular2"` or `"exp_range"`, as for
            `CyclicalLearningRate`.
        gamma: the per-step factor of `"exp_range"`, in (0, 1]; 1.0 with
            the other modes.

    Example:

    >>> schedule = CyclicalMomentum(0.8, 0.9, step_size=4,
    ...                             mode="triangular2")
    >>> schedule.numpy([0, 2, 4, 8, 12]).round(6).tolist()
    [0.9, 0.85, 0.8, 0.9, 0.85]
    """

    def __init__(
        self,
        base_momentum,
        max_momentum,
        step_size,
        step_size_down=None,
        mode="triangular",
        gamma=1.0,
    ):
        self.base_momentum, self.max_momentum = _check_momentum_pair(
            base_momentum, max_momentum
        )
        # The cycle's arguments, checked as CyclicalLearningRate checks them.
        shape = CyclicalLearningRate(0.0, 0.0, step_size, step_size_down, mode, gamma)
        self.step_size = shape.step_size
        self.step_size_down = shape.step_size_down
        self.mode = shape.mode
        self.gamma = shape.gamma

    def _formula(self, step, xp):
        # PyTorch's expression. At the peak, `max - (max - base)` rounds
        # below `base` when `base` is far smaller than `max` (1e-7 and 1.0
        # give 9.99999999e-08): held at `base`, the bound it documents.
        return xp.maximum(
            self.max_momentum
            - (self.max_momentum - self.base_momentum) * _cycle_height(self, step, xp),
            self.base_momentum,
        )


@keras.saving.register_keras_serializable(package="keras_lr")
class OneCycle(Schedule):
    """The 1cycle policy (Smith & Topin 2018), as PyTorch's `OneCycleLR`.

    With `initial = maximal_learning_rate / div_factor` and
    `final = initial / final_div_factor`, the rate follows phases that end
    at these steps (PyTorch's own, fractional ones included):

    ```python
    # two phases (default)           # three_phase=True
    initial -> maximal  at  pct_start * total_steps - 1
    maximal -> final    at  total_steps - 1
                                     initial -> maximal  at  pct_start * total_steps - 1
                                     maximal -> initial  at  2 * pct_start * total_steps - 2
                                     initial -> final    at  total_steps - 1
    # within a phase from rate a (at step s0) to rate b (at step s1):
    pct = (step - s0) / (s1 - s0)
    lr = b + (a - b) * (1 + cos(pi * pct)) / 2     # anneal_strategy="cos"
    lr = a + (b - a) * pct                        # anneal_strategy="linear"
    ```

    Equals `torch.optim.lr_scheduler.OneCycleLR(max_lr=maximal_learning_rate,
    total_steps=total_steps, pct_start=pct_start,
    anneal_strategy=anneal_strategy, div_factor=div_factor,
    final_div_factor=final_div_factor, three_phase=three_phase)` for steps 0
    to `total_steps - 1`. Differences: PyTorch raises an error past
    `total_steps` (and extrapolates at `total_steps` itself), while keras_lr
    holds the final rate from step `total_steps - 1` on, so training longer
    is harmless; and keras_lr refuses a `pct_start` that leaves a
    phase empty, where PyTorch divides by zero or runs a phase backwards.
    Give `total_steps` as `epochs * steps_per_epoch`. PyTorch's cycled
    momentum (`cycle_momentum=True`, its default) is `momentum_schedule()`.

    Args:
        maximal_learning_rate: the peak rate.
        total_steps: the length of the cycle, a positive integer.
        pct_start: the fraction of `total_steps` spent rising, in (0, 1).
            Every phase must last longer than 0 steps.
        anneal_strategy: `"cos"` or `"linear"`.
        div_factor: `initial = maximal_learning_rate / div_factor`, > 0.
        final_div_factor: `final = initial / final_div_factor`, > 0.
        three_phase: add a phase back down to `initial` before the final
            anneal (fastai's and PyTorch's `three_phase`).

    Example:

    >>> schedule = OneCycle(0.1, total_steps=100, pct_start=0.25,
    ...                     anneal_strategy="linear", div_factor=10.0,
    ...                     final_div_factor=100.0)
    >>> schedule.numpy([0, 24, 99, 200]).round(6).tolist()
    [0.01, 0.1, 0.0001, 0.0001]
    """

    def __init__(
        self,
        maximal_learning_rate,
        total_steps,
        pct_start=0.3,
        anneal_strategy="cos",
        div_factor=25.0,
        final_div_factor=1e4,
        three_phase=False,
    ):
        self.maximal_learning_rate = _validation.check_learning_rate(
            "maximal_learning_rate", maximal_learning_rate
        )
        self.total_steps = _validation.check_positive_int(
            "total_steps", total_steps
        )
        self.pct_start = _validation.check_number(
            "pct_start", pct_start, minimum=0.0, maximum=1.0, open_min=True
        )
        self.anneal_strategy = _validation.check_choice(
            "anneal_strategy", anneal_strategy, ("cos", "linear")
        )
        self.div_factor = _validation.check_number(
            "div_factor", div_factor, minimum=0.0, open_min=True
        )
        self.final_div_factor = _validation.check_number(
            "final_div_factor", final_div_factor, minimum=0.0, open_min=True
        )
        self.three_phase = _validation.check_bool("three_phase", three_phase)
        initial = self.maximal_learning_rate / self.div_factor
        for name, given, rate in (
            ("div_factor", div_factor, initial),
            ("final_div_factor", final_div_factor, initial / self.final_div_factor),
        ):
            if rate > _validation.MAX_RATE:
                raise ValueError(
                    f"Argument `{name}` must keep the rates it derives within "
                    f"float32's range ({_validation.MAX_RATE:.8g}); it gives "
                    f"{rate!r}. Received: {name}={given!r}"
                )
        _check_phases(self, pct_start)

    def _formula(self, step, xp):
        initial = self.maximal_learning_rate / self.div_factor
        final = initial / self.final_div_factor
        rates = [initial, self.maximal_learning_rate]
        rates += [initial, final] if self.three_phase else [final]
        return _through_phases(
            _phase_ends(self.total_steps, self.pct_start, self.three_phase),
            self.anneal_strategy, rates, step, xp,
        )

    def momentum_schedule(self, base_momentum=0.85, max_momentum=0.95):
        """The momentum PyTorch's `OneCycleLR(cycle_momentum=True)` pairs
        with this rate: from `max_momentum` down to `base_momentum` while the
        rate rises, and back up while it falls.

        Pass it as `momentum` to `keras_lr.optimizers.SGD` or as `beta_1`
        to `keras_lr.optimizers.Adam` (and the rest of that family), as
        PyTorch (and fastai's `fit_one_cycle(moms=(0.95, 0.85, 0.95))`)
        sets SGD's `momentum` or Adam's `betas[0]`.

        Args:
            base_momentum: the momentum at the rate's peak, in [0, 1].
            max_momentum: the momentum at the start and at the end, in
                [`base_momentum`, 1].

        Returns:
            A `OneCycleMomentum` with this schedule's phases.

        Example:

        >>> rate = OneCycle(0.1, total_steps=100, pct_start=0.25,
        ...                 anneal_strategy="linear")
        >>> rate.momentum_schedule().numpy([0, 12, 24, 99]).round(6).tolist()
        [0.95, 0.9, 0.85, 0.95]
        """
        return OneCycleMomentum(
            self.total_steps,
            base_momentum,
            max_momentum,
            self.pct_start,
            self.anneal_strategy,
            self.three_phase,
        )


def _phase_ends(total_steps, pct_start, three_phase):
    """PyTorch's last step of each one-cycle phase (possibly fractional)."""
    first = float(pct_start * total_steps) - 1
    last = float(total_steps - 1)
    if three_phase:
        return [first, float(2 * pct_start * total_steps) - 2, last]
    return [first, last]


def _check_phases(schedule, pct_start):
    ends = _phase_ends(schedule.total_steps, schedule.pct_start, schedule.three_phase)
    if any(end <= start for start, end in zip([0.0] + ends, ends)):
        raise ValueError(
            "Argument `pct_start` must leave every phase longer than 0 "
            f"steps; with total_steps={schedule.total_steps} the phases "
            f"would end at steps {ends}. Received: pct_start={pct_start!r}"
        )


def _through_phases(ends, anneal_strategy, values, step, xp, exact_flat=False):
    """One-cycle phases through `values`: phase `i` runs from `values[i]` to
    `values[i + 1]`, ending at `ends[i]` (PyTorch's ends, `_phase_ends`).

    From the last phase back, each phase takes the steps up to and including
    its end, as in PyTorch. `near` is the distance to the phase's lower end,
    as a fraction of the phase, measured from the (possibly fractional)
    phase ends exactly. With `exact_flat`, a flat phase is exactly its value
    (the ramp's `low * (1 - f) + high * f` may round it by an ulp); without,
    `OneCycle`'s rates stay the bits they were before the momentum shared
    this code.
    """
    starts = [0.0] + ends[:-1]
    phases = list(zip(starts, ends, values, values[1:]))
    near = low = high = None
    # The last phase's bounds, then each earlier phase's where the step is
    # inside it; `later_low` and `later_high` are the bounds of the phase
    # after the current one.
    later_low = later_high = None
    for start, end, a, b in reversed(phases):
        span = end - start
        if exact_flat and b == a:
            phase_near = xp.minimum(xp.since(start), 0.0)
        elif b >= a:
            phase_near = xp.minimum(xp.since(start) / span, 1.0)
        else:
            phase_near = xp.minimum(xp.until(end) / span, 1.0)
        if near is None:
            near, low, high = phase_near, min(a, b), max(a, b)
        else:
            inside = xp.since(end) <= 0.0
            near = xp.where(inside, phase_near, near)
            # A value shared with the next phase needs no selection.
            if min(a, b) != later_low:
                low = xp.where(inside, xp.const(min(a, b)), low)
            if max(a, b) != later_high:
                high = xp.where(inside, xp.const(max(a, b)), high)
        later_low, later_high = min(a, b), max(a, b)
    shape = "cosine" if anneal_strategy == "cos" else "linear"
    return ramp(low, high, near, shape, xp)


@keras.saving.register_keras_serializable(package="keras_lr")
class OneCycleMomentum(Schedule):
    """PyTorch's `OneCycleLR` momentum: inverse to the one-cycle rate.

    The phases of `OneCycle` (usually built with its `momentum_schedule()`),
    through these momenta, with the same anneal:

    ```python
    # two phases (default)                # three_phase=True
    max_momentum -> base_momentum  at  pct_start * total_steps - 1
    base_momentum -> max_momentum  at  total_steps - 1
                                          max -> base  at  pct_start * total_steps - 1
                                          base -> max  at  2 * pct_start * total_steps - 2
                                          max          until  total_steps - 1
    ```

    Equals the momentum (SGD's `momentum`, Adam's `betas[0]`) that
    `torch.optim.lr_scheduler.OneCycleLR(max_lr, total_steps=total_steps,
    pct_start=pct_start, anneal_strategy=anneal_strategy,
    three_phase=three_phase, cycle_momentum=True,
    base_momentum=base_momentum, max_momentum=max_momentum)` gives updates
    0 to `total_steps - 1`, step for step (fastai's `fit_one_cycle` uses
    `moms=(0.95, 0.85, 0.95)`, the default here). It holds `max_momentum`
    from step `total_steps - 1` on, where PyTorch raises; `base_momentum`
    may not exceed `max_momentum`.

    Args:
        total_steps: the length of the cycle, a positive integer.
        base_momentum: the momentum at the rate's peak, in [0, 1].
        max_momentum: the momentum at the start and at the end, in
            [`base_momentum`, 1].
        pct_start: the fraction of `total_steps` spent rising (for the
            rate), in (0, 1); every phase must last longer than 0 steps.
        anneal_strategy: `"cos"` or `"linear"`.
        three_phase: PyTorch's `three_phase` (momentum back up with the
            rate's second phase, then held at `max_momentum`).

    Example:

    >>> schedule = OneCycleMomentum(100, pct_start=0.25,
    ...                             anneal_strategy="linear")
    >>> schedule.numpy([0, 24, 99, 200]).round(6).tolist()
    [0.95, 0.85, 0.95, 0.95]
    """

    def __init__(
        self,
        total_steps,
        base_momentum=0.85,
        max_momentum=0.95,
        pct_start=0.3,
        anneal_strategy="cos",
        three_phase=False,
    ):
        self.total_steps = _validation.check_positive_int(
            "total_steps", total_steps
        )
        self.base_momentum, self.max_momentum = _check_momentum_pair(
            base_momentum, max_momentum
        )
        self.pct_start = _validation.check_number(
            "pct_start", pct_start, minimum=0.0, maximum=1.0, open_min=True
        )
        self.anneal_strategy = _validation.check_choice(
            "anneal_strategy", anneal_strategy, ("cos", "linear")
        )
        self.three_phase = _validation.check_bool("three_phase", three_phase)
        _check_phases(self, pct_start)

    def _formula(self, step, xp):
        top, bottom = self.max_momentum, self.base_momentum
        values = [top, bottom, top] + ([top] if self.three_phase else [])
        return _through_phases(
            _phase_ends(self.total_steps, self.pct_start, self.three_phase),
            self.anneal_strategy, values, step, xp, exact_flat=True,
        )


@keras.saving.register_keras_serializable(package="keras_lr")
class WarmupStableDecay(Schedule):
    """Warmup-stable-decay (WSD): warm up, hold the peak, decay at the end.

    ```python
    decay_start = total_steps - decay_steps
    lr(step) = initial + (peak - initial) * w(step / warmup_steps)
                                           for step < warmup_steps
    lr(step) = peak                        until decay_start
    lr(step) = min + (peak - min) * d(t)   t = (step - decay_start) / decay_steps
    lr(step) = min                         from total_steps on
    # d(t): 1 - sqrt(t) ("1-sqrt"), 1 - t ("linear"), (1 + cos(pi * t)) / 2 ("cosine")
    # w(u): u ("linear"), (1 - cos(pi * u)) / 2 ("cosine"), 1 - sqrt(1 - u) ("1-sqrt")
    ```

    The schedule of recent language-model training (MiniCPM, Hu et al.
    2024). Hägele et al. 2024 find the `"1-sqrt"` decay (the default) over
    about the last 20 % of training matches a cosine schedule tuned to the
    run's length; Bergsma et al. 2025 find a `"linear"` decay to zero
    (`min_learning_rate=0`) best for language models. Because the peak is
    held, a run can be extended from a checkpoint taken before the decay
    (for a decay decided during training, see `Cooldown`).

    Equals Hugging Face's `get_wsd_schedule(optimizer, num_warmup_steps,
    num_decay_steps, num_training_steps, warmup_type=..., decay_type=...,
    min_lr_ratio=r)` (optimizer rate `lr`) step for step as
    `WarmupStableDecay(lr, num_training_steps, num_warmup_steps,
    num_decay_steps, initial_learning_rate=r * lr, min_learning_rate=r * lr,
    decay_shape=decay_type, warmup_shape=warmup_type)`; with
    `num_stable_steps` instead of `num_training_steps`, `total_steps` is
    `num_warmup_steps + num_stable_steps + num_decay_steps`. Hugging Face's
    default decay is `"cosine"`; its `num_cycles` other than 0.5 (a cosine
    that rises again) has no equivalent.

    Args:
        peak_learning_rate: the rate held between warmup and decay.
        total_steps: the step at which the decay reaches
            `min_learning_rate`, a positive integer.
        warmup_steps: the length of the warmup, a non-negative integer.
        decay_steps: the length of the decay, a positive integer with
            `warmup_steps + decay_steps <= total_steps`.
        initial_learning_rate: the rate at step 0, at most the peak.
        min_learning_rate: the final rate, at most the peak.
        decay_shape: `"1-sqrt"`, `"linear"` or `"cosine"`.
        warmup_shape: `"linear"`, `"cosine"` or `"1-sqrt"`.

    Example:

    >>> schedule = WarmupStableDecay(0.1, total_steps=100, warmup_steps=10,
    ...                              decay_steps=20, decay_shape="linear")
    >>> schedule.numpy([0, 5, 10, 80, 90, 100, 150]).round(6).tolist()
    [0.0, 0.05, 0.1, 0.1, 0.05, 0.0, 0.0]
    >>> WarmupStableDecay(0.1, 100, 10, 20).numpy([80, 85, 95]).round(6).tolist()
    [0.1, 0.05, 0.013397]
    """

    def __init__(
        self,
        peak_learning_rate,
        total_steps,
        warmup_steps,
        decay_steps,
        initial_learning_rate=0.0,
        min_learning_rate=0.0,
        decay_shape="1-sqrt",
        warmup_shape="linear",
    ):
        self.peak_learning_rate = _validation.check_learning_rate(
            "peak_learning_rate", peak_learning_rate
        )
        self.total_steps = _validation.check_positive_int(
            "total_steps", total_steps
        )
        self.warmup_steps = _validation.check_non_negative_int(
            "warmup_steps", warmup_steps
        )
        self.decay_steps = _validation.check_positive_int(
            "decay_steps", decay_steps
        )
        if self.warmup_steps + self.decay_steps > self.total_steps:
            raise ValueError(
                "Argument `decay_steps` must be at most `total_steps - "
                f"warmup_steps` ({self.total_steps} - {self.warmup_steps}). "
                f"Received: decay_steps={decay_steps!r}"
            )
        for name, value in (
            ("initial_learning_rate", initial_learning_rate),
            ("min_learning_rate", min_learning_rate),
        ):
            setattr(
                self,
                name,
                _validation.check_not_above(
                    name,
                    _validation.check_learning_rate(name, value),
                    "peak_learning_rate",
                    self.peak_learning_rate,
                ),
            )
        self.decay_shape = _validation.check_choice(
            "decay_shape", decay_shape, ("1-sqrt", "linear", "cosine")
        )
        self.warmup_shape = _validation.check_choice(
            "warmup_shape", warmup_shape, ("linear", "cosine", "1-sqrt")
        )

    def _formula(self, step, xp):
        peak = self.peak_learning_rate
        span = float(self.decay_steps)
        # Before the decay starts, `near` is clamped to `span`: the peak.
        near = xp.minimum(xp.until(self.total_steps), span)
        # The distance from the decay's start, measured from that start.
        far = (
            xp.minimum(xp.since(self.total_steps - self.decay_steps), span) / span
            if self.decay_shape == "1-sqrt"
            else None
        )
        value = ramp(
            self.min_learning_rate, peak, near / span, self.decay_shape, xp,
            far=far,
        )
        if self.warmup_steps:
            warmup = float(self.warmup_steps)
            left = xp.until(self.warmup_steps)
            rise = ramp(
                self.initial_learning_rate,
                peak,
                xp.minimum(step, warmup) / warmup,
                self.warmup_shape,
                xp,
                far=left / warmup,
            )
            value = xp.where(left > 0.0, rise, value)
        return value
