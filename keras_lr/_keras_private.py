"""Every private Keras name keras_lr uses, in one place.

Keras has no public API for any of these, and each can move in any Keras
release. Nothing else in keras_lr reads a private attribute of a Keras
object or imports `keras.src`; `tests/package/test_keras_private.py` is the canary
that fails loudly, naming the accessor, when Keras changes one.

Imported names:

- `KerasSaveable`: the base class of what Keras's saving walks. An object of
  a subclass, set as an attribute of the optimizer, is written into (and read
  back from) every weights file the optimizer goes into, `BackupAndRestore`'s
  included. keras_lr's callbacks keep their resumable state there.
- `print_msg`: Keras's callbacks print their verbose lines through it, to
  stdout, or to absl logging after `keras.config.disable_interactive_logging()`.

Private attributes, read through the accessors below:

- `optimizer._learning_rate`: the rate as the optimizer holds it, a
  `keras.Variable` for a float rate or the `LearningRateSchedule` itself
  (the public `optimizer.learning_rate` evaluates a schedule).
- `optimizer._iterations`: the batch counter (the public `iterations` is the
  update count under `gradient_accumulation_steps`); schedules are called
  with it.
- `optimizer._accumulated_gradients`: the gradient accumulators of
  `gradient_accumulation_steps`.
- `optimizer._momentums` and `optimizer._trainable_variables`: the momentum
  slots (ScheduleFreeAdamW's z) and the variables they belong to, in order.
- `metric._direction`: `"up"` or `"down"`, which way a metric improves.
- `multi_optimizer._optimizer_map`: the `OptimizerMap` (or callable) a
  `keras.optimizers.MultiOptimizer` was built with; its keys name the
  groups (the wrapper exposes only the list of sub-optimizers).
- `multi_optimizer._var_to_optimizer_idx` with `_var_key`: which
  sub-optimizer a variable was given at `build`, for a callable map (calling
  the callable again may build a new optimizer).
- `optimizer._track_variable` and `optimizer._variables`: the list behind
  `optimizer.variables`, to add a variable the compiled step reads
  (`add_unsaved_variable`).
- `H5Entry.h5_file`: the file behind a weights store, only to name it in an
  error message.

Private behaviours, relied on by `run_before_apply` and `run_at_fit_start`:
every backend's train step updates the weights through `optimizer.apply` (a
`LossScaleOptimizer` through its inner optimizer's), and every backend's
`fit` calls `model.make_train_function()` before `on_train_begin`.

And one private behaviour (`backend_optimizer_class`): on the torch backend
`keras.optimizers.SGD(...)` and its siblings build an object of a hidden
subclass with a faster update; keras_lr's optimizers must run the same code
to give the same numbers.

This module fails at import, naming what moved, if the imported names are
gone.
"""

import contextlib
import types

import keras

try:
    from keras.src.saving.keras_saveable import KerasSaveable
    from keras.src.utils.io_utils import print_msg
except ImportError as error:  # pragma: no cover - only on a Keras that moved them
    raise ImportError(
        "keras_lr needs `keras.src.saving.keras_saveable.KerasSaveable` and "
        "`keras.src.utils.io_utils.print_msg`, which Keras "
        f"{keras.__version__} does not have where Keras 3.15 had them. "
        "Update keras_lr/_keras_private.py for this Keras version."
    ) from error

__all__ = [
    "KerasSaveable",
    "OptimizerState",
    "accumulated_gradients",
    "add_unsaved_variable",
    "backend_optimizer_class",
    "batch_counter",
    "metric_direction",
    "multi_optimizer_map",
    "multi_optimizer_of",
    "momentum_slots",
    "print_msg",
    "hold_rate",
    "rate_as_held",
    "run_at_fit_start",
    "run_before_apply",
    "weights_file_name",
]


def rate_as_held(optimizer):
    """The optimizer's learning rate as it holds it: a `keras.Variable` for a
    float rate, the `LearningRateSchedule` object for a schedule."""
    return optimizer._learning_rate


def hold_rate(optimizer, rate):
    """Make `rate` (a schedule or a variable) the rate the optimizer holds,
    bypassing Keras's `learning_rate` setter, which would stop tracking a
    float rate's variable and so change the optimizer's variable list."""
    object.__setattr__(optimizer, "_learning_rate", rate)


def batch_counter(optimizer):
    """The optimizer's batch counter variable: the step its schedules are
    called with (`optimizer.iterations` counts updates instead under
    `gradient_accumulation_steps`)."""
    return optimizer._iterations


def accumulated_gradients(optimizer):
    """The gradient accumulators of `gradient_accumulation_steps`, a list
    (empty when the optimizer does not accumulate or is not built)."""
    return list(getattr(optimizer, "_accumulated_gradients", None) or [])


def momentum_slots(optimizer):
    """`(trainable variables, momentum slots)` of an Adam-family optimizer
    (ScheduleFreeAdamW's slots are its z), two lists in the same order, as
    the optimizer was built; a slot is `None` for a variable it does not
    update. Raises `AttributeError` when Keras keeps them elsewhere."""
    return optimizer._trainable_variables, optimizer._momentums


def multi_optimizer_map(optimizer):
    """The `OptimizerMap` or callable a `MultiOptimizer` routes variables by."""
    return optimizer._optimizer_map


def multi_optimizer_of(optimizer, variable):
    """The sub-optimizer a built `MultiOptimizer` gave `variable` at `build`."""
    index = optimizer._var_to_optimizer_idx[optimizer._var_key(variable)]
    return optimizer.optimizers[index]


def add_unsaved_variable(optimizer, variable, wrapper=None):
    """Make `variable` one of `optimizer.variables`, but none of its saved ones.

    The JAX trainer hands `optimizer.variables` to the compiled train step
    and takes them back from it: a variable read there that is not among
    them is a constant of the step, frozen at its value when it was traced.
    Keras's optimizer also writes exactly these variables into every
    weights file (`optimizer/vars/0..n`) and skips a file whose count
    differs, so a variable added to them would orphan every file already
    written. The optimizer's (and its `LossScaleOptimizer` `wrapper`'s)
    `save_own_variables` and `load_own_variables` are therefore Keras's own,
    run with the added variables left out of the list; the variable's value
    is for its owner to save (keras_lr's callbacks keep it in their
    `OptimizerState`). `wrapper` may also be a list of the optimizers whose
    `variables` include `optimizer`'s: a `MultiOptimizer` holding it as a
    group, and the `LossScaleOptimizer` around that.
    """
    unsaved = optimizer.__dict__.get("_keras_lr_unsaved")
    if unsaved is None:
        unsaved = set()
        # Not through the optimizer's `__setattr__`, which tracks values.
        object.__setattr__(optimizer, "_keras_lr_unsaved", unsaved)
    if id(variable) in unsaved:
        return
    optimizer._track_variable(variable)
    unsaved.add(id(variable))
    wrappers = wrapper if isinstance(wrapper, (list, tuple)) else [wrapper]
    for owner in [optimizer, *wrappers]:
        if owner is not None:
            _save_without_unsaved(owner, optimizer)


def _save_without_unsaved(owner, optimizer):
    # `owner` saves the variables of every optimizer in its list with their
    # unsaved ones left out (a MultiOptimizer: those of each group). The
    # list hangs on the method: an attribute of the optimizer holding
    # optimizers would be walked by Keras's saving, into itself.
    patched = owner.__dict__.get("save_own_variables")
    if patched is not None:
        inner = patched.__func__.keras_lr_optimizers
        if not any(known is optimizer for known in inner):
            inner.append(optimizer)
        return
    inner = [optimizer]
    cls = type(owner)

    def save_own_variables(self, store):
        with _unsaved_left_out(inner):
            cls.save_own_variables(self, store)

    def load_own_variables(self, store):
        with _unsaved_left_out(inner):
            cls.load_own_variables(self, store)

    save_own_variables.keras_lr_optimizers = inner
    for method in (save_own_variables, load_own_variables):
        object.__setattr__(owner, method.__name__, types.MethodType(method, owner))


@contextlib.contextmanager
def _unsaved_left_out(optimizers):
    # The list itself is the tracker's store (its slice assignment compares
    # variables): a filtered copy stands in for it meanwhile.
    kept = [(optimizer, optimizer._variables) for optimizer in optimizers]
    for optimizer, variables in kept:
        unsaved = optimizer.__dict__["_keras_lr_unsaved"]
        object.__setattr__(
            optimizer, "_variables", [v for v in variables if id(v) not in unsaved]
        )
    try:
        yield
    finally:
        for optimizer, variables in kept:
            object.__setattr__(optimizer, "_variables", variables)


def run_before_apply(optimizer, hook):
    """Make `optimizer.apply` call `hook()` first, so that what `hook` does
    (with `keras.ops` and variable assignments) is part of the compiled
    train step, before the update reads the learning rate. A second call
    replaces the hook."""
    _run_first(optimizer, "apply", hook)


def run_at_fit_start(model, hook):
    """Make every later `fit` of `model` call `hook()` before any callback
    runs (Keras's `fit` calls `make_train_function` before `on_train_begin`),
    also a `fit` whose callbacks do not include the one that asked. A second
    call replaces the hook."""
    _run_first(model, "make_train_function", hook)


def _run_first(owner, name, hook):
    # Set on the instance, around what is in place (Keras's method, or a
    # wrapper someone else set), not through `__setattr__`, which tracks
    # values; the hook hangs on the function, where Keras's saving does not
    # look.
    patched = owner.__dict__.get(name)
    if getattr(patched, "keras_lr_hook", None) is not None:
        patched.keras_lr_hook = hook
        return
    inner = getattr(owner, name)

    def run(*args, **kwargs):
        run.keras_lr_hook()
        return inner(*args, **kwargs)

    run.keras_lr_hook = hook
    object.__setattr__(owner, name, run)


def metric_direction(metric):
    """`"up"`, `"down"`, or `None`: the direction a Keras metric declares it
    improves in."""
    direction = getattr(metric, "_direction", None)
    return direction if direction in ("up", "down") else None


def backend_optimizer_class(keras_class):
    """The class of what `keras_class(...)` builds on this backend.

    Keras's torch backend swaps each built-in optimizer class for a subclass
    with a parallel (`torch._foreach_*`) update, in `TorchOptimizer.__new__`;
    on TensorFlow and JAX, and for a class without such a twin, it is
    `keras_class` itself. Nothing is initialized: only `__new__` runs.
    """
    return type(keras_class.__new__(keras_class))


class OptimizerState(KerasSaveable):
    """Base class for callback state saved and loaded with an optimizer.

    An instance set as an attribute of an optimizer is visited by Keras's
    saving after the optimizer's own variables (private attributes come
    last): `save_own_variables(store)` writes NumPy arrays into a dict-like
    store, `load_own_variables(store)` reads them back. A file written
    without it, or a fresh optimizer without it, loads as before: nothing
    reads the extra entries. Subclasses implement the two methods.
    """

    def _obj_type(self):
        # Keras looks for more saveables among a saveable's attributes,
        # skipping those every object of its kind has; "Optimizer" is one of
        # the kinds it knows. Subclasses hold no saveable nor any container
        # of saveables, so the walk ends here.
        return "Optimizer"

    def save_own_variables(self, store):
        raise NotImplementedError

    def load_own_variables(self, store):
        raise NotImplementedError


def weights_file_name(store):
    """The path of the weights file a `load_own_variables` store reads, or
    `None` when Keras does not say (e.g. a `.keras` archive read in memory).

    Keras hands `load_own_variables` a private `H5Entry`, whose `h5_file` is
    an h5py group of the file; nothing here fails if that changes, the name
    is then just unknown (and `tests/robustness/test_faults.py` says so loudly).
    """
    group = getattr(store, "h5_file", None)
    name = getattr(getattr(group, "file", None), "filename", None)
    return name if isinstance(name, str) and name else None
