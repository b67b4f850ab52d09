"""The range test's arguments and model, checked before anything changes."""

import contextlib
from typing import NamedTuple

import numpy as np

from keras_lr import _validation
from keras_lr.finder._data import _ArrayData
from keras_lr.finder._data import is_tf_dataset

#: The most steps a range test takes: it keeps a rate and two losses per step.
MAX_NUM_STEPS = 1_000_000


class Arguments(NamedTuple):
    """The checked arguments of `find_learning_rate`.

    `data` is the `tf.data.Dataset` given, or the arrays as an `_ArrayData`
    (which holds `batch_size`, `shuffle` and `seed`); `scope` is the scope of
    the distribution strategy the model lives in (a null context without
    one), where its optimizer is built.
    """

    data: object
    start_lr: float
    end_lr: float
    num_steps: int
    mode: str
    smoothing: float
    divergence_threshold: float
    verbose: object
    scope: object


def check_arguments(model, x, y, *, batch_size, start_lr, end_lr, num_steps,
                    mode, smoothing, divergence_threshold, shuffle, seed,
                    verbose):
    """`find_learning_rate`'s arguments as `Arguments`, or the error the first
    bad one gets (Keras's wording), before the model or its optimizer change.
    """
    start_lr = _validation.check_number(
        "start_lr", start_lr, minimum=0.0, open_min=True
    )
    end_lr = _validation.check_number("end_lr", end_lr, minimum=0.0, open_min=True)
    if end_lr <= start_lr:
        raise ValueError(
            "Argument `end_lr` must be greater than `start_lr` "
            f"({start_lr!r}). Received: end_lr={end_lr!r}"
        )
    num_steps = _validation.check_positive_int("num_steps", num_steps)
    if num_steps < 3:
        raise ValueError(
            "Argument `num_steps` must be an integer >= 3. "
            f"Received: num_steps={num_steps!r}"
        )
    mode = _validation.check_choice("mode", mode, ("exponential", "linear"))
    smoothing = _validation.check_number(
        "smoothing", smoothing, minimum=0.0, maximum=1.0
    )
    if smoothing == 1.0:
        raise ValueError(
            "Argument `smoothing` must be a finite number in [0, 1). "
            f"Received: smoothing={smoothing!r}"
        )
    divergence_threshold = _validation.check_number(
        "divergence_threshold", divergence_threshold, minimum=1.0, open_min=True
    )
    batch_size = _validation.check_positive_int("batch_size", batch_size)
    shuffle = _validation.check_bool("shuffle", shuffle)
    if seed is not None:
        seed = _validation.check_non_negative_int("seed", seed)
    if not (verbose == "auto" and isinstance(verbose, str)) and not (
        isinstance(verbose, (int, np.integer)) and verbose in (0, 1, 2)
    ):
        raise ValueError(
            'Argument `verbose` must be "auto", 0, 1 or 2. '
            f"Received: verbose={verbose!r}"
        )
    if num_steps > MAX_NUM_STEPS:
        raise ValueError(
            f"Argument `num_steps` must be at most {MAX_NUM_STEPS} (the test "
            "keeps a rate and two losses for every step). "
            f"Received: num_steps={num_steps!r}"
        )
    if is_tf_dataset(x):
        if y is not None:
            raise ValueError(
                "Argument `y` must be None when `x` is a tf.data.Dataset, "
                f"whose elements hold the targets. Received: y={y!r}"
            )
        data = x
    else:
        data = _ArrayData(x, y, batch_size, shuffle, seed)
    if getattr(model, "optimizer", None) is None or not model.compiled:
        raise ValueError("The model must be compiled before the range test.")
    if not model.built:
        raise ValueError(
            "The model must be built before the range test, so that its "
            "initial weights can be restored afterwards: give it an `Input` "
            "or call it on a batch first."
        )
    return Arguments(
        data=data, start_lr=start_lr, end_lr=end_lr, num_steps=num_steps,
        mode=mode, smoothing=smoothing,
        divergence_threshold=divergence_threshold, verbose=verbose,
        scope=_strategy_scope(model),
    )


def _strategy_scope(model):
    """The scope of the TensorFlow distribution strategy the model lives in."""
    strategy = getattr(model, "distribute_strategy", None)  # TensorFlow only
    if strategy is None:
        return contextlib.nullcontext()
    import tensorflow as tf

    if tf.distribute.has_strategy() and tf.distribute.get_strategy() is not strategy:
        raise ValueError(
            "find_learning_rate must run under the distribution strategy "
            "the model was created in, or outside any strategy scope. "
            f"Received: a call inside the scope of {tf.distribute.get_strategy()!r}, "
            f"for a model created under {strategy!r}."
        )
    return strategy.scope()
