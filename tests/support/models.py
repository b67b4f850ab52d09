"""Tiny models for fit-level tests, and the optimizer that records the rate
each update used (the ground truth for the callbacks)."""

import keras
import numpy as np
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
