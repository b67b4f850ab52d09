"""Shared fixtures: a tiny model, an optimizer that records the rate it used,
and TensorBoard's own reader."""

import os

import keras
import numpy as np
import pytest
from keras import ops

TRACE_LENGTH = 256


def fewer_elsewhere(params, kept=1):
    """All of `params` on TensorFlow, the first `kept` on JAX and torch.

    For tests of a callback's own logic, each case a fit or a process: the
    logic is the same on every backend, so the other backends repeat a
    representative case instead of all of them.
    """
    params = list(params)
    return params if keras.backend.backend() == "tensorflow" else params[:kept]


@keras.saving.register_keras_serializable(package="keras_lr_tests")
class TracingSGD(keras.optimizers.SGD):
    """SGD that records the learning rate each update used, at its step.

    The ground truth for the callbacks: `trace[s]` is the rate update `s`
    received inside the compiled train step.
    """

    def build(self, variables):
        super().build(variables)
        self.trace = self.add_variable(
            (TRACE_LENGTH,), initializer="zeros", dtype="float32", name="trace"
        )

    def update_step(self, gradient, variable, learning_rate):
        super().update_step(gradient, variable, learning_rate)
        if self._get_variable_index(variable) == 0:
            self.trace.assign(
                ops.scatter_update(
                    self.trace,
                    ops.reshape(ops.cast(self._iterations, "int32"), (1, 1)),
                    ops.reshape(ops.cast(learning_rate, "float32"), (1,)),
                )
            )


def tiny_model(learning_rate, steps_per_execution=1, metrics=None):
    """Dense(1) on 3 features, compiled with `TracingSGD(learning_rate)`."""
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(
        TracingSGD(learning_rate),
        loss="mse",
        metrics=metrics,
        steps_per_execution=steps_per_execution,
    )
    return model


def rates_used(model, steps):
    """The rates the updates `0 .. steps - 1` used, from the trace."""
    trace = ops.convert_to_numpy(model.optimizer.trace)
    return trace[:steps].astype(np.float64)


def read_scalars(log_dir, tag="learning_rate"):
    """`(steps, values)` of `tag` under `<log_dir>/train`, read by TensorBoard."""
    from tensorboard.backend.event_processing.event_accumulator import (
        EventAccumulator,
    )

    accumulator = EventAccumulator(os.path.join(log_dir, "train"))
    accumulator.Reload()
    events = accumulator.Scalars(tag)
    return (
        np.array([e.step for e in events]),
        np.array([e.value for e in events], dtype=np.float64),
    )


@pytest.fixture(scope="session")
def data():
    """40 samples of 3 features: 5 batches of 8."""
    rng = np.random.RandomState(0)
    x = rng.rand(40, 3).astype("float32")
    return x, x.sum(axis=1, keepdims=True)


def accumulating_model(learning_rate, accumulation_steps, steps_per_execution=1):
    """`tiny_model` whose optimizer accumulates `accumulation_steps` batches."""
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(
        TracingSGD(learning_rate, gradient_accumulation_steps=accumulation_steps),
        loss="mse",
        steps_per_execution=steps_per_execution,
    )
    return model


def rates_of_updates(model, updates, trace=None):
    """The rates the real updates `0 .. updates - 1` used, under accumulation.

    `TracingSGD` writes at the batch count, and only real updates write
    (TensorFlow and torch skip the update step in between; JAX computes it
    and discards its variables, the trace included): update `k` is at
    `k * n + n - 1`. Checks that nothing else was written. `trace`: a copy
    taken earlier, instead of the optimizer's trace now.
    """
    n = model.optimizer.gradient_accumulation_steps
    if trace is None:
        trace = ops.convert_to_numpy(model.optimizer.trace)
    trace = np.asarray(trace, dtype=np.float64)
    at_updates = np.zeros(TRACE_LENGTH, dtype=bool)
    at_updates[n - 1 : updates * n : n] = True
    assert not trace[~at_updates].any(), "a rate was recorded between updates"
    return trace[at_updates]
