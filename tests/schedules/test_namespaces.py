"""The array namespaces: one vocabulary, listed in `_xp`'s docstring."""

import re

import numpy as np
import pytest
from keras import ops

from keras_lr.schedules import _xp
from keras_lr.schedules.base import evaluate

pytestmark = pytest.mark.backend_neutral


def _namespaces():
    host = _xp.HostNamespace(np.arange(3.0), evaluate)
    graph = _xp.GraphNamespace(
        "float32", "int32", ops.convert_to_tensor(np.arange(3, dtype="int32")),
        formula_of=lambda schedule: None,
    )
    return host, graph


def _vocabulary(namespace):
    return {name for name in dir(namespace) if not name.startswith("_")}


def test_host_and_graph_offer_the_same_names_all_documented():
    host, graph = _namespaces()
    assert _vocabulary(host) == _vocabulary(graph)
    # An operation is listed as `name(arguments)`, an attribute at the start
    # of a line (`pi, eps`).
    undocumented = {
        name for name in _vocabulary(host)
        if not re.search(
            rf"\b{name}\(" if callable(getattr(host, name))
            else rf"^ +(\w+, )*{name}\b",
            _xp.__doc__,
            re.MULTILINE,
        )
    }
    assert not undocumented


@pytest.mark.parametrize("name", ["cos", "arange", "convert_to_tensor"])
def test_a_name_outside_the_vocabulary_is_not_forwarded(name):
    for namespace in _namespaces():
        with pytest.raises(AttributeError):
            getattr(namespace, name)


def test_the_graph_ops_take_host_ints_beyond_int32():
    _, graph = _namespaces()
    value = ops.convert_to_numpy(graph.minimum(graph.step, 2**40))
    np.testing.assert_array_equal(value, [0.0, 1.0, 2.0])


POINTS = [0.0, 3.0, 10.0, 11.0, 500.0, 501.0, 502.0, 503.0, 504.0, 1e6, 2.0**62]


@pytest.mark.parametrize(
    "steps",
    [
        np.arange(20.0, 400.0),  # inside one segment: a single index
        np.arange(0.0, 12.0),  # a few points inside the block
        np.arange(0.0, 2000.0),  # more points than are counted by comparing
        np.array([1e6, 2.0, 600.0, 503.0, 0.0, 2.0**62, 11.0]),  # unsorted
    ],
)
def test_host_counts_are_a_sorted_search(steps):
    host = _xp.HostNamespace(steps, evaluate)
    for side, count in (("right", host.locate), ("left", host.count_passed)):
        expected = np.searchsorted(POINTS, steps, side=side)
        np.testing.assert_array_equal(
            np.broadcast_to(count(POINTS), steps.shape), expected
        )


def test_host_at_index_is_the_function_of_each_index():
    steps = np.array([0.0, 600.0, 11.0, 1e6, 4.0, 503.0])
    host = _xp.HostNamespace(steps, evaluate)
    index = host.locate(POINTS)
    looked_up = host.at_index(lambda n: np.exp(n * -0.37 + 0.2), index)
    direct = np.exp(host.to_float(index) * -0.37 + 0.2)
    assert looked_up.tobytes() == direct.tobytes()
