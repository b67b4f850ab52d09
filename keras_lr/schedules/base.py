"""The one base class of keras_lr schedules: a formula written once, run twice.

A keras_lr schedule is a pure function of the optimizer step (no state, no
hidden counter), so resuming, logging and plotting never need to replay
training. Each subclass declares its constructor and one method,
`_formula(step, xp)`, written against an array namespace `xp`:

- in the compiled train step, `xp` is backed by `keras.ops`, so the schedule
  runs on every Keras backend, inside `tf.function` (also with
  `jit_compile=True`) and under `jax.jit`;
- on the host, `xp` is backed by NumPy, which is what `numpy(steps)` uses
  for plots and for per-step TensorBoard logging without a device read.

`keras.ops` and NumPy share the names the formulas need (`where`, `floor`,
`sin`, `exp`, `minimum`, `searchsorted`, `take`, ...); the namespace adds the
few things that differ: `xp.const(value)` (a constant as an array of the
compute dtype), `xp.to_float(x)` (a cast, e.g. of a `searchsorted` index),
`xp.eps` (the compute dtype's machine epsilon), `xp.interp` (NumPy's, and
its `keras.ops` twin), `xp.floor_divide` (NumPy's float path is slow) and
`xp.schedule(inner, step)` (a nested schedule evaluated the same way: on the
host through `evaluate`, in the graph by calling it).

Precision: the graph computes in float64 where the backend allows it (the
TensorFlow backend; JAX with `jax_enable_x64`) and float32 otherwise, then
casts the result to `keras.config.floatx()`. Formulas are written so that
no step loses precision to cancellation (e.g. cosine annealing as
`sin(pi/2 * remaining / total) ** 2` rather than `1 + cos(...)`), and whole
periods are counted with `xp.floor_divide(step, size)`, never
`floor(step / size)`: XLA's float32 division on the CPU is approximate, so
`floor(11737 / 121)` gives 96 instead of 97 under `jax.jit`.
"""

import inspect
import math

import keras
import numpy as np
from keras import ops

from keras_lr import _validation

_LearningRateSchedule = keras.optimizers.schedules.LearningRateSchedule


def _compute_dtype():
    if keras.backend.backend() == "jax":
        import jax

        return "float64" if jax.config.jax_enable_x64 else "float32"
    return "float64"


class _HostNamespace:
    """NumPy, plus the helpers that `keras.ops` spells differently."""

    pi = math.pi
    eps = float(np.finfo(np.float64).eps)

    def __getattr__(self, name):
        return getattr(np, name)

    @staticmethod
    def const(value):
        return np.asarray(value, dtype=np.float64)

    @staticmethod
    def to_float(x):
        return np.asarray(x, dtype=np.float64)

    @staticmethod
    def schedule(schedule, step):
        return evaluate(schedule, step)

    @staticmethod
    def floor_divide(a, b):
        # Exact for the integer-valued steps schedules count (float64
        # division is correctly rounded), and several times faster than
        # np.floor_divide's remainder-corrected float path.
        return np.floor(a / b)

    @staticmethod
    def interp(x, points, values):
        return np.interp(x, points, values)


class _GraphNamespace:
    """`keras.ops` in a fixed compute dtype."""

    pi = math.pi

    def __init__(self, dtype):
        self.dtype = dtype
        self.eps = float(np.finfo(dtype).eps)

    def __getattr__(self, name):
        return getattr(ops, name)

    def const(self, value):
        return ops.convert_to_tensor(value, dtype=self.dtype)

    def to_float(self, x):
        return ops.cast(x, self.dtype)

    def schedule(self, schedule, step):
        return ops.cast(schedule(step), self.dtype)

    def interp(self, x, points, values):
        """`numpy.interp` with `keras.ops`: flat outside, linear between."""
        points, values = self.const(points), self.const(values)
        upper = ops.clip(
            ops.searchsorted(points, x, side="right"), 1, ops.shape(points)[0] - 1
        )
        lower = upper - 1
        start, end = ops.take(points, lower), ops.take(points, upper)
        span = end - start
        # Two non-negative weights instead of `a + (b - a) * f`: no
        # cancellation in float32 when a segment ends at (or near) zero.
        weight_end = ops.minimum(ops.maximum(x - start, 0.0), span) / span
        weight_start = ops.minimum(ops.maximum(end - x, 0.0), span) / span
        return (
            ops.take(values, lower) * weight_start
            + ops.take(values, upper) * weight_end
        )


_HOST = _HostNamespace()
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
        dtype = _compute_dtype()
        step = ops.convert_to_tensor(step)
        shape = ops.shape(step)
        # keras.ops.searchsorted on TensorFlow needs 1-D values, so every
        # formula sees a vector; the result takes the caller's shape back.
        flat = ops.maximum(ops.cast(ops.reshape(step, (-1,)), dtype), 0.0)
        value = ops.broadcast_to(
            self._formula(flat, _GraphNamespace(dtype)), ops.shape(flat)
        )
        return ops.cast(ops.reshape(value, shape), keras.config.floatx())

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
        out = np.empty(flat.shape, dtype=np.float64)
        # In blocks: each formula makes a dozen temporaries, and fresh
        # multi-megabyte arrays cost more in page faults than the arithmetic.
        for start in range(0, flat.size, _HOST_BLOCK):
            block = flat[start : start + _HOST_BLOCK]
            out[start : start + block.size] = self._formula(block, _HOST)
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


def _readable(value):
    """repr, but a foreign nested schedule shows its config, not an address."""
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_readable(v) for v in value) + "]"
    if isinstance(value, _LearningRateSchedule) and not isinstance(value, Schedule):
        config = ", ".join(f"{k}={v!r}" for k, v in value.get_config().items())
        return f"{type(value).__name__}({config})"
    return repr(value)


def exp_of_product(n, c, xp):
    """`exp(n * c)` for integer-valued `n >= 0` and a host float `c`.

    Accurate to a few float32 ulps however large `n * c` grows (a plain
    `exp(n * c)` in float32 carries the rounding of the product, about
    `6e-8 * |n * c|` relative, so an exponential decay by a factor of 1e5
    would be off by 1e-6). `c` is split into a 12-bit head and a tail, and
    `n` (exact in float32 below 2**24) into a multiple of 4096 and a rest, so
    that the large partial products are exact.
    """
    plain = xp.exp(n * c)
    if c == 0.0 or xp.eps < 1e-10:
        return plain  # float64: the product's rounding is far below 1e-6
    mantissa, exponent = math.frexp(c)
    head = math.ldexp(round(mantissa * 4096.0) / 4096.0, exponent)
    tail = c - head
    n_high = xp.floor(n / 4096.0) * 4096.0
    split = (
        xp.exp(n_high * head) * xp.exp((n - n_high) * head) * xp.exp(n * tail)
    )
    # Far below float32's range the split's factors could under- and
    # overflow (0 * inf); there the plain exponential is as good.
    return xp.where(xp.abs(n * c) < 80.0, split, plain)


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
    flat = flat.astype("int64" if np.issubdtype(flat.dtype, np.integer) else "float64")
    try:
        values = ops.convert_to_numpy(schedule(ops.convert_to_tensor(flat)))
        values = np.broadcast_to(values, flat.shape)
    except Exception:  # A scalar-only schedule: evaluate step by step.
        values = [
            ops.convert_to_numpy(schedule(ops.convert_to_tensor(s)))
            for s in flat
        ]
    return np.asarray(values, dtype=np.float64).reshape(steps.shape)
