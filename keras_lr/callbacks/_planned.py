"""The rates a callback planned on the host for an epoch, applied in-graph.

`LearningRateScheduler(unit="step")` and `CyclicLR` set the rate of every
update from the host. Written into the optimizer's rate before every batch,
that costs a device write per batch, and on JAX a sync of the whole training
state (+40 % per step on a small model). Instead, at each epoch's start the
callback works out on the host the rate in place at each of the epoch's
batches and writes them once, into a table; the compiled train step (through
`_keras_private.run_before_apply`) gives the optimizer's float rate the
table's entry for its batch before the update reads it:

```python
# inside the train step, before the update
planned = table[batch % len(table)]
rate = rate if isnan(planned) else planned
```

So the optimizer's float rate still holds, after every batch, the rate that
batch used, as when the host wrote it: `optimizer.learning_rate`, its config
and every weights file see what they saw before. A table of NaN switches it
off: at the end of the fit, and at the start of every later `fit`
(`_keras_private.run_at_fit_start`), so that a fit without the callback, or
after one that crashed, uses the float rate as it is. An epoch's batches
fall on distinct entries (the table has room for its steps), so planning an
epoch is one write of one variable and never retraces the step; only
installing the table on an optimizer, or growing it for a longer epoch,
rebuilds the train function (once).

The variables are not in the optimizer's weights entries
(`_keras_private.add_unsaved_variable`): the table is worked out again at
every epoch's start, from the step, which is.
"""

import keras
import numpy as np

from keras_lr import _keras_private
from keras_lr.callbacks import _live
from keras_lr.callbacks import _optimizer_rate

_ATTRIBUTE = "_keras_lr_planned_rates"


class PlannedRates:
    """An optimizer's table of planned rates, entry `batch % length`."""

    def __init__(self, optimizer, length):
        rate = _keras_private.rate_as_held(optimizer)
        self.length = length
        # Replicated, as the other variables keras_lr adds (`_live.py`).
        self.table = keras.Variable(
            np.full(length, np.nan), dtype=rate.dtype, trainable=False,
            name="keras_lr_planned_rates", layout=_live.replicated((length,)),
        )

    @classmethod
    def of(cls, model, optimizer, length):
        """The optimizer's table, with room for `length` batches, put in
        place (the train function rebuilt) if it has none or a shorter one."""
        planned = optimizer.__dict__.get(_ATTRIBUTE)
        if planned is not None and planned.length >= length:
            return planned
        planned = cls(optimizer, length)
        _keras_private.add_unsaved_variable(
            optimizer, planned.table, _optimizer_rate.wrapper(model)
        )
        object.__setattr__(optimizer, _ATTRIBUTE, planned)
        _keras_private.run_before_apply(optimizer, lambda: _apply(optimizer))
        _keras_private.run_at_fit_start(model, lambda: _switch_off(optimizer))
        # A train step traced before reads the rate as it is.
        if getattr(model, "train_function", None) is not None:
            model.make_train_function(force=True)
        return planned

    def write(self, model, first, rates):
        """Rates `rates[j]` for the batches `first + j`, `j < length`."""
        _optimizer_rate.sync_jax_state(model)
        table = np.full(self.length, np.nan)
        table[(first + np.arange(len(rates))) % self.length] = rates
        self.table.assign(table)

    def switch_off(self, model):
        _optimizer_rate.sync_jax_state(model)
        self.table.assign(np.full(self.length, np.nan))


def _switch_off(optimizer):
    planned = optimizer.__dict__.get(_ATTRIBUTE)
    if planned is not None:
        planned.table.assign(np.full(planned.length, np.nan))


def _apply(optimizer):
    """Inside the train step: the planned rate into the float rate."""
    planned = optimizer.__dict__.get(_ATTRIBUTE)
    rate = _keras_private.rate_as_held(optimizer)
    if planned is None or not isinstance(rate, keras.Variable):
        return  # the optimizer was given a schedule since
    ops = keras.ops
    index = ops.mod(_keras_private.batch_counter(optimizer).value, planned.length)
    chosen = ops.take(planned.table.value, ops.cast(index, "int32"))
    rate.assign(ops.where(ops.isnan(chosen), rate.value, chosen))
