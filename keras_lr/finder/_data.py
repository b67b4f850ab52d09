"""The range test's inputs: arrays checked, and drawn one batch at a time."""

import os

import keras
import numpy as np


class _ArrayData:
    """Arrays given to the test, checked, with how to draw batches of them."""

    def __init__(self, x, y, batch_size, shuffle, seed):
        self.x = _input_arrays("x", x)
        self.y = None if y is None else _input_arrays("y", y)
        self.size = _common_length(self.x, self.y)
        _check_batch_memory(self.x, self.y, batch_size)
        self.batch_size = batch_size
        self.shuffle = shuffle
        # Drawn once, so that a pass drawn again is the same pass (with
        # `seed=None` too).
        self.seed = np.random.SeedSequence(seed)


class _Batches(keras.utils.PyDataset):
    """The test's batches from arrays, each drawn when Keras asks for it.

    The samples are taken in passes over the data, each pass in the order of
    a fresh `rng.permutation(len(x))` (or in order without `shuffle`), from
    one `numpy.random.default_rng(seed)`; batch `i` holds the samples at
    positions `i * batch_size` to `(i + 1) * batch_size` of that sequence of
    passes (a batch can span two passes). Only the passes the current batch
    needs are kept, so memory is the data plus a batch, whatever `num_steps`
    is. Floats are cast to `keras.config.floatx()`, as Keras casts arrays
    given to `fit`.
    """

    def __init__(self, data, num_batches):
        super().__init__()
        self._data = data
        self._num_batches = num_batches
        self._x, self._y, self._size = data.x, data.y, data.size
        self._batch_size = data.batch_size
        self._restart()

    def _restart(self):
        self._rng = np.random.default_rng(self._data.seed)
        self._passes = {}
        self._drawn = 0

    def _pass(self, number):
        if number < self._drawn and number not in self._passes:
            self._restart()  # only when Keras goes back (a peek at batch 0)
        while self._drawn <= number:
            order = self._rng.permutation(self._size) if self._data.shuffle else None
            # A batch asks for its passes in order: those before `number`
            # are drawn (the generator must pass them) but not kept.
            if self._drawn == number:
                self._passes[number] = order
            self._drawn += 1
        return self._passes[number]

    @property
    def num_batches(self):
        return self._num_batches

    def __getitem__(self, index):
        start = index * self._batch_size
        stop = start + self._batch_size
        first, last = start // self._size, (stop - 1) // self._size
        for number in [n for n in self._passes if n < first]:
            del self._passes[number]
        pieces = []
        for number in range(first, last + 1):
            low = max(start - number * self._size, 0)
            high = min(stop - number * self._size, self._size)
            order = self._pass(number)
            pieces.append(np.arange(low, high) if order is None else order[low:high])
        rows = np.concatenate(pieces)
        take = lambda array: _as_floatx(array[rows])  # noqa: E731
        x = keras.tree.map_structure(take, self._x)
        if self._y is None:
            return (x,)
        return x, keras.tree.map_structure(take, self._y)


def _input_arrays(name, value):
    """`value` (an array, or a dict, list or tuple of them) as NumPy arrays,
    or a Keras-style error naming `name`."""
    if value is None:
        raise TypeError(
            f"Argument `{name}` must be an array, a dict, list or tuple of "
            "arrays, or (for `x`) a tf.data.Dataset. "
            f"Received: {name}=None"
        )

    def convert(leaf):
        try:
            array = np.asarray(leaf)
        except Exception as error:
            raise TypeError(
                f"Argument `{name}` must hold arrays. Received: {name} holding "
                f"{type(leaf).__name__} ({error})"
            ) from None
        if array.ndim == 0:
            raise ValueError(
                f"Argument `{name}` must hold arrays with a first axis of "
                f"samples. Received: {name} holding an array of shape ()"
            )
        return array

    return keras.tree.map_structure(convert, value)


def _common_length(x, y):
    lengths = {
        name: sorted({len(leaf) for leaf in keras.tree.flatten(value)})
        for name, value in (("x", x), ("y", y)) if value is not None
    }
    for name, found in lengths.items():
        if len(found) > 1:
            raise ValueError(
                f"Argument `{name}` must hold arrays of one number of samples. "
                f"Received: {name} holding arrays of {found} samples"
            )
    size = lengths["x"][0]
    if "y" in lengths and lengths["y"][0] != size:
        raise ValueError(
            "Arguments `x` and `y` must hold the same number of samples. "
            f"Received: x with {size}, y with {lengths['y'][0]}"
        )
    if size == 0:
        raise ValueError(
            "Argument `x` must hold at least one sample. Received: x with 0 samples"
        )
    return size


def _check_batch_memory(x, y, batch_size):
    """Refuse a batch larger than this machine's memory, before any work."""
    leaves = keras.tree.flatten(x) + ([] if y is None else keras.tree.flatten(y))
    # Each sample's values, and its index in the batch.
    per_sample = 8 + sum(
        leaf.dtype.itemsize * int(np.prod(leaf.shape[1:])) for leaf in leaves
    )
    needed = batch_size * per_sample
    available = _physical_memory()
    if available is not None and needed > available:
        raise ValueError(
            "Argument `batch_size` must give batches that fit in memory: a "
            f"batch of {batch_size} samples takes {needed / 2**30:.3g} GiB, this "
            f"machine has {available / 2**30:.3g} GiB. "
            f"Received: batch_size={batch_size!r}"
        )


def _physical_memory():
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not a POSIX system
        return None


def _as_floatx(array):
    if np.issubdtype(array.dtype, np.floating) and array.dtype != np.dtype(
        keras.config.floatx()
    ):
        return array.astype(keras.config.floatx())
    return array


def is_tf_dataset(x):
    """Whether `x` is a `tf.data.Dataset` (never, without TensorFlow)."""
    try:
        import tensorflow as tf
    except ImportError:
        return False
    return isinstance(x, tf.data.Dataset)
