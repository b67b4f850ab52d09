"""The sweep: a `fit` whose rate rises from `start_lr` to `end_lr`, recorded.

It changes the model's training state; `find_learning_rate` runs it inside
`_state.restored_training_state`, which puts everything back.
"""

import math

import keras
import numpy as np

from keras_lr import _keras_private
from keras_lr.callbacks import _optimizer_rate
from keras_lr.finder._data import _Batches
from keras_lr.finder._data import is_tf_dataset
from keras_lr.finder.result import RangeTestResult
from keras_lr.schedules.base import evaluate
from keras_lr.schedules.piecewise import Constant
from keras_lr.schedules.wrappers import Epochs
from keras_lr.schedules.wrappers import Warmup


def sweep(model, arguments):
    """Train `model` through the sweep of `arguments` (`_checks.Arguments`);
    what it measured, as a `RangeTestResult`."""
    optimizer = _optimizer_rate.base_optimizer(model)
    accumulation = _optimizer_rate.accumulation_steps(optimizer)
    # A scheduled momentum, beta_1 or weight decay (keras_lr.optimizers)
    # would move during the sweep; it holds the value of a fresh
    # optimizer's first update instead, as PyTorch's param group holds the
    # momentum a cyclical scheduler set at its start.
    first_update = _optimizer_rate.schedule_steps(optimizer, [0])
    held = {
        name: float(evaluate(schedule, first_update)[0])
        for name, schedule in (
            getattr(optimizer, "hyperparameter_schedules", None) or {}
        ).items()
    }
    # The sweep's rates: a warmup from `start_lr` to a constant `end_lr`.
    rates = Warmup(
        Constant(arguments.end_lr), arguments.num_steps - 1,
        initial_learning_rate=arguments.start_lr, shape=arguments.mode,
    )
    # Keras calls the schedule with the batch count: update k, applied at
    # batch k * n + n - 1, gets rates(k).
    per_batch = Epochs(rates, accumulation) if accumulation > 1 else rates
    recorder = _Recorder(arguments.num_steps, arguments.smoothing,
                         arguments.divergence_threshold, accumulation)
    _keras_private.batch_counter(optimizer).assign(0)
    # The sweep's first update starts from no accumulated gradient, not
    # from a half-made update left by an earlier fit.
    for accumulator in _keras_private.accumulated_gradients(optimizer):
        accumulator.assign(keras.ops.zeros(accumulator.shape, accumulator.dtype))
    _keras_private.hold_rate(optimizer, per_batch)
    for name, value in held.items():
        setattr(optimizer, name, value)
    model.train_function = None
    # One loss per batch needs one batch per execution.
    model.steps_per_execution = 1
    _fit(model, arguments.data, arguments.num_steps * accumulation, recorder,
         arguments.verbose)
    return RangeTestResult(rates.numpy(np.arange(len(recorder.losses))),
                           recorder.losses, recorder.smoothed)


def _fit(model, data, num_batches, recorder, verbose):
    if is_tf_dataset(data):
        model.fit(
            data.repeat(), epochs=1, steps_per_epoch=num_batches, shuffle=False,
            callbacks=[recorder], verbose=verbose,
        )
        return
    # `shuffle=False`: Keras would otherwise shuffle the order of the batches.
    model.fit(_Batches(data, num_batches), epochs=1, shuffle=False,
              callbacks=[recorder], verbose=verbose)


class _Recorder(keras.callbacks.Callback):
    """Per-update losses from Keras's running mean; stops on divergence.

    An update is one batch, or `accumulation_steps` batches under gradient
    accumulation; its loss is the mean of its batches' losses.
    """

    def __init__(self, num_steps, smoothing, divergence_threshold,
                 accumulation_steps=1):
        super().__init__()
        self.num_steps = num_steps
        self.smoothing = smoothing
        self.divergence_threshold = divergence_threshold
        self.accumulation_steps = accumulation_steps
        self.losses = []
        self.smoothed = []
        self._average = 0.0
        self._best = math.inf
        self._update = []

    def on_epoch_begin(self, epoch, logs=None):
        self._batches = 0
        self._mean = 0.0

    def on_train_batch_end(self, batch, logs=None):
        # Keras logs the mean loss of the epoch so far; the batch's own loss
        # is what that mean gained.
        mean = float(logs["loss"])
        self._batches += 1
        loss = self._batches * mean - (self._batches - 1) * self._mean
        self._mean = mean
        self._update.append(loss)
        if len(self._update) < self.accumulation_steps:
            return
        loss = float(np.mean(self._update))
        self._update = []
        self.losses.append(loss)
        beta = self.smoothing
        self._average = beta * self._average + (1.0 - beta) * loss
        smoothed = self._average / (1.0 - beta ** len(self.losses))
        self.smoothed.append(smoothed)
        if not math.isfinite(smoothed) or len(self.losses) >= self.num_steps:
            self.model.stop_training = True
        elif smoothed > self.divergence_threshold * self._best:
            self.model.stop_training = True
        self._best = min(self._best, smoothed)
