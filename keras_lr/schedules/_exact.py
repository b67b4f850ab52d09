"""Exact arithmetic on steps: the kernels the namespaces and formulas share.

A step the optimizer counts is a whole number; float32 holds whole numbers
exactly only up to 2**24, and float64 up to 2**53. These kernels keep the
part of a result that must be exact (a whole number of steps, a period, a
distance to a boundary) in whole numbers, and add the rounded part last, so
a rate near a boundary keeps its precision in float32 too:

- `split`, `is_whole`, `fraction_of`, `whole_parts`: host numbers taken
  apart into the whole numbers and fractions that the step arithmetic uses;
- `offset_from`, `offset_to`: the distance from or to a point of a host
  table, for any array namespace `xp` (see `keras_lr.schedules._xp`);
- `exp_of_product`: `scale * exp(n * c)`, exact in float32 as well.
"""

import math
from fractions import Fraction

import numpy as np

from keras_lr._validation import MAX_RATE

_EXACT_STEPS = 2**24  # whole numbers float32 holds exactly
_TINY = float(np.finfo(np.float32).tiny)


def split(point):
    """A host number as (whole part, fraction in [0, 1)), both exact."""
    whole = math.floor(point)
    return whole, point - whole


def is_whole(value):
    return float(value).is_integer()


def fraction_of(period, largest):
    """`period` as `(n, d)` whole numbers with `n / d == period`, or None.

    `d` is at most 2**20, and `n * d` at most `largest` (what the integer
    arithmetic dividing by it can hold). A decimal such as 1000 / 3 is taken
    as the fraction it rounds (to within a few float64 ulps), so that a
    staircase switches at step 1000, as the user meant, on every backend.
    """
    fraction = Fraction(period).limit_denominator(2**20)
    numerator, denominator = fraction.numerator, fraction.denominator
    if abs(numerator / denominator - period) > 4e-16 * abs(period):
        return None
    if numerator < 1 or numerator * denominator > largest:
        return None
    return numerator, denominator


def whole_parts(points):
    """A host table of points as float64, and their whole parts (capped far
    beyond any step, so that they stay integers)."""
    points = np.asarray(points, dtype=np.float64)
    return points, np.floor(np.minimum(points, 2.0**62))


def offset_from(xp, points, index):
    """`step - points[index]` for a host table `points`, exact in its whole part.

    `index` is an integer tensor (from `xp.locate`); points beyond what the
    step's whole part can hold count only in their float value.
    """
    points, wholes = whole_parts(points)
    whole = xp.to_float(xp.whole - xp.take(xp.index_table(wholes), index))
    fractions = points - wholes
    if not fractions.any():
        # Whole points (the usual table): `x - 0.0` is `x`, so no `take`.
        return whole if xp.frac is None else whole + xp.frac
    fraction = xp.take(xp.const(fractions), index)
    if xp.frac is not None:
        return whole + (xp.frac - fraction)
    return whole - fraction


def offset_to(xp, points, index):
    """`points[index] - step`, the distance to a point ahead, measured as
    `offset_from` is (no cancellation from the step's fraction)."""
    points, wholes = whole_parts(points)
    whole = xp.take(xp.index_table(wholes), index) - xp.whole
    ahead = xp.ahead(whole, points - wholes, index)
    fits = wholes <= xp.largest_whole()
    if fits.all():
        return ahead
    # Points beyond what the whole part holds: their float distance (far).
    far = xp.take(xp.const(points), index) - xp.step
    return xp.where(xp.take(xp.const(fits.astype(np.float64)), index) > 0, ahead, far)


def exp_of_product(n, c, xp, scale=1.0):
    """`scale * exp(n * c)` for `n >= 0` and host floats `c`, `scale >= 0`.

    Exact in float32 too. A plain `exp(n * c)` in float32 carries the
    rounding of the product, about `6e-8 * |n * c|` relative: an exponential
    decay by a factor of 1e5 would be off by 1e-6. In float32, for whole
    `n < 2**24`, it is looked up instead as `A[n // K] * B[n % K]` in two
    tables computed on the host in float64 (`A[h] = scale * exp(h * K * c)`,
    `B[k] = exp(k * c)`): two roundings whatever `n * c` is, and nothing a
    compiler can fuse back into one inexact exponential (XLA rewrites
    `exp(a) * exp(b)` as `exp(a + b)`). The block `K` (a power of two, at
    most 4096) keeps `B` within `exp(+-40)`, so neither table leaves
    float32's range before the product does, and `A` stops where the rate
    leaves it (saturated or below float32's smallest normal number). A
    fractional part of `n` multiplies by `exp(fraction * c)`; beyond 2**24
    steps the plain exponential keeps the rate within its bounds.

    A growing exponential (`c > 0`) saturates at `MAX_RATE`, never `inf`,
    so no `inf * 0` can make a NaN downstream.
    """
    if c == 0.0 or scale == 0.0:
        return xp.exp(n * 0.0) * scale
    if xp.eps < 1e-10:  # float64: the product's rounding is far below 1e-6
        value = _plain_exp(n, c, scale, xp)
    else:
        block = 2 ** min(12, max(0, math.floor(math.log2(40.0 / abs(c)))))
        # Steps until the rate leaves float32's range (saturates or
        # underflows): A need not go further.
        if c > 0:
            span = (math.log(MAX_RATE) - math.log(scale)) / c
        else:
            span = (math.log(scale) - math.log(_TINY)) / -c
        blocks = int(min(_EXACT_STEPS / block, max(0.0, span) // block + 2))
        with np.errstate(over="ignore", under="ignore"):
            high_table = scale * np.exp(np.arange(blocks) * (block * c))
            low_table = np.exp(np.arange(block) * c)
        if n is xp.step and xp.frac is not None:
            # The step's own parts: `floor(step)` of a rounded float32 step
            # would lose the fraction's precision.
            whole, fraction = xp.to_float(xp.whole), xp.frac
        else:
            whole = xp.floor(n)
            fraction = n - whole
        high = xp.floor(whole / block)  # a power of 2: exact
        low = whole - high * block
        looked_up = xp.take(
            xp.const(np.minimum(high_table, MAX_RATE)),
            xp.to_index(xp.minimum(high, blocks - 1.0)),
        ) * xp.take(xp.const(low_table), xp.to_index(low))
        looked_up = looked_up * xp.exp(fraction * c)
        value = xp.where(
            whole < blocks * block, looked_up, _plain_exp(n, c, scale, xp)
        )
    if c > 0:
        value = xp.minimum(value, MAX_RATE)
    return value


def _plain_exp(n, c, scale, xp):
    """`scale * exp(n * c)` as one exponential of a sum, capped before it
    overflows: `scale * inf` would be NaN where a subnormal scale is flushed
    to 0 (TensorFlow's CPU kernels)."""
    exponent = n * c + math.log(scale)
    if c > 0:
        exponent = xp.minimum(exponent, math.log(MAX_RATE) + 1.0)
    return xp.exp(exponent)
