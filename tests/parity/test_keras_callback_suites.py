"""Keras's own tests of `ReduceLROnPlateau` and `LearningRateScheduler`
(keras/src/callbacks/reduce_lr_on_plateau_test.py and
learning_rate_scheduler_test.py, Keras 3.15), ported around their expected
values and run against keras_lr's callbacks (and Keras's, to show the values
are Keras's); and keras_lr's plateau callback beside every other way of
setting a float rate, as with Keras's."""

import itertools
import logging

import keras
import numpy as np
import pytest

import keras_lr
from keras_lr.callbacks import ReducedSchedule
from tests.support.callbacks import Feed
from tests.support.models import rates_used
from tests.support.models import tiny_model

pytestmark = pytest.mark.backend_neutral

PLATEAUS = [keras_lr.callbacks.ReduceLROnPlateau, keras.callbacks.ReduceLROnPlateau]
SCHEDULERS = [keras_lr.callbacks.LearningRateScheduler,
              keras.callbacks.LearningRateScheduler]
IDS = ["keras_lr", "keras"]


def _data():
    # Keras's setUp: 10 samples of 3 features, two one-hot classes.
    rng = np.random.RandomState(1337)
    x = rng.normal(size=(20, 3)).astype("float32")
    y = keras.utils.to_categorical(rng.randint(0, 2, size=20), 2)
    return (x[:10], y[:10]), (x[10:], y[10:])


def _model(optimizer):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(5),
                              keras.layers.Dense(2)])
    model.compile(loss="mse", optimizer=optimizer)
    return model


def _rate(model):
    return float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))


def _fit(model, callbacks, epochs, validation=True):
    (x, y), (xv, yv) = _data()
    return model.fit(x, y, validation_data=(xv, yv) if validation else None,
                     callbacks=callbacks, epochs=epochs, verbose=0)


# reduce_lr_on_plateau_test.py


@pytest.mark.parametrize("plateau", PLATEAUS, ids=IDS)
def test_reduces_lr_with_model_fit(plateau):
    model = _model(keras.optimizers.Adam(0.1))
    _fit(model, [plateau(patience=1, factor=0.1, monitor="val_loss",
                         min_delta=100)], epochs=2)
    assert _rate(model) == float(np.float32(0.01))


@pytest.mark.parametrize("plateau", PLATEAUS, ids=IDS)
def test_honors_min_lr(plateau):
    model = _model(keras.optimizers.Adam(0.1))
    _fit(model, [plateau(patience=1, factor=0.1, monitor="val_loss",
                         min_delta=10, min_lr=0.005)], epochs=4)
    assert _rate(model) == float(np.float32(0.005))


@pytest.mark.parametrize("plateau", PLATEAUS, ids=IDS)
def test_cooldown(plateau):
    model = _model(keras.optimizers.Adam(0.1))
    _fit(model, [plateau(patience=1, factor=0.1, monitor="val_loss",
                         min_delta=100, cooldown=2)], epochs=4)
    # A cooldown of 2 reduces every other epoch: twice in 4 epochs.
    np.testing.assert_allclose(_rate(model), 0.001, rtol=1e-6)


@pytest.mark.parametrize("plateau", PLATEAUS, ids=IDS)
def test_plateau_verbose_logging(plateau, caplog, capsys):
    model = _model(keras.optimizers.Adam(0.1))
    keras.config.disable_interactive_logging()
    try:
        with caplog.at_level(logging.INFO):
            _fit(model, [plateau(patience=1, factor=0.1, monitor="val_loss",
                                 min_delta=100, verbose=1)], epochs=2)
    finally:
        keras.config.enable_interactive_logging()
    assert any("ReduceLROnPlateau reducing learning rate to 0.01" in r.getMessage()
               for r in caplog.records)
    assert "ReduceLROnPlateau" not in capsys.readouterr().out


def test_optimizer_with_a_schedule_is_reduced_where_keras_raises():
    # Keras's test_throws_when_optimizer_has_schedule; keras_lr reduces the
    # schedule instead (its documented extension).
    polynomial = keras.optimizers.schedules.PolynomialDecay(0.1, decay_steps=10)
    model = _model(keras.optimizers.Adam(polynomial))
    with pytest.raises(TypeError, match="created with a `LearningRateSchedule`"):
        _fit(model, [keras.callbacks.ReduceLROnPlateau(
            patience=1, factor=0.1, monitor="val_loss", min_delta=100)], epochs=2)
    model = _model(keras.optimizers.Adam(polynomial))
    _fit(model, [keras_lr.callbacks.ReduceLROnPlateau(
        patience=1, factor=0.1, monitor="val_loss", min_delta=100)], epochs=2)
    reduced = model.optimizer._learning_rate
    assert isinstance(reduced, ReducedSchedule) and reduced.schedule is polynomial
    assert reduced.scale == pytest.approx(0.1)


def test_state_is_kept_across_fit_calls_where_keras_resets_it():
    # Keras's test_state_reset_across_fit_calls: Keras's `on_train_begin`
    # clears best, wait and cooldown; keras_lr keeps them (they belong to
    # the optimizer, which is what lets a resumed training go on).
    for plateau, kept in [(keras.callbacks.ReduceLROnPlateau, False),
                          (keras_lr.callbacks.ReduceLROnPlateau, True)]:
        callback = plateau(patience=1, factor=0.1, monitor="loss", min_delta=0,
                           cooldown=2)
        callback.set_model(_model(keras.optimizers.Adam(0.1)))
        callback.on_train_begin()
        callback.best, callback.wait, callback.cooldown_counter = 0.5, 3, 2
        callback.on_train_begin()
        state = (callback.best, callback.wait, callback.cooldown_counter)
        assert state == ((0.5, 3, 2) if kept else (None, 0, 0))


# learning_rate_scheduler_test.py


@pytest.mark.parametrize("scheduler", SCHEDULERS, ids=IDS)
def test_updates_learning_rate(scheduler, capsys):
    model = _model("sgd")
    _fit(model, [scheduler(lambda step: 1.0 / (2.0 + step), verbose=1)], epochs=1,
         validation=False)
    assert _rate(model) == 0.5
    assert capsys.readouterr().out == (
        "\nEpoch 1: LearningRateScheduler setting learning rate to 0.5.\n")


@pytest.mark.parametrize("scheduler", SCHEDULERS, ids=IDS)
def test_scheduler_verbose_logging(scheduler, caplog):
    model = _model("sgd")
    keras.config.disable_interactive_logging()
    try:
        with caplog.at_level(logging.INFO):
            _fit(model, [scheduler(lambda step: 1.0 / (1.0 + step), verbose=1)],
                 epochs=1, validation=False)
    finally:
        keras.config.enable_interactive_logging()
    assert any("LearningRateScheduler setting learning rate to 1.0" in r.getMessage()
               for r in caplog.records)


@pytest.mark.parametrize("scheduler", SCHEDULERS, ids=IDS)
def test_schedule_dependent_on_previous_learning_rate(scheduler):
    model = _model(keras.optimizers.Adam(0.03))
    _fit(model, [scheduler(lambda step, lr: lr / 2)], epochs=2, validation=False)
    assert _rate(model) == float(np.float32(np.float32(0.03 / 2) / 2))
    np.testing.assert_allclose(_rate(model), 0.03 / 4, rtol=1e-6)


@pytest.mark.parametrize("scheduler", SCHEDULERS, ids=IDS)
def test_throws_when_optimizer_has_schedule(scheduler):
    model = _model(keras.optimizers.Adam(
        keras.optimizers.schedules.PolynomialDecay(0.1, decay_steps=10)))
    with pytest.raises(TypeError, match="created with a `LearningRateSchedule`"):
        _fit(model, [scheduler(lambda step, lr: lr / 2)], epochs=2, validation=False)


@pytest.mark.parametrize("scheduler", SCHEDULERS, ids=IDS)
def test_learning_rate_in_history(scheduler):
    model = _model("sgd")
    history = _fit(model, [scheduler(lambda step, lr: 0.5)], epochs=1,
                   validation=False)
    assert type(history.history["learning_rate"][0]) is float
    assert history.history["learning_rate"][0] == 0.5


# keras_lr's plateau callback beside the other ways of setting a float rate


class Assign(keras.callbacks.Callback):
    """`optimizer.learning_rate = value` at the start of one epoch."""

    def __init__(self, epoch, value):
        super().__init__()
        self.epoch, self.value = epoch, value

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            self.model.optimizer.learning_rate = self.value


SCORES = [1.0, 1.1, 0.5, 0.6, 0.7, 0.4, 0.8]
# All three act at the start of epoch 2, so their order matters there.
OTHERS = {
    "keras_scheduler": lambda: keras.callbacks.LearningRateScheduler(
        lambda epoch, lr: lr * 0.5 if epoch in (2, 4) else lr),
    "keras_lr_scheduler": lambda: keras_lr.callbacks.LearningRateScheduler(
        lambda epoch, lr: lr * 0.8 if epoch in (2, 5) else lr),
    "assignment": lambda: Assign(2, 0.02),
}
COMBINATIONS = [
    order
    for size in (1, 2, 3)
    for others in itertools.combinations(sorted(OTHERS), size)
    for order in itertools.permutations(others + ("plateau",))
]


def _run(model, plateau, order, through_fit):
    """`(rate of each epoch, History's learning_rate)` with the callbacks in
    `order`, on `model` put back to its start (rate, step, trace, and no
    plateau bookkeeping)."""
    optimizer = model.optimizer
    optimizer._iterations.assign(0)
    optimizer.learning_rate = 0.1
    optimizer.trace.assign(np.zeros(optimizer.trace.shape, "float32"))
    if hasattr(optimizer, "_keras_lr_plateau_state"):
        del optimizer._keras_lr_plateau_state
    callbacks = [Feed(SCORES)] + [
        plateau("score", factor=0.5, patience=1, mode="min")
        if name == "plateau" else OTHERS[name]()
        for name in order
    ]
    if through_fit:
        x = np.random.RandomState(0).rand(8, 3).astype("float32")
        history = model.fit(x, x.sum(axis=1, keepdims=True), batch_size=8,
                            epochs=len(SCORES), verbose=0, callbacks=callbacks)
        return rates_used(model, len(SCORES)).tolist(), history.history["learning_rate"]
    # Keras's callback sequence without the training in between: the rate
    # an epoch uses is the one in place after its on_epoch_begin hooks.
    history = keras.callbacks.History()
    hooks = keras.callbacks.CallbackList(callbacks + [history], model=model)
    rates = []
    hooks.on_train_begin()
    for epoch in range(len(SCORES)):
        hooks.on_epoch_begin(epoch)
        rates.append(float(np.float32(_rate(model))))
        hooks.on_epoch_end(epoch, {})
    hooks.on_train_end()
    return rates, history.history["learning_rate"]


def _model_for_combinations():
    model = tiny_model(0.1)
    model.optimizer.build(model.trainable_variables)
    return model


def test_every_combination_and_order_works_as_with_keras_s_plateau():
    model = _model_for_combinations()
    assert len(COMBINATIONS) == 48
    distinct = set()
    for order in COMBINATIONS:
        theirs = _run(model, keras.callbacks.ReduceLROnPlateau, order, False)
        ours = _run(model, keras_lr.callbacks.ReduceLROnPlateau, order, False)
        assert isinstance(model.optimizer._learning_rate, keras.Variable), order
        assert ours == theirs, order
        distinct.add(tuple(ours[0]))
    # The orders lead to different rates: the comparison is not idle.
    assert len(distinct) >= 10


_ALL_FOUR = ("keras_scheduler", "keras_lr_scheduler", "assignment", "plateau")


# Through `fit` (the compiled step reads the rate; on JAX from its state):
# the four rotations of all four setters, which put the plateau last, third,
# second and first.
@pytest.mark.parametrize("order", [_ALL_FOUR[i:] + _ALL_FOUR[:i] for i in range(4)],
                         ids=lambda order: "-".join(order))
def test_combination_through_fit(order):
    model = _model_for_combinations()
    theirs = _run(model, keras.callbacks.ReduceLROnPlateau, order, True)
    ours = _run(model, keras_lr.callbacks.ReduceLROnPlateau, order, True)
    assert ours == theirs
    assert ours[0] == _run(model, keras_lr.callbacks.ReduceLROnPlateau, order,
                           False)[0]


def test_a_rate_assigned_between_fits_is_used(data):
    model = tiny_model(0.1)
    plateau = keras_lr.callbacks.ReduceLROnPlateau("score", factor=0.5, patience=1,
                                                   mode="min")
    model.fit(*data, batch_size=8, epochs=2, verbose=0,
              callbacks=[Feed([1.0, 2.0]), plateau])
    model.optimizer.learning_rate = 0.001
    model.fit(*data, batch_size=8, initial_epoch=2, epochs=3, verbose=0,
              callbacks=[Feed([1.0, 2.0, 3.0]), plateau])
    np.testing.assert_allclose(rates_used(model, 15)[::5], [0.1, 0.1, 0.001],
                               rtol=1e-6)
    # Its next bad epoch halves the assigned rate.
    assert _rate(model) == pytest.approx(0.0005, rel=1e-6)
