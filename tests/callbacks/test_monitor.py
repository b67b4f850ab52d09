"""The callbacks' state in weights files: the layout files already hold.

Keras names a state's entries after the optimizer attribute that holds it
(`optimizer/<attribute>/vars/<key>`): files written by earlier releases load
only while the attribute names, the keys and their dtypes stay as they are.
"""

import h5py
import keras
import numpy as np
import pytest

import keras_lr
from keras_lr.callbacks import CooldownOnTrigger
from keras_lr.callbacks import CyclicLR
from keras_lr.callbacks import ReduceLROnPlateau

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
