"""Gradient accumulation (`gradient_accumulation_steps=4`): the rate each
real update used, from the optimizer's trace, is what the schedule or the
callback says, and TensorBoard's reader finds exactly those rates in the
logger's output, one per real update, on the axis of `optimizer.iterations`."""

import keras
import numpy as np
import pytest

from keras_lr import schedules as S
from keras_lr.callbacks import CyclicLR
from keras_lr.callbacks import LearningRateLogger
from keras_lr.callbacks import LearningRateScheduler
from keras_lr.callbacks import ReduceLROnPlateau
from keras_lr.optimizers import groups
from keras_lr.optimizers import scale_rates
from tests.callbacks.test_plateau import SCORES
from tests.support.callbacks import Crash
from tests.support.callbacks import Script
from tests.support.callbacks import ScriptedScore
from tests.support.callbacks import Worse
from tests.support.models import TracingSGD
from tests.support.models import accumulating_model
from tests.support.models import fit
from tests.support.models import rates_of_updates
from tests.support.models import transformer_model
from tests.support.tensorboard import read_scalars

pytestmark = pytest.mark.backend_neutral

N = 4  # batches per real update
EPOCHS, BATCHES = 4, 10  # 40 samples in batches of 4
UPDATES = EPOCHS * BATCHES // N
# Update k is applied at batch k * N + N - 1, so epochs (10 batches) end in
# the middle of an update: epoch e makes the updates up to (10 e + 9) // 4.
EPOCH_OF_UPDATE = (np.arange(UPDATES) * N + N - 1) // BATCHES
LAST_UPDATE_OF_EPOCH = [1, 4, 6, 9]
AT_UPDATES = np.arange(UPDATES) * N + N - 1  # where Keras calls the schedule


def _plateau():
    return ReduceLROnPlateau("score", factor=0.5, patience=1, mode="min")


COSINE = S.CosineAnnealing(0.1, decay_steps=60, min_learning_rate=0.001)
# With patience 1, the scores 0, 1, 2, 3 reduce after epochs 1 and 2 (the
# scale of each update's epoch).
PLATEAU_SCALE = np.array([1.0, 1.0, 0.5, 0.25])[EPOCH_OF_UPDATE]

# Each case: (rate given to the optimizer, callbacks before the logger,
# callbacks after it, steps_per_execution, the rate update k must use).
CASES = {
    "keras_lr_schedule_counts_batches": (
        COSINE, [], [], 1, COSINE.numpy(AT_UPDATES)),
    "keras_schedule_counts_batches": (
        keras.optimizers.schedules.ExponentialDecay(0.1, 8, 0.5), [], [], 1,
        0.1 * 0.5 ** (AT_UPDATES / 8)),
    # The documented way to count real updates: update k uses schedule(k).
    "schedule_in_real_updates": (
        S.Epochs(COSINE, steps_per_epoch=N), [], [], 1,
        COSINE.numpy(np.arange(UPDATES))),
    "keras_schedule_in_real_updates": (
        S.Epochs(keras.optimizers.schedules.ExponentialDecay(0.1, 8, 0.5),
                 steps_per_epoch=N), [], [], 1,
        0.1 * 0.5 ** (np.arange(UPDATES) / 8)),
    "float": (0.05, [], [], 1, np.full(UPDATES, 0.05)),
    "plateau_on_schedule": (
        COSINE, [Worse, _plateau], [], 1,
        COSINE.numpy(AT_UPDATES) * PLATEAU_SCALE),
    "plateau_on_float_after": (
        0.1, [Worse], [_plateau], 1, 0.1 * PLATEAU_SCALE),
    "scheduler_per_step": (
        0.1, [lambda: LearningRateScheduler(lambda s: 0.01 * (s + 1), unit="step")],
        [], 1, 0.01 * (np.arange(UPDATES) + 1)),
    # Called once per update, also for the updates that span two epochs.
    "scheduler_per_step_with_lr": (
        0.1, [], [lambda: LearningRateScheduler(lambda s, lr: lr * 0.75, unit="step")],
        1, 0.1 * 0.75 ** (np.arange(UPDATES) + 1)),
    # The epoch's rate is in place when an update that began in the
    # previous epoch is applied.
    "scheduler_per_epoch": (
        0.1, [lambda: LearningRateScheduler(lambda e: 0.01 * (e + 1))], [], 1,
        0.01 * (EPOCH_OF_UPDATE + 1)),
    "cyclic_after": (
        0.1, [], [lambda: CyclicLR(0.01, 0.1, step_size=3)], 1,
        S.CyclicalLearningRate(0.01, 0.1, 3).numpy(np.arange(UPDATES))),
}
# Keras's torch backend refuses steps_per_execution > 1.
if keras.backend.backend() != "torch":
    CASES.update({
        "schedule_steps_per_execution": (
            COSINE, [], [], 2, COSINE.numpy(AT_UPDATES)),
        # Batches 0-1, 2-3, ... run together: update k's first batch begins
        # an execution, so its rate is set before it.
        "scheduler_steps_per_execution": (
            0.1, [lambda: LearningRateScheduler(lambda s: 0.01 * (s + 1),
                                                unit="step")],
            [], 2, 0.01 * (np.arange(UPDATES) + 1)),
    })


# Keras's torch backend refuses steps_per_execution > 1.
@pytest.mark.parametrize(
    "steps_per_execution", [1] if keras.backend.backend() == "torch" else [1, 2])
def test_every_group_of_a_multi_optimizer_under_accumulation(
    steps_per_execution, data, tmp_path
):
    # Each group accumulates its own gradients; the plateau scales every
    # group's schedule, and the logger writes each group's real updates.
    model = transformer_model(depth=1)
    model.compile(
        scale_rates(model, TracingSGD(COSINE, gradient_accumulation_steps=N),
                    {"head/.*": 0.5}),
        loss="mse", steps_per_execution=steps_per_execution,
    )
    history = fit(model, data, [Worse(), _plateau(), LearningRateLogger(str(tmp_path))],
                  epochs=EPOCHS, batch_size=4, shuffle=False)
    for name, multiplier in {"default": 1.0, "head/.*": 0.5}.items():
        group = groups(model.optimizer)[name]
        assert int(keras.ops.convert_to_numpy(group.iterations)) == UPDATES
        used = rates_of_updates(model, UPDATES, optimizer=group)
        np.testing.assert_allclose(
            used, multiplier * COSINE.numpy(AT_UPDATES) * PLATEAU_SCALE, rtol=1e-6)
        steps, values = read_scalars(str(tmp_path), tag=f"learning_rate/{name}")
        np.testing.assert_array_equal(steps, np.arange(UPDATES))
        np.testing.assert_allclose(values, used, rtol=1e-6)
        np.testing.assert_allclose(history.history[f"learning_rate/{name}"],
                                   used[LAST_UPDATE_OF_EPOCH], rtol=1e-6)


@pytest.mark.parametrize("case", list(CASES))
def test_each_update_uses_the_stated_rate_and_the_logger_agrees(case, data, tmp_path):
    rate, before, after, steps_per_execution, expected = CASES[case]
    model = accumulating_model(rate, N, steps_per_execution=steps_per_execution)
    history = fit(model, data, [make() for make in before]
                  + [LearningRateLogger(str(tmp_path))]
                  + [make() for make in after],
                  epochs=EPOCHS, batch_size=4, shuffle=False)
    assert int(keras.ops.convert_to_numpy(model.optimizer.iterations)) == UPDATES
    used = rates_of_updates(model, UPDATES)
    # The rate each real update used (float32 inside the step).
    np.testing.assert_allclose(used, expected, rtol=1e-6)
    steps, values = read_scalars(str(tmp_path))
    np.testing.assert_array_equal(steps, np.arange(UPDATES))
    np.testing.assert_allclose(values, used, rtol=1e-6)
    np.testing.assert_allclose(
        history.history["learning_rate"], used[LAST_UPDATE_OF_EPOCH], rtol=1e-6)


def test_cyclic_history_has_one_entry_per_update(data):
    clr = CyclicLR(0.01, 0.1, step_size=3)
    model = accumulating_model(0.1, N)
    fit(model, data, [clr], epochs=EPOCHS, batch_size=4, shuffle=False)
    # Keras 2's count of iterations, from 1: one per real update.
    np.testing.assert_array_equal(
        clr.history["iterations"], np.arange(1, UPDATES + 1)
    )
    np.testing.assert_allclose(clr.history["lr"], rates_of_updates(model, UPDATES),
                               rtol=1e-6)


def test_a_step_function_is_called_once_per_update_across_fits(data):
    calls = []

    def halve(step, lr):
        calls.append(step)
        return lr * 0.5

    scheduler = LearningRateScheduler(halve, unit="step")
    model = accumulating_model(0.1, N)
    for first, last in [(0, 1), (1, 3), (3, 4)]:  # each fit ends mid-update
        fit(model, data, [scheduler], epochs=last, initial_epoch=first,
            batch_size=4, shuffle=False)
    assert calls == list(range(UPDATES))
    np.testing.assert_allclose(rates_of_updates(model, UPDATES),
                               0.1 * 0.5 ** (np.arange(UPDATES) + 1), rtol=1e-6)


def test_resumed_fits_continue_the_update_axis(data, tmp_path):
    model = accumulating_model(COSINE, N)
    for first, last in [(0, 1), (1, 3), (3, 4)]:
        fit(model, data, [LearningRateLogger(str(tmp_path), update_freq=2)],
            epochs=last, initial_epoch=first, batch_size=4, shuffle=False)
    steps, values = read_scalars(str(tmp_path))
    np.testing.assert_array_equal(steps, np.arange(0, UPDATES, 2))
    np.testing.assert_allclose(values, rates_of_updates(model, UPDATES)[::2],
                               rtol=1e-6)


def test_an_epoch_without_an_update_logs_no_rate(data, tmp_path):
    """8 batches per update, 5 per epoch: epoch 0 makes no update."""
    model = accumulating_model(COSINE, 8)
    history = model.fit(*data, batch_size=8, epochs=3, shuffle=False, verbose=0,
                        callbacks=[LearningRateLogger(str(tmp_path))])
    used = rates_of_updates(model, 1)
    np.testing.assert_allclose(used, COSINE.numpy([7]), rtol=1e-6)
    steps, values = read_scalars(str(tmp_path))
    np.testing.assert_array_equal(steps, [0])
    np.testing.assert_allclose(values, used, rtol=1e-6)
    # Epoch 1 makes update 0; epoch 2 none, and repeats update 0's rate.
    np.testing.assert_allclose(history.history["learning_rate"], [used[0]] * 2,
                               rtol=1e-6)


def test_plateau_backup_and_restore_under_accumulation(data, tmp_path):
    """A backup listed before the plateau callback must see the epoch as
    done (10 batches, but only 2 or 3 updates) and store the next state."""

    def run(extra):
        score = ScriptedScore(SCORES)
        model = accumulating_model(COSINE, N, metrics=[score])
        plateau = ReduceLROnPlateau("score", factor=0.1, patience=1, mode="min")
        backup = keras.callbacks.BackupAndRestore(str(tmp_path / "backup"))
        fit(model, data, [Script(score), backup, plateau] + extra, epochs=EPOCHS,
            batch_size=4, shuffle=False)
        return model

    with pytest.raises(RuntimeError, match="simulated crash"):
        run([Crash(2)])  # after the first reduction (end of epoch 1)
    resumed = run([])
    # SCORES never improve after epoch 0: reductions after epochs 1 and 2.
    scale = np.array([1.0, 1.0, 0.1, 0.01])[EPOCH_OF_UPDATE]
    np.testing.assert_allclose(rates_of_updates(resumed, UPDATES),
                               COSINE.numpy(AT_UPDATES) * scale, rtol=1e-6)
