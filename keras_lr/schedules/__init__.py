"""keras_lr learning rate schedules, and `get` to build one by name."""

import inspect
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
from keras_lr.schedules.cyclical import CyclicalMomentum
from keras_lr.schedules.cyclical import OneCycle
from keras_lr.schedules.cyclical import OneCycleMomentum
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
    # The momentum that pairs with a cycle (`momentum_schedule()`), for
    # `keras_lr.optimizers`' momentum or beta_1.
    CyclicalMomentum,
    OneCycleMomentum,
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
    "by_name",
    "snake_case",
] + [cls.__name__ for cls in ALL_SCHEDULES]


def snake_case(class_name):
    """`"CosineAnnealing"` -> `"cosine_annealing"`."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", class_name).lower()


def by_name():
    # keras_lr has a drop-in for each of Keras's six names, so a name is
    # always keras_lr's class; Keras's own stay reachable through a config
    # dict naming their module.
    return {snake_case(cls.__name__): cls for cls in ALL_SCHEDULES}


#: How deep a config given to `get` may nest dicts and lists. The deepest
#: schedule configs (wrappers in wrappers) nest a few levels; the limit keeps
#: a hostile config from exhausting the stack (also `keras-lr plot`'s).
_MAX_CONFIG_DEPTH = 64
#: How many dicts and lists a config given to `get` may hold in all: a
#: config that shares one dict many times over (or refers to itself) would
#: otherwise take exponential time to walk.
_MAX_CONFIG_CONTAINERS = 100_000


def _resolve_class(config, where="identifier"):
    """The allowed class a serialized config names, or a ValueError.

    `config` has been through `_check_object`: its names are strings.
    """
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
            f"registered_name={config.get('registered_name')!r} (at `{where}`)"
        )
    return cls


def _check_object(value, where):
    """The names and the arguments of one serialized object are well typed."""
    for key in ("class_name", "module", "registered_name"):
        item = value.get(key)
        if isinstance(item, str) or (item is None and key != "class_name"):
            continue
        requirement = "a string" if key == "class_name" else "a string or None"
        raise TypeError(
            f"Argument `{where}['{key}']` must be {requirement}. "
            f"Received: {where}['{key}']={item!r}"
        )
    arguments = value.get("config", {})
    if not isinstance(arguments, dict):
        raise TypeError(
            f"Argument `{where}['config']` must be a dict of the schedule's "
            f"arguments. Received: {where}['config']={arguments!r}"
        )


def _check_nested(identifier):
    """Refuse a config that is malformed or names a foreign class, at any
    depth, before anything is built.

    Walks the config without recursion, so no depth can exhaust the stack.
    """
    pending = [(identifier, "identifier", 1)]
    containers = 0
    while pending:
        value, where, depth = pending.pop()
        containers += 1
        if depth > _MAX_CONFIG_DEPTH:
            raise ValueError(
                "Argument `identifier` must be a schedule config nested at most "
                f"{_MAX_CONFIG_DEPTH} levels deep (a schedule config nests a "
                f"few). Received: a config nested deeper than {_MAX_CONFIG_DEPTH}"
            )
        if containers > _MAX_CONFIG_CONTAINERS:
            raise ValueError(
                "Argument `identifier` must be a schedule config of at most "
                f"{_MAX_CONFIG_CONTAINERS} dicts and lists (a schedule config "
                f"holds a few). Received: a config with more"
            )
        if isinstance(value, dict):
            if "class_name" in value:
                _check_object(value, where)
                _resolve_class(value, where)
            children = value.items()
        else:
            children = enumerate(value)
        pending.extend(
            (item, f"{where}[{key!r}]", depth + 1) for key, item in children
            if isinstance(item, (dict, list, tuple))
        )


def _is_config(value):
    return isinstance(value, dict) and "class_name" in value


def _build(config, where):
    """The schedule a checked config describes, inner schedules first.

    Inner schedules are built here, in the short form
    (`{"class_name": ..., "config": ...}`) as in the full one, where
    `Schedule.from_config` would deserialize them.
    """
    cls = _resolve_class(config, where)
    arguments = {}
    for name, value in config.get("config", {}).items():
        place = f"{where}['config'][{name!r}]"
        if _is_config(value):
            value = _build(value, place)
        elif isinstance(value, list) and value and all(map(_is_config, value)):
            value = [_build(item, f"{place}[{i}]") for i, item in enumerate(value)]
        arguments[name] = value
    _check_arguments(cls, arguments, where=f"{where}['config']")
    if cls in _KERAS_SCHEDULES:
        _check_keras_values(cls, arguments)
    return cls.from_config(arguments)


def _check_keras_values(cls, arguments):
    """Keras's own schedules check nothing: a NaN, a string or a bool as a
    rate would become a silent NaN or fail deep inside the backend. Each
    argument gets the type its default has: a bool, a name, or finite
    numbers (one, or a list of them)."""
    from keras_lr import _validation

    parameters = inspect.signature(cls.__init__).parameters
    for name, value in arguments.items():
        default = parameters[name].default
        if name == "name":
            if value is not None:
                _validation.check_name(name, value)
        elif isinstance(default, bool):
            _validation.check_bool(name, value)
        elif value is None and default is None:
            continue
        elif isinstance(value, (list, tuple)):
            if not value:
                raise ValueError(
                    f"Argument `{name}` must be a non-empty list of finite "
                    f"numbers. Received: {name}={value!r}"
                )
            for item in value:
                _validation.check_number(f"{name}[...]", item)
        else:
            _validation.check_number(name, value)


def _check_arguments(cls, arguments, where=None):
    """Unknown or missing constructor arguments, as a Keras-style TypeError."""
    parameters = {
        name: p for name, p in inspect.signature(cls.__init__).parameters.items()
        if name != "self"
    }
    accepted = ", ".join(parameters)
    for name, value in arguments.items():
        if name not in parameters:
            shown = name if isinstance(name, str) and name.isidentifier() else repr(name)
            context = "" if where is None else f" (in `{where}`)"
            raise TypeError(
                f"Argument `{shown}` is not an argument of {cls.__name__}, "
                f"which takes ({accepted}){context}. Received: {shown}={value!r}"
            )
    for name, parameter in parameters.items():
        if parameter.default is parameter.empty and name not in arguments:
            context = "" if where is None else f" in `{where}`"
            raise TypeError(
                f"Argument `{name}` of {cls.__name__} is required, and missing"
                f"{context}. {cls.__name__} takes ({accepted})."
            )


def get(
    identifier: object, **kwargs: object
) -> keras.optimizers.schedules.LearningRateSchedule:
    """Build a learning rate schedule from a name, a config, or pass one on.

    Args:
        identifier: one of
            - a snake_case name of a keras_lr schedule (`"cosine_annealing"`)
              or of a Keras built-in one (`"cosine_decay"`), built with
              `**kwargs`;
            - a config dict from `keras.saving.serialize_keras_object`, or
              its short form `{"class_name": ..., "config": {...}}` (at any
              depth: inner schedules of a wrapper too), of a keras_lr or
              Keras built-in schedule. A config naming any other class, or
              malformed (names that are not strings, a `"config"` that is
              not a dict, nested deeper than 64 levels), is refused before
              anything is imported or built;
            - a `LearningRateSchedule`, returned as it is.
        **kwargs: the constructor arguments, with a name only.

    Returns:
        A `keras.optimizers.schedules.LearningRateSchedule`.

    Raises:
        ValueError, TypeError: naming the argument or the place in the config
            that is wrong.

    Example:

    >>> get("cosine_annealing", initial_learning_rate=0.1, decay_steps=1000)
    CosineAnnealing(initial_learning_rate=0.1, decay_steps=1000, min_learning_rate=0.0, exponent=1.0)
    >>> get({"class_name": "Warmup", "config": {"warmup_steps": 10,
    ...      "schedule": {"class_name": "Constant", "config": {"learning_rate": 0.1}}}})
    Warmup(schedule=Constant(learning_rate=0.1), warmup_steps=10, initial_learning_rate=0.0, shape='linear', power=1.0, overlay=False)
    """
    if isinstance(identifier, keras.optimizers.schedules.LearningRateSchedule):
        if kwargs:
            raise ValueError(
                "Keyword arguments are only accepted with a schedule name. "
                f"Received: identifier={identifier!r}, kwargs={kwargs!r}"
            )
        return identifier
    if isinstance(identifier, str):
        names = by_name()
        if identifier not in names:
            raise ValueError(
                "Argument `identifier` must be the name of a schedule, one of "
                f"{sorted(names)}. Received: identifier={identifier!r}"
            )
        _check_arguments(names[identifier], kwargs)
        return names[identifier](**kwargs)
    if isinstance(identifier, dict):
        if kwargs:
            raise ValueError(
                "Keyword arguments are only accepted with a schedule name. "
                f"Received: identifier={identifier!r}, kwargs={kwargs!r}"
            )
        if "class_name" not in identifier:
            raise ValueError(
                "Argument `identifier` must be a schedule config, a dict with "
                '"class_name" and "config". Received: identifier with keys '
                f"{sorted(map(repr, identifier))}"
            )
        _check_nested(identifier)
        return _build(identifier, "identifier")
    raise TypeError(
        "Argument `identifier` must be a schedule name, a config dict or a "
        f"LearningRateSchedule. Received: identifier={identifier!r}"
    )
