"""What the ports of the peers' own test suites share: the check of a
peer's expected rates on the host and in the graph, and the half cosine
their targets are written with.

The ports, one file per peer: `test_torch_scheduler_suite.py` (PyTorch),
`test_keras_schedule_suite.py` (Keras), `test_tfa_suite.py`
(tensorflow-addons) and `test_tf_models_suite.py` (tf-models). Values, not
code: each of their tests takes the expected rates of one test in the
peer's suite (named in its comment as `file: test name`), builds the
keras_lr schedule a migrating user would write, and checks it on the host
(`schedule.numpy(steps)`) and in the graph (`schedule(tensor)` through
`keras.ops`). Where keras_lr deliberately differs from the peer, the test
asserts what keras_lr's documentation says instead and names the
difference.
"""

import math

import numpy as np
from keras import ops


def assert_rates(schedule, steps, expected, tolerance, graph_tolerance=None):
    """`schedule` gives `expected` at `steps` on the host and in the graph.

    `graph_tolerance`, when given, replaces `tolerance` for the graph.
    """
    steps = np.asarray(steps)
    expected = np.asarray(expected, dtype="float64")
    host = schedule.numpy(steps)
    # The graph sees the steps padded to a power of two (at least 256): on
    # JAX every op compiles once per shape, and few shapes keep this fast.
    flat = steps.reshape(-1)
    size = max(256, 1 << (flat.size - 1).bit_length())
    padded = np.concatenate([flat, np.full(size - flat.size, flat[-1])])
    graph = ops.convert_to_numpy(schedule(ops.convert_to_tensor(padded)))
    graph = graph[: flat.size].reshape(steps.shape)
    np.testing.assert_allclose(
        host, expected, err_msg="host: schedule.numpy(steps)", **tolerance
    )
    np.testing.assert_allclose(
        graph.astype("float64"),
        expected,
        err_msg="graph: schedule(tensor) through keras.ops",
        **(graph_tolerance or tolerance),
    )


def cosine(fraction):
    """Half a cosine from 1 to 0 as `fraction` goes from 0 to 1."""
    return 0.5 * (1.0 + math.cos(math.pi * fraction))
