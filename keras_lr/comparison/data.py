"""The data of a comparison, in every form `keras_lr.compare` takes.

`prepare` turns the user's `data` into a `Data`: training and validation
parts that `fit` takes, and the number of updates per epoch. Its checks run
in the calling process before any training, so that a wrong shape is one
error, not one failed run per schedule and seed.
"""

import dataclasses
import math

import numpy as np


@dataclasses.dataclass
class Data:
    """Training and validation data as `fit` takes them."""

    #: `(x, y)` arrays, or a dataset that yields batches.
    train: object
    #: `(x, y)` arrays, or a dataset.
    validation: object
    description: str
    #: Whether `train` is arrays (batched by `fit` with `batch_size`).
    arrays: bool

    def fit_arguments(self, batch_size):
        """`fit`'s data arguments: `x`, `y`, `batch_size`, `validation_data`."""
        if self.arrays:
            (x, y) = self.train
            return {"x": x, "y": y, "batch_size": batch_size,
                    "validation_data": self.validation}
        # A dataset's order is its own (Keras warns that it ignores `shuffle`).
        return {"x": self.train, "validation_data": self.validation, "shuffle": False}

    def steps_per_epoch(self, batch_size):
        if self.arrays:
            return math.ceil(len(self.train[0]) / batch_size)
        return _batches(self.train, "data")

    def sample(self, count=2):
        """A few training inputs and labels, to check the model on."""
        if self.arrays:
            x, y = self.train
            return x[:count], y[:count]
        batch = self.train[0] if _is_py_dataset(self.train) else next(iter(self.train))
        return batch[0], batch[1]


def _is_tf_dataset(value):
    try:
        import tensorflow as tf
    except ImportError:
        return False
    return isinstance(value, tf.data.Dataset)


def _is_py_dataset(value):
    import keras

    return isinstance(value, keras.utils.PyDataset)


def _is_dataset(value):
    return _is_tf_dataset(value) or _is_py_dataset(value)


def _is_array(value):
    return hasattr(value, "shape") and hasattr(value, "__len__") and not _is_dataset(
        value
    )


def _batches(dataset, where):
    if _is_py_dataset(dataset):
        count = dataset.num_batches
    else:
        count = int(dataset.cardinality())
    if count is None or count < 0:
        raise ValueError(
            f"Argument `{where}` must have a known, finite number of batches "
            "per epoch (a `tf.data.Dataset` without `repeat()`, a "
            f"`PyDataset` with `__len__`). Received: {where}={dataset!r}"
        )
    if count == 0:
        raise ValueError(f"Argument `{where}` must not be empty. Received: {where}={dataset!r}")
    return count


def _pair(value, where):
    """`(x, y)` as NumPy-compatible arrays of equal length."""
    if not (isinstance(value, (tuple, list)) and len(value) == 2
            and all(_is_array(part) for part in value)):
        raise ValueError(
            f"Argument `{where}` must be a pair of arrays `(x, y)`. "
            f"Received: {where} of type {type(value).__name__}"
        )
    x, y = value
    if len(x) != len(y):
        raise ValueError(
            f"Argument `{where}` must have as many labels as inputs. "
            f"Received: {len(x)} inputs of shape {tuple(x.shape)} and {len(y)} "
            f"labels of shape {tuple(y.shape)}"
        )
    if len(x) == 0:
        raise ValueError(f"Argument `{where}` must not be empty. Received: 0 samples")
    return x, y


def _split(x, y, validation_split, seed):
    if not 0 < validation_split < 1:
        raise ValueError(
            "Argument `validation_split` must be between 0 and 1 when `data` "
            f"is `(x, y)`. Received: validation_split={validation_split!r}"
        )
    count = int(round(len(x) * validation_split))
    if not 0 < count < len(x):
        raise ValueError(
            f"Argument `validation_split` leaves no {'validation' if not count else 'training'} "
            f"samples of {len(x)}. Received: validation_split={validation_split!r}"
        )
    # A seeded shuffle first: data sorted by label would otherwise put the
    # last classes in the validation part (Keras's `validation_split` takes
    # the last samples as they are).
    order = np.random.default_rng(seed).permutation(len(x))
    train, validation = order[count:], order[:count]
    return (x[train], y[train]), (x[validation], y[validation])


def prepare(data, validation_split=0.2, seed=0):
    """`data` as a `Data`.

    Args:
        data: `(x, y)` arrays (split with `validation_split`, shuffled with
            `seed`); `((x_train, y_train), (x_val, y_val))`; `(train, val)`
            datasets (`tf.data.Dataset` or `keras.utils.PyDataset`, each
            yielding `(x, y)` batches); or a function returning any of these.
        validation_split: the fraction held out of `(x, y)`.
        seed: the seed of that split.

    Raises:
        ValueError, TypeError: `data` is none of these.
    """
    if callable(data) and not _is_dataset(data):
        name = getattr(data, "__name__", repr(data))
        try:
            data = data()
        except Exception as error:
            raise ValueError(
                f"Argument `data` ({name}) raised {type(error).__name__}: {error}"
            ) from error
    if _is_dataset(data):
        raise ValueError(
            "Argument `data` must come with validation data: give `(train, "
            f"validation)` datasets. Received: data={data!r}"
        )
    if not (isinstance(data, (tuple, list)) and len(data) == 2):
        raise TypeError(
            "Argument `data` must be `(x, y)`, `((x_train, y_train), (x_val, "
            "y_val))`, `(train, validation)` datasets or a function returning "
            f"one of them. Received: data of type {type(data).__name__}"
        )
    first, second = data
    if _is_dataset(first) or _is_dataset(second):
        if not (_is_dataset(first) and _is_dataset(second)):
            raise TypeError(
                "Argument `data` must be two datasets (training, validation) "
                f"when one is a dataset. Received: {type(first).__name__} and "
                f"{type(second).__name__}"
            )
        _batches(first, "data[0]")
        _batches(second, "data[1]")
        return Data(first, second, f"{type(first).__name__} data", arrays=False)
    if _is_array(first) and _is_array(second):
        x, y = _pair(data, "data")
        train, validation = _split(x, y, validation_split, seed)
        split = True
    else:
        train, validation = _pair(first, "data[0]"), _pair(second, "data[1]")
        split = False
    if tuple(train[0].shape[1:]) != tuple(validation[0].shape[1:]):
        raise ValueError(
            "Argument `data` must have training and validation inputs of one "
            f"shape. Received: {tuple(train[0].shape[1:])} and "
            f"{tuple(validation[0].shape[1:])} per sample"
        )
    description = (
        f"{len(train[0]):,} training and {len(validation[0]):,} validation samples"
        + (f" (a {validation_split:g} split, shuffled with seed {seed})" if split else "")
    )
    return Data(train, validation, description, arrays=True)
