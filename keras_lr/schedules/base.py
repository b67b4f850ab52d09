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

The formula's vocabulary, `xp`, is listed in the docstring of
`keras_lr.schedules._xp`; the exact step arithmetic under it is in
`keras_lr.schedules._exact`. This module holds the base class: evaluation
(`__call__`, `numpy`), and config, repr and equality derived from the
constructor signature; and `evaluate`, the host values of any schedule.
"""

import inspect
import math

import keras
import numpy as np
from keras import ops

from keras_lr import _validation
from keras_lr.schedules._xp import GraphNamespace
from keras_lr.schedules._xp import HostNamespace

_LearningRateSchedule = keras.optimizers.schedules.LearningRateSchedule

#: The largest finite float32: no keras_lr schedule returns a larger rate.
MAX_RATE = _validation.MAX_RATE


def compute_dtypes():
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


_HOST_BLOCK = 65536


class Schedule(_LearningRateSchedule):
    """Base class of every keras_lr learning rate schedule.

    Subclasses validate their arguments in `__init__`, store each under its
    own name (so `get_config` can echo the constructor signature), and
    implement `_formula(step, xp)`, where `step` is a float array of
    non-negative steps and `xp` is the array namespace described in
    `keras_lr.schedules._xp`.

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
        dtype, int_dtype = compute_dtypes()
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
        xp = GraphNamespace(dtype, int_dtype, whole, frac, formula_of=_formula_of)
        rate = ops.broadcast_to(self._formula(xp.step, xp), ops.shape(flat))
        return ops.cast(ops.reshape(rate, shape), keras.config.floatx())

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
        flat = steps.reshape(-1)
        # Integers are finite; float steps are checked clamped at 0 (so -inf
        # is step 0, as a negative step is), before any is evaluated.
        whole_numbers = np.issubdtype(flat.dtype, np.integer)
        if not whole_numbers and not (
            np.isfinite(np.maximum(flat.astype(np.float64), 0.0)).all()
        ):
            raise ValueError(
                f"Argument `steps` must be finite. Received: steps={steps!r}"
            )
        out = np.empty(flat.shape, dtype=np.float64)
        # In blocks, each converted to float64 on its own: each formula makes
        # a dozen temporaries, and fresh multi-megabyte arrays cost more in
        # page faults than the arithmetic. Formulas use IEEE infinities on
        # purpose (log(0) = -inf at the end of a decay, exp overflowing
        # before a cap), as the graph does.
        with np.errstate(divide="ignore", over="ignore"):
            for start in range(0, flat.size, _HOST_BLOCK):
                block = flat[start : start + _HOST_BLOCK].astype(np.float64)
                if not whole_numbers or block.min() < 0:
                    np.maximum(block, 0.0, out=block)
                out[start : start + block.size] = self._formula(
                    block, HostNamespace(block, evaluate, whole_numbers)
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


def _formula_of(schedule):
    """What the graph namespace runs for a nested schedule: a keras_lr
    schedule's formula, on the same exact step; None for any other
    schedule, which is called with the step."""
    return schedule._formula if isinstance(schedule, Schedule) else None


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


def _readable(value):
    """repr, but a foreign nested schedule shows its config, not an address."""
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_readable(v) for v in value) + "]"
    if isinstance(value, _LearningRateSchedule) and not isinstance(value, Schedule):
        config = ", ".join(f"{k}={v!r}" for k, v in value.get_config().items())
        return f"{type(value).__name__}({config})"
    return repr(value)


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
