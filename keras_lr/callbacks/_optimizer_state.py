"""The state a callback keeps on its optimizer, saved in its weights files.

A callback whose state must survive `keras.callbacks.BackupAndRestore` (or
any weights file of the optimizer) keeps it in a `CallbackState` set as an
attribute of the optimizer: Keras's saving visits it after the optimizer's
own variables, in every weights file the optimizer goes into.
"""

import math
import weakref

import numpy as np

from keras_lr import _validation
from keras_lr._keras_private import OptimizerState


class CallbackState(OptimizerState):
    """Base class for the state a callback keeps on its optimizer.

    A subclass names `attribute`, the optimizer's attribute that holds it.
    Keras names the state's entries in a weights file after that attribute
    (`optimizer/<attribute>/<key>`), so renaming it orphans what files
    already hold. `dtypes` maps each key the state writes to its dtype.
    """

    attribute = None
    dtypes = {}

    def __init__(self, optimizer):
        # Weak: the optimizer holds this object, and a strong reference back
        # would let Keras's saving walk into the optimizer a second time.
        self._optimizer = weakref.ref(optimizer)

    @classmethod
    def of(cls, optimizer):
        """The optimizer's state of this kind, put in place if it has none.

        Callbacks ask for it in `set_model`, before any `on_train_begin`:
        `BackupAndRestore` loads its weights there, and finds the state in
        place whichever of the two callbacks comes first.
        """
        state = getattr(optimizer, cls.attribute, None)
        if not isinstance(state, cls):
            state = cls(optimizer)
            setattr(optimizer, cls.attribute, state)
        return state

    def optimizer(self):
        """The optimizer holding this state (`None` once it is gone)."""
        return self._optimizer()

    def write(self, store, values):
        """Write `values` into a weights store, a scalar of `dtypes[key]` for
        each key; `None` is written as NaN (a float) or -1 (an integer)."""
        for key, value in values.items():
            dtype = np.dtype(self.dtypes[key])
            if value is None:
                value = np.nan if dtype.kind == "f" else -1
            store[key] = np.array(value, dtype=dtype)

    @classmethod
    def read(cls, store, key):
        """The number `write` saved under `key`, as a Python number (or a
        Keras-style error for anything but one number); NaN for a float key
        and -1 for an integer key read back as `None`."""
        value = _validation.stored_value(store, key)
        if np.dtype(cls.dtypes[key]).kind == "f":
            missing = isinstance(value, float) and math.isnan(value)
        else:
            missing = value == -1
        return None if missing else value
