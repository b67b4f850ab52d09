"""Bad input, tried the way a careless caller or a hostile file tries it:
every public function answers with a Keras-style `ValueError`/`TypeError`
naming the argument, never a crash deep inside a backend, a silent NaN, or
unbounded memory."""

import copy
import os
import re

import keras
import numpy as np
import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

import keras_lr
from keras_lr import finder
from keras_lr.finder import _data
from keras_lr import schedules as S
from keras_lr.callbacks import CyclicLR
from keras_lr.callbacks import LearningRateLogger
from keras_lr.callbacks import LearningRateScheduler
from keras_lr.callbacks import ReduceLROnPlateau
from keras_lr.callbacks import logger as logger_module
from tests.support.models import dense_model
from tests.support.tensorboard import read_scalars

pytestmark = pytest.mark.backend_neutral

# A Keras-style message names the argument (or, for a config, says what
# `get` refuses to build).
KERAS_STYLE = re.compile(
    r"Argument `[^`]+`|Arguments `x` and `y`|Only keras_lr and Keras built-in|"
    r"Keyword arguments are only accepted"
)

HOSTILE = st.one_of(
    st.none(), st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5), st.lists(st.integers(-3, 3), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
FEW = settings(max_examples=20, deadline=None,
               suppress_health_check=[HealthCheck.too_slow])


def _refused_keras_style(call):
    """Run `call`: it may succeed; if it fails, it is a Keras-style error."""
    try:
        return call()
    except (ValueError, TypeError) as error:
        assert KERAS_STYLE.search(str(error)), repr(error)
        return None


# --- get --------------------------------------------------------------------

_NAMES = ["Constant", "CosineAnnealing", "Warmup", "Sequential", "CosineDecay",
          "ExponentialDecay", "os.system", "Dense", 3, None]
_CONFIG_VALUES = st.deferred(lambda: st.one_of(
    HOSTILE, _OBJECTS, st.lists(_OBJECTS, min_size=1, max_size=2)
))
_OBJECTS = st.fixed_dictionaries(
    {"class_name": st.sampled_from(_NAMES)},
    optional={
        "module": st.sampled_from(
            [None, "", "keras", "keras.optimizers.schedules", "keras_lr", 3,
             "builtins"]
        ),
        "registered_name": st.sampled_from(
            [None, "keras_lr>Constant", "keras_lr>ReducedSchedule",
             "other>Thing", 3, ["x"]]
        ),
        "config": st.one_of(
            HOSTILE,
            st.dictionaries(
                st.sampled_from(["learning_rate", "initial_learning_rate",
                                 "decay_steps", "schedule", "warmup_steps",
                                 "schedules", "boundaries", "name", "lr"]),
                _CONFIG_VALUES, max_size=4,
            ),
        ),
    },
)


@FEW
@given(_OBJECTS)
def test_get_builds_or_refuses_any_config(config):
    schedule = _refused_keras_style(lambda: S.get(copy.deepcopy(config)))
    if schedule is not None:
        assert isinstance(schedule, keras.optimizers.schedules.LearningRateSchedule)
        rates = S.evaluate(schedule, np.arange(4))
        assert np.isfinite(rates).all()


@FEW
@given(st.sampled_from(sorted(S.by_name())),
       st.dictionaries(st.sampled_from(
           ["initial_learning_rate", "decay_steps", "learning_rate", "alpha",
            "step_size", "gamma", "lr", "schedule"]), HOSTILE, max_size=3))
def test_get_by_name_builds_or_refuses_any_arguments(name, kwargs):
    _refused_keras_style(lambda: S.get(name, **kwargs))


def _deep(levels):
    config = {"class_name": "Constant", "config": {"learning_rate": 0.1}}
    for _ in range(levels):
        config = {"class_name": "Warmup",
                  "config": {"schedule": config, "warmup_steps": 1}}
    return config


@pytest.mark.parametrize("config, error, fragment", [
    ({"class_name": "Constant", "registered_name": 3, "config": {}}, TypeError,
     "Argument `identifier['registered_name']` must be a string or None. "
     "Received: identifier['registered_name']=3"),
    ({"class_name": "Constant", "module": 3, "config": {}}, TypeError,
     "Argument `identifier['module']` must be a string or None"),
    ({"class_name": 3, "config": {}}, TypeError,
     "Argument `identifier['class_name']` must be a string"),
    ({"class_name": "Warmup", "config": "x"}, TypeError,
     "Argument `identifier['config']` must be a dict"),
    (_deep(3000), ValueError, "nested at most 64 levels deep"),
    ({"class_name": "Warmup", "config": {"warmup_steps": 1, "schedule": {
        "class_name": "Constant", "registered_name": 3, "config": {}}}},
     TypeError, "Argument `identifier['config']['schedule']['registered_name']`"),
    ({"class_name": "Constant", "config": {"lr": 0.1}}, TypeError,
     "Argument `lr` is not an argument of Constant"),
    ({"class_name": "Constant", "config": {}}, TypeError,
     "Argument `learning_rate` of Constant is required"),
    ({"module": "keras.optimizers.schedules", "class_name": "CosineDecay",
      "config": {"initial_learning_rate": float("nan"), "decay_steps": 10}},
     ValueError, "Argument `initial_learning_rate` must be a finite number"),
    ({"module": "keras.optimizers.schedules", "class_name": "CosineDecay",
      "config": {"initial_learning_rate": "0.1", "decay_steps": 10}},
     TypeError, "Argument `initial_learning_rate` must be a finite number"),
    ({"module": "keras.optimizers.schedules", "class_name": "PiecewiseConstantDecay",
      "config": {"boundaries": [10, float("inf")], "values": [1.0, 0.5, 0.1]}},
     ValueError, "Argument `boundaries[...]` must be a finite number"),
    ({"class_name": "Dense", "module": "keras.layers", "config": {}}, ValueError,
     "Only keras_lr and Keras built-in learning rate schedules"),
    ({"config": {}}, ValueError, 'a dict with "class_name"'),
])
def test_get_refuses_a_bad_config_naming_the_place(config, error, fragment):
    with pytest.raises(error) as raised:
        S.get(config)
    assert fragment in str(raised.value)


def test_get_depth_bound_is_exact():
    assert S._MAX_CONFIG_DEPTH == 64
    # Each Warmup adds two dicts (itself and its "config"): 31 of them
    # around a Constant nest exactly 64 deep.
    assert isinstance(S.get(_deep(31)), S.Warmup)
    with pytest.raises(ValueError, match="nested at most 64 levels deep"):
        S.get(_deep(32))


def test_get_reads_the_short_form_at_every_depth():
    config = _deep(2)
    schedule = S.get(config)
    assert schedule == S.Warmup(S.Warmup(S.Constant(0.1), 1), 1)
    listed = S.get({"class_name": "Sequential", "config": {
        "schedules": [{"class_name": "Constant", "config": {"learning_rate": 0.1}},
                      {"class_name": "Constant", "config": {"learning_rate": 0.2}}],
        "boundaries": [5]}})
    np.testing.assert_allclose(listed.numpy([4, 5]), [0.1, 0.2])


def test_schedule_called_with_no_step_or_a_non_finite_one():
    schedule = S.CosineAnnealing(0.1, 100)
    for step, error in (("5", TypeError), (None, TypeError), (True, TypeError),
                        (float("nan"), ValueError), (np.float32("inf"), ValueError)):
        with pytest.raises(error, match=r"Argument `step` must be"):
            schedule(step)


# --- callbacks ----------------------------------------------------------------


@FEW
@given(st.sampled_from(["log_dir", "update_freq", "tag"]), HOSTILE)
def test_logger_constructor_builds_or_refuses(name, value):
    _refused_keras_style(lambda: LearningRateLogger(**{name: value}))


def test_logger_update_freq_beyond_2_53_is_refused_up_front():
    with pytest.raises(ValueError, match=r"Argument `update_freq` must be at most"):
        LearningRateLogger(update_freq=2**63)


@FEW
@given(st.sampled_from(["monitor", "factor", "patience", "verbose", "mode",
                        "min_delta", "cooldown", "min_lr", "threshold_mode",
                        "eps"]), HOSTILE)
def test_plateau_constructor_builds_or_refuses(name, value):
    _refused_keras_style(lambda: ReduceLROnPlateau(**{name: value}))


@FEW
@given(st.sampled_from(["base_lr", "max_lr", "step_size", "mode", "gamma",
                        "scale_fn", "scale_mode", "cycle_start"]), HOSTILE)
def test_cyclic_constructor_builds_or_refuses(name, value):
    _refused_keras_style(lambda: CyclicLR(**{name: value}))


@FEW
@given(st.sampled_from(["schedule", "verbose", "unit"]), HOSTILE)
def test_scheduler_constructor_builds_or_refuses(name, value):
    arguments = {"schedule": S.Constant(0.1), name: value}
    _refused_keras_style(lambda: LearningRateScheduler(**arguments))


# --- event files ---------------------------------------------------------------


def test_event_files_sort_in_creation_order(tmp_path):
    """Twelve fits in one second, after a job (another process) whose file
    carries a later second: read back in the order written."""
    directory = str(tmp_path / "train")
    os.makedirs(directory)
    later = int(__import__("time").time()) + 5
    stale = f"events.out.tfevents.{later:010d}.host.99999.000000000.learning_rate"
    open(os.path.join(directory, stale), "wb").close()
    for step in range(12):
        writer = logger_module._EventFile(directory)
        writer.write_restart(step)
        writer.write_scalars("learning_rate", np.array([step]), np.array([step / 10]))
        writer.close()
    names = sorted(name for name in os.listdir(directory) if name != stale)
    assert len(names) == 12
    assert all(name > stale for name in names)
    steps, values = read_scalars(str(tmp_path))
    # Out of order, a file's restart marker would drop the later steps.
    np.testing.assert_array_equal(steps, np.arange(12))
    np.testing.assert_allclose(values, np.arange(12) / 10, rtol=1e-6)


# --- find_learning_rate ----------------------------------------------------


@pytest.fixture(scope="module")
def model():
    return dense_model(keras.optimizers.SGD(0.01))


X = np.linspace(0, 1, 30, dtype="float32").reshape(10, 3)
Y = X.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("arguments, error, fragment", [
    ({"x": X[:0], "y": Y[:0]}, ValueError, "Argument `x` must hold at least one"),
    ({"x": X, "y": Y[:7]}, ValueError,
     "Arguments `x` and `y` must hold the same number of samples. "
     "Received: x with 10, y with 7"),
    ({"x": {"a": X, "b": X[:4]}, "y": Y}, ValueError,
     "Argument `x` must hold arrays of one number of samples"),
    ({"x": None, "y": Y}, TypeError, "Argument `x` must be an array"),
    ({"x": X, "y": Y, "seed": -1}, ValueError, "Argument `seed` must be"),
    ({"x": X, "y": Y, "seed": "a"}, TypeError, "Argument `seed` must be"),
    ({"x": X, "y": Y, "seed": 2**80}, ValueError, "Argument `seed` must be"),
    ({"x": X, "y": Y, "num_steps": 10**9}, ValueError,
     "Argument `num_steps` must be at most 1000000"),
    ({"x": X, "y": Y, "batch_size": 2**40}, ValueError,
     "Argument `batch_size` must give batches that fit in memory"),
    ({"x": X, "y": Y, "shuffle": "yes"}, TypeError, "Argument `shuffle` must be"),
    ({"x": X, "y": Y, "verbose": 7}, ValueError, "Argument `verbose` must be"),
])
def test_find_learning_rate_refuses_bad_input_before_any_work(model, arguments,
                                                             error, fragment):
    weights = [w.numpy().copy() for w in model.weights]
    with pytest.raises(error) as raised:
        keras_lr.find_learning_rate(model, **arguments)
    assert fragment in str(raised.value)
    for before, after in zip(weights, model.weights):
        np.testing.assert_array_equal(before, after.numpy())


def test_result_repr_when_every_loss_diverged():
    result = finder.RangeTestResult([1e-3, 1e-2], [np.inf, np.nan], [np.inf, np.nan])
    assert repr(result) == "RangeTestResult(steps=2, suggestion=None)"
    with pytest.raises(ValueError):
        result.suggestion()


def _batches(size, batch_size, num_batches, shuffle, seed):
    x = np.arange(size, dtype="float32").reshape(size, 1)
    data = _data._ArrayData(x, x, batch_size, shuffle, seed)
    return _data._Batches(data, num_batches)


@pytest.mark.parametrize("shuffle", [False, True])
def test_batches_follow_passes_over_the_data_and_keep_two_at_most(shuffle):
    size, batch_size, num_batches = 7, 3, 40
    batches = _batches(size, batch_size, num_batches, shuffle, seed=5)
    rng = np.random.default_rng(5)
    passes = [rng.permutation(size) if shuffle else np.arange(size)
              for _ in range(-(-num_batches * batch_size // size))]
    expected = np.concatenate(passes)
    for index in range(num_batches):
        x, y = batches[index]
        rows = expected[index * batch_size:(index + 1) * batch_size]
        np.testing.assert_array_equal(x[:, 0], rows)
        np.testing.assert_array_equal(y, x)
        assert len(batches._passes) <= 2
    # Keras peeks at batch 0 before the first epoch: going back redraws the
    # same passes.
    np.testing.assert_array_equal(batches[0][0][:, 0], expected[:batch_size])


def test_batches_cost_no_memory_per_step():
    """A million-step test draws its batches one at a time: asked for its
    last batch first, it keeps one pass of the data, not 40,000."""
    batches = _batches(50, 2, finder.MAX_NUM_STEPS, True, seed=0)
    assert batches.num_batches == finder.MAX_NUM_STEPS
    x, y = batches[finder.MAX_NUM_STEPS - 1]
    assert x.shape == (2, 1) and set(x[:, 0].tolist()) <= set(range(50))
    assert len(batches._passes) == 1


# --- plots -------------------------------------------------------------------


@pytest.mark.parametrize("call, error, fragment", [
    (lambda s: keras_lr.plot_schedule(s, 2**40), ValueError,
     "Argument `steps` must be at most 10,000,000"),
    (lambda s: keras_lr.plot_schedule(s, "x"), TypeError, "Argument `steps` must be"),
    (lambda s: keras_lr.plot_schedule(s, [[1, 2]]), ValueError,
     "Argument `steps` must be"),
    (lambda s: keras_lr.plot_schedule(s, [0, np.nan]), ValueError,
     "Argument `steps` must be"),
    (lambda s: keras_lr.plot_schedule(s, 0), ValueError,
     "Argument `steps` must be a positive integer"),
    (lambda s: keras_lr.plot_schedule(s, 10, log_scale="yes"), TypeError,
     "Argument `log_scale` must be a bool"),
    (lambda s: keras_lr.plot_schedule("fast", 10), TypeError,
     "Argument `schedule` must be"),
])
def test_plots_refuse_bad_input(call, error, fragment):
    with pytest.raises(error) as raised:
        call(S.CosineAnnealing(0.1, 100))
    assert fragment in str(raised.value)
