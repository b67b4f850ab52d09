"""Fixtures shared by every test folder. The shared builders and readers
(tiny models, `TracingSGD`, TensorBoard's reader, scripted callbacks) are
in `tests/support/`, imported explicitly."""

import numpy as np
import pytest


@pytest.fixture(scope="session")
def data():
    """40 samples of 3 features: 5 batches of 8."""
    rng = np.random.RandomState(0)
    x = rng.rand(40, 3).astype("float32")
    return x, x.sum(axis=1, keepdims=True)
