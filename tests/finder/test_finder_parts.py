"""find_learning_rate's parts: the training state it saves and restores
exactly, on its own and when the sweep is cut short by an error or an
interrupt."""

import keras
import numpy as np
import pytest

import keras_lr
from keras_lr import _keras_private
from keras_lr.finder import _sweep
from keras_lr import optimizers as O
from keras_lr import schedules as S
from keras_lr.finder._state import restored_training_state

pytestmark = pytest.mark.backend_neutral

MOMENTUM = S.CosineAnnealing(0.9, 100, min_learning_rate=0.5)
# Which the sweep sets to 1; PyTorch's trainer allows only 1.
STEPS_PER_EXECUTION = 1 if keras.backend.backend() == "torch" else 2


def _trained_model(data):
    """A model whose optimizer has state of every kind: a float rate's
    variable, a scheduled momentum, slots, a half-made accumulated update (5
    batches, 2 per update), a compiled train function and a history."""
    x, y = data
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(O.SGD(0.05, momentum=MOMENTUM, gradient_accumulation_steps=2),
                  loss="mse", steps_per_execution=STEPS_PER_EXECUTION)
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    return model


def _values(variables):
    return [keras.ops.convert_to_numpy(v).copy() for v in variables]


def _state(model):
    optimizer = model.optimizer
    return {
        "model": _values(model.variables),
        "optimizer": _values(optimizer.variables),
        "iterations": int(keras.ops.convert_to_numpy(optimizer.iterations)),
        "batches": int(keras.ops.convert_to_numpy(
            _keras_private.batch_counter(optimizer))),
        "rate": _keras_private.rate_as_held(optimizer),
        "schedules": dict(optimizer.hyperparameter_schedules),
        "train_function": model.train_function,
        "history": model.history,
        "steps_per_execution": model.steps_per_execution,
    }


def _assert_restored(model, before):
    after = _state(model)
    for key in ("model", "optimizer"):
        assert len(after[key]) == len(before[key])
        for a, b in zip(after[key], before[key]):
            np.testing.assert_array_equal(a, b)
    assert after["iterations"] == before["iterations"] > 0
    assert after["batches"] == before["batches"] == 5
    assert after["rate"] is before["rate"]
    assert after["schedules"] == before["schedules"] == {"momentum": MOMENTUM}
    assert after["schedules"]["momentum"] is MOMENTUM
    if keras.backend.backend() == "jax":
        # Dropped, so that a later fit compiles the optimizer's own rate.
        assert after["train_function"] is None
    else:
        assert after["train_function"] is before["train_function"] is not None
    assert after["history"] is before["history"] is not None
    assert after["steps_per_execution"] == STEPS_PER_EXECUTION
    assert model.stop_training is False


@pytest.mark.parametrize("error", [None, RuntimeError, KeyboardInterrupt])
def test_the_state_is_restored_exactly_on_any_exit(error, data):
    model = _trained_model(data)
    before = _state(model)
    optimizer = model.optimizer

    def change_everything():
        for variable in model.variables + optimizer.variables:
            variable.assign(keras.ops.ones(variable.shape, variable.dtype))
        _keras_private.hold_rate(optimizer, S.Constant(0.5))
        optimizer.momentum = 0.1
        model.train_function = None
        model.history = None
        model.steps_per_execution = 7
        model.stop_training = True

    if error is None:
        with restored_training_state(model):
            change_everything()
    else:
        with pytest.raises(error), restored_training_state(model):
            change_everything()
            raise error("cut short")
    _assert_restored(model, before)


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_an_error_mid_sweep_restores_the_state_and_a_later_fit(error, data,
                                                              monkeypatch):
    x, y = data
    model, twin = _trained_model(data), _trained_model(data)
    before = _state(model)
    during = []
    record = _sweep._Recorder.on_train_batch_end

    def cut_short(recorder, batch, logs=None):
        record(recorder, batch, logs)
        if len(recorder.losses) == 3:
            optimizer = recorder.model.optimizer
            during.append({
                "rate": _keras_private.rate_as_held(optimizer),
                "weights": _values(recorder.model.trainable_variables),
                "steps_per_execution": recorder.model.steps_per_execution,
            })
            raise error("cut short")

    monkeypatch.setattr(_sweep._Recorder, "on_train_batch_end", cut_short)
    with pytest.raises(error, match="cut short"):
        keras_lr.find_learning_rate(model, x, y, batch_size=8, num_steps=10,
                                    end_lr=1.0, shuffle=False, verbose=0)
    # The sweep had begun: its own rate, one batch per execution, updates made.
    (seen,) = during
    assert seen["rate"] is not before["rate"]
    assert seen["steps_per_execution"] == 1
    assert any(not np.array_equal(a, b) for a, b in zip(
        seen["weights"], _values(twin.trainable_variables)))
    _assert_restored(model, before)

    for trained in (model, twin):
        trained.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(_values(model.variables) + _values(model.optimizer.variables),
                    _values(twin.variables) + _values(twin.optimizer.variables)):
        np.testing.assert_array_equal(a, b)
