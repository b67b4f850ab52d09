"""The schedule contract, checked for every entry of `tests/schedules/cases.py`.

Host twin vs graph (eager, compiled, XLA / `jax.jit`), the step convention,
config and `get` round trips, repr, and a compiled `model.fit` whose every
update is checked against `numpy()` before and after a `.keras` save/load.
"""

import inspect
import json

import keras
import numpy as np
import pytest
from keras import ops

from keras_lr import schedules
from tests.schedules.cases import SCHEDULES
from tests.support.backends import STEP_DTYPE
from tests.support.backends import as_train_step
from tests.support.models import summed_rates
from tests.support.models import summing_model

# The tests that run a backend's ops carry `backend_neutral` (they run again
# on JAX and torch); the host-only ones (config, repr, NumPy) run once.
on_every_backend = pytest.mark.backend_neutral

CASES = list(SCHEDULES)
STEPS = np.arange(10_000)
# The graph returns float32: below float32's smallest normal number a value
# can only agree absolutely.
FLOAT32_TINY = float(np.finfo(np.float32).tiny)


def assert_agree(graph, host):
    np.testing.assert_allclose(graph, host, rtol=1e-6, atol=FLOAT32_TINY)


@pytest.fixture(params=CASES)
def schedule(request):
    return SCHEDULES[request.param]()


@on_every_backend
def test_host_matches_eager_graph_and_a_negative_step_is_step_zero(schedule):
    steps = np.concatenate([[-7, -1], STEPS])
    graph = ops.convert_to_numpy(schedule(ops.convert_to_tensor(steps)))
    assert graph.dtype == np.dtype(keras.config.floatx())
    assert_agree(graph[2:], schedule.numpy(STEPS))
    assert_agree(graph[:2], np.full(2, schedule.numpy(0)))
    np.testing.assert_array_equal(
        schedule.numpy([-5, -1]), np.full(2, schedule.numpy(0))
    )


@on_every_backend
def test_host_matches_compiled_graph(schedule):
    compiled = as_train_step(schedule.__call__)
    vector = ops.convert_to_numpy(compiled(ops.convert_to_tensor(STEPS)))
    assert_agree(vector, schedule.numpy(STEPS))
    # A scalar step, as the optimizer passes it, in the same compiled code.
    for step in (0, 1, 49, 50, 99, 100, 4999, 9999):
        scalar = compiled(ops.convert_to_tensor(step, dtype=STEP_DTYPE))
        assert ops.shape(scalar) == ()
        assert_agree(float(scalar), float(schedule.numpy(step)))


def test_numpy_shapes_and_dtype(schedule):
    assert schedule.numpy(3).shape == ()
    assert schedule.numpy(3).dtype == np.float64
    grid = schedule.numpy(np.arange(12).reshape(3, 4))
    assert grid.shape == (3, 4)
    np.testing.assert_array_equal(grid.reshape(-1), schedule.numpy(np.arange(12)))


def test_values_are_finite_and_non_negative(schedule):
    values = schedule.numpy(np.arange(0, 200_000, 7))
    assert np.all(np.isfinite(values))
    assert np.all(values >= 0)


def test_config_is_the_constructor_arguments(schedule):
    config = schedule.get_config()
    parameters = inspect.signature(type(schedule).__init__).parameters
    assert list(config) == [p for p in parameters if p != "self"]
    json.dumps(config)  # JSON-compatible, as a .keras file needs
    rebuilt = type(schedule).from_config(config)
    assert rebuilt == schedule
    assert rebuilt.get_config() == config
    np.testing.assert_array_equal(rebuilt.numpy(STEPS), schedule.numpy(STEPS))


def test_serialize_and_get_round_trip(schedule):
    serialized = keras.saving.serialize_keras_object(schedule)
    assert serialized["registered_name"] == f"keras_lr>{type(schedule).__name__}"
    assert schedules.get(serialized) == schedule
    plain = keras.saving.deserialize_keras_object(json.loads(json.dumps(serialized)))
    assert plain == schedule
    by_name = schedules.get(
        schedules.snake_case(type(schedule).__name__), **_constructor_kwargs(schedule)
    )
    assert by_name == schedule
    assert schedules.get(schedule) is schedule


def _constructor_kwargs(schedule):
    return {
        name: getattr(schedule, name) for name in type(schedule)._argument_names()
    }


def test_repr_names_every_argument(schedule):
    text = repr(schedule)
    assert text.startswith(type(schedule).__name__ + "(")
    for name in type(schedule)._argument_names():
        assert f"{name}=" in text


def _fit(model, steps):
    x = np.ones((steps * 2, 1), dtype="float32")
    y = np.full((steps * 2, 1), 1e3, dtype="float32")
    model.fit(x, y, batch_size=2, epochs=1, shuffle=False, verbose=0)


# Every case fits on TensorFlow, compiled as Keras compiles by default (a
# graph here; XLA where a GPU is found), and every 8th case (`SPREAD`) also
# under XLA, on JAX and on torch, and through a `.keras` file. The formula
# itself runs compiled (XLA, `jax.jit`, torch) for every case in
# `test_host_matches_compiled_graph`, and every class round-trips through
# Keras's serialization in `test_serialize_and_get_round_trip`; what a fit
# adds, the optimizer's step feeding the schedule, and what a `.keras` file
# adds, the optimizer's state around the schedule, is the same code for
# every schedule.
SPREAD = CASES[::8]
SAVED = [pytest.param(name, "auto", id=name) for name in SPREAD]
if keras.backend.backend() == "tensorflow":
    SAVED += [pytest.param(name, True, id=f"{name}-xla") for name in SPREAD]
START, FIRST, SECOND = 45, 12, 9


def _fitted(name, jit_compile):
    """`SCHEDULES[name]` in a `summing_model` fitted `FIRST` steps from
    `START`, each update checked against `numpy(s)`."""
    schedule = SCHEDULES[name]()
    model = summing_model(schedule, jit_compile=jit_compile)
    model.optimizer.build(model.trainable_variables)
    model.optimizer.iterations.assign(START)
    _fit(model, FIRST)
    expected = schedule.numpy(np.arange(START, START + FIRST)).sum()
    np.testing.assert_allclose(summed_rates(model), expected, rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(
        float(model.optimizer.learning_rate),
        schedule.numpy(START + FIRST),
        rtol=1e-6,
        atol=FLOAT32_TINY,
    )
    return schedule, model


@pytest.mark.parametrize("name", [name for name in CASES if name not in SPREAD])
def test_fit_uses_every_step_rate(name):
    """Each update s uses numpy(s) (`SPREAD` fits in the next test)."""
    _fitted(name, "auto")


@on_every_backend
@pytest.mark.parametrize("name, jit_compile", SAVED)
def test_fit_uses_every_step_rate_and_a_keras_file_continues(name, jit_compile, tmp_path):
    schedule, model = _fitted(name, jit_compile)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    loaded_schedule = loaded.optimizer._learning_rate
    assert type(loaded_schedule) is type(schedule)
    assert loaded_schedule == schedule
    assert int(loaded.optimizer.iterations) == START + FIRST
    before = summed_rates(loaded)
    _fit(loaded, SECOND)
    steps = np.arange(START + FIRST, START + FIRST + SECOND)
    np.testing.assert_allclose(
        summed_rates(loaded) - before, schedule.numpy(steps).sum(), rtol=1e-4, atol=1e-9
    )
