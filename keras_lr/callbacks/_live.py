"""Numbers of a schedule that a callback changes and the train step reads live.

A plateau's scale and a cooldown's start are arguments of the schedule the
optimizer holds. Were they Python numbers, each change would be a new
constant of the compiled train step, and so a recompile. Instead the
schedule reads them, inside the compiled step, from variables of the
optimizer (`_keras_private.add_unsaved_variable`: the JAX trainer hands them
to its compiled step with the optimizer's other variables): a reduction or a
trigger assigns a variable, and the next update uses it, with no retrace on
any backend (TensorFlow, also with `jit_compile=True`, JAX and torch).

On the host the schedule keeps computing from its plain numbers (the
variables only mirror them), so plotting, logging and `get_config` never
read the device, and a copy of the schedule is frozen at what it held.
The variables are not in the optimizer's weights entries: the callbacks'
state (`CallbackState`) saves the numbers, as it did before.

Under a `keras.distribution` (JAX) the variables (and `_planned.py`'s table, through `replicated`) are replicated on every
device of its mesh, explicitly: left to the distribution, a `ModelParallel`
`LayoutMap` key that happens to match their path (`.*scale`, meant for a
norm's weight, matches `keras_lr_scale`) would shard a scalar.
"""

import weakref

import keras
import numpy as np

from keras_lr import _keras_private
from keras_lr.schedules.base import compute_dtypes


class LiveValues:
    """Mixin for a `Schedule` whose `_live_names` a callback changes.

    Until `bind` the schedule is an ordinary one (its numbers are constants
    of a compiled step); once bound to an optimizer, the compiled step reads
    them from variables, which `_set_live` keeps equal to the numbers.
    """

    # name -> "float" or "int": the dtype family of each live number.
    _live_kinds = {}

    def _live(self):
        return self.__dict__.get("_live_variables")

    def bind(self, optimizer, wrapper=None):
        """Read the live numbers from variables of `optimizer` from now on
        (once per optimizer; `wrapper`: a `LossScaleOptimizer` around it,
        or a list of the optimizers that hold it, a `MultiOptimizer`'s group).
        Returns whether the compiled form changed (a train step traced
        before reads constants, and must be built again)."""
        live = self._live()
        if live is not None and live["optimizer"]() is optimizer:
            return False
        float_dtype, int_dtype = compute_dtypes()
        layout = replicated()
        variables = {}
        for name, kind in self._live_kinds.items():
            dtype = float_dtype if kind == "float" else int_dtype
            variables[name] = keras.Variable(
                self._live_number(name, dtype), dtype=dtype, trainable=False,
                name=f"keras_lr_{name}", layout=layout,
            )
            _keras_private.add_unsaved_variable(optimizer, variables[name], wrapper)
        self.__dict__["_live_variables"] = {
            "optimizer": weakref.ref(optimizer), "values": variables,
        }
        return True

    def _live_number(self, name, dtype):
        """The number `name` as its variable holds it (a subclass maps a
        missing one, such as a start not yet known, to a number)."""
        return np.asarray(self.__dict__[f"_{name}"], dtype=dtype)

    def _set_live(self, name, value):
        self.__dict__[f"_{name}"] = value
        self._refresh_live((name,))

    def _refresh_live(self, names=None):
        """Give the variables of `names` (all by default) the numbers."""
        live = self._live()
        if live is None:
            return
        for name in self._live_kinds if names is None else names:
            variable = live["values"][name]
            variable.assign(self._live_number(name, variable.dtype))

    def _read_live(self, name, step, xp):
        """`name` for the formula: its variable inside a compiled step of a
        bound schedule, else the number (the host, `step` a NumPy array, or
        a schedule no callback drives)."""
        live = self._live()
        if live is None or isinstance(step, np.ndarray):
            return None
        return xp.to_float(live["values"][name])


def replicated(shape=()):
    """The layout of a variable of `shape` whole on every device of the
    current `keras.distribution`, or None where there is none (TensorFlow,
    torch, JAX without one)."""
    distribution = keras.distribution.distribution()
    if distribution is None:
        return None
    return keras.distribution.TensorLayout((None,) * len(shape), distribution.device_mesh)
