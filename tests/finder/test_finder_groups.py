"""find_learning_rate on a MultiOptimizer: every group sweeps at its ratio
to the default group's rate, and every sub-optimizer is restored exactly."""

import keras
import numpy as np
import pytest

import keras_lr
from keras_lr import schedules as S
from keras_lr.finder import _sweep
from keras_lr.optimizers import groups
from keras_lr.optimizers import layer_decay
from tests.support.models import TracingSGD
from tests.support.models import layer_patterns
from tests.support.models import transformer_model

pytestmark = pytest.mark.backend_neutral

DEPTH = 1
SHARES = {"default": 1.0, "embeddings/.*": 0.25, "block_0_.*": 0.5}


def _values(variables):
    return [keras.ops.convert_to_numpy(v).copy() for v in variables]


def _layer_decayed(rate, seed=0):
    model = transformer_model(DEPTH, seed=seed)
    model.compile(layer_decay(model, TracingSGD(rate), 0.5, layer_patterns(DEPTH)),
                  loss="mse")
    return model


def _traces_of_the_sweep(monkeypatch):
    """Each group's trace as the sweep left it, before the restore."""
    seen = {}
    fit = _sweep._fit

    def recording_fit(model, *args):
        fit(model, *args)
        for name, sub in groups(model.optimizer).items():
            seen[name] = keras.ops.convert_to_numpy(sub.trace).astype(np.float64)

    monkeypatch.setattr(_sweep, "_fit", recording_fit)
    return seen


@pytest.mark.parametrize(
    "rate", [0.1, S.Warmup(S.CosineAnnealing(0.1, 50), 5)], ids=["float", "warmup_from_0"]
)
def test_every_group_sweeps_at_its_share(rate, data, monkeypatch):
    x, y = data
    traces = _traces_of_the_sweep(monkeypatch)
    model = _layer_decayed(rate)
    result = keras_lr.find_learning_rate(model, x, y, batch_size=8, num_steps=12,
                                         end_lr=1.0, divergence_threshold=1e6,
                                         verbose=0, seed=0)
    steps = len(result.learning_rates)
    assert steps == 12
    for name, share in SHARES.items():
        # A ScaledSchedule of the sweep: exact shares for the warmup, whose
        # rate is 0 at step 0; float32 ratios of the float rates.
        np.testing.assert_allclose(
            traces[name][:steps], np.float32(share * result.learning_rates), rtol=1e-6
        )


def test_every_sub_optimizer_is_restored_and_a_fit_after_is_unchanged(data):
    x, y = data
    rate = S.CosineAnnealing(0.1, 50)
    with_test, without = _layer_decayed(rate), _layer_decayed(rate)
    for model in (with_test, without):  # trained already: optimizer state
        model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    before = _values(with_test.variables) + _values(with_test.optimizer.variables)
    held = {name: sub._learning_rate for name, sub in groups(with_test.optimizer).items()}
    keras_lr.find_learning_rate(with_test, x, y, batch_size=8, num_steps=10,
                                end_lr=1.0, divergence_threshold=1e6, verbose=0, seed=0)
    after = _values(with_test.variables) + _values(with_test.optimizer.variables)
    assert len(after) == len(before)
    for a, b in zip(after, before):
        np.testing.assert_array_equal(a, b)
    for name, sub in groups(with_test.optimizer).items():
        assert sub._learning_rate is held[name]
    for model in (with_test, without):
        model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(_values(with_test.variables), _values(without.variables)):
        np.testing.assert_array_equal(a, b)


def test_scheduled_momentum_of_every_group_is_held_then_restored(data, monkeypatch):
    x, y = data
    rate = S.OneCycle(0.1, total_steps=50)
    model = transformer_model(DEPTH)
    model.compile(layer_decay(model, keras_lr.optimizers.SGD(
        rate, momentum=rate.momentum_schedule()), 0.5, layer_patterns(DEPTH)), loss="mse")
    during = {}
    fit = _sweep._fit

    def recording_fit(model, *args):
        during.update({name: sub.momentum for name, sub in groups(model.optimizer).items()})
        fit(model, *args)

    monkeypatch.setattr(_sweep, "_fit", recording_fit)
    keras_lr.find_learning_rate(model, x, y, batch_size=8, num_steps=5, verbose=0)
    assert during == dict.fromkeys(SHARES, 0.95)
    for sub in groups(model.optimizer).values():
        assert sub.hyperparameter_schedules == {"momentum": rate.momentum_schedule()}


def test_a_ratio_that_does_not_exist_is_refused_before_anything_changes(data):
    x, y = data
    model = transformer_model(DEPTH)
    # The default group's rate is 0 at the first update; the other group's
    # rate is not a share of it.
    model.compile(keras.optimizers.MultiOptimizer(keras.optimizers.OptimizerMap(
        keras.optimizers.SGD(S.Warmup(S.Constant(0.1), 5)),
        {"embeddings/.*": keras.optimizers.SGD(0.01)},
    )), loss="mse")
    model.optimizer.build(model.trainable_variables)
    before = _values(model.variables) + _values(model.optimizer.variables)
    with pytest.raises(ValueError, match=r"ratio to the default group's rate.*"
                       r"Received: group 'embeddings/\.\*' with rate 0\.00999.* beside a "
                       r"default rate of 0\.0"):
        keras_lr.find_learning_rate(model, x, y, batch_size=8, num_steps=5, verbose=0)
    after = _values(model.variables) + _values(model.optimizer.variables)
    for a, b in zip(after, before):
        np.testing.assert_array_equal(a, b)
