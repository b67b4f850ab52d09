"""Shared fixtures: a tiny model, an optimizer that records the rate it used,
and TensorBoard's own reader."""

import os

import keras
import numpy as np
import pytest
from keras import ops

TRACE_LENGTH = 256


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
