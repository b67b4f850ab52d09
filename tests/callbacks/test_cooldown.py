"""CooldownOnTrigger: its three triggers, no recompile, resume and reload.

The model is the contract tests' one (`summing_model`: `w <- w + lr(step)`
at every update), so the kernel after training is the sum of the rates
every update used, checked against `Cooldown(...).numpy` at the step the
trigger chose.
"""

import math

import keras
import numpy as np
import pytest

import keras_lr
from keras_lr import schedules as S
from keras_lr.callbacks.cooldown import installed_cooldown
from tests.support.backends import count_compiles
from tests.support.callbacks import Crash
from tests.support.callbacks import Feed
from tests.support.models import summed_rates
from tests.support.models import summing_model

# The trigger logic is the callback's own: its fits run on TensorFlow; JAX
# and torch repeat the ones that touch each backend's saving and training.
on_every_backend = pytest.mark.backend_neutral

STEPS = 4  # batches per epoch
X = np.ones((2 * STEPS, 1), dtype="float32")
Y = np.full((2 * STEPS, 1), 1e3, dtype="float32")


def _fit(model, callbacks, epochs, **kwargs):
    return model.fit(
        X, Y, batch_size=2, epochs=epochs, shuffle=False, verbose=0,
        callbacks=callbacks, **kwargs,
    )


class _At(keras.callbacks.Callback):
    """Calls `action()` at the end of epoch `epoch`."""

    def __init__(self, epoch, action):
        super().__init__()
        self.epoch, self.action = epoch, action

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            self.action()


@on_every_backend
def test_start_epoch_cools_down_once_and_stops(capsys):
    model = summing_model(S.Constant(0.1))
    compiles = count_compiles(model)
    cooldown = keras_lr.callbacks.CooldownOnTrigger(
        decay_steps=2 * STEPS, shape="linear", start_epoch=2, verbose=1
    )
    history = _fit(model, [cooldown], epochs=10)
    assert len(history.history["loss"]) == 4  # stopped when it reached 0
    assert cooldown.start_step == 2 * STEPS
    expected = S.Cooldown(S.Constant(0.1), 2 * STEPS, 2 * STEPS, "linear")
    np.testing.assert_allclose(
        summed_rates(model), expected.numpy(np.arange(4 * STEPS)).sum(), rtol=1e-6
    )
    assert installed_cooldown(model.optimizer).cooldown == expected
    assert len(compiles) == 1
    out = capsys.readouterr().out
    assert (
        "Epoch 3: CooldownOnTrigger starting a linear cooldown over 8 steps at "
        "step 8, from learning rate 0.1." in out
    )
    assert "Epoch 4: CooldownOnTrigger: the cooldown is over" in out


@pytest.mark.parametrize(
    "scores, patience",
    [([5.0, 4.0, 4.5, 4.2, 3.0, 3.0], 2), ([5.0, math.nan, 4.0, 4.0, 4.0, 1.0], 1)],
)
def test_monitor_triggers_where_early_stopping_stops(scores, patience):
    model = summing_model(S.Constant(0.1))
    stopping = keras.callbacks.EarlyStopping(monitor="score", patience=patience, mode="min")
    cooldown = keras_lr.callbacks.CooldownOnTrigger(
        decay_steps=100, monitor="score", patience=patience, mode="min",
        stop_training=False,
    )
    if any(math.isnan(score) for score in scores):
        with pytest.warns(UserWarning, match="NaN or infinite value counts"):
            _fit(model, [Feed(scores), cooldown, stopping], epochs=len(scores))
    else:
        _fit(model, [Feed(scores), cooldown, stopping], epochs=len(scores))
    assert stopping.stopped_epoch > 0
    assert cooldown.start_step == (stopping.stopped_epoch + 1) * STEPS


def test_validation_metric_triggers_when_validation_ends():
    # w grows by 0.1 per epoch; |w - 0.43| is least at epoch 3 (w = 0.4).
    model = summing_model(S.Constant(0.025))
    stopping = keras.callbacks.EarlyStopping(monitor="val_loss", patience=2)
    cooldown = keras_lr.callbacks.CooldownOnTrigger(
        decay_steps=100, monitor="val_loss", patience=2, stop_training=False
    )
    seen = []

    class Probe(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(cooldown.start_step)

    xv, yv = np.ones((2, 1), "float32"), np.full((2, 1), 0.43, "float32")
    _fit(model, [Probe(), cooldown, stopping], epochs=10, validation_data=(xv, yv))
    assert stopping.stopped_epoch == 5
    assert cooldown.start_step == 6 * STEPS
    # Decided before any epoch-end callback (a backup listed first sees it).
    assert seen[-1] == 6 * STEPS


def test_trigger_between_fits_and_from_another_callback():
    model = summing_model(S.Constant(0.1))
    compiles = count_compiles(model)
    cooldown = keras_lr.callbacks.CooldownOnTrigger(
        decay_steps=3 * STEPS, stop_training=False
    )
    _fit(model, [cooldown], epochs=2)
    cooldown.trigger()  # outside fit: at once, at step 8
    assert cooldown.start_step == 2 * STEPS
    cooldown.trigger()  # once only
    _fit(model, [], epochs=2)  # without the callback: the cooldown runs
    assert len(compiles) == 1
    expected = S.Cooldown(S.Constant(0.1), 2 * STEPS, 3 * STEPS).numpy(
        np.arange(4 * STEPS)
    )
    np.testing.assert_allclose(summed_rates(model), expected.sum(), rtol=1e-6)

    # From another callback's epoch end: at the next epoch boundary.
    model = summing_model(S.Constant(0.1))
    cooldown = keras_lr.callbacks.CooldownOnTrigger(decay_steps=STEPS)
    compiles = count_compiles(model)
    history = _fit(model, [cooldown, _At(0, cooldown.trigger)], epochs=10)
    assert cooldown.start_step == STEPS
    assert len(history.history["loss"]) == 2
    assert len(compiles) == 1


@on_every_backend
def test_backup_and_restore_resumes_the_cooldown(tmp_path):
    """The training loss triggers at the end of epoch 1, where a backup
    listed first has already been written; crashed at the start of epoch 2,
    resumed by a new model and callback: the same cooldown."""

    def run(crash_at=None, model=None):
        model = model or summing_model(S.Constant(0.1))
        # No loss is an improvement of 1e6: patience 1 triggers after epoch 1.
        cooldown = keras_lr.callbacks.CooldownOnTrigger(
            decay_steps=3 * STEPS, monitor="loss", min_delta=1e6, patience=1,
            stop_training=False,
        )
        backup = keras.callbacks.BackupAndRestore(str(tmp_path / "backup"))
        callbacks = [backup, cooldown]
        if crash_at is not None:
            callbacks.append(Crash(crash_at, at_start=True))
        _fit(model, callbacks, epochs=6)
        return model, cooldown

    with pytest.raises(RuntimeError, match="crash"):
        run(crash_at=2)
    model = summing_model(S.Constant(0.1))
    compiles = count_compiles(model)
    resumed, cooldown = run(model=model)
    assert cooldown.start_step == 2 * STEPS
    assert installed_cooldown(resumed.optimizer).cooldown == S.Cooldown(
        S.Constant(0.1), 2 * STEPS, 3 * STEPS
    )
    assert len(compiles) == 1
    # The run without the crash: the cooldown from step 8, every step once.
    expected = S.Cooldown(S.Constant(0.1), 2 * STEPS, 3 * STEPS).numpy(
        np.arange(6 * STEPS)
    )
    np.testing.assert_allclose(summed_rates(resumed), expected.sum(), rtol=1e-6)


@on_every_backend
def test_load_model_keeps_the_cooldown(tmp_path):
    model = summing_model(S.Constant(0.1))
    cooldown = keras_lr.callbacks.CooldownOnTrigger(decay_steps=4 * STEPS)
    _fit(model, [cooldown, _At(0, cooldown.trigger)], epochs=2)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    expected = S.Cooldown(S.Constant(0.1), STEPS, 4 * STEPS)
    assert loaded.optimizer._learning_rate.cooldown == expected
    again = keras_lr.callbacks.CooldownOnTrigger(decay_steps=4 * STEPS)
    again.set_model(loaded)
    assert again.start_step == STEPS
    before = summed_rates(loaded)
    history = _fit(loaded, [again], epochs=10)
    assert len(history.history["loss"]) == 3  # to step 5 * STEPS
    np.testing.assert_allclose(
        summed_rates(loaded) - before,
        expected.numpy(np.arange(2 * STEPS, 5 * STEPS)).sum(), rtol=1e-6,
    )


def test_under_a_plateau_the_cooldown_goes_beneath_its_scale():
    model = summing_model(S.Constant(0.1))
    plateau = keras_lr.callbacks.ReduceLROnPlateau()
    cooldown = keras_lr.callbacks.CooldownOnTrigger(decay_steps=10)
    plateau.set_model(model)
    cooldown.set_model(model)
    plateau.schedule.scale = 0.5
    cooldown.trigger()
    rate = model.optimizer._learning_rate
    assert isinstance(rate, keras_lr.callbacks.ReducedSchedule)
    assert rate.schedule.cooldown == S.Cooldown(S.Constant(0.1), 0, 10)
    np.testing.assert_allclose(rate.numpy([0, 5]), [0.05, 0.05 * (1 - math.sqrt(0.5))])


def test_a_minimum_above_the_rate_at_the_trigger_is_lowered():
    model = summing_model(S.CosineAnnealing(0.1, 10))
    _fit(model, [], epochs=3)  # step 12: the cosine is at 0
    cooldown = keras_lr.callbacks.CooldownOnTrigger(decay_steps=5, min_learning_rate=0.01)
    cooldown.set_model(model)
    with pytest.warns(UserWarning, match="below min_learning_rate=0.01"):
        cooldown.trigger()
    assert model.optimizer._learning_rate.cooldown.min_learning_rate == 0.0


def test_a_float_rate_is_refused_at_train_begin():
    model = summing_model(0.1)
    cooldown = keras_lr.callbacks.CooldownOnTrigger(decay_steps=5)
    with pytest.raises(TypeError, match=r"keras_lr.schedules.Constant\(lr\)"):
        _fit(model, [cooldown], epochs=1)


@pytest.mark.parametrize(
    "kwargs, name, error",
    [
        (dict(decay_steps=0), "decay_steps", ValueError),
        (dict(decay_steps=5, shape="square"), "shape", ValueError),
        (dict(decay_steps=5, min_learning_rate=-1.0), "min_learning_rate", ValueError),
        (dict(decay_steps=5, start_epoch=-1), "start_epoch", ValueError),
        (dict(decay_steps=5, monitor=3), "monitor", TypeError),
        (dict(decay_steps=5, patience=-1), "patience", ValueError),
        (dict(decay_steps=5, mode="up"), "mode", ValueError),
        (dict(decay_steps=5, min_delta=-0.1), "min_delta", ValueError),
        (dict(decay_steps=5, stop_training=1), "stop_training", TypeError),
        (dict(decay_steps=5, verbose="yes"), "verbose", TypeError),
    ],
)
def test_bad_arguments_are_refused_by_name(kwargs, name, error):
    with pytest.raises(error, match=rf"^Argument `{name}` must .*Received: "):
        keras_lr.callbacks.CooldownOnTrigger(**kwargs)


@pytest.mark.parametrize("make", [
    lambda verbose: keras_lr.callbacks.CooldownOnTrigger(5, verbose=verbose),
    lambda verbose: keras_lr.callbacks.ReduceLROnPlateau(verbose=verbose),
], ids=["CooldownOnTrigger", "ReduceLROnPlateau"])
def test_verbose_true_is_verbose_1_as_in_keras(make):
    # Keras's callbacks (and `fit`) take `verbose=True`; so do both of ours.
    assert make(True).verbose == 1
    assert make(False).verbose == 0


def test_config_round_trip():
    cooldown = keras_lr.callbacks.CooldownOnTrigger(
        500, shape="cosine", min_learning_rate=1e-5, start_epoch=7,
        monitor="val_loss", patience=3, mode="min", min_delta=0.01,
        stop_training=False, verbose=1,
    )
    config = cooldown.get_config()
    assert keras_lr.callbacks.CooldownOnTrigger(**config).get_config() == config
