"""Evaluate and finish a schedule-free run on its averaged weights."""

import weakref

import keras
from keras import ops

from keras_lr import _keras_private
from keras_lr.callbacks import _optimizer_rate

# optimizer -> the training weights y, kept while the model holds x. Weak, so
# that a finished run does not keep a model alive; in memory only (see the
# class docstring).
_TRAINING_WEIGHTS = weakref.WeakKeyDictionary()


def _slots(optimizer):
    """`(variable, z)` for every trainable variable ScheduleFreeAdamW updates.

    Keras's `ScheduleFreeAdamW` keeps z (the sequence the gradient steps
    move) in its `momentum` slots, one per trainable variable in the order
    of the variables it was built on; a variable it does not update (a
    `None` slot) is skipped. Both lists are private attributes of Keras's
    optimizer: `tests/callbacks/test_schedule_free.py` checks them against a NumPy
    replay of its update, so a Keras that changes them fails loudly.
    """
    try:
        variables, slots = _keras_private.momentum_slots(optimizer)
    except AttributeError as error:  # pragma: no cover - a Keras that moved them
        raise TypeError(
            "ScheduleFreeEval reads ScheduleFreeAdamW's `_momentums` (its z) "
            f"and `_trainable_variables`, which Keras {keras.__version__} does "
            "not have where Keras 3.15 had them."
        ) from error
    return [(v, z) for v, z in zip(variables, slots) if z is not None]


def _beta_1(optimizer):
    beta_1 = optimizer.beta_1
    return beta_1() if callable(beta_1) else beta_1


@keras.saving.register_keras_serializable(package="keras_lr")
class ScheduleFreeEval(keras.callbacks.Callback):
    """Evaluate a schedule-free run on its averaged weights x, and end on them.

    `keras.optimizers.ScheduleFreeAdamW` (Defazio et al. 2024, "The Road
    Less Scheduled") trains the model's weights as the interpolation
    `y = (1 - beta_1) * z + beta_1 * x` of the gradient-step sequence `z`
    (its `momentum` slots) and the running average `x`, and the method is
    evaluated on `x`. Keras has no evaluation mode: validation and a model
    saved after `fit` use `y`. This callback swaps in

    ```python
    x = (y - (1 - beta_1) * z) / beta_1
    ```

    (Keras's own recovery of `x` in its update, in the variables' dtype)
    for every validation during `fit` and for `model.evaluate(...,
    callbacks=[callback])`, swaps `y` back afterwards, and at the end of
    training leaves the model on `x`, so that `model.evaluate`,
    `model.predict` and `model.save` after `fit` use the averaged weights.
    A later `fit` with this callback swaps `y` back first. `y` is restored
    from a copy, bit for bit (the reference implementation's `train()`
    recomputes it, which rounds), so a validation never changes what
    training does; the copy costs one extra set of the trainable weights.
    This is the reference implementation's `optimizer.eval()` before
    evaluating and `optimizer.train()` after (and optax's
    `schedule_free_eval_params`).

    Keras averages `x` uniformly (weight `1 / t`, without the reference's
    learning-rate weighting `c_t`), and `warmup_steps` scales its rate; the
    recovery of `x` from `y` and `z` holds for both, and for any update
    Keras makes (its new `y` is `(1 - beta_1) * z + beta_1 * x` by
    construction). Two Keras 3.15 defects: on TensorFlow, `fit` builds the
    optimizer inside the traced train step, where `z`'s initialisation to
    the weights is lost (`z` starts at 0, and the first update pulls the
    weights to about 0); this callback builds the optimizer eagerly at the
    start of training, which avoids it. On TensorFlow and torch, the update
    recovers the previous `x` from `z` read after updating `z` in place
    (`momentum.value` is the variable itself there; JAX reads the old `z`),
    so Keras's `x` leans towards the newest `z` more than the paper's; the
    callback evaluates on the `x` Keras keeps.

    BatchNorm: moving statistics are non-trainable variables, which the
    optimizer does not average. The callback leaves them as training under
    `y` computed them (they are never swapped, so they are exact after the
    swap back too); a model evaluated on `x` then normalizes with `y`'s
    statistics. The schedule-free authors recommend, for models with
    BatchNorm, recomputing the statistics under `x` with a few forward
    passes in training mode before evaluating (`model(batch,
    training=True)` over some training batches after `fit`).

    Checkpoints written during `fit` (`BackupAndRestore`, `ModelCheckpoint`
    at an epoch's end) hold `y`, which is what resuming training needs; the
    model after `fit` holds `x`. The copy of `y` lives in memory only: a
    model saved after `fit` holds `x` and no `y`, so continue training from
    a checkpoint written during `fit`, or from this process (keep the
    callback in the next `fit`, or call `train()` first). Callbacks that
    set the weights at the end of training (`EarlyStopping(
    restore_best_weights=True)`) must be listed before this one.

    Example:

    >>> import keras, numpy as np, keras_lr
    >>> x, y = np.ones((8, 2)), np.ones((8, 1))
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile(keras.optimizers.ScheduleFreeAdamW(0.0025), loss="mse")
    >>> averaging = keras_lr.callbacks.ScheduleFreeEval()
    >>> _ = model.fit(x, y, epochs=2, verbose=0, callbacks=[averaging])
    >>> averaging.averaged  # after fit, the model holds x
    True
    >>> averaging.train()   # y back, to train on outside fit
    >>> averaging.averaged
    False

    On a real run:

    ```python
    model.compile(keras.optimizers.ScheduleFreeAdamW(0.0025), loss="mse")
    model.fit(x, y, validation_split=0.1, epochs=20,
              callbacks=[keras_lr.callbacks.ScheduleFreeEval()])
    model.evaluate(x_test, y_test)   # on the averaged weights x
    model.save("model.keras")        # x, for inference
    ```
    """

    def __init__(self):
        super().__init__()
        self._swapped_for_test = False

    def get_config(self):
        return {}

    def _optimizer(self):
        _optimizer_rate.refuse_groups(
            self.model, "ScheduleFreeEval swaps one optimizer's averaged weights",
            "Compile the model with one `keras.optimizers.ScheduleFreeAdamW`.",
        )
        optimizer = _optimizer_rate.base_optimizer(self.model)
        if not isinstance(optimizer, keras.optimizers.ScheduleFreeAdamW):
            raise TypeError(
                "ScheduleFreeEval needs a model compiled with "
                "`keras.optimizers.ScheduleFreeAdamW`. Received: "
                f"optimizer={optimizer!r}"
            )
        return optimizer

    @property
    def averaged(self):
        """Whether the model holds x now (put there by any instance)."""
        return self._optimizer() in _TRAINING_WEIGHTS

    def eval(self):
        """Put the averaged weights x in the model, keeping y to go back."""
        optimizer = self._optimizer()
        if optimizer in _TRAINING_WEIGHTS or not optimizer.built:
            return
        # On JAX, between two batches the trainer holds the values.
        _optimizer_rate.sync_jax_state(self.model)
        beta_1 = _beta_1(optimizer)
        kept = []
        for variable, z in _slots(optimizer):
            y = ops.copy(variable.value)
            kept.append(y)
            b = ops.cast(beta_1, variable.dtype)
            variable.assign(ops.divide(ops.subtract(y, ops.multiply(1 - b, z)), b))
        _TRAINING_WEIGHTS[optimizer] = kept

    def train(self):
        """Put the training weights y back, exactly as they were."""
        optimizer = self._optimizer()
        kept = _TRAINING_WEIGHTS.pop(optimizer, None)
        if kept is None:
            return
        _optimizer_rate.sync_jax_state(self.model)
        for (variable, _), y in zip(_slots(optimizer), kept):
            variable.assign(y)

    def on_train_begin(self, logs=None):
        self._swapped_for_test = False
        optimizer = self._optimizer()
        if not optimizer.built and self.model.built:
            # Keras 3.15 on TensorFlow builds the optimizer while tracing the
            # train step, where ScheduleFreeAdamW's `z = y` initialisation
            # is lost (z starts at 0, and the first step pulls the weights
            # to about 0). Built here, eagerly, as Keras's own symbolic
            # build would.
            optimizer.build(self.model.trainable_variables)
        self.train()

    def on_test_begin(self, logs=None):
        if not self.averaged:
            self.eval()
            self._swapped_for_test = True

    def on_test_end(self, logs=None):
        if self._swapped_for_test:
            self._swapped_for_test = False
            self.train()

    def on_train_end(self, logs=None):
        self.eval()
