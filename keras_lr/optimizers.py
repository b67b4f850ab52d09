"""Keras's optimizers, with a momentum, beta_1 and weight decay that take a schedule.

`keras_lr.optimizers.SGD`, `Adam`, `AdamW`, `Nadam`, `Adamax`, `Lion` and
`Lamb` are Keras's optimizers of those names (subclasses, the same
constructor), except that their momentum-like hyperparameter (`momentum`
for SGD, `beta_1` for the others) and `weight_decay` also accept any
`keras.optimizers.schedules.LearningRateSchedule`: keras_lr's (e.g.
`OneCycle(...).momentum_schedule()`), Keras's, or your own. PyTorch's
`OneCycleLR` and `CyclicLR` cycle momentum this way by default, as fastai's
`fit_one_cycle` does.

```python
rate = keras_lr.schedules.OneCycle(0.1, total_steps=epochs * steps_per_epoch)
optimizer = keras_lr.optimizers.SGD(
    learning_rate=rate, momentum=rate.momentum_schedule(), nesterov=True
)
```

How a schedule is evaluated: as Keras evaluates a learning rate schedule,
inside the compiled train step, at the optimizer's raw step counter
(the batch counter: the first update uses step 0, and under
`gradient_accumulation_steps` it counts batches, exactly as the learning
rate does), once per update, so the update rule sees it where it would see
the float: the update is Keras's own rule with the scheduled value in place
of the float. Adam's bias correction, for instance, is `1 - beta_1(t) **
(t + 1)` with the current `beta_1` (PyTorch's `Adam` does the same), and
the weight decay stays Keras's decoupled `w -= w * weight_decay * lr`.

With floats, nothing changes: the float goes where Keras's optimizer puts
it and each optimizer computes bit for bit what Keras's does, on every
backend (on torch, through Keras's parallel torch update).

The mechanism is written once, in `ScheduledHyperparameters`: each class
names its schedulable hyperparameters, whose attributes become properties.
Inside the optimizer's update (`apply`) a scheduled one reads as its value
at the current step, computed once per update; elsewhere it reads, like
Keras's `optimizer.learning_rate`, as the value at the current step too
(one evaluation per read). `optimizer.hyperparameter_schedules` holds the
schedules themselves. `get_config` saves each schedule, so a `.keras` file
loads with plain `keras.models.load_model` after `import keras_lr` and
training continues with the same values.

Per-group rates (`keras.optimizers.MultiOptimizer`): `layer_decay` and
`scale_rates` build one from an optimizer and a multiplier per group of
variables (each group's schedule a `ScaledSchedule`), `group_table` audits
one before training, and `groups` / `group` name its sub-optimizers as the
logger and the range test do.
"""

import inspect
import threading

import keras

from keras_lr import _keras_private
from keras_lr._groups import GroupRow
from keras_lr._groups import ScaledSchedule
from keras_lr._groups import group
from keras_lr._groups import group_table
from keras_lr._groups import groups
from keras_lr._layer_decay import layer_decay
from keras_lr._layer_decay import scale_rates

_LearningRateSchedule = keras.optimizers.schedules.LearningRateSchedule

# Per thread: `{id(optimizer): {name: value}}` for the updates being built
# (traced, or run eagerly on torch) in this thread, and whether reads return
# schedules as given (while `get_config` runs). Per thread, because
# `tf.distribute.MirroredStrategy` builds each replica's update in a thread
# of its own; a read anywhere else evaluates the schedule afresh.
_STATE = threading.local()

# A float that every Keras constructor accepts for a hyperparameter that is
# scheduled (SGD wants a float in [0, 1], Lion (0, 1], AdamW not None); the
# schedule replaces it before the constructor returns.
_STAND_IN = 0.5

_CLASSES = []
_BACKEND_CLASSES = {}


def _current_values():
    values = getattr(_STATE, "values", None)
    if values is None:
        values = _STATE.values = {}
    return values


def _hyperparameter(name):
    """The property behind a schedulable hyperparameter `name`."""

    def get(self):
        given = self.__dict__.get("_hyperparameters_given", {})
        if name not in given:
            # Keras's constructor has not set it yet.
            raise AttributeError(name)
        value = given[name]
        if not isinstance(value, _LearningRateSchedule):
            return value
        current = _current_values().get(id(self))
        if current is not None:
            return current[name]
        if getattr(_STATE, "as_given", False):
            return value
        return value(_keras_private.batch_counter(self))

    def set(self, value):
        given = self.__dict__.get("_hyperparameters_given")
        if given is None:
            given = {}
            object.__setattr__(self, "_hyperparameters_given", given)
        given[name] = value

    return property(
        get,
        set,
        doc=f"`{name}`: a float, or a schedule evaluated at the current step.",
    )


class ScheduledHyperparameters:
    """Mixin: lets a Keras optimizer's `schedulable` hyperparameters be schedules.

    A subclass lists the hyperparameters in `schedulable` and puts this
    mixin before the Keras optimizer it extends:

    ```python
    class SGD(ScheduledHyperparameters, keras.optimizers.SGD):
        schedulable = ("momentum", "weight_decay")
    ```

    Its constructor is the Keras optimizer's, each of those arguments also
    taking a `LearningRateSchedule`. With floats the Keras optimizer runs
    unchanged.

    Args:
        *args: the Keras optimizer's positional arguments.
        **kwargs: its keyword arguments; those named in `schedulable` also
            take a `LearningRateSchedule`.

    Example:

    >>> import keras, keras_lr
    >>> from keras_lr.optimizers import ScheduledHyperparameters
    >>> class RMSprop(ScheduledHyperparameters, keras.optimizers.RMSprop):
    ...     schedulable = ("momentum",)
    >>> optimizer = RMSprop(0.01, momentum=keras_lr.schedules.Constant(0.5))
    >>> float(optimizer.momentum), list(optimizer.hyperparameter_schedules)
    (0.5, ['momentum'])
    """

    #: The names of the hyperparameters that take a schedule.
    schedulable = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "schedulable" not in cls.__dict__:
            return
        cls._keras_class = next(
            base for base in cls.__bases__
            if issubclass(base, keras.optimizers.Optimizer)
            and not issubclass(base, ScheduledHyperparameters)
        )
        for name in cls.schedulable:
            setattr(cls, name, _hyperparameter(name))

        # The Keras constructor's signature, for `inspect` and IDEs.
        def __init__(self, *args, **kwargs):
            ScheduledHyperparameters.__init__(self, *args, **kwargs)

        __init__.__signature__ = inspect.signature(cls._keras_class.__init__)
        __init__.__qualname__ = f"{cls.__qualname__}.__init__"
        cls.__init__ = __init__

    def __new__(cls, *args, **kwargs):
        return super().__new__(_backend_class(cls))

    def __init__(self, *args, **kwargs):
        bound = inspect.signature(self._keras_class.__init__).bind(
            self, *args, **kwargs
        )
        schedules = {}
        for name in self.schedulable:
            value = bound.arguments.get(name)
            if isinstance(value, _LearningRateSchedule):
                schedules[name] = value
                bound.arguments[name] = _STAND_IN
        super().__init__(*bound.args[1:], **bound.kwargs)
        for name, schedule in schedules.items():
            setattr(self, name, schedule)

    @property
    def hyperparameter_schedules(self):
        """`{name: schedule}` for each hyperparameter given a schedule."""
        given = self.__dict__.get("_hyperparameters_given", {})
        return {
            name: value for name, value in given.items()
            if isinstance(value, _LearningRateSchedule)
        }

    def apply(self, grads, trainable_variables=None):
        schedules = self.hyperparameter_schedules
        if not schedules:
            return super().apply(grads, trainable_variables)
        current = _current_values()
        outer = current.get(id(self))
        # The step before this update's increment, as for the learning rate.
        current[id(self)] = {
            name: schedule(_keras_private.batch_counter(self))
            for name, schedule in schedules.items()
        }
        try:
            return super().apply(grads, trainable_variables)
        finally:
            if outer is None:
                del current[id(self)]
            else:
                current[id(self)] = outer

    def get_config(self):
        outer = getattr(_STATE, "as_given", False)
        _STATE.as_given = True
        try:
            config = super().get_config()
        finally:
            _STATE.as_given = outer
        for name in self.schedulable:
            if isinstance(config.get(name), _LearningRateSchedule):
                config[name] = keras.saving.serialize_keras_object(config[name])
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        for name in cls.schedulable:
            if isinstance(config.get(name), dict):
                config[name] = keras.saving.deserialize_keras_object(
                    config[name], custom_objects=custom_objects
                )
        return super().from_config(config, custom_objects=custom_objects)


def _backend_class(cls):
    """The class to instantiate for `cls` on this backend.

    On torch, Keras instantiates its built-in optimizers as subclasses with
    a parallel update (`_keras_private.backend_optimizer_class`); a keras_lr
    optimizer becomes a subclass of both, so that it runs the very same
    update (and `isinstance(optimizer, keras_lr.optimizers.SGD)` holds). A
    subclass of a keras_lr optimizer stays itself, as a subclass of Keras's
    does.
    """
    if cls not in _CLASSES:
        return cls
    if cls not in _BACKEND_CLASSES:
        twin = _keras_private.backend_optimizer_class(cls._keras_class)
        if twin is cls._keras_class:
            _BACKEND_CLASSES[cls] = cls
        else:
            combined = type(
                cls.__name__,
                (cls, twin),
                {
                    "__module__": cls.__module__,
                    "__qualname__": cls.__qualname__,
                    "__doc__": cls.__doc__,
                },
            )
            # Saved under keras_lr's name; loaded as keras_lr's class (whose
            # constructor builds the combined class again).
            keras.saving.register_keras_serializable(
                package="keras_lr", name=cls.__name__
            )(combined)
            keras.saving.register_keras_serializable(package="keras_lr")(cls)
            _BACKEND_CLASSES[cls] = combined
    return _BACKEND_CLASSES[cls]


def _register(cls):
    _CLASSES.append(cls)
    return keras.saving.register_keras_serializable(package="keras_lr")(cls)


def _docstring(keras_name, momentum_name, peer):
    arguments = {
        momentum_name: f"""a float, as for Keras's `{keras_name}`, or a
            `LearningRateSchedule` of it.""",
        "weight_decay": """a float, `None`, or a `LearningRateSchedule`: Keras's
            decoupled decay, `w -= w * weight_decay * learning_rate` before
            each update.""",
    }
    # In the order of Keras's signature (AdamW's `weight_decay` comes first).
    order = list(inspect.signature(getattr(keras.optimizers, keras_name)).parameters)
    args = "\n".join(
        f"        {name}: {arguments[name]}"
        for name in sorted(arguments, key=order.index)
    )
    return f"""Keras's `{keras_name}`, whose `{momentum_name}` and `weight_decay` take a schedule.

    The constructor is `keras.optimizers.{keras_name}`'s (every argument, in
    its order, with its defaults); `{momentum_name}` and `weight_decay` also
    accept any `keras.optimizers.schedules.LearningRateSchedule`, evaluated
    inside the compiled train step at the step the learning rate is (the
    first update uses step 0). With floats it computes bit for bit what
    `keras.optimizers.{keras_name}` does. {peer}

    Args:
{args}
        **kwargs: every other argument of `keras.optimizers.{keras_name}`.

    Example:

    Outside the update, a scheduled `{momentum_name}` reads as its value at
    the optimizer's current step (here 0, where `OneCycle`'s momentum
    schedule starts at its `max_momentum`, 0.95):

    >>> import keras_lr
    >>> rate = keras_lr.schedules.OneCycle(1e-3, total_steps=10_000)
    >>> optimizer = keras_lr.optimizers.{keras_name}(
    ...     learning_rate=rate, {momentum_name}=rate.momentum_schedule())
    >>> round(float(optimizer.{momentum_name}), 6)
    0.95
    >>> list(optimizer.hyperparameter_schedules)
    ['{momentum_name}']
    """


_ADAM_PEER = (
    "PyTorch's `OneCycleLR` and `CyclicLR` cycle Adam's `betas[0]` as this "
    "`beta_1`; the bias correction uses the current `beta_1` to the power of "
    "the step, as PyTorch's does."
)


@_register
class SGD(ScheduledHyperparameters, keras.optimizers.SGD):
    __doc__ = _docstring(
        "SGD",
        "momentum",
        "PyTorch's `OneCycleLR` and `CyclicLR` cycle SGD's `momentum` as this "
        "one. A scheduled momentum always keeps the momentum slots (Keras's "
        "SGD has none when the float `momentum` is 0), so a schedule may pass "
        "through 0. Keras's momentum update differs from PyTorch's (see the "
        "README).",
    )
    schedulable = ("momentum", "weight_decay")

    def _momentum_is_scheduled(self):
        return "momentum" in self.hyperparameter_schedules

    def build(self, variables):
        if not self._momentum_is_scheduled():
            return super().build(variables)
        if self.built:
            return
        # Keras's SGD.build adds momentum slots only for a momentum that is
        # not 0; a schedule may give any value at any step.
        super(keras.optimizers.SGD, self).build(variables)
        self.momentums = self.add_optimizer_variables(variables, "momentum")

    def update_step(self, gradient, variable, learning_rate):
        if not self._momentum_is_scheduled():
            return super().update_step(gradient, variable, learning_rate)
        # Keras's SGD update with its momentum slot, which it uses whenever
        # the float momentum is not 0.
        ops = keras.ops
        learning_rate = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        m = self.momentums[self._get_variable_index(variable)]
        momentum = ops.cast(self.momentum, variable.dtype)
        self.assign(
            m,
            ops.subtract(
                ops.multiply(m, momentum), ops.multiply(gradient, learning_rate)
            ),
        )
        if self.nesterov:
            self.assign_add(
                variable,
                ops.subtract(
                    ops.multiply(m, momentum),
                    ops.multiply(gradient, learning_rate),
                ),
            )
        else:
            self.assign_add(variable, m)

    def _parallel_update_step(self, grads, variables, learning_rate):
        # Only on torch, whose parallel SGD also skips the slots at momentum
        # 0: a scheduled momentum takes the update above, variable by
        # variable.
        if not self._momentum_is_scheduled():
            return super()._parallel_update_step(grads, variables, learning_rate)
        for gradient, variable in zip(grads, variables):
            self.update_step(gradient, variable, learning_rate)


@_register
class Adam(ScheduledHyperparameters, keras.optimizers.Adam):
    __doc__ = _docstring("Adam", "beta_1", _ADAM_PEER)
    schedulable = ("beta_1", "weight_decay")


@_register
class AdamW(ScheduledHyperparameters, keras.optimizers.AdamW):
    __doc__ = _docstring("AdamW", "beta_1", _ADAM_PEER)
    schedulable = ("beta_1", "weight_decay")


@_register
class Nadam(ScheduledHyperparameters, keras.optimizers.Nadam):
    __doc__ = _docstring(
        "Nadam",
        "beta_1",
        "Its running product of momentum factors multiplies each update's "
        "own scheduled `beta_1`.",
    )
    schedulable = ("beta_1", "weight_decay")


@_register
class Adamax(ScheduledHyperparameters, keras.optimizers.Adamax):
    __doc__ = _docstring("Adamax", "beta_1", _ADAM_PEER)
    schedulable = ("beta_1", "weight_decay")


@_register
class Lion(ScheduledHyperparameters, keras.optimizers.Lion):
    __doc__ = _docstring(
        "Lion",
        "beta_1",
        "`beta_1` interpolates the update's sign direction; `beta_2` (the "
        "momentum's own decay) stays a float.",
    )
    schedulable = ("beta_1", "weight_decay")


@_register
class Lamb(ScheduledHyperparameters, keras.optimizers.Lamb):
    __doc__ = _docstring("Lamb", "beta_1", _ADAM_PEER)
    schedulable = ("beta_1", "weight_decay")


#: Every keras_lr optimizer.
ALL_OPTIMIZERS = (SGD, Adam, AdamW, Nadam, Adamax, Lion, Lamb)

__all__ = [
    "ALL_OPTIMIZERS",
    "GroupRow",
    "ScaledSchedule",
    "ScheduledHyperparameters",
    "group",
    "group_table",
    "groups",
    "layer_decay",
    "scale_rates",
] + [
    cls.__name__ for cls in ALL_OPTIMIZERS
]
