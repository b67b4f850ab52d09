"""The callbacks' state in weights files: the layout files already hold.

Keras names a state's entries after the optimizer attribute that holds it
(`optimizer/<attribute>/vars/<key>`): files written by earlier releases load
only while the attribute names, the keys and their dtypes stay as they are.
`old_release/` holds files keras_lr 0.1.0 wrote (its `make_files.py` says
how); they load and resume exactly. And what plateau and cooldown change,
the compiled train step reads live: a fit with reductions and a trigger
compiles it once.
"""

import json
import pathlib
import shutil

import h5py
import keras
import numpy as np
import pytest

import keras_lr
from keras_lr import schedules as S
from keras_lr.callbacks import CooldownOnTrigger
from keras_lr.callbacks import CyclicLR
from keras_lr.callbacks import ReduceLROnPlateau
from tests.support.backends import count_compiles
from tests.support.callbacks import Feed
from tests.support.callbacks import TriggerAt
from tests.support.models import dense_model
from tests.support.models import TracingSGD
from tests.support.models import fit
from tests.support.models import rates_used
from tests.support.models import summed_rates

pytestmark = pytest.mark.backend_neutral

PLATEAU = {"best": "float64", "wait": "int64", "cooldown_counter": "int64"}
CASES = {
    "plateau on a float": (
        0.1, lambda: [ReduceLROnPlateau("loss")],
        {"_keras_lr_plateau_state": {**PLATEAU, "learning_rate": "float64"}},
    ),
    "plateau and cooldown on a schedule": (
        keras_lr.schedules.Constant(0.1),
        lambda: [ReduceLROnPlateau("loss"), CooldownOnTrigger(4, monitor="loss")],
        {
            "_keras_lr_plateau_state": {**PLATEAU, "scale": "float64"},
            "_keras_lr_cooldown_state": {
                "best": "float64", "wait": "int64", "start_step": "int64",
            },
        },
    ),
    "cyclic": (
        0.1, lambda: [CyclicLR(0.01, 0.1, step_size=3)],
        {"_keras_lr_cyclic_state": {
            "base_lr": "float64", "max_lr": "float64", "step_size": "float64",
            "cycle_start": "int64",
        }},
    ),
}


def _fitted(rate, callbacks):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(rate), loss="mse")
    x = np.random.RandomState(0).rand(8, 3).astype("float32")
    model.fit(x, x.sum(axis=1, keepdims=True), batch_size=4, epochs=2,
              verbose=0, callbacks=callbacks)
    return model


def _entries(path):
    with h5py.File(path) as file:
        group = file["optimizer"]
        return {
            name: {key: str(data.dtype) for key, data in group[name]["vars"].items()}
            for name in group if name.startswith("_keras_lr_")
        }


@pytest.mark.parametrize("case", list(CASES))
def test_the_state_keeps_its_names_keys_and_dtypes(case, tmp_path):
    rate, callbacks, expected = CASES[case]
    path = str(tmp_path / "model.weights.h5")
    _fitted(rate, callbacks()).save_weights(path)
    assert _entries(path) == expected


def test_a_file_in_that_layout_loads_into_both_patience_callbacks(tmp_path):
    """A file written in the layout above, entry by entry, gives the
    callbacks its state: what an earlier release wrote."""
    path = str(tmp_path / "model.weights.h5")
    _fitted(keras_lr.schedules.Constant(0.1), [
        ReduceLROnPlateau("loss"), CooldownOnTrigger(4, monitor="loss"),
    ]).save_weights(path)
    written = {
        "_keras_lr_plateau_state": {
            "best": np.float64(np.nan), "wait": np.int64(2),
            "cooldown_counter": np.int64(1), "scale": np.float64(0.25),
        },
        "_keras_lr_cooldown_state": {
            "best": np.float64(0.5), "wait": np.int64(3),
            "start_step": np.int64(-1),
        },
    }
    with h5py.File(path, "r+") as file:
        for name, values in written.items():
            group = file["optimizer"][name]["vars"]
            for key, value in values.items():
                del group[key]
                group[key] = value

    plateau, cooldown = ReduceLROnPlateau("loss"), CooldownOnTrigger(4, monitor="loss")
    model = _fitted(keras_lr.schedules.Constant(0.1), [plateau, cooldown])
    model.load_weights(path)
    assert (plateau.best, plateau.wait, plateau.cooldown_counter) == (None, 2, 1)
    assert plateau.schedule.scale == 0.25
    assert (cooldown.best, cooldown.wait, cooldown.start_step) == (0.5, 3, None)


JIT = ["auto"] + (["xla"] if keras.backend.backend() == "tensorflow" else [])


@pytest.mark.parametrize("jit", JIT)
def test_three_reductions_and_a_trigger_compile_the_train_step_once(data, jit):
    """Reductions after epochs 1, 2 and 3, the cooldown triggered after the
    second batch of epoch 3: every update at the rate it should have, the
    cooldown from the very next update, and one compile."""
    model = dense_model(
        TracingSGD(S.Constant(0.1)), jit_compile=True if jit == "xla" else "auto"
    )
    model.optimizer.build(model.trainable_variables)
    compiles = count_compiles(model)
    plateau = ReduceLROnPlateau("score", factor=0.5, patience=1, mode="min")
    cooldown = CooldownOnTrigger(decay_steps=5, shape="linear", stop_training=False)
    fit(model, data, [Feed([5.0, 6.0, 7.0, 8.0, 4.0]), plateau, cooldown,
                      TriggerAt(cooldown, epoch=3, batch=1)], epochs=5)
    assert cooldown.start_step == 3 * 5 + 2
    assert plateau.schedule.scale == 0.125
    steps = np.arange(25)
    scale = np.array([1.0, 1.0, 0.5, 0.25, 0.125])[steps // 5]
    expected = S.Cooldown(S.Constant(0.1), 17, 5, "linear").numpy(steps) * scale
    np.testing.assert_allclose(rates_used(model, 25), expected, rtol=1e-6)
    assert len(compiles) == 1


OLD = pathlib.Path(__file__).parent / "old_release"


def _old_release_run():
    """What `old_release/make_files.py` trained, and the weights after each
    epoch of its uninterrupted run."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_files", OLD / "make_files.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    expected = json.loads((OLD / "expected.json").read_text())["weight_after_epoch"]
    return module, expected


class _Record(keras.callbacks.Callback):
    def __init__(self, weights):
        super().__init__()
        self.weights = weights

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(summed_rates(self.model))


def test_a_keras_file_of_the_old_release_loads_and_resumes_exactly():
    run, expected = _old_release_run()
    model = keras.models.load_model(OLD / "plateau_cooldown.keras")
    # What 0.1.0 wrote: the cooldown, under the plateau's scale and state.
    reduced = model.optimizer._learning_rate
    assert isinstance(reduced, keras_lr.callbacks.ReducedSchedule)
    assert reduced.scale == 0.25
    assert reduced.schedule == S.Cooldown(S.Constant(0.1), 8, 12, "linear")
    assert summed_rates(model) == pytest.approx(expected[2], rel=1e-6)
    compiles = count_compiles(model)
    weights = []
    model.fit(run.X, run.Y, batch_size=2, epochs=5, initial_epoch=3,
              shuffle=False, verbose=0,
              callbacks=run.callbacks() + [_Record(weights)])
    np.testing.assert_allclose(weights, expected[3:], rtol=1e-6)
    assert len(compiles) == 1


def test_a_backup_of_the_old_release_resumes_exactly(tmp_path):
    run, expected = _old_release_run()
    backup = tmp_path / "backup"
    shutil.copytree(OLD / "backup", backup)
    model = run.model()
    compiles = count_compiles(model)
    weights = []
    run.fit(model, [keras.callbacks.BackupAndRestore(str(backup)), _Record(weights)],
            epochs=5)
    # Resumed after epoch 2, at scale 0.25 with the cooldown from step 8.
    np.testing.assert_allclose(weights, expected[3:], rtol=1e-6)
    assert len(compiles) == 1


@pytest.mark.parametrize("make", [
    lambda: ReduceLROnPlateau("score"),
    lambda: CooldownOnTrigger(4, monitor="score"),
], ids=["ReduceLROnPlateau", "CooldownOnTrigger"])
def test_auto_mode_on_a_metric_of_no_direction_names_the_callback(make, data):
    # "score" comes from another callback, not a compiled metric: neither
    # callback can tell its direction, and each says so in its own name.
    callback = make()
    model = dense_model(TracingSGD(S.CosineAnnealing(0.1, 40)))
    with pytest.raises(ValueError, match=(
        f"^{type(callback).__name__} cannot tell whether `score` should go up "
        'or down. Pass mode="min" or mode="max". Received: '
        "monitor='score', mode=\"auto\"$"
    )):
        fit(model, data, [Feed([1.0, 1.0]), callback], epochs=2)
