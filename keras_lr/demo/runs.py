"""The demo's models; its runs are keras_lr's named runs (`keras_lr.comparison.runs`)."""

import keras

from keras_lr.comparison.runs import ADAMW_PEAK  # noqa: F401 (the demo's names)
from keras_lr.comparison.runs import BASELINE  # noqa: F401
from keras_lr.comparison.runs import PEAK  # noqa: F401
from keras_lr.comparison.runs import RUNS  # noqa: F401
from keras_lr.comparison.runs import SCHEDULE_FREE_PEAK  # noqa: F401
from keras_lr.comparison.runs import Run  # noqa: F401
from keras_lr.comparison.runs import make_run  # noqa: F401


def build_model(kind="mlp"):
    """The classic MNIST MLP (Dense 128 -> 10), or a small CNN; logits out."""
    layers = keras.layers
    if kind == "mlp":
        body = [layers.Flatten(), layers.Dense(128, activation="relu")]
    elif kind == "cnn":
        body = [
            layers.Reshape((28, 28, 1)),
            layers.Conv2D(16, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.Flatten(),
        ]
    else:
        raise ValueError(
            f'Argument `kind` must be one of "mlp", "cnn". Received: kind={kind!r}'
        )
    return keras.Sequential([keras.Input((28, 28)), *body, layers.Dense(10)])
