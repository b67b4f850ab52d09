"""The array namespace `xp` a schedule's formula is written against.

A keras_lr schedule is one method, `_formula(step, xp)`, run twice: by
`GraphNamespace` (`keras.ops`, in the compiled train step, on every Keras
backend) and by `HostNamespace` (NumPy in float64, for `numpy(steps)`).
A formula uses only the names below; both namespaces offer exactly these.

Elementwise operations, with NumPy's and `keras.ops`'s meaning (operands
are arrays that broadcast to the step's shape, or Python floats):

    where(condition, x, y)   minimum(x, y)   maximum(x, y)   power(x, y)
    floor(x)   square(x)   sqrt(x)   exp(x)   expm1(x)
    log(x)   log1p(x)   log2(x)   tan(x)
    take(table, indices)     `table[indices]`, a table from `const`

Constants and casts:

    pi, eps                  pi, and the machine epsilon of the compute dtype
    const(value)             a host number or list as a constant of the
                             compute dtype (float64 on the host)
    to_float(x)              an array cast to the compute dtype
    to_index(x)              a whole-valued float array as indices for `take`
    index_table(values)      whole host numbers as a constant that `whole`
                             can be compared with (and `take` from)
    largest_whole()          the largest whole step `whole` can hold

The step. The graph computes in float64 on TensorFlow (and JAX with
`jax_enable_x64`), in float32 on JAX and torch; float32 holds whole numbers
exactly only up to 2**24, so nothing that must be exact is computed from
`step`. The graph keeps the step as a pair: its whole part, in the integer
dtype the optimizer counts in, and a fraction in [0, 1) (non-zero only for
a fractional step, e.g. `Epochs(staircase=False)` handing a fractional epoch
to the schedule it wraps). On the host both are float64, whose integers are
exact up to 2**53.

    step                     the step as a float (the formula's argument)
    whole, frac              its whole part and its fraction (`frac` is
                             None for whole steps: integer steps in the
                             graph, integers given to `numpy()`)

Step arithmetic, exact in its whole part, so that a rate measured from a
boundary keeps its precision in float32:

    divmod(period)           (whole periods elapsed, position in this one)
    cycle(period)            (periods, elapsed, remaining): `divmod` and the
                             distance to the period's end
    since(point)             max(step - point, 0)
    until(point)             max(point - step, 0)
    ahead(whole_part, fractions=0.0, index=None)
                             `whole_part + fraction - frac`: the distance to
                             a point `whole_part` whole steps on (an array of
                             `whole`'s dtype) whose fraction is the host
                             number `fractions` (or `fractions[index]`)
    locate(points)           how many of the sorted whole `points` are
                             <= step, as indices (on the host, one 0-d
                             index where the whole block has the same)
    at_index(function, index)
                             `function(to_float(index))` for indices from
                             `locate`, a function of elementwise operations:
                             on the host it runs once per index in the
                             block's range and is looked up (the peak of
                             each restart, not an exponential per step)
    count_reached(points)    `locate` as a float
    count_passed(points)     how many of the sorted `points` (any real
                             numbers) are < step, as a float

Nested schedules, handed the same exact step (a wrapper's inner schedule):

    schedule(inner, step)             `inner` at the step
    schedule_at(inner, value)         `inner` at a constant whole step
    schedule_since(inner, start)      `inner` at max(step - start, 0)
    schedule_epochs(inner, size, staircase)
                                      `inner` at step / size epochs
                                      (floored with `staircase`)

So graph and host agree to float rounding at every step below 2**24 on
every backend, and each schedule stays within its bounds at every step the
optimizer can count to. The kernels built on these names
(`offset_from`, `offset_to`, `exp_of_product`) are in
`keras_lr.schedules._exact`.
"""

import functools
import math

import numpy as np
from keras import ops

from keras_lr.schedules._exact import fraction_of
from keras_lr.schedules._exact import is_whole
from keras_lr.schedules._exact import split


def _as_graph_number(value):
    if isinstance(value, int) and not isinstance(value, bool) and (
        abs(value) > 2**31 - 1
    ):
        return float(value)
    return value


class HostNamespace:
    """NumPy in float64, on one block of steps (float64, >= 0).

    Args:
        step: the block of steps.
        evaluate: `evaluate(schedule, steps)`, the host values of a nested
            schedule (`keras_lr.schedules.base.evaluate`).
        whole_steps: whether every step is a whole number other than -0.0
            (`numpy()` of integers): then `whole` is `step` and `frac` is
            None, as in the graph for integer steps, and the arithmetic
            that would add a zero fraction is skipped.
    """

    pi = math.pi
    eps = float(np.finfo(np.float64).eps)

    where = staticmethod(np.where)
    minimum = staticmethod(np.minimum)
    maximum = staticmethod(np.maximum)
    power = staticmethod(np.power)
    floor = staticmethod(np.floor)
    square = staticmethod(np.square)
    sqrt = staticmethod(np.sqrt)
    exp = staticmethod(np.exp)
    expm1 = staticmethod(np.expm1)
    log = staticmethod(np.log)
    log1p = staticmethod(np.log1p)
    log2 = staticmethod(np.log2)
    tan = staticmethod(np.tan)
    take = staticmethod(np.take)

    def __init__(self, step, evaluate, whole_steps=False):
        self.step = step
        self._nested = evaluate
        if whole_steps:
            self.whole, self.frac = step, None

    @staticmethod
    def const(value):
        return np.asarray(value, dtype=np.float64)

    @staticmethod
    def to_float(x):
        return np.asarray(x, dtype=np.float64)

    @staticmethod
    def index_table(values):
        return np.asarray(values, dtype=np.float64)

    @staticmethod
    def largest_whole():
        return math.inf

    @staticmethod
    def to_index(x):
        return np.asarray(x).astype(np.int64)

    # Computed once per block, where `__init__` has not set them: a formula
    # reads them several times.
    @functools.cached_property
    def whole(self):
        return np.floor(self.step)

    @functools.cached_property
    def frac(self):
        return self.step - self.whole

    def ahead(self, whole_part, fractions=0.0, index=None):
        # `x - 0.0` is `x`: a whole step subtracts nothing.
        if self.frac is not None:
            whole_part = whole_part - self.frac
        fractions = np.asarray(fractions, dtype=np.float64)
        if not fractions.any():
            # Whole points (the usual table): the same sum, with no `take`.
            return whole_part + 0.0
        fraction = fractions if index is None else np.take(fractions, index)
        return whole_part + fraction

    def divmod(self, period):
        fraction = fraction_of(period, 2**53)
        if fraction is None or fraction[1] == 1:
            # float64 division is correctly rounded, so the floor of a
            # quotient of whole numbers below 2**53 is exact (and several
            # times faster than np.floor_divide's remainder-corrected path).
            cycles = np.floor(self.step / period)
            return cycles, self.step - cycles * period
        numerator, denominator = fraction
        whole_cycles = np.floor(self.step / numerator)
        rest = (self.step - whole_cycles * numerator) * denominator
        extra = np.floor(rest / numerator)
        cycles = whole_cycles * denominator + extra
        return cycles, (rest - extra * numerator) / denominator

    def cycle(self, period):
        cycles, position = self.divmod(period)
        return cycles, position, period - position

    def since(self, point):
        return np.maximum(self.step - point, 0.0)

    def until(self, point):
        return np.maximum(point - self.step, 0.0)

    def locate(self, points):
        return _search(np.asarray(points, dtype=np.float64), self.step, "right")

    def at_index(self, function, index):
        # Elementwise NumPy functions round each element alike wherever it
        # sits in an array, so a table of them looked up is the same bits.
        low, high = int(index.min()), int(index.max())
        values = np.arange(low, high + 1, dtype=np.float64)
        table = np.broadcast_to(function(values), values.shape)
        return np.take(table, index - low)

    def count_reached(self, points):
        return self.locate(points).astype(np.float64)

    def count_passed(self, points):
        return _search(
            np.asarray(points, dtype=np.float64), self.step, "left"
        ).astype(np.float64)

    def schedule(self, schedule, step):
        return self._nested(schedule, step)

    def schedule_at(self, schedule, value):
        return self._nested(schedule, np.asarray([value], dtype=np.float64))

    def schedule_since(self, schedule, start):
        return self._nested(schedule, np.maximum(self.step - start, 0.0))

    def schedule_epochs(self, schedule, size, staircase):
        epochs = self.step / size
        return self._nested(schedule, np.floor(epochs) if staircase else epochs)


# A comparison pass over a block costs about a tenth of a binary search per
# step (`np.searchsorted`), whatever the number of points.
_FEW_POINTS = 4


def _search(points, step, side):
    """`np.searchsorted(points, step, side)`, for sorted host `points`.

    A block of steps usually spans few points (a block of consecutive steps,
    a table of restarts or boundaries): the points below the block's least
    step are counted once, and each point inside its range by comparing.
    Where no point falls inside it, every step has the same count: one
    index, 0-d, which every `take` of it and the result broadcast.
    """
    least, most = (step.min(), step.max()) if step.size else (np.nan, np.nan)
    if not least <= most:  # no steps, or a NaN among them
        return np.searchsorted(points, step, side=side)
    low, high = np.searchsorted(points, [least, most], side=side)
    if high == low:
        return np.asarray(low, dtype=np.intp)
    if high - low > _FEW_POINTS:
        return np.searchsorted(points, step, side=side)
    index = np.full(step.shape, low, dtype=np.intp)
    for point in points[low:high]:
        index += step >= point if side == "right" else step > point
    return index


def _graph_op(op):
    """`op` as a method of the graph namespace. JAX refuses a Python int
    beyond int32 in any operation: host numbers that large enter as floats."""

    def call(self, *args):
        return op(*[_as_graph_number(a) for a in args])

    call.__name__ = op.__name__
    return call


class GraphNamespace:
    """`keras.ops` in the compute dtypes, on a step held as (whole, frac).

    `whole` is a tensor of whole numbers: of the integer dtype when the
    schedule was called with integer steps (the optimizer's case), of the
    float dtype otherwise. `frac` is `None` (no fraction) or a float tensor
    in [0, 1). A fraction such as `into / steps_per_epoch` is rounded, and
    the distance from it to a point just ahead must not inherit that
    rounding magnified: `ratio`, when given, is the fraction as
    `(numerator tensor, denominator)` in whole numbers, and `rest` is
    `1 - frac` as its producer computed it, so that distances ahead are
    taken from the integers (`ahead`).

    `formula_of(schedule)` gives the formula (`_formula(step, xp)`) of a
    nested keras_lr schedule, or None for any other schedule, which is
    called with the step as Keras calls it.
    """

    pi = math.pi

    where = _graph_op(ops.where)
    minimum = _graph_op(ops.minimum)
    maximum = _graph_op(ops.maximum)
    power = _graph_op(ops.power)
    floor = _graph_op(ops.floor)
    square = _graph_op(ops.square)
    sqrt = _graph_op(ops.sqrt)
    exp = _graph_op(ops.exp)
    expm1 = _graph_op(ops.expm1)
    log = _graph_op(ops.log)
    log1p = _graph_op(ops.log1p)
    log2 = _graph_op(ops.log2)
    tan = _graph_op(ops.tan)
    take = _graph_op(ops.take)

    def __init__(
        self, dtype, int_dtype, whole, frac=None, rest=None, ratio=None, *,
        formula_of,
    ):
        self._formula_of = formula_of
        self._dtype = dtype
        self._int_dtype = int_dtype
        self.eps = float(np.finfo(dtype).eps)
        self.whole = whole
        self.frac = frac
        self._rest = None if frac is None else (1.0 - frac if rest is None else rest)
        self._ratio = ratio
        self._integer = "int" in str(whole.dtype)
        self._int_max = int(np.iinfo(int_dtype).max)
        self.step = self.to_float(whole)
        if frac is not None:
            self.step = self.step + frac

    def const(self, value):
        return ops.convert_to_tensor(value, dtype=self._dtype)

    def to_float(self, x):
        return ops.cast(x, self._dtype)

    def index_table(self, values):
        """Whole numbers as a constant the whole part can be compared with."""
        if self._integer:
            values = np.asarray(values, dtype=np.float64)
            # int64's largest value is not a float64 (it rounds up to 2**63,
            # which no int64 holds): the ones beyond it are set as integers.
            beyond = values >= float(self._int_max)
            whole = np.where(beyond, 0.0, values).astype(np.int64)
            whole[beyond] = self._int_max
            return ops.convert_to_tensor(whole.astype(self._int_dtype))
        return self.const(values)

    def to_index(self, x):
        """A whole-valued float tensor as indices for `take`."""
        return ops.cast(x, "int32")

    def largest_whole(self):
        """The largest whole step the whole part can hold."""
        return self._int_max if self._integer else math.inf

    def _fits(self, value):
        """Whether a host whole number can be a constant of the whole part."""
        return not self._integer or abs(value) <= self._int_max

    def _plus_frac(self, whole_part):
        value = self.to_float(whole_part)
        return value if self.frac is None else value + self.frac

    def _minus_frac(self, whole_part):
        """`whole_part - frac`, no cancellation where `whole_part >= 1`."""
        if self.frac is None:
            return self.to_float(whole_part)
        return self.to_float(whole_part - 1) + self._rest

    def ahead(self, whole_part, fractions=0.0, index=None):
        """`whole_part + fraction - frac`: the distance to a point ahead
        whose whole part is `whole_part` steps on and whose fraction is the
        host number `fractions` (or `fractions[index]`).

        With a `ratio` n / d, counted in d-ths of a step: the whole d-ths
        are integers and only the point's own sub-d-th is a float, so a
        point just ahead is as precise as the point itself.
        """
        fractions = np.asarray(fractions, dtype=np.float64)

        def pick(table, as_index=False):
            if index is None:
                return table.item() if not as_index else self.index_table(table)
            if as_index:
                return ops.take(self.index_table(table), index)
            return ops.take(self.const(table), index)

        if self._ratio is None:
            return self._minus_frac(whole_part) + pick(fractions)
        numerator, denominator = self._ratio
        scaled = fractions * denominator
        whole_dths = np.floor(scaled)
        dths = (
            self.to_float(whole_part) * float(denominator)
            + self.to_float(pick(whole_dths, as_index=True) - numerator)
            + pick(scaled - whole_dths)
        )
        return dths / float(denominator)

    def divmod(self, period):
        cycles, position, _ = self.cycle(period)
        return cycles, position

    def cycle(self, period):
        """`(whole periods, elapsed, remaining)` in the current period.

        `elapsed + remaining == period`, each with its whole part exact and
        the step's fraction added last, so both ends keep their precision.
        """
        if not is_whole(period):
            return self._divmod_fractional(period)
        period = int(period)
        if not self._fits(period):
            # No step the whole part can hold reaches the first period.
            return ops.zeros_like(self.step), self.step, float(period) - self.step
        cycles = ops.floor_divide(self.whole, period)
        into = self.whole - cycles * period
        return self.to_float(cycles), self._plus_frac(into), self.ahead(period - into)

    def _divmod_fractional(self, period):
        # A period of n / d steps (3906.25 = 15625 / 4, 1000 / 3) is divided
        # exactly as whole numbers, as the host does: floor(whole * d / n),
        # written as q * d + (r * d) // n with (q, r) = divmod(whole, n) so
        # that nothing exceeds n * d.
        if self._integer:
            largest = min(self._int_max, 2**53)  # and what the host divides
        else:
            largest = 2**53 if self.eps < 1e-10 else 2**24
        fraction = fraction_of(period, largest)
        if fraction is not None:
            numerator, denominator = fraction
            q = ops.floor_divide(self.whole, numerator)
            scaled = (self.whole - q * numerator) * denominator
            extra = ops.floor_divide(scaled, numerator)
            cycles = self.to_float(q) * denominator + self.to_float(extra)
            rem = scaled - extra * numerator  # position = rem / d, in [0, n / d)
            if self.frac is None:
                position = self.to_float(rem) / denominator
                return cycles, position, self.to_float(numerator - rem) / denominator
            return self._carry_frac(cycles, rem, numerator, denominator)
        # Any other fractional period: float division, whose rounding can
        # move a staircase step near an exact multiple (documented).
        cycles = ops.floor_divide(self.step, self.const(period))
        position = self.step - cycles * period
        return cycles, position, period - position

    def _carry_frac(self, cycles, rem, numerator, denominator):
        """Adds the step's fraction to a position of `rem / d` in a period of
        `n / d` steps, carrying into the next period where they reach it:
        in whole (d * den)-ths when the fraction is a ratio that small."""
        if self._ratio is not None and (
            (numerator + denominator) * self._ratio[1] <= self._int_max
        ):
            num, den = self._ratio
            # position and remaining in (d * den)-ths, both whole numbers.
            units = rem * den + num * denominator
            carry = units >= numerator * den
            units = ops.where(carry, units - numerator * den, units)
            scale = float(denominator * den)
            return (
                cycles + self.to_float(carry),
                self.to_float(units) / scale,
                self.to_float(numerator * den - units) / scale,
            )
        period = numerator / denominator
        position = self.to_float(rem) / denominator + self.frac
        carry = position >= period
        position = ops.where(carry, position - period, position)
        return cycles + self.to_float(carry), position, period - position

    def _offset(self, point):
        """`step - point` as a float whose whole part was computed exactly."""
        whole, frac = split(point)
        if not self._fits(whole):
            return self.step - self.const(point)
        difference = self.to_float(self.whole - whole)
        if self.frac is not None:
            difference = difference + self.frac
        return difference - frac if frac else difference

    def since(self, point):
        return ops.maximum(self._offset(point), self.const(0.0))

    def until(self, point):
        whole, frac = split(point)
        if not self._fits(whole):
            return ops.maximum(self.const(point) - self.step, self.const(0.0))
        return ops.maximum(self.ahead(whole - self.whole, frac), self.const(0.0))

    def locate(self, points):
        """The number of the sorted whole `points` that are <= step (int32)."""
        points = [p for p in points if self._fits(p)]
        if not points:
            return ops.zeros_like(self.whole, dtype="int32")
        return ops.cast(
            ops.searchsorted(self.index_table(points), self.whole, side="right"),
            "int32",
        )

    def at_index(self, function, index):
        return function(self.to_float(index))

    def count_reached(self, points):
        return self.to_float(self.locate(points))

    def count_passed(self, points):
        """How many of the sorted `points` are < step (any real points)."""
        if self.frac is None:
            # A whole step is past `p` from step floor(p) + 1 on.
            return self.count_reached([math.floor(p) + 1 for p in points])
        return self.to_float(
            ops.searchsorted(self.const(points), self.step, side="left")
        )

    def _evaluate(self, schedule, whole, frac, rest=None, ratio=None):
        formula = self._formula_of(schedule)
        if formula is not None:
            inner = GraphNamespace(
                self._dtype, self._int_dtype, whole, frac, rest, ratio,
                formula_of=self._formula_of,
            )
            return formula(inner.step, inner)
        value = whole if frac is None else self.to_float(whole) + frac
        return ops.cast(schedule(value), self._dtype)

    def schedule(self, schedule, step):
        if step is self.step:
            return self._evaluate(
                schedule, self.whole, self.frac, self._rest, self._ratio
            )
        return ops.cast(schedule(step), self._dtype)

    def schedule_at(self, schedule, value):
        whole = ops.convert_to_tensor(
            [int(value)], dtype=self._int_dtype if self._integer else self._dtype
        )
        return self._evaluate(schedule, whole, None)

    def schedule_since(self, schedule, start):
        if not self._fits(start):
            return self.schedule_at(schedule, 0)
        whole = self.whole - start
        before = whole < 0
        frac, rest, ratio = self.frac, self._rest, self._ratio
        if frac is not None:
            frac = ops.where(before, ops.zeros_like(frac), frac)
            rest = ops.where(before, ops.ones_like(rest), rest)
        if ratio is not None:
            ratio = (ops.where(before, ops.zeros_like(ratio[0]), ratio[0]), ratio[1])
        return self._evaluate(
            schedule, ops.where(before, ops.zeros_like(whole), whole), frac, rest,
            ratio,
        )

    def schedule_epochs(self, schedule, size, staircase):
        if self._fits(size):
            epochs = ops.floor_divide(self.whole, size)
            into = self.whole - epochs * size
        else:
            epochs, into = ops.zeros_like(self.whole), self.whole
        if staircase:
            return self._evaluate(schedule, epochs, None)
        # The position in the epoch, from both of its ends (`size - into >= 1`),
        # and as the ratio it is when the step is whole.
        ratio = None
        if self._integer and self._fits(size):
            if self.frac is None:
                ratio = (into, int(size))
            elif self._ratio is not None and self._fits(size * self._ratio[1]):
                # A fraction of a fraction (epochs of epochs): in finer units.
                num, den = self._ratio
                ratio = (into * den + num, int(size) * den)
        if ratio is not None:
            num, den = ratio
            return self._evaluate(
                schedule, epochs, self.to_float(num) / float(den),
                self.to_float(den - num) / float(den), ratio,
            )
        return self._evaluate(
            schedule,
            epochs,
            self._plus_frac(into) / float(size),
            self._minus_frac(size - into) / float(size),
        )

