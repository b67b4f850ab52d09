"""What differs between the backends the suite runs on: the step's dtype,
how a train step compiles, and which cases run on every backend."""

import keras
import numpy as np
from keras import ops

# The optimizer's iteration counter: int64 on TensorFlow, int32 on JAX
# (without x64) and torch.
STEP_DTYPE = "int64" if keras.backend.backend() == "tensorflow" else "int32"


def as_train_step(fn, jit_compile=True):
    """`fn` as the backend compiles a train step: a `tf.function` (XLA with
    `jit_compile=True`, TensorFlow's default graph with None), `jax.jit`.

    Keras's torch backend runs the train step eagerly (its default
    `jit_compile`), so on torch this is the eager function.
    """
    if keras.backend.backend() == "jax":
        import jax

        return jax.jit(fn)
    if keras.backend.backend() == "torch":
        return fn
    import tensorflow as tf

    return tf.function(fn, jit_compile=jit_compile)


def graph_rates(schedule, steps, fn=None):
    """The rates `fn` (the schedule itself by default) computes in the graph
    at `steps`, given at the optimizer's step dtype, in float64."""
    tensor = ops.convert_to_tensor(np.asarray(steps), dtype=STEP_DTYPE)
    return ops.convert_to_numpy((fn or schedule)(tensor)).astype(np.float64)


def fewer_elsewhere(params, kept=1):
    """All of `params` on TensorFlow, the first `kept` on JAX and torch.

    For tests of logic that is the same on every backend (a callback's, an
    optimizer step feeding a schedule), each case a fit or a process: the
    other backends repeat representative cases instead of all of them.
    """
    params = list(params)
    return params if keras.backend.backend() == "tensorflow" else params[:kept]


def count_compiles(model):
    """A list that grows by one at each compile of `model`'s train step.

    On TensorFlow (a `tf.function`, with or without XLA) and JAX with
    `jit_compile`, the Python of the train step runs once per trace: each
    run is a compile. Keras's torch trainer runs the step eagerly, as JAX
    does without `jit_compile` (a model loaded from a `.keras` file written
    on TensorFlow, say) and any backend with `run_eagerly`: they build
    nothing but the function that calls it, and each one built counts. Call it on a model
    that has not trained yet (JAX retraces the function it was given), whose
    optimizer is built (TensorFlow traces a first step that creates
    variables twice).
    """
    compiles = []
    eager = model.run_eagerly or keras.backend.backend() == "torch" or (
        keras.backend.backend() == "jax" and not model.jit_compile
    )
    if eager:
        make = model.make_train_function

        def counting(force=False):
            if force or model.train_function is None:
                compiles.append("built")
            return make(force=force)

        model.make_train_function = counting
    else:
        step = model.train_step

        def tracing(*args):
            compiles.append("traced")
            return step(*args)

        model.train_step = tracing
    return compiles
