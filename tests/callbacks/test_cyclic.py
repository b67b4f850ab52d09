"""CyclicLR: the Keras 2 CLR callback (bckenstler/CLR) on Keras 3: its rates,
its history, its `_reset`, its custom scaling, and a cycle that continues
after a resume."""

import math

import keras
import numpy as np
import pytest

from keras_lr import schedules as S
from keras_lr.callbacks import CyclicLR
from tests.support.callbacks import Crash
from tests.support.models import TracingSGD
from tests.support.models import fit
from tests.support.models import rates_used
from tests.support.models import tiny_model

pytestmark = pytest.mark.backend_neutral

EPOCHS, BATCHES = 4, 5


def _keras2_clr(iteration, base_lr, max_lr, step_size, mode="triangular", gamma=1.0,
                scale_fn=None, scale_mode="cycle"):
    """The Keras 2 CLR callback's rate at cycle iteration `iteration`, from
    its published algorithm (bckenstler/CLR README): a triangle per
    2 * step_size iterations, scaled per cycle or per iteration."""
    cycle = math.floor(1 + iteration / (2 * step_size))
    x = abs(iteration / step_size - 2 * cycle + 1)
    if scale_fn is None:
        scale_fn, scale_mode = {
            "triangular": (lambda c: 1.0, "cycle"),
            "triangular2": (lambda c: 1 / 2.0 ** (c - 1), "cycle"),
            "exp_range": (lambda i: gamma**i, "iterations"),
        }[mode]
    scale = scale_fn(cycle if scale_mode == "cycle" else iteration)
    return base_lr + (max_lr - base_lr) * max(0.0, 1 - x) * scale


class Keras2CLR:
    """What the Keras 2 callback does, event by event (its published
    `clr_callback.py`): `on_train_begin` sets base_lr (or the rate of its
    cycle iteration), each batch end counts one iteration, records the rate
    that batch used and sets the next; `_reset` zeroes the cycle count."""

    def __init__(self, base_lr, max_lr, step_size, **kwargs):
        self.base_lr, self.max_lr, self.step_size = base_lr, max_lr, step_size
        self.kwargs = kwargs
        self.clr_iterations = self.trn_iterations = 0
        self.history = {"lr": [], "iterations": []}

    def _reset(self, new_base_lr=None, new_max_lr=None, new_step_size=None):
        self.base_lr = self.base_lr if new_base_lr is None else new_base_lr
        self.max_lr = self.max_lr if new_max_lr is None else new_max_lr
        self.step_size = self.step_size if new_step_size is None else new_step_size
        self.clr_iterations = 0

    def clr(self):
        return _keras2_clr(self.clr_iterations, self.base_lr, self.max_lr,
                           self.step_size, **self.kwargs)

    def fit(self, batches, reset_after=None, reset_args=()):
        """The rates of `batches` batches; `_reset(*reset_args)` after batch
        `reset_after` (as another callback would call it)."""
        self.lr = self.base_lr if self.clr_iterations == 0 else self.clr()
        used = []
        for batch in range(batches):
            used.append(self.lr)
            self.trn_iterations += 1
            self.clr_iterations += 1
            self.history["lr"].append(float(np.float32(self.lr)))
            self.history["iterations"].append(self.trn_iterations)
            self.lr = self.clr()
            if batch == reset_after:
                self._reset(*reset_args)
        return used


@pytest.mark.parametrize(
    "mode, gamma", [("triangular", 1.0), ("triangular2", 1.0), ("exp_range", 0.9)]
)
def test_rates_and_history_match_the_keras2_callback(mode, gamma, data):
    clr = CyclicLR(base_lr=0.001, max_lr=0.006, step_size=3, mode=mode, gamma=gamma)
    model = tiny_model(0.5)
    fit(model, data, [clr], epochs=EPOCHS)
    keras2 = Keras2CLR(0.001, 0.006, 3, mode=mode, gamma=gamma)
    expected = keras2.fit(EPOCHS * BATCHES)
    np.testing.assert_allclose(rates_used(model, EPOCHS * BATCHES), expected, rtol=1e-6)
    # Keras 2's history: the rate each batch used, as the optimizer held it
    # (float32), and the running iteration count from 1.
    assert clr.history == keras2.history
    assert clr.history["iterations"] == list(range(1, EPOCHS * BATCHES + 1))
    # No batch logs (Keras 2 kept them too): reading them syncs the device.
    assert set(clr.history) == {"lr", "iterations"}


def test_readme_examples_of_the_keras2_callback():
    # bckenstler's README: base 0.001, max 0.006, step_size 2000.
    for mode, gamma in [("triangular", 1.0), ("triangular2", 1.0),
                        ("exp_range", 0.99994)]:
        clr = CyclicLR(0.001, 0.006, 2000., mode, gamma)
        for step in range(0, 12001, 7):  # the same float64 arithmetic
            assert clr._rate(step) == _keras2_clr(step, 0.001, 0.006, 2000., mode, gamma)
    triangular = CyclicLR(base_lr=0.001, max_lr=0.006, step_size=2000.)
    rates = [triangular._rate(s) for s in (0, 1000, 2000, 3000, 4000, 6000)]
    np.testing.assert_allclose(rates, [0.001, 0.0035, 0.006, 0.0035, 0.001, 0.006])
    triangular2 = CyclicLR(base_lr=0.001, max_lr=0.006, step_size=2000.,
                           mode="triangular2")
    rates = [triangular2._rate(s) for s in (2000, 6000, 10000, 12000)]
    np.testing.assert_allclose(rates, [0.006, 0.0035, 0.00225, 0.001])
    exp_range = CyclicLR(base_lr=0.001, max_lr=0.006, step_size=2000.,
                         mode="exp_range", gamma=0.99994)
    np.testing.assert_allclose(
        [exp_range._rate(s) for s in (2000, 6000)],
        [0.001 + 0.005 * 0.99994**2000, 0.001 + 0.005 * 0.99994**6000])
    # Its custom policies: a sine of the cycle, a decay over iterations.
    sine = CyclicLR(base_lr=0.001, max_lr=0.006, step_size=2000.,
                    scale_fn=lambda x: 0.5 * (1 + np.sin(x * np.pi / 2.)),
                    scale_mode="cycle")
    decay = CyclicLR(base_lr=0.001, max_lr=0.006, step_size=2000.,
                     scale_fn=lambda x: 1 / (5 ** (x * 0.0001)), scale_mode="iterations")
    for step in (0, 1234, 2000, 5000, 6000, 10000):
        assert sine._rate(step) == pytest.approx(_keras2_clr(
            step, 0.001, 0.006, 2000, scale_fn=lambda x: 0.5 * (1 + np.sin(x * np.pi / 2.)),
            scale_mode="cycle"), rel=1e-12)
        assert decay._rate(step) == pytest.approx(_keras2_clr(
            step, 0.001, 0.006, 2000, scale_fn=lambda x: 1 / (5 ** (x * 0.0001)),
            scale_mode="iterations"), rel=1e-12)
    # The third cycle's peak: sin(3 pi / 2) = -1, no amplitude.
    assert sine._rate(10000) == pytest.approx(0.001)


def test_fractional_step_size_and_scale_fn_through_fit(data):
    scale_fn = lambda x: 1 / (5 ** (x * 0.01))  # noqa: E731
    clr = CyclicLR(0.01, 0.1, step_size=2.5, scale_fn=scale_fn, scale_mode="iterations")
    model = tiny_model(0.5)
    fit(model, data, [clr], epochs=EPOCHS)
    expected = Keras2CLR(0.01, 0.1, 2.5, scale_fn=scale_fn,
                         scale_mode="iterations").fit(EPOCHS * BATCHES)
    np.testing.assert_allclose(rates_used(model, EPOCHS * BATCHES), expected, rtol=1e-6)


def test_same_rates_as_the_in_graph_schedule(data):
    model = tiny_model(0.5)
    fit(model, data, [CyclicLR(0.01, 0.1, step_size=4, mode="triangular2")],
        epochs=EPOCHS)
    in_graph = tiny_model(S.CyclicalLearningRate(0.01, 0.1, 4, mode="triangular2"))
    in_graph.fit(*data, batch_size=8, epochs=EPOCHS, verbose=0)
    np.testing.assert_allclose(rates_used(model, EPOCHS * BATCHES),
                               rates_used(in_graph, EPOCHS * BATCHES), rtol=1e-6)


@pytest.mark.parametrize("mode", ["triangular2", "exp_range"])
def test_reset_between_fits_starts_a_new_cycle_as_keras2(mode, data):
    gamma = 0.9 if mode == "exp_range" else 1.0
    clr = CyclicLR(0.01, 0.1, step_size=3, mode=mode, gamma=gamma)
    model = tiny_model(0.5)
    fit(model, data, [clr], epochs=2)
    clr._reset(new_base_lr=0.02, new_max_lr=0.05, new_step_size=2)
    fit(model, data, [clr], epochs=4, initial_epoch=2)
    keras2 = Keras2CLR(0.01, 0.1, 3, mode=mode, gamma=gamma)
    expected = keras2.fit(2 * BATCHES)
    keras2._reset(0.02, 0.05, 2)
    expected += keras2.fit(2 * BATCHES)
    np.testing.assert_allclose(rates_used(model, EPOCHS * BATCHES), expected, rtol=1e-6)
    assert clr.history == keras2.history
    assert expected[2 * BATCHES] == 0.02  # the new cycle starts at its base
    assert clr.get_config()["cycle_start"] == 2 * BATCHES
    # `_reset()` with no argument restarts the same cycle.
    clr._reset()
    fit(model, data, [clr], epochs=5, initial_epoch=4)
    keras2._reset()
    expected += keras2.fit(BATCHES)
    np.testing.assert_allclose(rates_used(model, 5 * BATCHES), expected, rtol=1e-6)


class ResetAt(keras.callbacks.Callback):
    def __init__(self, clr, epoch, *args):
        super().__init__()
        self.clr, self.epoch, self.args = clr, epoch, args

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            self.clr._reset(*self.args)


def test_reset_during_fit_starts_the_new_cycle_at_the_next_batch(data):
    clr = CyclicLR(0.01, 0.1, step_size=3)
    model = tiny_model(0.5)
    fit(model, data, [clr, ResetAt(clr, 0, 0.02, 0.05, 2)], epochs=2)
    used = rates_used(model, 2 * BATCHES)
    new_cycle = [_keras2_clr(i, 0.02, 0.05, 2) for i in range(BATCHES)]
    np.testing.assert_allclose(used[BATCHES:], new_cycle, rtol=1e-6)
    # Keras 2's callback had set the next batch's rate from the old cycle
    # when `_reset` came, so its new cycle began one batch later, at
    # iteration 1: the documented difference.
    keras2 = Keras2CLR(0.01, 0.1, 3)
    keras2_used = keras2.fit(2 * BATCHES, reset_after=BATCHES - 1,
                             reset_args=(0.02, 0.05, 2))
    assert keras2_used[BATCHES] == _keras2_clr(BATCHES, 0.01, 0.1, 3)
    assert keras2_used[BATCHES + 1:] == new_cycle[1:]


def test_cycle_and_reset_survive_backup_and_restore(data, tmp_path):
    def run(extra):
        model = tiny_model(0.5)
        clr = CyclicLR(0.01, 0.1, step_size=3)
        # The reset at epoch 0's end comes before the backup of that epoch.
        fit(model, data, [clr, ResetAt(clr, 0, 0.02, 0.05, 2),
                          keras.callbacks.BackupAndRestore(str(tmp_path))] + extra,
            epochs=EPOCHS)
        return model, clr

    with pytest.raises(RuntimeError, match="simulated crash"):
        run([Crash(2)])
    model, clr = run([])
    expected = [_keras2_clr(i, 0.01, 0.1, 3) for i in range(BATCHES)] + [
        _keras2_clr(i, 0.02, 0.05, 2) for i in range(3 * BATCHES)]
    np.testing.assert_allclose(rates_used(model, EPOCHS * BATCHES), expected, rtol=1e-6)
    assert (clr.base_lr, clr.max_lr, clr.step_size, clr.cycle_start) == (
        0.02, 0.05, 2.0, BATCHES)
    # History covers what this run trained, numbered as the whole training.
    assert clr.history["iterations"] == list(range(3 * BATCHES + 1, EPOCHS * BATCHES + 1))


class CrashMidEpoch(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.epoch == 1 and batch == 2:
            raise RuntimeError("simulated crash")


def test_a_reset_after_the_backup_of_its_epoch_misses_that_backup(data, tmp_path):
    # The documented limit: `_reset` at epoch 0's end by a callback listed
    # after BackupAndRestore comes after that epoch's backup; a crash before
    # the next backup resumes without it.
    def run(extra):
        model = tiny_model(0.5)
        clr = CyclicLR(0.01, 0.1, step_size=3)
        fit(model, data, [clr, keras.callbacks.BackupAndRestore(str(tmp_path)),
                          ResetAt(clr, 0, 0.02, 0.05, 2)] + extra, epochs=2)
        return model, clr

    with pytest.raises(RuntimeError, match="simulated crash"):
        run([CrashMidEpoch()])
    model, clr = run([])
    expected = [_keras2_clr(i, 0.01, 0.1, 3) for i in range(2 * BATCHES)]
    np.testing.assert_allclose(rates_used(model, 2 * BATCHES), expected, rtol=1e-6)
    assert (clr.base_lr, clr.cycle_start) == (0.01, 0)


def test_continues_across_fits_and_load_model_and_from_config(data, tmp_path):
    model = tiny_model(0.5)
    clr = CyclicLR(0.01, 0.1, 3)
    fit(model, data, [clr, ResetAt(clr, 0, 0.02, 0.05, 2)], epochs=2)
    path = str(tmp_path / "model.keras")
    model.save(path)
    loaded = keras.models.load_model(path, custom_objects={"TracingSGD": TracingSGD})
    # The step is in the file; the reset's settings are in the callback's
    # config (the `.keras` file holds no callback).
    fit(loaded, data, [CyclicLR.from_config(clr.get_config())], epochs=3,
        initial_epoch=2)
    expected = [_keras2_clr(i, 0.01, 0.1, 3) for i in range(BATCHES)] + [
        _keras2_clr(i, 0.02, 0.05, 2) for i in range(2 * BATCHES)]
    np.testing.assert_allclose(rates_used(loaded, 3 * BATCHES), expected, rtol=1e-6)
    # A new callback with the same arguments continues the cycle from the
    # optimizer's step, where Keras 2's started a new one; `cycle_start=None`
    # asks for Keras 2's behaviour.
    fresh = tiny_model(0.5)
    fit(fresh, data, [CyclicLR(0.01, 0.1, 3)], epochs=1)
    fit(fresh, data, [CyclicLR(0.01, 0.1, 3)], epochs=2, initial_epoch=1)
    fit(fresh, data, [CyclicLR(0.01, 0.1, 3, cycle_start=None)], epochs=3,
        initial_epoch=2)
    expected = [_keras2_clr(i, 0.01, 0.1, 3) for i in range(2 * BATCHES)] + [
        _keras2_clr(i, 0.01, 0.1, 3) for i in range(BATCHES)]
    np.testing.assert_allclose(rates_used(fresh, 3 * BATCHES), expected, rtol=1e-6)


def test_config_round_trip_and_migration_defaults():
    clr = CyclicLR()  # the Keras 2 callback's defaults
    assert clr.get_config() == {
        "base_lr": 0.001, "max_lr": 0.006, "step_size": 2000.0, "mode": "triangular",
        "gamma": 1.0, "scale_fn": None, "scale_mode": "cycle", "cycle_start": 0}
    restored = CyclicLR.from_config(clr.get_config())
    assert restored.get_config() == clr.get_config()
    # Keras 2's positional order, scale_fn and scale_mode included.
    keras2_style = CyclicLR(0.001, 0.006, 2000., "exp_range", 0.99, None, "iterations")
    assert keras2_style.get_config()["gamma"] == 0.99


def test_scale_fn_survives_the_config_of_a_registered_function():
    @keras.saving.register_keras_serializable(package="keras_lr_tests")
    def half(x):
        return 0.5

    clr = CyclicLR(0.01, 0.1, 4, scale_fn=half)
    restored = CyclicLR.from_config(clr.get_config())
    assert [restored._rate(s) for s in range(8)] == [clr._rate(s) for s in range(8)]
    assert clr._rate(4) == pytest.approx(0.055)


def test_argument_errors():
    with pytest.raises(ValueError, match="Argument `mode` must be"):
        CyclicLR(mode="cosine")
    with pytest.raises(ValueError, match="Argument `step_size` must be"):
        CyclicLR(step_size=0)
    with pytest.raises(ValueError, match="Argument `base_lr` must be <= `max_lr`"):
        CyclicLR(base_lr=0.1, max_lr=0.01)
    with pytest.raises(ValueError, match="Argument `max_lr` must be"):
        CyclicLR(max_lr=float("inf"))
    with pytest.raises(ValueError, match="Argument `gamma` must be 1.0 unless"):
        CyclicLR(gamma=0.9)
    with pytest.raises(ValueError, match="Argument `gamma` must be"):
        CyclicLR(mode="exp_range", gamma=1.01)
    with pytest.raises(TypeError, match="Argument `scale_fn` must be"):
        CyclicLR(scale_fn=0.5)
    with pytest.raises(ValueError, match="Argument `scale_mode` must be"):
        CyclicLR(scale_mode="epoch")
    with pytest.warns(UserWarning, match="only with `scale_fn`"):
        CyclicLR(mode="triangular", scale_mode="iterations")
    clr = CyclicLR()
    with pytest.raises(ValueError, match="Argument `base_lr` must be <= `max_lr`"):
        clr._reset(new_base_lr=0.01)
    assert clr.base_lr == 0.001


# In-graph application: the epoch's rates planned at its start


class ResetAtBatch(keras.callbacks.Callback):
    """`_reset` from a batch hook of another callback, in the middle of an
    epoch (the optimizer's rate is read as it is after that batch too)."""

    def __init__(self, clr, epoch, batch, *args):
        super().__init__()
        self.clr, self.at, self.args, self.held = clr, (epoch, batch), args, []

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        self.held.append(float(keras.ops.convert_to_numpy(
            self.model.optimizer.learning_rate)))
        if (self.epoch, batch) == self.at:
            self.clr._reset(*self.args)


def test_no_host_write_per_batch_one_compile_and_a_reset_mid_epoch(data, monkeypatch):
    from keras_lr.callbacks import _optimizer_rate
    from tests.support.backends import count_compiles

    writes = []
    monkeypatch.setattr(_optimizer_rate, "set_float_rate",
                        lambda *args: writes.append(args))
    clr = CyclicLR(0.01, 0.1, step_size=3, mode="triangular2")
    model = tiny_model(0.5)
    model.optimizer.build(model.trainable_variables)
    compiles = count_compiles(model)
    reset = ResetAtBatch(clr, 1, 1, 0.02, 0.05, 2)
    fit(model, data, [clr, reset], epochs=2)
    clr._reset()
    fit(model, data, [clr], epochs=3, initial_epoch=2)
    expected = [_keras2_clr(i, 0.01, 0.1, 3, "triangular2") for i in range(7)] + [
        _keras2_clr(i, 0.02, 0.05, 2, "triangular2") for i in range(3)] + [
        _keras2_clr(i, 0.02, 0.05, 2, "triangular2") for i in range(5)]
    used = rates_used(model, 15)
    np.testing.assert_allclose(used, expected, rtol=1e-6)
    assert writes == [] and len(compiles) == 1
    assert clr.history["lr"] == used.astype(np.float32).tolist()
    assert clr.history["iterations"] == list(range(1, 16))
    # After each batch the optimizer holds the rate that batch used, as when
    # the callback wrote it: and so do its config and weights after `fit`.
    np.testing.assert_allclose(reset.held, used[:10], rtol=1e-6)
    assert model.optimizer.get_config()["learning_rate"] == pytest.approx(used[-1])


class StopAtBatch(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        if batch == 2:
            self.model.stop_training = True


def test_history_has_the_batches_trained_and_a_custom_scale_fn_in_graph(data):
    scale_fn = lambda x: 1 / (5 ** (x * 0.01))  # noqa: E731
    clr = CyclicLR(0.01, 0.1, 2.5, scale_fn=scale_fn, scale_mode="iterations")
    model = tiny_model(0.5)
    fit(model, data, [clr, StopAtBatch()], epochs=2)
    expected = Keras2CLR(0.01, 0.1, 2.5, scale_fn=scale_fn,
                         scale_mode="iterations").fit(3)
    np.testing.assert_allclose(rates_used(model, 3), expected, rtol=1e-6)
    assert clr.history["iterations"] == [1, 2, 3]
    np.testing.assert_allclose(clr.history["lr"], expected, rtol=1e-6)
