"""The `>>>` examples in docstrings run and print what they say."""

import doctest
import importlib

import pytest

import keras_lr.schedules

pytestmark = pytest.mark.backend_neutral

MODULES = sorted(
    {cls.__module__ for cls in keras_lr.schedules.ALL_SCHEDULES}
    | {"keras_lr.schedules", "keras_lr._groups"}
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    globs = dict(vars(module))
    globs.update({cls.__name__: cls for cls in keras_lr.schedules.ALL_SCHEDULES})
    globs["get"] = keras_lr.schedules.get
    result = doctest.testmod(module, globs=globs, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
