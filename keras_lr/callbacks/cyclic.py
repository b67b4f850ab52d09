"""`CyclicLR`: the Keras 2 CLR callback (bckenstler/CLR) on Keras 3."""

import math
import warnings
import weakref

import keras
import numpy as np

from keras_lr import _groups
from keras_lr import _validation
from keras_lr._keras_private import weights_file_name
from keras_lr.callbacks import _optimizer_rate
from keras_lr.callbacks._optimizer_state import CallbackState
from keras_lr.callbacks.scheduler import LearningRateScheduler

_MODES = ("triangular", "triangular2", "exp_range")


@keras.saving.register_keras_serializable(package="keras_lr")
class CyclicLR(LearningRateScheduler):
    """Cyclical learning rate as a callback, for code written for Keras 2.

    The widely used Keras 2 CLR callback (bckenstler/CLR), which no longer
    runs on Keras 3, with its arguments, its `history` and its `_reset`:
    migrating is an import change. Each batch's rate is bckenstler's
    formula, evaluated on the host for the whole epoch at its start and
    applied inside the compiled train step (as `LearningRateScheduler` with
    `unit="step"`, on which it is built: no host write per batch; a custom
    `scale_fn` is called on the host too, so any Python works):

    ```python
    it = step - cycle_start                     # iterations into the cycle
    cycle = floor(1 + it / (2 * step_size))
    x = abs(it / step_size - 2 * cycle + 1)
    lr = base_lr + (max_lr - base_lr) * max(0, 1 - x) * scale
    # scale: 1 ("triangular"), 1 / 2 ** (cycle - 1) ("triangular2"),
    #        gamma ** it ("exp_range"), or scale_fn(cycle or it)
    ```

    `step` is the optimizer's global step, so the cycle continues where it
    was after `BackupAndRestore`, `load_model` or in a new `fit` (the Keras 2
    callback counted its own batches). `_reset()` starts a new cycle at the
    next batch, optionally with new bounds or step size, as Keras 2's did.

    With the built-in modes and a whole `step_size`, the rates are those of
    `keras_lr.schedules.CyclicalLearningRate(base_lr, max_lr, step_size,
    mode=mode, gamma=gamma)`, which can be passed to the optimizer instead.

    Args:
        base_lr: the low end of each cycle, and the rate at its start.
        max_lr: the high end of the first cycle.
        step_size: steps per half cycle, > 0 (2 to 10 times the steps per
            epoch, says the paper); a fractional one works as in Keras 2.
        mode: `"triangular"`, `"triangular2"` or `"exp_range"`; not used
            with `scale_fn`.
        gamma: the per-step factor of `"exp_range"`, in (0, 1].
        scale_fn: `None`, or a function of one number returning the
            amplitude's scale in [0, 1] (Keras 2's custom policy).
        scale_mode: `"cycle"` or `"iterations"`: what `scale_fn` is called
            with, the cycle number (from 1) or the iterations into the cycle.
        cycle_start: the global step where the first cycle starts, or `None`
            for the first batch this callback drives (Keras 2's behaviour
            for a new callback). `_reset` moves it; `get_config` records it.

    Attributes:
        history: `{"lr": [...], "iterations": [...]}` as Keras 2 kept it:
            the rate each batch used (as the optimizer holds it) and
            `step + 1` for that batch (1, 2, ... from a fresh optimizer),
            filled at each epoch's end with the batches it trained.

    Example:

    >>> import keras, numpy as np, keras_lr
    >>> x, y = np.ones((8, 2)), np.ones((8, 1))
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile(keras.optimizers.SGD(0.001), loss="mse")
    >>> clr = keras_lr.callbacks.CyclicLR(base_lr=0.001, max_lr=0.006, step_size=2)
    >>> _ = model.fit(x, y, batch_size=2, verbose=0, callbacks=[clr])
    >>> [round(lr, 6) for lr in clr.history["lr"]]
    [0.001, 0.0035, 0.006, 0.0035]
    >>> clr.history["iterations"]
    [1, 2, 3, 4]

    Migrating from the Keras 2 callback, with a new cycle mid-run:

    ```python
    model.compile(keras.optimizers.SGD(0.001, momentum=0.9), loss="mse")
    clr = keras_lr.callbacks.CyclicLR(base_lr=0.001, max_lr=0.006, step_size=2000)
    model.fit(x, y, epochs=10, callbacks=[clr])
    clr._reset(new_base_lr=0.0005, new_max_lr=0.003)  # a new, lower cycle
    model.fit(x, y, epochs=20, initial_epoch=10, callbacks=[clr])
    ```
    """

    def __init__(
        self,
        base_lr=0.001,
        max_lr=0.006,
        step_size=2000.0,
        mode="triangular",
        gamma=1.0,
        scale_fn=None,
        scale_mode="cycle",
        cycle_start=0,
    ):
        self.mode = _validation.check_choice("mode", mode, _MODES)
        self.gamma = _validation.check_number(
            "gamma", gamma, minimum=0.0, maximum=1.0, open_min=True
        )
        if self.mode != "exp_range" and self.gamma != 1.0 and scale_fn is None:
            raise ValueError(
                'Argument `gamma` must be 1.0 unless mode="exp_range" (it '
                f"has no effect with mode={self.mode!r}). Received: "
                f"gamma={gamma!r}"
            )
        if scale_fn is not None and not callable(scale_fn):
            raise TypeError(
                "Argument `scale_fn` must be None or a function of one number. "
                f"Received: scale_fn={scale_fn!r}"
            )
        self.scale_fn = scale_fn
        self.scale_mode = _validation.check_choice(
            "scale_mode", scale_mode, ("cycle", "iterations")
        )
        implied = "iterations" if self.mode == "exp_range" else "cycle"
        if scale_fn is None and scale_mode not in ("cycle", implied):
            warnings.warn(
                "CyclicLR uses `scale_mode` only with `scale_fn`; `mode` sets "
                f"the scaling of mode={self.mode!r}.",
                stacklevel=2,
            )
        self._set_cycle(base_lr, max_lr, step_size)
        if cycle_start is not None:
            cycle_start = _validation.check_non_negative_int(
                "cycle_start", cycle_start
            )
        self.cycle_start = cycle_start
        super().__init__(self._cycle_rate, unit="step")
        self.history = {"lr": [], "iterations": []}

    def _set_cycle(self, base_lr, max_lr, step_size):
        # Checked under the Keras 2 names, so an error names what was passed.
        base_lr = _validation.check_learning_rate("base_lr", base_lr)
        max_lr = _validation.check_learning_rate("max_lr", max_lr)
        _validation.check_not_above("base_lr", base_lr, "max_lr", max_lr)
        step_size = _validation.check_number(
            "step_size", step_size, minimum=0.0, open_min=True
        )
        self.base_lr, self.max_lr, self.step_size = base_lr, max_lr, step_size

    def get_config(self):
        if self.scale_fn is not None:
            scale_fn = keras.saving.serialize_keras_object(self.scale_fn)
        else:
            scale_fn = None
        return {
            "base_lr": self.base_lr,
            "max_lr": self.max_lr,
            "step_size": self.step_size,
            "mode": self.mode,
            "gamma": self.gamma,
            "scale_fn": scale_fn,
            "scale_mode": self.scale_mode,
            "cycle_start": self.cycle_start,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if config.get("scale_fn") is not None:
            config["scale_fn"] = keras.saving.deserialize_keras_object(
                config["scale_fn"]
            )
        return cls(**config)

    def _reset(self, new_base_lr=None, new_max_lr=None, new_step_size=None):
        """Starts a new cycle at the next batch, with new settings if given.

        As the Keras 2 callback's `_reset`: an argument left `None` keeps
        its value, and the cycle (with the scaling of `"triangular2"`,
        `"exp_range"` or `scale_fn`) starts again from its beginning, at
        `base_lr`, with the next batch trained.
        """
        self._set_cycle(
            self.base_lr if new_base_lr is None else new_base_lr,
            self.max_lr if new_max_lr is None else new_max_lr,
            self.step_size if new_step_size is None else new_step_size,
        )
        self.cycle_start = None
        self._replan()

    _groups_instead = (
        "Give the base optimizer a `keras_lr.schedules.CyclicalLearningRate` "
        "before `keras_lr.optimizers.scale_rates` or `layer_decay`: every "
        "group then cycles at its share, inside the compiled step."
    )

    def set_model(self, model):
        super().set_model(model)
        # Before `BackupAndRestore`'s on_train_begin loads into it. None on
        # a MultiOptimizer, refused at on_train_begin.
        if getattr(model, "optimizer", None) is not None and not _groups.is_multi(
            model.optimizer
        ):
            holder = _CycleState.of(_optimizer_rate.base_optimizer(model))
            holder.callback = weakref.ref(self)

    def _cycle_rate(self, step):
        if self.cycle_start is None:
            self.cycle_start = step
        it = max(step - self.cycle_start, 0)
        cycle = math.floor(1 + it / (2 * self.step_size))
        x = abs(it / self.step_size - 2 * cycle + 1)
        if self.scale_fn is not None:
            scale = self.scale_fn(cycle if self.scale_mode == "cycle" else it)
        elif self.mode == "triangular":
            scale = 1.0
        elif self.mode == "triangular2":
            scale = 1.0 / 2.0 ** (cycle - 1)
        else:
            scale = self.gamma**it
        return self.base_lr + (self.max_lr - self.base_lr) * max(0.0, 1.0 - x) * scale

    def _rates(self, steps, lr=None):
        if self.scale_fn is not None or not steps:
            # Arbitrary Python, called as Keras 2 called it: one number at a time.
            return super()._rates(steps, lr)
        # The built-in modes for a whole epoch at once, in the same float64
        # arithmetic as `_cycle_rate` (so the same rates, bit for bit).
        steps = np.asarray(steps, dtype=np.int64)
        if self.cycle_start is None:
            self.cycle_start = int(steps[0])
        it = np.maximum(steps - self.cycle_start, 0)
        cycle = np.floor(1 + it / (2 * self.step_size))
        x = np.abs(it / self.step_size - 2 * cycle + 1)
        if self.mode == "triangular":
            scale = 1.0
        elif self.mode == "triangular2":
            scale = 1.0 / np.ldexp(1.0, (cycle - 1).astype(np.int64))
        else:
            scale = np.asarray([self.gamma**i for i in it.tolist()])
        rates = self.base_lr + (self.max_lr - self.base_lr) * np.maximum(0.0, 1.0 - x) * scale
        return rates.tolist()

    def _rate_set(self, step, rate):
        self.history["lr"].append(float(self._dtype.type(rate)))
        self.history["iterations"].append(step + 1)


class _CycleState(CallbackState):
    """A `CyclicLR`'s cycle, saved with its optimizer's weights.

    What `_reset` changed (bounds, step size, where the cycle starts) is
    not in any Keras object; saved here, `BackupAndRestore` brings it back.
    `callback` is a weak reference: the cycle is saved while its callback
    lives.
    """

    attribute = "_keras_lr_cyclic_state"
    dtypes = {
        "base_lr": "float64",
        "max_lr": "float64",
        "step_size": "float64",
        "cycle_start": "int64",
    }

    def __init__(self, optimizer):
        super().__init__(optimizer)
        self.callback = None

    def save_own_variables(self, store):
        callback = self.callback() if self.callback is not None else None
        if callback is None:
            return
        self.write(store, {
            "base_lr": callback.base_lr,
            "max_lr": callback.max_lr,
            "step_size": callback.step_size,
            "cycle_start": callback.cycle_start,
        })

    def load_own_variables(self, store):
        callback = self.callback() if self.callback is not None else None
        if callback is None or "cycle_start" not in set(store.keys()):
            return
        # Checked as the constructor checks them, all before any is set: a
        # corrupted or edited file is refused whole.
        try:
            # `None`: the cycle starts at the next batch.
            start = _CycleState.read(store, "cycle_start")
            if start is not None:
                start = _validation.check_non_negative_int("cycle_start", start)
            callback._set_cycle(
                _validation.stored_value(store, "base_lr"),
                _validation.stored_value(store, "max_lr"),
                _validation.stored_value(store, "step_size"),
            )
        except (ValueError, TypeError) as error:
            raise _validation.invalid_state(
                "CyclicLR cycle", weights_file_name(store), error
            ) from None
        callback.cycle_start = start
