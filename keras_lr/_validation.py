"""Argument checks shared by every keras_lr schedule and callback.

Each check returns the normalized value, or raises a Keras-style error that
names the argument and echoes what it received:

    ValueError: Argument `decay_steps` must be a positive integer.
    Received: decay_steps=0
"""

import math
import numbers

import numpy as np

#: The largest learning rate accepted: float32's largest finite number, so
#: that no rate overflows the float32 a model computes in.
MAX_RATE = float(np.finfo(np.float32).max)
#: The largest step count accepted: every whole number up to it is exact in
#: float64, the host's dtype.
MAX_STEPS = 2**53


def _fail(name, requirement, value, error=ValueError):
    raise error(
        f"Argument `{name}` must be {requirement}. Received: {name}={value!r}"
    )


def _is_number(value):
    return isinstance(value, (numbers.Real, np.floating, np.integer)) and not (
        isinstance(value, (bool, np.bool_))
    )


def _as_float(name, requirement, value, shown=None):
    """`float(value)`, or the Keras-style error for a number beyond float64."""
    try:
        return float(value)
    except OverflowError:
        _fail(name, requirement, value if shown is None else shown)


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
    value = _as_float(name, requirement, value)
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
    """A learning rate in [0, MAX_RATE]."""
    requirement = "a non-negative finite number"
    if not _is_number(value):
        _fail(name, requirement, value, TypeError)
    value = _as_float(name, requirement, value)
    if not math.isfinite(value) or value < 0:
        _fail(name, requirement, value)
    if value > MAX_RATE:
        _fail(name, f"at most float32's largest number ({MAX_RATE:.8g})", value)
    return value


def _as_integer(name, value, requirement):
    if not _is_number(value):
        _fail(name, requirement, value, TypeError)
    if isinstance(value, (numbers.Integral, np.integer)):
        result = int(value)
    else:
        number = _as_float(name, requirement, value)
        if not math.isfinite(number) or not number.is_integer():
            _fail(name, requirement, value)
        result = int(number)
    if result > MAX_STEPS:
        _fail(name, f"at most 2**53 ({MAX_STEPS})", value)
    return result


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


#: The smallest non-zero step count accepted: a schedule divides by it.
MIN_STEPS = 2.0**-20


def check_step_count(name, value, *, allow_zero=False):
    """A number of steps, whole or fractional (Keras accepts `decay_steps=
    len(x) / batch_size * epochs`), in [2**-20, 2**53] (or 0 too).

    Returns an int for a whole number, else the float.
    """
    requirement = (
        "0 or a number >= 2**-20" if allow_zero else "a number >= 2**-20"
    )
    if not _is_number(value):
        _fail(name, requirement, value, TypeError)
    number = _as_float(name, requirement, value)
    if not math.isfinite(number) or number < 0 or (number == 0 and not allow_zero):
        _fail(name, requirement, value)
    if 0 < number < MIN_STEPS:
        _fail(name, requirement, value)
    if number > MAX_STEPS:
        _fail(name, f"at most 2**53 ({MAX_STEPS})", value)
    return int(number) if number.is_integer() else number


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
        number = _as_float(name, requirement, item, shown=value)
        if not math.isfinite(number) or not number.is_integer() or number < 0:
            _fail(name, requirement, value)
        if number > MAX_STEPS:
            _fail(name, f"a sequence of steps at most 2**53 ({MAX_STEPS})", value)
        steps.append(int(number))
    if any(b <= a for a, b in zip(steps, steps[1:])):
        _fail(name, requirement, value)
    return steps


def check_boundaries(name, value):
    """Strictly increasing finite numbers within 2**53 of 0, fractional too
    (Keras's `PiecewiseConstantDecay` compares steps with any numbers).

    Whole numbers given as ints stay ints (a config echoes what was given).
    """
    requirement = (
        "a non-empty, strictly increasing sequence of finite numbers within "
        "2**53 of 0"
    )
    items = _as_list(name, value, requirement)
    parsed = []
    for item in items:
        if not _is_number(item):
            _fail(name, requirement, value, TypeError)
        number = _as_float(name, requirement, item, shown=value)
        if not math.isfinite(number) or abs(number) > MAX_STEPS:
            _fail(name, requirement, value)
        parsed.append(number)
    if not parsed or any(b <= a for a, b in zip(parsed, parsed[1:])):
        _fail(name, requirement, value)
    return [
        int(item) if isinstance(item, (numbers.Integral, np.integer)) else number
        for item, number in zip(items, parsed)
    ]


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
        number = _as_float(name, requirement, item, shown=value)
        if not math.isfinite(number) or number < 0:
            _fail(name, requirement, value)
        if number > MAX_RATE:
            _fail(name, f"a sequence of rates at most {MAX_RATE:.8g}", value)
        rates.append(number)
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


def check_name(name, value):
    """A name (a non-empty string), as Keras's schedules take for `name`."""
    if not isinstance(value, str) or not value:
        _fail(name, "a non-empty string", value, TypeError)
    return value


def stored_value(store, key):
    """The number saved under `key` in a weights store, as a Python number
    of the stored kind (so that the checks above see a bool as a bool, and
    echo the value plainly), or a Keras-style error.

    A callback's state in a weights file is one scalar per key; anything
    else (an array, a string, an edited dtype) is refused here.
    """
    array = np.asarray(store[key])
    if array.shape != () or array.dtype.kind not in "biuf":
        _fail(key, "a single number", array, TypeError)
    return array[()].item()


def invalid_state(what, source, error):
    """The error for state read back from a file that its checks refused.

    `source` is the file's path, or `None` when unknown.
    """
    where = "a weights file" if source is None else f"the weights file {source!r}"
    return ValueError(
        f"The {what} saved in {where} is invalid, so it was not loaded: {error}"
    )
