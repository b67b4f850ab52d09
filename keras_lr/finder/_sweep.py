"""The sweep: a `fit` whose rate rises from `start_lr` to `end_lr`, recorded.

It changes the model's training state; `find_learning_rate` runs it inside
`_state.restored_training_state`, which puts everything back.
"""

import math

import keras
import numpy as np

from keras_lr import _groups
from keras_lr import _keras_private
from keras_lr._groups import ScaledSchedule
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
    what it measured, as a `RangeTestResult`.

    A `MultiOptimizer`'s groups sweep together: the default group's rate
    is the sweep's, every other group's that times its ratio to the
    default group's at a fresh optimizer's first update.
    """
    named = _groups.groups(model.optimizer)
    default = next(iter(named.values()))
    ratios = _ratios(named, default)
    accumulation = _optimizer_rate.accumulation_steps(default)
    # The sweep's rates: a warmup from `start_lr` to a constant `end_lr`.
    rates = Warmup(
        Constant(arguments.end_lr), arguments.num_steps - 1,
        initial_learning_rate=arguments.start_lr, shape=arguments.mode,
    )
    recorder = _Recorder(arguments.num_steps, arguments.smoothing,
                         arguments.divergence_threshold, accumulation)
    # A MultiOptimizer counts its updates too.
    _keras_private.batch_counter(_groups.unwrap(model.optimizer)).assign(0)
    for name, sub in named.items():
        _hold(sub, rates, ratios[name])
    model.train_function = None
    # One loss per batch needs one batch per execution.
    model.steps_per_execution = 1
    _fit(model, arguments.data, arguments.num_steps * accumulation, recorder,
         arguments.verbose)
    return RangeTestResult(rates.numpy(np.arange(len(recorder.losses))),
                           recorder.losses, recorder.smoothed)


def _ratios(named, default):
    """Each group's rate over the default group's, where a fresh optimizer's
    first update takes them (exact for `ScaledSchedule` groups), or the
    error a ratio that does not exist gets, before anything changes."""
    step = int(_optimizer_rate.schedule_steps(default, [0])[0])
    ratios = {}
    for name, sub in named.items():
        ratios[name] = 1.0 if sub is default else _groups.multiplier(sub, default, step)
        if not math.isfinite(ratios[name]):
            raise ValueError(
                "The range test sweeps every group of a MultiOptimizer at its "
                "ratio to the default group's rate, which must be above 0 at "
                f"the first update to give one. Received: group {name!r} with "
                f"rate {_groups.rate_at(sub, step)!r} beside a default rate of "
                f"{_groups.rate_at(default, step)!r}"
            )
    return ratios


def _hold(optimizer, rates, ratio):
    """Give one (sub-)optimizer the sweep's `rates` times `ratio`, from a
    fresh start."""
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
    # Keras calls the schedule with the batch count: update k, applied at
    # batch k * n + n - 1, gets rates(k).
    per_batch = Epochs(rates, accumulation) if accumulation > 1 else rates
    if ratio != 1.0:
        per_batch = ScaledSchedule(per_batch, ratio)
    _keras_private.batch_counter(optimizer).assign(0)
    # The sweep's first update starts from no accumulated gradient, not
    # from a half-made update left by an earlier fit.
    for accumulator in _keras_private.accumulated_gradients(optimizer):
        accumulator.assign(keras.ops.zeros(accumulator.shape, accumulator.dtype))
    _keras_private.hold_rate(optimizer, per_batch)
    for name, value in held.items():
        setattr(optimizer, name, value)


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
