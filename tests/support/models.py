"""Tiny models for fit-level tests, the optimizer that records the rate each
update used (the ground truth for the callbacks), and the readers of what
the updates used."""

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


def dense_model(optimizer, seed=None, **compile_kwargs):
    """Dense(1) on 3 features, compiled with `optimizer` and MSE; its weights
    drawn after `keras.utils.set_random_seed(seed)` when `seed` is given."""
    if seed is not None:
        keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer, loss="mse", **compile_kwargs)
    return model


def tiny_model(learning_rate, steps_per_execution=1, metrics=None):
    """Dense(1) on 3 features, compiled with `TracingSGD(learning_rate)`."""
    return dense_model(
        TracingSGD(learning_rate),
        metrics=metrics,
        steps_per_execution=steps_per_execution,
    )


def accumulating_model(learning_rate, accumulation_steps, steps_per_execution=1,
                       metrics=None):
    """`tiny_model` whose optimizer accumulates `accumulation_steps` batches."""
    return dense_model(
        TracingSGD(learning_rate, gradient_accumulation_steps=accumulation_steps),
        metrics=metrics,
        steps_per_execution=steps_per_execution,
    )


def two_layer_model(optimizer, seed=0):
    """Dense(4, tanh) then Dense(1) on 3 features, its weights drawn after
    `keras.utils.set_random_seed(seed)`, compiled with `optimizer` and MSE:
    a loss with some curvature, for the range test."""
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([
        keras.Input((3,)), keras.layers.Dense(4, activation="tanh"),
        keras.layers.Dense(1),
    ])
    model.compile(optimizer, loss="mse")
    return model


def transformer_model(depth=2, seed=0):
    """A transformer-shaped model on the `data` fixture's 3 features (read
    as 3 tokens of 1), its layers named as a small ViT or BERT:
    `embeddings`, blocks `block_<i>_attention` (Keras's
    `MultiHeadAttention`) and `block_<i>_mlp` for `i` in `0..depth - 1`,
    `norm`, `head`. Not compiled; weights drawn after
    `keras.utils.set_random_seed(seed)`."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((3,))
    x = keras.layers.Reshape((3, 1))(inputs)
    x = keras.layers.Dense(4, name="embeddings")(x)
    for i in range(depth):
        attended = keras.layers.MultiHeadAttention(
            num_heads=1, key_dim=2, name=f"block_{i}_attention"
        )(x, x)
        x = keras.layers.Add()([x, attended])
        x = keras.layers.Dense(4, activation="tanh", name=f"block_{i}_mlp")(x)
    x = keras.layers.LayerNormalization(name="norm")(x)
    x = keras.layers.GlobalAveragePooling1D()(x)
    return keras.Model(inputs, keras.layers.Dense(1, name="head")(x))


def layer_patterns(depth):
    """`keras_lr.optimizers.layer_decay`'s `layers` for `transformer_model`:
    the embeddings, then each block, bottom first."""
    return ["embeddings/.*"] + [f"block_{i}_.*" for i in range(depth)]


def summing_model(learning_rate, jit_compile="auto"):
    """w <- w + lr(step) at every update: MAE against a far target, x = 1.

    One weight, no bias, from zero, under plain SGD: after training, the
    weight is the sum of the rates every update used (`summed_rates`).
    """
    model = keras.Sequential(
        [keras.Input((1,)),
         keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros")]
    )
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=learning_rate),
        loss="mae",
        jit_compile=jit_compile,
    )
    return model


def fit(model, data, callbacks, epochs, batch_size=8, **kwargs):
    """`model.fit` on `data` (the `data` fixture: 5 batches of 8), quietly."""
    return model.fit(*data, batch_size=batch_size, epochs=epochs, verbose=0,
                     callbacks=callbacks, **kwargs)


def rates_used(model, steps):
    """The rates the updates `0 .. steps - 1` used, from the trace."""
    trace = ops.convert_to_numpy(model.optimizer.trace)
    return trace[:steps].astype(np.float64)


def rates_of_updates(model, updates, trace=None, optimizer=None):
    """The rates the real updates `0 .. updates - 1` used, under accumulation.

    `TracingSGD` writes at the batch count, and only real updates write
    (TensorFlow and torch skip the update step in between; JAX computes it
    and discards its variables, the trace included): update `k` is at
    `k * n + n - 1`. Checks that nothing else was written. `trace`: a copy
    taken earlier, instead of the optimizer's trace now. `optimizer`: the
    `TracingSGD` to read (a group of a `MultiOptimizer`) instead of the
    model's.
    """
    optimizer = optimizer or model.optimizer
    n = optimizer.gradient_accumulation_steps
    if trace is None:
        trace = ops.convert_to_numpy(optimizer.trace)
    trace = np.asarray(trace, dtype=np.float64)
    at_updates = np.zeros(TRACE_LENGTH, dtype=bool)
    at_updates[n - 1 : updates * n : n] = True
    assert not trace[~at_updates].any(), "a rate was recorded between updates"
    return trace[at_updates]


def summed_rates(model):
    """A `summing_model`'s weight: the sum of the rates its updates used."""
    return float(ops.convert_to_numpy(model.layers[0].kernel)[0, 0])


def as_float32(values):
    """`values` as float32 holds them (the optimizer's rate variable), back
    in float64."""
    return np.asarray(values, dtype=np.float32).astype(np.float64)
