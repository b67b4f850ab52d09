"""The ramps every keras_lr schedule is built from, written once.

A warmup, an anneal, a cycle's rise and a decay's tail are all a ramp
between a low and a high rate; what differs is the shape (linear, cosine,
1-sqrt) and the direction. Each ramp is measured from the end it is close
to, so a rate approaching either end keeps its precision in float32.
"""

import math


def cosine_factor(remaining, period, xp):
    """`(1 + cos(pi * (period - remaining) / period)) / 2`, without cancellation.

    That is `sin(theta) ** 2` with `theta = pi/2 * remaining / period`, which
    keeps full relative precision as `remaining` reaches 0. It is computed
    as `tan(theta)**2 / (1 + tan(theta)**2)`: the same value, and NumPy's
    float64 `tan` is about 8x faster than its `sin` (which is what keeps
    `numpy()` over a million steps within budget).
    """
    tangent = xp.square(xp.tan((0.5 * math.pi) * remaining / period))
    return tangent / (1.0 + tangent)


def ramp(low, high, near, shape, xp, far=None):
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
        factor = cosine_factor(near, 1.0, xp)
    elif shape == "1-sqrt":
        # 1 - sqrt(x) == (1 - x) / (1 + sqrt(x)): exact as x approaches 1.
        factor = near / (1.0 + xp.sqrt(far))
    else:
        raise ValueError(f"Unknown ramp shape: {shape!r}")
    return low * (1.0 - factor) + high * factor


def between(start, end, near_start, near_end, shape, xp):
    """A ramp from rate `start` to rate `end`, either way up.

    `near_start` and `near_end` are the distances from the ramp's start and
    end, as fractions of its length; the one measured from the lower rate is
    used, as `ramp` needs.
    """
    if end >= start:
        return ramp(start, end, near_start, shape, xp, far=near_end)
    return ramp(end, start, near_end, shape, xp, far=near_start)
