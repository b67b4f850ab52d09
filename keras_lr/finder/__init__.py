"""The learning rate range test (Smith 2017), with exact restoration.

`find_learning_rate` is three parts, one module each: `_checks` refuses bad
arguments before anything changes, `_state` saves the training state and
restores it exactly (after an error or an interrupt too), and `_sweep`
trains through the sweep and records it. `result` holds what the test
measured and the rate it suggests; `_data` draws array inputs one batch at
a time.
"""

from __future__ import annotations

from typing import Any

import keras

from keras_lr.finder import _checks
from keras_lr.finder import _state
from keras_lr.finder import _sweep
from keras_lr.finder._checks import MAX_NUM_STEPS
from keras_lr.finder.result import RangeTestResult

__all__ = ["MAX_NUM_STEPS", "RangeTestResult", "find_learning_rate"]


def find_learning_rate(
    model: keras.Model,
    x: Any,
    y: Any = None,
    *,
    batch_size: int = 32,
    start_lr: float = 1e-7,
    end_lr: float = 10.0,
    num_steps: int = 100,
    mode: str = "exponential",
    smoothing: float = 0.98,
    divergence_threshold: float = 4.0,
    shuffle: bool = True,
    seed: int | None = None,
    verbose: str | int = "auto",
) -> RangeTestResult:
    """The learning rate range test (Smith 2017, "Cyclical Learning Rates").

    Trains the compiled `model` for up to `num_steps` steps while its rate
    sweeps from `start_lr` to `end_lr`, records the loss of every step and
    its smoothed curve, and stops early once the smoothed loss exceeds
    `divergence_threshold` times its best. Then (also when an error or a
    `KeyboardInterrupt` cuts it short) it restores the model's variables,
    the optimizer's variables (step count and slots included), its
    learning rate and its compiled train function exactly (on JAX the next
    `fit` compiles it again): a `fit` after the test is identical to one
    without it. A scheduled momentum, `beta_1` or weight decay
    (`keras_lr.optimizers`) holds, during the test, the value a fresh
    optimizer's first update would use, and is restored afterwards.

    ```python
    t = step / (num_steps - 1)
    lr(step) = start_lr * (end_lr / start_lr) ** t   # mode="exponential"
    lr(step) = start_lr + (end_lr - start_lr) * t    # mode="linear"
    smoothed[k] = average[k] / (1 - smoothing ** (k + 1)),
    average[k] = smoothing * average[k - 1] + (1 - smoothing) * loss[k]
    ```

    The sweep runs inside the compiled train step (as a schedule), so it
    works whatever the optimizer's own rate is. A
    `keras.optimizers.MultiOptimizer` sweeps all its groups together: the
    rates recorded (and suggested) are the default group's, and every
    other group runs at its ratio to it, taken where a fresh optimizer's
    first update takes the two rates (exactly its multiplier for
    `keras_lr.optimizers.layer_decay` and `scale_rates` groups); every
    sub-optimizer is restored afterwards. Keras's progress bar shows
    the run. Unlike keras_lr_finder, the recorded loss is each batch's own
    (Keras 3 logs the epoch's running mean; the batch loss is recovered
    from it).

    With `gradient_accumulation_steps=n`, a step of the sweep is a real
    update: the test runs `num_steps * n` batches, update `k` uses rate `k`,
    and its loss is the mean loss of its `n` batches, so the curve is the
    one of the accumulated (effective) batch size. Under a TensorFlow
    distribution strategy (`MirroredStrategy`), a model compiled inside
    `strategy.scope()` is tested as `fit` would train it (the optimizer's
    variables are created in that scope); calling it inside the scope of
    another strategy is refused before anything changes.

    Memory: array inputs are drawn one batch at a time (in passes over the
    data, each in a fresh order with `shuffle`), so the test holds the data,
    a batch and a rate and two losses per step, whatever `num_steps` is.
    Sizes it could not hold are refused up front: `num_steps` above
    1,000,000, or a batch larger than the machine's memory. Empty or
    mismatched `x` and `y` get a `ValueError` naming them.

    Args:
        model: a built, compiled Keras model.
        x: NumPy arrays (or a dict or list of them) or a `tf.data.Dataset`
            of batches (then `y` and `batch_size` are not used, and the
            dataset is repeated as needed).
        y: the targets for array inputs.
        batch_size: the batch size for array inputs.
        start_lr: the first rate, > 0.
        end_lr: the last rate, > `start_lr`.
        num_steps: the number of steps (batches, or real updates under
            gradient accumulation), from 3 to 1,000,000.
        mode: `"exponential"` or `"linear"`.
        smoothing: the moving average factor, in [0, 1).
        divergence_threshold: stop once the smoothed loss exceeds this many
            times its best, > 1.
        shuffle: draw array batches in a random order (from a private
            generator, so the global random state is not touched).
        seed: the seed of that generator (a non-negative integer), for a
            repeatable test.
        verbose: Keras's `verbose` for `fit`.

    Returns:
        A `RangeTestResult`.

    Example:

    A sweep of 5 steps from 0.001 to 1, after which the model and its
    optimizer are as they were:

    >>> import keras, numpy as np, keras_lr
    >>> x = np.random.default_rng(0).normal(size=(64, 2))
    >>> y = x.sum(axis=1, keepdims=True)
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile(keras.optimizers.SGD(0.1), loss="mse")
    >>> result = keras_lr.find_learning_rate(
    ...     model, x, y, batch_size=8, start_lr=1e-3, end_lr=1.0, num_steps=5,
    ...     verbose=0)
    >>> result
    RangeTestResult(steps=5, suggestion=...)
    >>> result.learning_rates.round(6).tolist()
    [0.001, 0.005623, 0.031623, 0.177828, 1.0]
    >>> round(float(model.optimizer.learning_rate), 6)
    0.1

    On real data (the default sweep, 100 steps from 1e-7 to 10):

    ```python
    result = keras_lr.find_learning_rate(model, x_train, y_train)
    result.plot()
    model.optimizer.learning_rate = result.suggestion()
    ```
    """
    arguments = _checks.check_arguments(
        model, x, y, batch_size=batch_size, start_lr=start_lr, end_lr=end_lr,
        num_steps=num_steps, mode=mode, smoothing=smoothing,
        divergence_threshold=divergence_threshold, shuffle=shuffle, seed=seed,
        verbose=verbose,
    )
    if not model.optimizer.built:
        # As `fit` builds it: inside the model's distribution strategy, so
        # that its variables are mirrored like the model's.
        with arguments.scope:
            model.optimizer.build(model.trainable_variables)
    with _state.restored_training_state(model):
        return _sweep.sweep(model, arguments)
