"""The `>>>` examples in docstrings run and print what they say, and every
public class and function documents its arguments under their own names."""

import doctest
import importlib
import inspect
import re

import pytest

import keras_lr
import keras_lr.schedules

pytestmark = pytest.mark.backend_neutral

# The public callables whose docstrings teach: a contract, `Args:` and a
# `>>>` example.
DOCUMENTED = (
    list(keras_lr.schedules.ALL_SCHEDULES)
    + [getattr(keras_lr.callbacks, name) for name in keras_lr.callbacks.__all__]
    + list(keras_lr.optimizers.ALL_OPTIMIZERS)
    + [
        getattr(keras_lr.optimizers, name)
        for name in keras_lr.optimizers.__all__
        if inspect.isfunction(getattr(keras_lr.optimizers, name))
    ]
    + [
        keras_lr.optimizers.ScaledSchedule,
        keras_lr.optimizers.ScheduledHyperparameters,
        keras_lr.find_learning_rate,
        keras_lr.compare,
    ]
)

MODULES = sorted({obj.__module__ for obj in DOCUMENTED} | {"keras_lr.schedules"})


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    globs = dict(vars(module))
    globs.update({cls.__name__: cls for cls in keras_lr.schedules.ALL_SCHEDULES})
    globs["get"] = keras_lr.schedules.get
    result = doctest.testmod(module, globs=globs, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


def _documented_arguments(docstring):
    """The names of a Google-style `Args:` section, in order (None without)."""
    section = re.search(
        r"^Args:\n((?:[ \t]+\S.*\n|\n)*)", inspect.cleandoc(docstring) + "\n", re.M
    )
    if section is None:
        return None
    return re.findall(r"^    (\*{0,2}\w+)(?: \([^)]*\))?:", section.group(1), re.M)


def _parameters(obj):
    marks = {
        inspect.Parameter.VAR_POSITIONAL: "*",
        inspect.Parameter.VAR_KEYWORD: "**",
    }
    return [
        marks.get(p.kind, "") + p.name
        for p in inspect.signature(obj).parameters.values()
    ]


@pytest.mark.parametrize("obj", DOCUMENTED, ids=lambda obj: obj.__qualname__)
def test_docstring_arguments_match_the_signature(obj):
    # What mkdocstrings' strict build checks, and more: every argument is
    # documented (a `**kwargs` entry covers the Keras optimizer's others),
    # under its own name, in the signature's order, and there is an example.
    assert ">>>" in obj.__doc__
    parameters = _parameters(obj)
    documented = _documented_arguments(obj.__doc__)
    if not parameters:
        assert documented is None
        return
    assert documented is not None, f"{obj.__qualname__} has no Args: section"
    assert [p for p in parameters if p in documented] == documented
    if "**kwargs" not in documented:
        assert documented == parameters
