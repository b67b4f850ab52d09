"""The private Keras names in keras_lr/_keras_private.py still do what
keras_lr relies on. A failure here means Keras moved or changed them: update
that one module (and nothing else imports `keras.src`)."""

import logging
import pathlib
import re

import keras
import numpy as np
import pytest

from keras_lr import _keras_private

pytestmark = pytest.mark.backend_neutral


class Counter(_keras_private.OptimizerState):
    def __init__(self, value):
        self.value = value

    def save_own_variables(self, store):
        store["value"] = np.array(self.value)

    def load_own_variables(self, store):
        if "value" in store.keys():
            self.value = int(np.asarray(store["value"]))


def _model():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.1), loss="mse")
    model.optimizer.build(model.trainable_variables)
    return model


def test_state_on_the_optimizer_travels_in_weights_files(tmp_path):
    path = str(tmp_path / "model.weights.h5")
    saved = _model()
    saved.optimizer._keras_test_counter = Counter(7)
    saved.optimizer.iterations.assign(3)
    saved.save_weights(path)
    loaded = _model()
    loaded.optimizer._keras_test_counter = Counter(0)
    loaded.load_weights(path)
    assert loaded.optimizer._keras_test_counter.value == 7
    # The optimizer's own variables load as before, before the extra state.
    assert int(keras.ops.convert_to_numpy(loaded.optimizer.iterations)) == 3
    # A model without it loads the same file without complaint.
    plain = _model()
    plain.load_weights(path)
    assert int(keras.ops.convert_to_numpy(plain.optimizer.iterations)) == 3


def test_state_loads_after_the_optimizer_s_variables(tmp_path):
    seen = []

    class Probe(_keras_private.OptimizerState):
        def __init__(self, optimizer):
            self.optimizer_step = lambda: int(
                keras.ops.convert_to_numpy(optimizer.iterations))

        def save_own_variables(self, store):
            store["x"] = np.array(0)

        def load_own_variables(self, store):
            seen.append(self.optimizer_step())

    path = str(tmp_path / "model.weights.h5")
    saved = _model()
    saved.optimizer.iterations.assign(5)
    saved.optimizer._keras_test_probe = Probe(saved.optimizer)
    saved.save_weights(path)
    loaded = _model()
    loaded.optimizer._keras_test_probe = Probe(loaded.optimizer)
    loaded.load_weights(path)
    assert seen == [5]


def test_print_msg_follows_interactive_logging(capsys, caplog):
    _keras_private.print_msg("\nEpoch 1: a line")
    assert capsys.readouterr().out == "\nEpoch 1: a line\n"
    keras.config.disable_interactive_logging()
    try:
        with caplog.at_level(logging.INFO):
            _keras_private.print_msg("\nEpoch 2: a line")
    finally:
        keras.config.enable_interactive_logging()
    assert capsys.readouterr().out == ""
    assert [r.getMessage() for r in caplog.records] == ["\nEpoch 2: a line"]


def test_keras_s_own_callbacks_print_through_it():
    # keras_lr prints as Keras's callbacks do only while they use it.
    import keras.src.callbacks.learning_rate_scheduler as scheduler
    import keras.src.callbacks.reduce_lr_on_plateau as plateau

    for module in (scheduler, plateau):
        assert module.io_utils.print_msg is _keras_private.print_msg


def test_no_other_module_imports_keras_src():
    package = pathlib.Path(_keras_private.__file__).parent
    offenders = [
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if path.name != "_keras_private.py"
        and re.search(r"^\s*(from|import) keras\.src", path.read_text(), re.M)
    ]
    assert offenders == []


def test_backend_optimizer_class_is_what_keras_builds():
    """keras_lr.optimizers run the update of the class Keras really builds
    (on torch a hidden subclass with a `torch._foreach_*` update)."""
    for keras_class in (keras.optimizers.SGD, keras.optimizers.Adam,
                        keras.optimizers.Lamb):
        twin = _keras_private.backend_optimizer_class(keras_class)
        assert type(keras_class(0.1)) is twin
        assert issubclass(twin, keras_class)
        if keras.backend.backend() == "torch" and keras_class is not keras.optimizers.Lamb:
            assert twin is not keras_class
            assert "_parallel_update_step" in vars(twin)
        else:
            assert twin is keras_class
