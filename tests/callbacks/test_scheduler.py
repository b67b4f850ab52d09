"""LearningRateScheduler: exact per-epoch and per-step rates, Keras's two
signatures without swallowing a user's TypeError, resume from the step,
Keras's `logs["learning_rate"]` and verbose line. Keras's own tests of it:
tests/parity/test_keras_callback_suites.py."""

import inspect

import keras
import numpy as np
import pytest

from keras_lr import schedules as S
from keras_lr.callbacks import LearningRateScheduler
from tests.support.callbacks import Crash
from tests.support.models import as_float32
from tests.support.models import fit
from tests.support.models import rates_used
from tests.support.models import tiny_model

pytestmark = pytest.mark.backend_neutral

EPOCHS, BATCHES = 4, 5


def test_epoch_function_of_epoch(data):
    model = tiny_model(0.5)
    halving = LearningRateScheduler(lambda epoch: 0.1 / (epoch + 1))
    history = fit(model, data, [halving], epochs=EPOCHS)
    expected = as_float32(np.repeat([0.1, 0.05, 0.1 / 3, 0.025], BATCHES))
    np.testing.assert_array_equal(rates_used(model, EPOCHS * BATCHES), expected)
    # As Keras's: each epoch's rate, as the optimizer holds it, in History.
    assert history.history["learning_rate"] == expected[::BATCHES].tolist()


def test_epoch_function_of_epoch_and_rate(data):
    model = tiny_model(0.4)
    fit(model, data, [LearningRateScheduler(lambda epoch, lr: lr * 0.5)], epochs=EPOCHS)
    expected = as_float32(np.repeat([0.2, 0.1, 0.05, 0.025], BATCHES))
    np.testing.assert_allclose(rates_used(model, EPOCHS * BATCHES), expected, rtol=1e-7)


def test_epoch_schedule_object_is_called_with_the_epoch(data):
    model = tiny_model(0.4)
    schedule = S.StepDecay(0.1, step_size=2, gamma=0.5)
    fit(model, data, [LearningRateScheduler(schedule)], epochs=EPOCHS)
    expected = as_float32(np.repeat(schedule.numpy(np.arange(EPOCHS)), BATCHES))
    np.testing.assert_array_equal(rates_used(model, EPOCHS * BATCHES), expected)


def test_a_users_type_error_is_not_swallowed(data):
    calls = []

    def schedule(epoch, lr):
        calls.append(epoch)
        raise TypeError("a bug in the user's schedule")

    with pytest.raises(TypeError, match="a bug in the user's schedule"):
        fit(tiny_model(0.1), data, [LearningRateScheduler(schedule)], epochs=EPOCHS)
    assert calls == [0]  # not retried as schedule(epoch)


def test_step_unit_with_a_schedule(data):
    schedule = S.CosineRestarts(0.1, first_decay_steps=4, t_mul=2.0)
    model = tiny_model(0.5)
    history = fit(model, data, [LearningRateScheduler(schedule, unit="step")],
                  epochs=EPOCHS)
    steps = np.arange(EPOCHS * BATCHES)
    expected = as_float32(schedule.numpy(steps))
    np.testing.assert_array_equal(rates_used(model, steps.size), expected)
    # The rate of each epoch's last step.
    assert history.history["learning_rate"] == expected[BATCHES - 1 :: BATCHES].tolist()


def test_step_unit_with_steps_per_execution_sets_one_rate_per_execution(data):
    if keras.backend.backend() == "torch":
        # Keras's torch trainer has no `steps_per_execution`: nothing to set
        # one rate per execution for.
        with pytest.raises(ValueError, match="steps_per_execution"):
            fit(tiny_model(0.5, steps_per_execution=2), data, [], epochs=EPOCHS)
        return
    model = tiny_model(0.5, steps_per_execution=2)
    model.fit(*data, batch_size=8, epochs=2, verbose=0,
              callbacks=[LearningRateScheduler(lambda s: 0.01 * (s + 1), unit="step")])
    # Executions start at steps 0, 2, 4 | 5, 7, 9 (the epoch's 5 batches
    # split 2 + 2 + 1).
    starts = [0, 0, 2, 2, 4, 5, 5, 7, 7, 9]
    np.testing.assert_allclose(rates_used(model, 10),
                               as_float32(0.01 * (np.array(starts) + 1)), rtol=1e-7)


@pytest.mark.parametrize("unit", ["epoch", "step"])
def test_resume_with_backup_and_restore(unit, data, tmp_path):
    function = (lambda t, lr: lr * 0.9) if unit == "epoch" else (
        lambda t: 0.1 / (1 + t))

    def run(extra):
        model = tiny_model(0.1)
        fit(model, data, [keras.callbacks.BackupAndRestore(str(tmp_path)),
                          LearningRateScheduler(function, unit=unit)] + extra,
            epochs=EPOCHS)
        return model

    with pytest.raises(RuntimeError, match="simulated crash"):
        run([Crash(1)])
    resumed = rates_used(run([]), EPOCHS * BATCHES)
    uninterrupted = rates_used(run([]), EPOCHS * BATCHES)
    np.testing.assert_array_equal(resumed, uninterrupted)
    assert len(np.unique(uninterrupted)) > 1


def test_optimizer_built_with_a_schedule_fails_at_train_begin(data):
    model = tiny_model(S.CosineAnnealing(0.1, 100))
    # Keras's error (type and first words), before any step is taken.
    with pytest.raises(TypeError, match="This optimizer was created with a "
                       "`LearningRateSchedule`.*Pass your schedule to the optimizer"):
        fit(model, data, [LearningRateScheduler(lambda epoch: 0.1)], epochs=EPOCHS)
    assert int(keras.ops.convert_to_numpy(model.optimizer.iterations)) == 0


@pytest.mark.parametrize("bad", [float("nan"), -0.1, "0.1", None])
def test_bad_return_value(bad, data):
    with pytest.raises(ValueError, match="must return a"):
        fit(tiny_model(0.1), data, [LearningRateScheduler(lambda epoch: bad)],
            epochs=EPOCHS)


def test_tensor_return_value_is_accepted(data):
    model = tiny_model(0.1)
    fit(model, data, [LearningRateScheduler(
        lambda epoch, lr: lr * keras.ops.exp(-1.0))], epochs=1)
    np.testing.assert_allclose(rates_used(model, 1), [0.1 * np.exp(-1.0)], rtol=1e-6)


@pytest.mark.parametrize(
    "function", [lambda e: 0.25, lambda e: 0.1 / 3, lambda e: np.float32(0.1)],
    ids=["float", "long_float", "float32"])
def test_verbose_line_is_keras_s(function, data, capsys):
    printed = []
    for scheduler in (LearningRateScheduler, keras.callbacks.LearningRateScheduler):
        fit(tiny_model(0.1), data, [scheduler(function, verbose=1)], epochs=1)
        printed.append(capsys.readouterr().out)
    assert printed[0] == printed[1] == (
        f"\nEpoch 1: LearningRateScheduler setting learning rate to {function(0)}.\n")


def test_same_positional_arguments_and_defaults_as_keras():
    ours = inspect.signature(LearningRateScheduler).parameters
    theirs = inspect.signature(keras.callbacks.LearningRateScheduler).parameters
    assert list(ours)[:2] == list(theirs) == ["schedule", "verbose"]
    assert ours["verbose"].default == theirs["verbose"].default
    assert list(ours)[2:] == ["unit"]


def test_accepts_what_keras_s_refuses(data):
    # Keras's raises for anything but a Python or NumPy float; an int, a
    # 0-d tensor or array, and a LearningRateSchedule work here.
    with pytest.raises(ValueError, match="should be a float"):
        fit(tiny_model(0.1), data, [keras.callbacks.LearningRateScheduler(
            lambda epoch: 1)], epochs=1)
    model = tiny_model(0.1)
    fit(model, data, [LearningRateScheduler(lambda epoch: 1)], epochs=1)
    assert rates_used(model, 1).tolist() == [1.0]


def test_argument_errors():
    with pytest.raises(TypeError, match="Argument `schedule` must be"):
        LearningRateScheduler(0.1)
    with pytest.raises(TypeError, match="must accept `\\(epoch\\)`"):
        LearningRateScheduler(lambda: 0.1)
    with pytest.raises(ValueError, match="Argument `unit` must be"):
        LearningRateScheduler(lambda e: 0.1, unit="batch")


def test_config_round_trip():
    callback = LearningRateScheduler(S.CosineAnnealing(0.1, 100), unit="step")
    restored = LearningRateScheduler.from_config(callback.get_config())
    assert restored.schedule == callback.schedule and restored.unit == "step"


# In-graph application: the epoch's rates planned at its start


def test_step_unit_writes_no_rate_per_batch_and_compiles_once(data, monkeypatch):
    from keras_lr.callbacks import _optimizer_rate
    from tests.support.backends import count_compiles

    writes, calls = [], []
    monkeypatch.setattr(_optimizer_rate, "set_float_rate",
                        lambda *args: writes.append(args))

    def halve(step, lr):
        calls.append(step)
        return lr * 0.5

    model = tiny_model(0.4)
    model.optimizer.build(model.trainable_variables)
    compiles = count_compiles(model)
    history = fit(model, data, [LearningRateScheduler(halve, unit="step")], epochs=2)
    expected = as_float32(0.4 * 0.5 ** np.arange(1, 11))
    np.testing.assert_allclose(rates_used(model, 10), expected, rtol=1e-6)
    assert calls == list(range(10)) and writes == [] and len(compiles) == 1
    assert history.history["learning_rate"] == expected[BATCHES - 1 :: BATCHES].tolist()


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_step_unit_without_a_step_count_writes_before_every_batch(data):
    # A generator has no length: `steps=None`, the documented fallback.
    def batches():
        x, y = data
        for i in range(0, 40, 8):
            yield x[i : i + 8], y[i : i + 8]

    model = tiny_model(0.5)
    scheduler = LearningRateScheduler(lambda s: 0.01 * (s + 1), unit="step")
    model.fit(batches(), epochs=1, verbose=0, callbacks=[scheduler])
    assert scheduler._planned is None
    np.testing.assert_allclose(rates_used(model, BATCHES),
                               as_float32(0.01 * np.arange(1, 6)), rtol=1e-7)


def test_a_fit_after_a_crashed_one_keeps_the_rate_in_place(data):
    class CrashAtBatch(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 1:
                raise RuntimeError("simulated crash")

    model = tiny_model(0.5)
    with pytest.raises(RuntimeError, match="simulated crash"):
        fit(model, data, [LearningRateScheduler(lambda s: 0.1 * (s + 1), unit="step"),
                          CrashAtBatch()], epochs=1)
    # The table planned for the crashed epoch does not drive this fit.
    fit(model, data, [], epochs=1)
    np.testing.assert_allclose(rates_used(model, 7),
                               as_float32([0.1, 0.2] + [0.2] * 5), rtol=1e-7)
