"""Independent references for the catalogue's peers, never keras_lr's code.

Each function writes a peer's published algorithm in plain Python/NumPy
(float64), step by step as the peer evaluates it: Hugging Face's
`LambdaLR` lambdas (the rate of update `s` is `lr * lambda(s)`), tf-models'
`official.modeling.optimization.lr_schedule` classes and optax's schedules
(both called with the step of the update). Where a peer computes in
float32 these compute in float64, so they differ from the peer by its
rounding only.
"""

import math

import numpy as np


def hf_inverse_sqrt(lr, num_warmup_steps, timescale, n):
    """`get_inverse_sqrt_schedule(optimizer(lr), num_warmup_steps, timescale)`."""
    if timescale is None:
        timescale = num_warmup_steps or 10_000
    rates = []
    for step in range(n):
        if step < num_warmup_steps:
            factor = step / max(1, num_warmup_steps)
        else:
            shift = timescale - num_warmup_steps
            factor = 1.0 / math.sqrt((step + shift) / timescale)
        rates.append(lr * factor)
    return np.array(rates)


def hf_wsd(
    lr, num_warmup_steps, num_decay_steps, n, num_training_steps=None,
    num_stable_steps=None, warmup_type="linear", decay_type="cosine",
    min_lr_ratio=0.0,
):
    """`get_wsd_schedule(optimizer(lr), ...)` with `num_cycles=0.5`."""
    if num_stable_steps is None:
        num_stable_steps = num_training_steps - num_warmup_steps - num_decay_steps
    rates = []
    for step in range(n):
        if step < num_warmup_steps:
            u = step / max(1, num_warmup_steps)
            factor = {
                "linear": u,
                "cosine": 0.5 * (1.0 - math.cos(math.pi * u)),
                "1-sqrt": 1.0 - math.sqrt(1.0 - u),
            }[warmup_type]
            factor = max(0.0, factor * (1.0 - min_lr_ratio) + min_lr_ratio)
        elif step < num_warmup_steps + num_stable_steps:
            factor = 1.0
        elif step < num_warmup_steps + num_stable_steps + num_decay_steps:
            t = (step - num_warmup_steps - num_stable_steps) / max(1, num_decay_steps)
            factor = {
                "linear": 1.0 - t,
                "cosine": 0.5 * (1.0 + math.cos(math.pi * 0.5 * 2.0 * t)),
                "1-sqrt": 1.0 - math.sqrt(t),
            }[decay_type]
            factor = max(0.0, factor * (1.0 - min_lr_ratio) + min_lr_ratio)
        else:
            factor = min_lr_ratio
        rates.append(lr * factor)
    return np.array(rates)


def tfm_direct_power(initial_learning_rate, power, steps):
    """tf-models `DirectPowerDecay`: `lr * max(step, 1) ** power`."""
    steps = np.asarray(steps, dtype=np.float64)
    return initial_learning_rate * np.maximum(steps, 1.0) ** power


def tfm_power_and_linear(
    initial_learning_rate, total_decay_steps, power, linear_decay_fraction,
    offset, steps,
):
    """tf-models `PowerAndLinearDecay`."""
    s = np.asarray(steps, dtype=np.float64) - offset
    rate = initial_learning_rate * np.maximum(s, 1.0) ** power
    span = total_decay_steps * linear_decay_fraction
    if span > 0:
        rate = rate * np.minimum(1.0, (total_decay_steps - s) / span)
        rate = np.maximum(0.0, rate)
    return rate


def tfm_linear_warmup(after, warmup_steps, warmup_learning_rate, steps):
    """tf-models `LinearWarmup(after, warmup_steps, warmup_learning_rate)`;
    `after` maps an array of steps to the wrapped schedule's rates."""
    steps = np.asarray(steps, dtype=np.float64)
    final = after(np.array([warmup_steps]))[0]
    ramp = warmup_learning_rate + steps / warmup_steps * (final - warmup_learning_rate)
    return np.where(steps < warmup_steps, ramp, after(steps))


def tfm_polynomial_warmup(after, warmup_steps, power, steps):
    """tf-models `PolynomialWarmUp(after, warmup_steps, power)`."""
    steps = np.asarray(steps, dtype=np.float64)
    target = after(np.array([warmup_steps]))[0]
    done = np.maximum(steps, 1.0) / warmup_steps
    return np.where(steps < warmup_steps, target * done**power, after(steps))


def tfm_step_cosine_with_offset(boundaries, values, offset, steps):
    """tf-models `StepCosineDecayWithOffset(boundaries, values, offset)`.

    Level `i` runs a half cosine from `values[i]` to `values[i + 1]` (0
    after the last) over `boundaries[i + 1] - boundaries[i]` steps; the last
    level's length is 0 in tf-models (NaN beyond it).
    """
    s = np.asarray(steps, dtype=np.float64) - offset
    lengths = [b - a for a, b in zip(boundaries, boundaries[1:])] + [0]
    nexts = list(values[1:]) + [0.0]
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = (values[0] - nexts[0]) * (np.cos(np.pi * s / lengths[0]) + 1) / 2 + nexts[0]
        for i in range(1, len(values)):
            level = (values[i] - nexts[i]) * (
                np.cos(np.pi * (s - boundaries[i]) / lengths[i]) + 1
            ) / 2 + nexts[i]
            rate = np.where(s >= boundaries[i], level, rate)
    return rate


def optax_cosine_decay(init_value, decay_steps, alpha, exponent, steps):
    """optax `cosine_decay_schedule(init_value, decay_steps, alpha, exponent)`."""
    count = np.minimum(np.asarray(steps, dtype=np.float64), decay_steps)
    cosine = 0.5 * (1 + np.cos(np.pi * count / decay_steps))
    return init_value * ((1 - alpha) * cosine**exponent + alpha)


def optax_piecewise_interpolate(interpolate_type, init_value, boundaries_and_scales, steps):
    """optax `piecewise_interpolate_schedule`: points at the sorted boundaries
    whose values are the running products of the scales."""
    bounds = sorted(boundaries_and_scales)
    points = [0] + bounds
    values = [init_value]
    for b in bounds:
        values.append(values[-1] * boundaries_and_scales[b])
    rates = []
    for step in np.asarray(steps, dtype=np.float64):
        rate = values[-1]
        for i in range(len(points) - 1):
            if points[i] <= step < points[i + 1]:
                pct = (step - points[i]) / (points[i + 1] - points[i])
                if interpolate_type == "cosine":
                    pct = (1 - math.cos(math.pi * pct)) / 2
                rate = values[i] + (values[i + 1] - values[i]) * pct
                break
        rates.append(rate)
    return np.array(rates)


def cooldown(rates_before, start_step, decay_steps, shape, minimum, n):
    """The paper's cooldown (Hägele et al. 2024) after `rates_before`, an
    array of the schedule's rates for steps 0..n-1."""
    peak = rates_before[start_step]
    rates = []
    for step in range(n):
        if step < start_step:
            rates.append(rates_before[step])
            continue
        t = min((step - start_step) / decay_steps, 1.0)
        d = {
            "1-sqrt": 1.0 - math.sqrt(t),
            "linear": 1.0 - t,
            "cosine": (1.0 + math.cos(math.pi * t)) / 2,
        }[shape]
        rates.append(minimum + (peak - minimum) * d)
    return np.array(rates)
