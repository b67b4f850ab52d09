"""Callback state read back from a weights file is checked as strictly as
the constructors check it: an edited or corrupted file is refused, naming
the file and the value, and never becomes an applied rate."""

import h5py
import keras
import numpy as np
import pytest

from keras_lr import schedules as S
from keras_lr._keras_private import weights_file_name
from keras_lr.callbacks import CyclicLR
from keras_lr.callbacks import ReduceLROnPlateau
from tests.support.models import dense_model

X = np.linspace(0, 1, 24, dtype="float32").reshape(8, 3)
Y = X.sum(axis=1, keepdims=True)


def _model(rate):
    return dense_model(keras.optimizers.SGD(rate))


def _saved(tmp_path, rate, make_callback):
    """A weights file written after one epoch with the callback."""
    model = _model(rate)
    model.fit(X, Y, batch_size=4, epochs=1, verbose=0,
              callbacks=[make_callback()])
    path = str(tmp_path / "model.weights.h5")
    model.save_weights(path)
    return path


def _edit(path, key, value):
    """Set every dataset named `key` in the file to `value`."""
    found = []
    with h5py.File(path, "r+") as file:
        file.visititems(
            lambda name, item: found.append(name)
            if isinstance(item, h5py.Dataset) and name.split("/")[-1] == key
            else None
        )
        assert found, key
        for name in found:
            dtype = file[name].dtype
            del file[name]
            if isinstance(value, str):
                file.create_dataset(name, data=value)
            else:
                file.create_dataset(name, data=np.asarray(value, dtype=dtype))


def _load(path, rate, make_callback):
    model = _model(rate)
    callback = make_callback()
    callback.set_model(model)
    callback.on_train_begin()  # installs the state holder, as fit would
    model.load_weights(path)
    return model, callback


def _plateau():
    return ReduceLROnPlateau(monitor="loss", factor=0.5, patience=0)


@pytest.fixture(scope="module")
def plateau_files(tmp_path_factory):
    schedule = S.CosineAnnealing(0.1, 100)
    return {
        "schedule": _saved(tmp_path_factory.mktemp("s"), schedule, _plateau),
        "float": _saved(tmp_path_factory.mktemp("f"), 0.1, _plateau),
    }


@pytest.mark.parametrize("rate, key, value, shown", [
    ("schedule", "scale", np.nan, "scale=nan"),
    ("schedule", "scale", -1.0, "scale=-1.0"),
    ("schedule", "scale", 1e6, "scale=1000000.0"),
    ("schedule", "scale", 0.0, "scale=0.0"),
    ("schedule", "wait", -3, "wait']=-3"),
    ("schedule", "cooldown_counter", 2**60, "cooldown_counter']=1152921504606846976"),
    ("schedule", "best", np.inf, "best']=inf"),
    ("float", "learning_rate", np.nan, "learning_rate=nan"),
    ("float", "learning_rate", -0.5, "learning_rate=-0.5"),
    ("float", "learning_rate", 1e300, "learning_rate=1e+300"),
    ("float", "scale", [0.5, 0.5], "a single number"),
    ("float", "wait", "x", "a single number"),
])
def test_corrupted_plateau_state_is_refused(plateau_files, tmp_path, rate, key,
                                            value, shown):
    path = str(tmp_path / "edited.weights.h5")
    with open(plateau_files[rate], "rb") as source, open(path, "wb") as target:
        target.write(source.read())
    if key == "scale" and rate == "float":
        key = "learning_rate"  # a float rate saves its rate, not a scale
    _edit(path, key, value)
    initial = S.CosineAnnealing(0.1, 100) if rate == "schedule" else 0.1
    model = _model(initial)
    callback = _plateau()
    callback.set_model(model)
    callback.on_train_begin()
    with pytest.raises(ValueError) as error:
        model.load_weights(path)
    message = str(error.value)
    assert "ReduceLROnPlateau state" in message
    assert repr(path) in message
    assert shown in message
    # Nothing was applied: the optimizer still runs at its own rate.
    rate_now = model.optimizer._learning_rate
    if rate == "schedule":
        assert rate_now.scale == 1.0
        assert rate_now.plateau_state == {"best": None, "wait": 0,
                                          "cooldown_counter": 0}
    else:
        np.testing.assert_allclose(float(rate_now.numpy()), 0.1, rtol=1e-7)


def test_sound_plateau_state_still_loads(plateau_files):
    # One epoch at patience 0 with a loss that improved: no reduction, the
    # best recorded. The file as written loads and brings that back.
    model, callback = _load(plateau_files["schedule"], S.CosineAnnealing(0.1, 100),
                            _plateau)
    assert model.optimizer._learning_rate.scale == 1.0
    assert callback.best is not None and np.isfinite(callback.best)


@pytest.mark.parametrize("key, value, shown", [
    ("base_lr", np.nan, "base_lr=nan"),
    ("max_lr", -1.0, "max_lr=-1.0"),
    ("base_lr", 0.5, "<= `max_lr`"),
    ("step_size", 0.0, "step_size=0.0"),
    ("cycle_start", -5, "cycle_start=-5"),
])
def test_corrupted_cyclic_state_is_refused(tmp_path, key, value, shown):
    def make():
        return CyclicLR(base_lr=0.001, max_lr=0.006, step_size=4)

    path = _saved(tmp_path, 0.001, make)
    _edit(path, key, value)
    model = _model(0.001)
    callback = make()
    callback.set_model(model)
    with pytest.raises(ValueError) as error:
        model.load_weights(path)
    message = str(error.value)
    assert "CyclicLR cycle" in message and repr(path) in message
    assert shown in message
    assert (callback.base_lr, callback.max_lr, callback.step_size) == (
        0.001, 0.006, 4
    )


def test_keras_still_hands_the_weights_file_to_its_store(tmp_path):
    """`weights_file_name` reads Keras's private `H5Entry`: if Keras changes
    it, the error messages above lose the file's name, and this says so."""
    from keras_lr._keras_private import OptimizerState

    seen = []

    class Probe(OptimizerState):
        def save_own_variables(self, store):
            store["x"] = np.array(1.0)

        def load_own_variables(self, store):
            seen.append(weights_file_name(store))

    model = _model(0.1)
    model.optimizer.build(model.trainable_variables)
    model.optimizer._keras_lr_probe = Probe()
    path = str(tmp_path / "probe.weights.h5")
    model.save_weights(path)
    model.load_weights(path)
    assert seen == [path]
