"""Argument checks shared by every keras_lr schedule and callback.

Each check returns the normalized value, or raises a Keras-style error that
names the argument and echoes what it received:

    ValueError: Argument `decay_steps` must be a positive integer.
    Received: decay_steps=0
"""

import math
import numbers

import numpy as np


def _fail(name, requirement, value, error=ValueError):
    raise error(
        f"Argument `{name}` must be {requirement}. Received: {name}={value!r}"
    )


def _is_number(value):
    return isinstance(value, (numbers.Real, np.floating, np.integer)) and not (
        isinstance(value, (bool, np.bool_))
    )


def check_number(name, value, *, minimum=None, maximum=None, open_min=False):
    """A finite real number (not a bool), optionally within bounds.

    `open_min=True` excludes `minimum` itself.
    """
    if minimum is None:
        requirement = "a finite number"
    elif maximum is None:
        relation = ">" if open_min else ">="
        requirement = f"a finite number {relation} {minimum:g}"
    else:
        low = "(" if open_min else "["
        requirement = f"a finite number in {low}{minimum:g}, {maximum:g}]"
    if not _is_number(value):
        _fail(name, requirement, value, TypeError)
    value = float(value)
    if not math.isfinite(value):
        _fail(name, requirement, value)
    if minimum is not None and (
        value < minimum or (open_min and value == minimum)
    ):
        _fail(name, requirement, value)
    if maximum is not None and value > maximum:
        _fail(name, requirement, value)
    return value


def check_learning_rate(name, value):
    """A finite learning rate >= 0."""
    requirement = "a non-negative finite number"
    if not _is_number(value):
        _fail(name, requirement, value, TypeError)
    value = float(value)
    if not math.isfinite(value) or value < 0:
        _fail(name, requirement, value)
    return value


def _as_integer(name, value, requirement):
    if not _is_number(value):
        _fail(name, requirement, value, TypeError)
    if isinstance(value, (numbers.Integral, np.integer)):
        return int(value)
    value = float(value)
    if not math.isfinite(value) or not value.is_integer():
        _fail(name, requirement, value)
    return int(value)


def check_positive_int(name, value):
    """An integer >= 1 (an integral float such as `1000.0` is accepted)."""
    requirement = "a positive integer"
    result = _as_integer(name, value, requirement)
    if result < 1:
        _fail(name, requirement, value)
    return result


def check_non_negative_int(name, value):
    """An integer >= 0 (an integral float is accepted)."""
    requirement = "a non-negative integer"
    result = _as_integer(name, value, requirement)
    if result < 0:
        _fail(name, requirement, value)
    return result


def check_bool(name, value):
    if not isinstance(value, (bool, np.bool_)):
        _fail(name, "a bool", value, TypeError)
    return bool(value)


def check_choice(name, value, choices):
    if not isinstance(value, str) or value not in choices:
        options = ", ".join(f'"{c}"' for c in choices)
        _fail(name, f"one of {options}", value)
    return value


def _as_list(name, value, requirement):
    if isinstance(value, (str, bytes, dict)) or value is None:
        _fail(name, requirement, value, TypeError)
    try:
        return list(value)
    except TypeError:
        _fail(name, requirement, value, TypeError)


def check_steps(name, value, *, min_length=1):
    """A strictly increasing list of non-negative integer steps."""
    requirement = (
        "a strictly increasing sequence of non-negative integers"
        + (f" with at least {min_length} elements" if min_length > 1 else "")
    )
    items = _as_list(name, value, requirement)
    if len(items) < min_length:
        _fail(name, requirement, value)
    steps = []
    for item in items:
        if not _is_number(item):
            _fail(name, requirement, value, TypeError)
        if float(item) != math.floor(float(item)) or float(item) < 0:
            _fail(name, requirement, value)
        steps.append(int(item))
    if any(b <= a for a, b in zip(steps, steps[1:])):
        _fail(name, requirement, value)
    return steps


def check_learning_rates(name, value, *, min_length=1):
    """A list of non-negative finite learning rates."""
    requirement = "a sequence of non-negative finite numbers"
    items = _as_list(name, value, requirement)
    if len(items) < min_length:
        _fail(name, f"{requirement} with at least {min_length} elements", value)
    rates = []
    for item in items:
        if not _is_number(item):
            _fail(name, requirement, value, TypeError)
        if not math.isfinite(float(item)) or float(item) < 0:
            _fail(name, requirement, value)
        rates.append(float(item))
    return rates


def check_not_above(name, value, other_name, other):
    """`value <= other`, e.g. a minimum rate not above the initial rate."""
    if value > other:
        _fail(name, f"<= `{other_name}` ({other!r})", value)
    return value


def check_schedule(name, value):
    """A `keras.optimizers.schedules.LearningRateSchedule` instance."""
    import keras

    if not isinstance(value, keras.optimizers.schedules.LearningRateSchedule):
        _fail(
            name,
            "a `keras.optimizers.schedules.LearningRateSchedule` instance",
            value,
            TypeError,
        )
    return value
