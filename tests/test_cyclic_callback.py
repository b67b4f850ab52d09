"""CyclicLR: the Keras 2 CLR callback's rates and history, from the shared
CyclicalLearningRate formula, continuing after a resume."""

import math

import keras
import numpy as np
import pytest

from keras_lr import schedules as S
from keras_lr.callbacks import CyclicLR
from tests.conftest import TracingSGD
from tests.conftest import rates_used
from tests.conftest import tiny_model

pytestmark = pytest.mark.backend_neutral

EPOCHS, BATCHES = 4, 5


def _keras2_clr(iteration, base_lr, max_lr, step_size, mode, gamma):
    """The Keras 2 CLR callback's rate at `iteration`, from its documented
    algorithm (bckenstler/CLR README): a triangle per 2 * step_size
    iterations, scaled per cycle ("triangular2") or per iteration
    ("exp_range")."""
    cycle = math.floor(1 + iteration / (2 * step_size))
    x = abs(iteration / step_size - 2 * cycle + 1)
    scale = {
        "triangular": 1.0,
        "triangular2": 1 / 2.0 ** (cycle - 1),
        "exp_range": gamma**iteration,
    }[mode]
    return base_lr + (max_lr - base_lr) * max(0.0, 1 - x) * scale


@pytest.mark.parametrize(
    "mode, gamma", [("triangular", 1.0), ("triangular2", 1.0), ("exp_range", 0.9)]
)
def test_rates_and_history_match_the_keras2_callback(mode, gamma, data):
    clr = CyclicLR(base_lr=0.001, max_lr=0.006, step_size=3, mode=mode, gamma=gamma)
    model = tiny_model(0.5)
    model.fit(*data, batch_size=8, epochs=EPOCHS, verbose=0, callbacks=[clr])
    steps = range(EPOCHS * BATCHES)
    expected = [_keras2_clr(i, 0.001, 0.006, 3, mode, gamma) for i in steps]
    np.testing.assert_allclose(rates_used(model, EPOCHS * BATCHES), expected, rtol=1e-6)
    assert clr.history["iterations"] == list(steps)
    np.testing.assert_allclose(clr.history["lr"], expected, rtol=1e-12)


def test_same_rates_as_the_in_graph_schedule(data):
    model = tiny_model(0.5)
    model.fit(*data, batch_size=8, epochs=EPOCHS, verbose=0,
              callbacks=[CyclicLR(0.01, 0.1, step_size=4, mode="triangular2")])
    in_graph = tiny_model(S.CyclicalLearningRate(0.01, 0.1, 4, mode="triangular2"))
    in_graph.fit(*data, batch_size=8, epochs=EPOCHS, verbose=0)
    np.testing.assert_allclose(rates_used(model, EPOCHS * BATCHES),
                               rates_used(in_graph, EPOCHS * BATCHES), rtol=1e-6)


class Crash(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 1:
            raise RuntimeError("simulated crash")


def test_cycle_continues_after_backup_and_restore(data, tmp_path):
    def run(extra):
        model = tiny_model(0.5)
        clr = CyclicLR(0.01, 0.1, step_size=3)
        model.fit(*data, batch_size=8, epochs=EPOCHS, verbose=0, callbacks=[
            keras.callbacks.BackupAndRestore(str(tmp_path)), clr] + extra)
        return model, clr

    with pytest.raises(RuntimeError, match="simulated crash"):
        run([Crash()])
    model, clr = run([])
    expected = [_keras2_clr(i, 0.01, 0.1, 3, "triangular", 1.0)
                for i in range(EPOCHS * BATCHES)]
    np.testing.assert_allclose(rates_used(model, EPOCHS * BATCHES), expected, rtol=1e-6)
    assert clr.history["iterations"] == list(range(2 * BATCHES, EPOCHS * BATCHES))


def test_continues_across_fits_and_load_model(data, tmp_path):
    model = tiny_model(0.5)
    model.fit(*data, batch_size=8, epochs=1, verbose=0,
              callbacks=[CyclicLR(0.01, 0.1, 3)])
    path = str(tmp_path / "model.keras")
    model.save(path)
    loaded = keras.models.load_model(path, custom_objects={"TracingSGD": TracingSGD})
    loaded.fit(*data, batch_size=8, initial_epoch=1, epochs=2, verbose=0,
               callbacks=[CyclicLR(0.01, 0.1, 3)])
    expected = [_keras2_clr(i, 0.01, 0.1, 3, "triangular", 1.0) for i in range(10)]
    np.testing.assert_allclose(rates_used(loaded, 10), expected, rtol=1e-6)


def test_config_round_trip_and_migration_defaults():
    clr = CyclicLR()  # the Keras 2 callback's defaults
    assert clr.get_config() == {"base_lr": 0.001, "max_lr": 0.006, "step_size": 2000,
                                "mode": "triangular", "gamma": 1.0}
    restored = CyclicLR.from_config(clr.get_config())
    assert restored.schedule == clr.schedule
    assert clr.schedule == S.CyclicalLearningRate(0.001, 0.006, 2000)


def test_argument_errors():
    with pytest.raises(ValueError, match="Argument `mode` must be"):
        CyclicLR(mode="cosine")
    with pytest.raises(ValueError, match="Argument `step_size` must be"):
        CyclicLR(step_size=0)
    with pytest.raises(ValueError, match="Argument `base_lr` must be <= `max_lr`"):
        CyclicLR(base_lr=0.1, max_lr=0.01)
    with pytest.raises(ValueError, match="Argument `max_lr` must be"):
        CyclicLR(max_lr=float("inf"))
