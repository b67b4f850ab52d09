"""The public API: what is exported, and that every class is registered."""

import inspect

import keras
import pytest

import keras_lr
from keras_lr import schedules

pytestmark = pytest.mark.backend_neutral


def test_schedules_all_lists_exactly_the_public_names():
    public = {
        name
        for name, value in vars(schedules).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    }
    assert set(schedules.__all__) == public


def test_optimizers_all_lists_exactly_the_public_names():
    public = {
        name
        for name, value in vars(keras_lr.optimizers).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    }
    assert set(keras_lr.optimizers.__all__) == public


def test_the_scaled_schedule_is_registered_under_keras_lr():
    cls = keras_lr.optimizers.ScaledSchedule
    assert keras.saving.get_registered_name(cls) == "keras_lr>ScaledSchedule"
    assert keras.saving.get_registered_object("keras_lr>ScaledSchedule") is cls


def test_every_schedule_is_registered_under_keras_lr():
    for cls in schedules.ALL_SCHEDULES:
        assert issubclass(cls, keras.optimizers.schedules.LearningRateSchedule)
        assert keras.saving.get_registered_name(cls) == f"keras_lr>{cls.__name__}"
        assert keras.saving.get_registered_object(f"keras_lr>{cls.__name__}") is cls


def test_every_schedule_documents_its_formula():
    # Its `Args:` and `>>>` example: tests/package/test_docs.py.
    for cls in schedules.ALL_SCHEDULES:
        assert "```python" in inspect.getdoc(cls), cls.__name__


def test_top_level_all_is_importable():
    for name in keras_lr.__all__:
        assert getattr(keras_lr, name) is not None


_TYPED = {
    "keras_lr.find_learning_rate": keras_lr.find_learning_rate,
    "keras_lr.compare": keras_lr.compare,
    "keras_lr.schedules.get": schedules.get,
    "keras_lr.optimizers.scale_rates": keras_lr.optimizers.scale_rates,
    "keras_lr.optimizers.layer_decay": keras_lr.optimizers.layer_decay,
    "keras_lr.optimizers.groups": keras_lr.optimizers.groups,
    "keras_lr.optimizers.group": keras_lr.optimizers.group,
    "keras_lr.optimizers.group_table": keras_lr.optimizers.group_table,
}


@pytest.mark.parametrize("name", list(_TYPED))
def test_public_functions_carry_type_hints_that_resolve(name):
    import typing

    function = _TYPED[name]
    hints = typing.get_type_hints(function)
    assert set(hints) == set(inspect.signature(function).parameters) | {"return"}


def test_plot_schedule_carries_type_hints():
    """Its axes type names matplotlib, imported only when a plot is drawn:
    the hints are for type checkers, not `typing.get_type_hints`."""
    signature = inspect.signature(keras_lr.plot_schedule)
    assert all(p.annotation is not p.empty for p in signature.parameters.values())
    assert signature.return_annotation == "matplotlib.axes.Axes"
