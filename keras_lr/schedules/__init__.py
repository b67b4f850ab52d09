"""keras_lr learning rate schedules, and `get` to build one by name."""

import re

import keras

from keras_lr.schedules.base import Schedule
from keras_lr.schedules.base import evaluate
from keras_lr.schedules.cooldown import Cooldown
from keras_lr.schedules.cosine import CosineAnnealing
from keras_lr.schedules.cosine import CosineDecay
from keras_lr.schedules.cosine import CosineDecayRestarts
from keras_lr.schedules.cosine import CosineRestarts
from keras_lr.schedules.cyclical import CyclicalLearningRate
from keras_lr.schedules.cyclical import OneCycle
from keras_lr.schedules.cyclical import WarmupStableDecay
from keras_lr.schedules.decay import ExponentialDecay
from keras_lr.schedules.decay import InverseTimeDecay
from keras_lr.schedules.decay import MultiStepDecay
from keras_lr.schedules.decay import PolynomialDecay
from keras_lr.schedules.decay import StepDecay
from keras_lr.schedules.piecewise import Constant
from keras_lr.schedules.piecewise import PiecewiseConstant
from keras_lr.schedules.piecewise import PiecewiseConstantDecay
from keras_lr.schedules.piecewise import PiecewiseLinear
from keras_lr.schedules.power import InverseSqrtDecay
from keras_lr.schedules.power import PowerAndLinearDecay
from keras_lr.schedules.power import PowerDecay
from keras_lr.schedules.wrappers import Epochs
from keras_lr.schedules.wrappers import Offset
from keras_lr.schedules.wrappers import Sequential
from keras_lr.schedules.wrappers import Warmup

#: Every public keras_lr schedule class, in the order the docs list them.
ALL_SCHEDULES = (
    Constant,
    PiecewiseConstant,
    PiecewiseLinear,
    StepDecay,
    MultiStepDecay,
    ExponentialDecay,
    InverseTimeDecay,
    PolynomialDecay,
    InverseSqrtDecay,
    PowerDecay,
    PowerAndLinearDecay,
    CosineAnnealing,
    CosineRestarts,
    CyclicalLearningRate,
    OneCycle,
    WarmupStableDecay,
    Cooldown,
    Warmup,
    Offset,
    Sequential,
    Epochs,
    # Keras's built-in names, as exact drop-ins (three more above:
    # ExponentialDecay, InverseTimeDecay, PolynomialDecay).
    PiecewiseConstantDecay,
    CosineDecay,
    CosineDecayRestarts,
)

_KERAS_SCHEDULES = (
    keras.optimizers.schedules.ExponentialDecay,
    keras.optimizers.schedules.PiecewiseConstantDecay,
    keras.optimizers.schedules.PolynomialDecay,
    keras.optimizers.schedules.InverseTimeDecay,
    keras.optimizers.schedules.CosineDecay,
    keras.optimizers.schedules.CosineDecayRestarts,
)

__all__ = [
    "ALL_SCHEDULES",
    "Schedule",
    "evaluate",
    "get",
    "snake_case",
] + [cls.__name__ for cls in ALL_SCHEDULES]


def snake_case(class_name):
    """`"CosineAnnealing"` -> `"cosine_annealing"`."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", class_name).lower()


def _by_snake_name():
    # keras_lr has a drop-in for each of Keras's six names, so a name is
    # always keras_lr's class; Keras's own stay reachable through a config
    # dict naming their module.
    return {snake_case(cls.__name__): cls for cls in ALL_SCHEDULES}


def _resolve_class(config):
    """The allowed class a serialized config names, or a ValueError."""
    class_name = config.get("class_name")
    registered = config.get("registered_name") or ""
    module = config.get("module") or ""
    ours = {cls.__name__: cls for cls in ALL_SCHEDULES}
    theirs = {cls.__name__: cls for cls in _KERAS_SCHEDULES}
    if registered.startswith("keras_lr>"):
        # Any schedule keras_lr registered (also the plateau callback's
        # ReducedSchedule), but never a class another package registered.
        cls = keras.saving.get_registered_object(registered)
        if not (
            isinstance(cls, type)
            and issubclass(cls, keras.optimizers.schedules.LearningRateSchedule)
            and cls.__module__.startswith("keras_lr.")
        ):
            cls = None
    elif module.startswith("keras.") or module == "keras":
        cls = theirs.get(class_name) if not registered or (
            registered == class_name
        ) else None
    elif not module and not registered:
        cls = ours.get(class_name) or theirs.get(class_name)
    else:
        cls = None
    if cls is None:
        raise ValueError(
            "Only keras_lr and Keras built-in learning rate schedules can be "
            "built from a config; nothing else is imported or instantiated. "
            f"Received: class_name={class_name!r}, module={module!r}, "
            f"registered_name={config.get('registered_name')!r}"
        )
    return cls


def _check_nested(value):
    """Refuse a config that names a foreign class at any depth."""
    if isinstance(value, dict):
        if "class_name" in value:
            _resolve_class(value)
        for item in value.values():
            _check_nested(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _check_nested(item)


def get(identifier, **kwargs):
    """Build a learning rate schedule from a name, a config, or pass one on.

    Args:
        identifier: one of
            - a snake_case name of a keras_lr schedule (`"cosine_annealing"`)
              or of a Keras built-in one (`"cosine_decay"`), built with
              `**kwargs`;
            - a config dict from `keras.saving.serialize_keras_object` (or
              `{"class_name": ..., "config": {...}}`) of a keras_lr or Keras
              built-in schedule. A config naming any other class is refused
              before anything is imported or built;
            - a `LearningRateSchedule`, returned as it is.
        **kwargs: the constructor arguments, with a name only.

    Returns:
        A `keras.optimizers.schedules.LearningRateSchedule`.

    Example:

    >>> get("cosine_annealing", initial_learning_rate=0.1, decay_steps=1000)
    CosineAnnealing(initial_learning_rate=0.1, decay_steps=1000, min_learning_rate=0.0, exponent=1.0)
    """
    if isinstance(identifier, keras.optimizers.schedules.LearningRateSchedule):
        if kwargs:
            raise ValueError(
                "Keyword arguments are only accepted with a schedule name. "
                f"Received: identifier={identifier!r}, kwargs={kwargs!r}"
            )
        return identifier
    if isinstance(identifier, str):
        names = _by_snake_name()
        if identifier not in names:
            raise ValueError(
                "Argument `identifier` must be the name of a schedule, one of "
                f"{sorted(names)}. Received: identifier={identifier!r}"
            )
        return names[identifier](**kwargs)
    if isinstance(identifier, dict):
        if kwargs:
            raise ValueError(
                "Keyword arguments are only accepted with a schedule name. "
                f"Received: identifier={identifier!r}, kwargs={kwargs!r}"
            )
        _check_nested(identifier)
        cls = _resolve_class(identifier)
        return cls.from_config(identifier.get("config", {}))
    raise TypeError(
        "Argument `identifier` must be a schedule name, a config dict or a "
        f"LearningRateSchedule. Received: identifier={identifier!r}"
    )
