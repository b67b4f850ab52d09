"""The one base class of keras_lr schedules: a formula written once, run twice.

A keras_lr schedule is a pure function of the optimizer step (no state, no
hidden counter), so resuming, logging and plotting never need to replay
training. Each subclass declares its constructor and one method,
`_formula(step, xp)`, written against an array namespace `xp`:

- in the compiled train step, `xp` is backed by `keras.ops`, so the schedule
  runs on every Keras backend (TensorFlow, JAX, torch), inside `tf.function`
  (also with `jit_compile=True`), under `jax.jit` and in torch's eager step;
- on the host, `xp` is backed by NumPy in float64, which is what
  `numpy(steps)` uses for plots and for per-step TensorBoard logging without
  a device read.

`keras.ops` and NumPy share the names the formulas need (`where`, `sin`,
`exp`, `minimum`, `take`, ...); the namespace adds `xp.const(value)` (a
constant in the compute dtype), `xp.to_float(x)`, `xp.eps` and `xp.pi`, and
the step arithmetic below.

Exact step arithmetic. `step` (the formula's argument) is the step as a
float of the compute dtype: float64 on TensorFlow (and JAX with
`jax_enable_x64`), float32 on JAX and torch. float32 holds whole numbers
exactly only up to 2**24, so nothing that must be exact is computed from it.
The graph keeps the step as a pair: its whole part, in the integer dtype the
optimizer counts in (int64, or int32 on JAX and torch), and a fraction in
[0, 1) (non-zero only for a fractional step, e.g. `Epochs(staircase=False)`
handing a fractional epoch to the schedule it wraps). Formulas ask the
namespace for what they need from it:

- `xp.divmod(period)`: whole periods elapsed and the position in the current
  one, both exact (integer division of the whole part); `xp.cycle(period)`
  adds the distance to the period's end, as exact;
- `xp.since(point)`, `xp.until(point)`: `max(step - point, 0)` and
  `max(point - step, 0)`, exact in their whole part, so a rate measured from
  the end of a decay keeps its precision in float32;
- `xp.count_reached(points)`: how many of the sorted integer `points` are
  <= step (boundaries, milestones), compared as integers;
- `xp.schedule(inner, xp.step)`, `xp.schedule_since(inner, start)`,
  `xp.schedule_epochs(inner, size, staircase)`: a nested schedule at the
  step, at `step - start`, or counting epochs, handed the same exact pair;
  `xp.schedule_at(inner, value)` at a constant step.

On the host these are the same formulas in float64, whose integers are exact
up to 2**53. So graph and host agree to float rounding at every step below
2**24 on every backend, and each schedule stays within its bounds at every
step the optimizer can count to.
"""

import inspect
import math
from fractions import Fraction

import keras
import numpy as np
from keras import ops

from keras_lr import _validation

_LearningRateSchedule = keras.optimizers.schedules.LearningRateSchedule

#: The largest finite float32: no keras_lr schedule returns a larger rate.
MAX_RATE = _validation.MAX_RATE


def _compute_dtypes():
    """`(float dtype, integer dtype)` the graph computes a schedule in.

    Keras's torch backend promotes mixed float64 operands to float32 (and
    int64 to int32), so torch computes in float32 throughout, like JAX
    without x64; its optimizer counts steps in int32 anyway.
    """
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        if jax.config.jax_enable_x64:
            return "float64", "int64"
        return "float32", "int32"
    if backend == "tensorflow":
        return "float64", "int64"
    return "float32", "int32"


def _compute_dtype():
    return _compute_dtypes()[0]


def _split(point):
    """A host number as (whole part, fraction in [0, 1)), both exact."""
    whole = math.floor(point)
    return whole, point - whole


def _is_whole(value):
    return float(value).is_integer()


def _fraction(period, largest):
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


def _as_graph_number(value):
    if isinstance(value, int) and not isinstance(value, bool) and (
        abs(value) > 2**31 - 1
    ):
        return float(value)
    return value


class _HostNamespace:
    """NumPy in float64, on one block of steps (float64, >= 0)."""

    pi = math.pi
    eps = float(np.finfo(np.float64).eps)

    def __init__(self, step):
        self.step = step

    def __getattr__(self, name):
        return getattr(np, name)

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

    @property
    def whole(self):
        return np.floor(self.step)

    @property
    def frac(self):
        return self.step - np.floor(self.step)

    def _minus_frac(self, whole_part):
        return whole_part - self.frac

    def _ahead(self, whole_part, fractions=0.0, index=None):
        fractions = np.asarray(fractions, dtype=np.float64)
        fraction = fractions if index is None else np.take(fractions, index)
        return whole_part - self.frac + fraction

    def divmod(self, period):
        fraction = _fraction(period, 2**53)
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
        return np.searchsorted(
            np.asarray(points, dtype=np.float64), self.step, side="right"
        )

    def count_reached(self, points):
        return self.locate(points).astype(np.float64)

    def count_passed(self, points):
        return np.searchsorted(
            np.asarray(points, dtype=np.float64), self.step, side="left"
        ).astype(np.float64)

    def schedule(self, schedule, step):
        return evaluate(schedule, step)

    def schedule_at(self, schedule, value):
        return evaluate(schedule, np.asarray([value], dtype=np.float64))

    def schedule_since(self, schedule, start):
        return evaluate(schedule, np.maximum(self.step - start, 0.0))

    def schedule_epochs(self, schedule, size, staircase):
        epochs = self.step / size
        return evaluate(schedule, np.floor(epochs) if staircase else epochs)



class _GraphNamespace:
    """`keras.ops` in the compute dtypes, on a step held as (whole, frac).

    `whole` is a tensor of whole numbers: of the integer dtype when the
    schedule was called with integer steps (the optimizer's case), of the
    float dtype otherwise. `frac` is `None` (no fraction) or a float tensor
    in [0, 1). A fraction such as `into / steps_per_epoch` is rounded, and
    the distance from it to a point just ahead must not inherit that
    rounding magnified: `ratio`, when given, is the fraction as
    `(numerator tensor, denominator)` in whole numbers, and `rest` is
    `1 - frac` as its producer computed it, so that distances ahead are
    taken from the integers (`_ahead`).
    """

    pi = math.pi

    def __init__(self, dtype, int_dtype, whole, frac=None, rest=None, ratio=None):
        self.dtype = dtype
        self.int_dtype = int_dtype
        self.eps = float(np.finfo(dtype).eps)
        self.whole = whole
        self.frac = frac
        self.rest = None if frac is None else (1.0 - frac if rest is None else rest)
        self.ratio = ratio
        self._integer = "int" in str(whole.dtype)
        self._int_max = int(np.iinfo(int_dtype).max)
        self.step = self.to_float(whole)
        if frac is not None:
            self.step = self.step + frac

    def __getattr__(self, name):
        op = getattr(ops, name)

        def call(*args, **kwargs):
            # JAX refuses a Python int beyond int32 in any operation: host
            # numbers that large enter as floats.
            args = [_as_graph_number(a) for a in args]
            return op(*args, **kwargs)

        return call

    def const(self, value):
        return ops.convert_to_tensor(value, dtype=self.dtype)

    def to_float(self, x):
        return ops.cast(x, self.dtype)

    def index_table(self, values):
        """Whole numbers as a constant the whole part can be compared with."""
        if self._integer:
            values = np.asarray(values, dtype=np.float64)
            # int64's largest value is not a float64 (it rounds up to 2**63,
            # which no int64 holds): the ones beyond it are set as integers.
            beyond = values >= float(self._int_max)
            whole = np.where(beyond, 0.0, values).astype(np.int64)
            whole[beyond] = self._int_max
            return ops.convert_to_tensor(whole.astype(self.int_dtype))
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
        return self.to_float(whole_part - 1) + self.rest

    def _ahead(self, whole_part, fractions=0.0, index=None):
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

        if self.ratio is None:
            return self._minus_frac(whole_part) + pick(fractions)
        numerator, denominator = self.ratio
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
        if not _is_whole(period):
            return self._divmod_fractional(period)
        period = int(period)
        if not self._fits(period):
            # No step the whole part can hold reaches the first period.
            return ops.zeros_like(self.step), self.step, float(period) - self.step
        cycles = ops.floor_divide(self.whole, period)
        into = self.whole - cycles * period
        return self.to_float(cycles), self._plus_frac(into), self._ahead(period - into)

    def _divmod_fractional(self, period):
        # A period of n / d steps (3906.25 = 15625 / 4, 1000 / 3) is divided
        # exactly as whole numbers, as the host does: floor(whole * d / n),
        # written as q * d + (r * d) // n with (q, r) = divmod(whole, n) so
        # that nothing exceeds n * d.
        if self._integer:
            largest = min(self._int_max, 2**53)  # and what the host divides
        else:
            largest = 2**53 if self.eps < 1e-10 else 2**24
        fraction = _fraction(period, largest)
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
        if self.ratio is not None and (
            (numerator + denominator) * self.ratio[1] <= self._int_max
        ):
            num, den = self.ratio
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
        whole, frac = _split(point)
        if not self._fits(whole):
            return self.step - self.const(point)
        difference = self.to_float(self.whole - whole)
        if self.frac is not None:
            difference = difference + self.frac
        return difference - frac if frac else difference

    def since(self, point):
        return ops.maximum(self._offset(point), self.const(0.0))

    def until(self, point):
        whole, frac = _split(point)
        if not self._fits(whole):
            return ops.maximum(self.const(point) - self.step, self.const(0.0))
        return ops.maximum(self._ahead(whole - self.whole, frac), self.const(0.0))

    def locate(self, points):
        """The number of the sorted whole `points` that are <= step (int32)."""
        points = [p for p in points if self._fits(p)]
        if not points:
            return ops.zeros_like(self.whole, dtype="int32")
        return ops.cast(
            ops.searchsorted(self.index_table(points), self.whole, side="right"),
            "int32",
        )

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
        if isinstance(schedule, Schedule):
            return schedule._graph(
                whole, frac, self.dtype, self.int_dtype, rest, ratio
            )
        value = whole if frac is None else self.to_float(whole) + frac
        return ops.cast(schedule(value), self.dtype)

    def schedule(self, schedule, step):
        if step is self.step:
            return self._evaluate(
                schedule, self.whole, self.frac, self.rest, self.ratio
            )
        return ops.cast(schedule(step), self.dtype)

    def schedule_at(self, schedule, value):
        whole = ops.convert_to_tensor(
            [int(value)], dtype=self.int_dtype if self._integer else self.dtype
        )
        return self._evaluate(schedule, whole, None)

    def schedule_since(self, schedule, start):
        if not self._fits(start):
            return self.schedule_at(schedule, 0)
        whole = self.whole - start
        before = whole < 0
        frac, rest, ratio = self.frac, self.rest, self.ratio
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
            elif self.ratio is not None and self._fits(size * self.ratio[1]):
                # A fraction of a fraction (epochs of epochs): in finer units.
                num, den = self.ratio
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


_HOST_BLOCK = 65536


class Schedule(_LearningRateSchedule):
    """Base class of every keras_lr learning rate schedule.

    Subclasses validate their arguments in `__init__`, store each under its
    own name (so `get_config` can echo the constructor signature), and
    implement `_formula(step, xp)`, where `step` is a float array of
    non-negative steps and `xp` is the array namespace described in the
    module docstring.

    The step convention is Keras's: the optimizer calls the schedule with
    its iteration count before the update, so the first update uses step 0.
    A negative step is treated as 0.
    """

    def _formula(self, step, xp):
        raise NotImplementedError(
            f"Schedule '{type(self).__name__}' must implement "
            "`_formula(self, step, xp)`."
        )

    def __call__(self, step):
        """The learning rate at `step` (scalar or 1-D), as a floatx tensor."""
        dtype, int_dtype = _compute_dtypes()
        step = _check_step_tensor(step)
        shape = ops.shape(step)
        # keras.ops.searchsorted on TensorFlow needs 1-D values, so every
        # formula sees a vector; the result takes the caller's shape back.
        flat = ops.reshape(step, (-1,))
        if "int" in str(flat.dtype):
            whole = ops.maximum(ops.cast(flat, int_dtype), 0)
            frac = None
        else:
            value = ops.maximum(ops.cast(flat, dtype), 0.0)
            whole = ops.floor(value)
            frac = value - whole
        rate = self._graph(whole, frac, dtype, int_dtype)
        rate = ops.broadcast_to(rate, ops.shape(flat))
        return ops.cast(ops.reshape(rate, shape), keras.config.floatx())

    def _graph(self, whole, frac, dtype, int_dtype, rest=None, ratio=None):
        xp = _GraphNamespace(dtype, int_dtype, whole, frac, rest, ratio)
        return self._formula(xp.step, xp)

    def numpy(self, steps):
        """The same schedule evaluated on the host with NumPy.

        Args:
            steps: an int (or array of ints) of optimizer steps.

        Returns:
            A float64 NumPy array of the shape of `steps`.
        """
        steps = np.asarray(steps)
        if steps.dtype == bool or not np.issubdtype(steps.dtype, np.number):
            raise TypeError(
                "Argument `steps` must be an integer or an array of "
                f"integers. Received: steps={steps!r}"
            )
        flat = np.maximum(steps.reshape(-1).astype(np.float64), 0.0)
        if not np.isfinite(flat).all():
            raise ValueError(
                f"Argument `steps` must be finite. Received: steps={steps!r}"
            )
        out = np.empty(flat.shape, dtype=np.float64)
        # In blocks: each formula makes a dozen temporaries, and fresh
        # multi-megabyte arrays cost more in page faults than the arithmetic.
        # Formulas use IEEE infinities on purpose (log(0) = -inf at the end
        # of a decay, exp overflowing before a cap), as the graph does.
        with np.errstate(divide="ignore", over="ignore"):
            for start in range(0, flat.size, _HOST_BLOCK):
                block = flat[start : start + _HOST_BLOCK]
                out[start : start + block.size] = self._formula(
                    block, _HostNamespace(block)
                )
        return out.reshape(steps.shape)

    # Config, repr and equality all come from the constructor signature, so
    # they cannot drift from it.

    @classmethod
    def _argument_names(cls):
        parameters = inspect.signature(cls.__init__).parameters
        return [name for name in parameters if name != "self"]

    def get_config(self):
        config = {}
        for name in self._argument_names():
            value = getattr(self, name)
            if isinstance(value, _LearningRateSchedule):
                value = keras.saving.serialize_keras_object(value)
            elif isinstance(value, (list, tuple)) and any(
                isinstance(v, _LearningRateSchedule) for v in value
            ):
                value = [keras.saving.serialize_keras_object(v) for v in value]
            config[name] = value
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for name, value in config.items():
            if _is_serialized_object(value):
                config[name] = keras.saving.deserialize_keras_object(value)
            elif isinstance(value, list) and value and all(
                _is_serialized_object(v) for v in value
            ):
                config[name] = [
                    keras.saving.deserialize_keras_object(v) for v in value
                ]
        return cls(**config)

    def __repr__(self):
        arguments = ", ".join(
            f"{name}={_readable(getattr(self, name))}"
            for name in self._argument_names()
        )
        return f"{type(self).__name__}({arguments})"

    def __eq__(self, other):
        return type(self) is type(other) and self.get_config() == (
            other.get_config()
        )

    def __hash__(self):
        return hash((type(self).__name__, repr(self)))


def _check_step_tensor(step):
    """The step as a numeric tensor, or a Keras-style error now.

    A string or a bool would otherwise reach TensorFlow's kernels and fail
    there (`UnimplementedError`) or be read as 0 and 1.
    """
    if step is None or isinstance(step, (str, bytes, bool, np.bool_)) or (
        isinstance(step, np.ndarray) and not np.issubdtype(step.dtype, np.number)
    ):
        raise TypeError(
            "Argument `step` must be a number or a numeric tensor. "
            f"Received: step={step!r}"
        )
    if isinstance(step, (float, np.floating)) and not math.isfinite(step):
        # A host number is checked for free; a tensor is not read back.
        raise ValueError(
            f"Argument `step` must be a finite number. Received: step={step!r}"
        )
    step = ops.convert_to_tensor(step)
    dtype = str(step.dtype)
    if "int" not in dtype and "float" not in dtype:
        raise TypeError(
            "Argument `step` must be a number or a numeric tensor. "
            f"Received: step={step!r}"
        )
    return step


def _whole_parts(points):
    """A host table of points as float64, and their whole parts (capped far
    beyond any step, so that they stay integers)."""
    points = np.asarray(points, dtype=np.float64)
    return points, np.floor(np.minimum(points, 2.0**62))


def offset_from(xp, points, index):
    """`step - points[index]` for a host table `points`, exact in its whole part.

    `index` is an integer tensor (from `xp.locate`); points beyond what the
    step's whole part can hold count only in their float value.
    """
    points, wholes = _whole_parts(points)
    whole = xp.whole - xp.take(xp.index_table(wholes), index)
    fraction = xp.take(xp.const(points - wholes), index)
    if xp.frac is not None:
        return xp.to_float(whole) + (xp.frac - fraction)
    return xp.to_float(whole) - fraction


def offset_to(xp, points, index):
    """`points[index] - step`, the distance to a point ahead, measured as
    `offset_from` is (no cancellation from the step's fraction)."""
    points, wholes = _whole_parts(points)
    whole = xp.take(xp.index_table(wholes), index) - xp.whole
    ahead = xp._ahead(whole, points - wholes, index)
    fits = wholes <= xp.largest_whole()
    if fits.all():
        return ahead
    # Points beyond what the whole part holds: their float distance (far).
    far = xp.take(xp.const(points), index) - xp.step
    return xp.where(xp.take(xp.const(fits.astype(np.float64)), index) > 0, ahead, far)


def _readable(value):
    """repr, but a foreign nested schedule shows its config, not an address."""
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_readable(v) for v in value) + "]"
    if isinstance(value, _LearningRateSchedule) and not isinstance(value, Schedule):
        config = ", ".join(f"{k}={v!r}" for k, v in value.get_config().items())
        return f"{type(value).__name__}({config})"
    return repr(value)


_EXACT_STEPS = 2**24  # whole numbers float32 holds exactly
_TINY = float(np.finfo(np.float32).tiny)


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


def _is_serialized_object(value):
    return isinstance(value, dict) and "class_name" in value


def evaluate(schedule, steps):
    """Host values of any learning rate schedule, as a float64 array.

    A keras_lr schedule uses its NumPy twin. Any other
    `LearningRateSchedule` (Keras's built-ins, a user's own) is evaluated
    through `keras.ops` on a vector of steps, falling back to one call per
    step for a schedule that only accepts scalars. A float is a constant.

    Args:
        schedule: a `LearningRateSchedule` or a float.
        steps: an int or an array of ints.
    """
    steps = np.asarray(steps)
    if isinstance(schedule, Schedule):
        return schedule.numpy(steps)
    if not isinstance(schedule, _LearningRateSchedule):
        rate = _validation.check_learning_rate("schedule", schedule)
        return np.full(steps.shape, rate, dtype=np.float64)
    # Integer steps stay integers; fractional ones (e.g. epochs) stay floats.
    flat = steps.reshape(-1)
    whole = np.issubdtype(flat.dtype, np.integer) or bool(
        np.all(flat == np.floor(flat)) and np.all(np.abs(flat) < 2**31)
    )
    flat = flat.astype("int64" if whole else "float64")
    try:
        values = ops.convert_to_numpy(schedule(ops.convert_to_tensor(flat)))
        values = np.broadcast_to(values, flat.shape)
    except Exception:  # A scalar-only schedule: evaluate step by step.
        values = [
            ops.convert_to_numpy(schedule(ops.convert_to_tensor(s)))
            for s in flat
        ]
    return np.asarray(values, dtype=np.float64).reshape(steps.shape)
