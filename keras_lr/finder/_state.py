"""The training state a range test changes, saved and restored exactly."""

import contextlib

import keras

from keras_lr import _groups
from keras_lr import _keras_private


@contextlib.contextmanager
def restored_training_state(model):
    """Save `model`'s training state on entry, restore it exactly on exit.

    Also on an exception or a `KeyboardInterrupt` in the body. The state is
    the values of the model's variables and of its optimizer's (the step
    counts, the slots and the gradient accumulators included), the rate as
    the optimizer holds it (the same variable or schedule object), the
    scheduled hyperparameters of a `keras_lr.optimizers` optimizer (for a
    `MultiOptimizer`, the rate and schedules of every sub-optimizer), and the
    model's `train_function` (on JAX none: the next `fit` compiles it
    again), `history` and `steps_per_execution`; `stop_training` is left
    False. The model must be compiled and built, its optimizer built.
    """
    # Every group of a MultiOptimizer (whose `variables` hold all of its
    # sub-optimizers'); a plain optimizer is one group.
    subs = list(_groups.groups(model.optimizer).values())
    saved_model = [keras.ops.convert_to_numpy(v) for v in model.variables]
    saved_optimizer = [keras.ops.convert_to_numpy(v) for v in model.optimizer.variables]
    saved_rates = [_keras_private.rate_as_held(sub) for sub in subs]
    saved_schedules = [
        dict(getattr(sub, "hyperparameter_schedules", None) or {}) for sub in subs
    ]
    saved_function = model.train_function
    if keras.backend.backend() == "jax":
        # While a jitted `train_step` of this model is alive, JAX reuses its
        # trace for the next one, old learning rate included: kept here, it
        # would make the body's `fit` train at the model's own rate. So the
        # old one goes, and the next `fit` compiles it again.
        saved_function = None
    saved_history = getattr(model, "history", None)
    saved_steps_per_execution = model.steps_per_execution
    try:
        yield
    finally:
        for sub, rate, schedules in zip(subs, saved_rates, saved_schedules):
            _keras_private.hold_rate(sub, rate)
            for name, schedule in schedules.items():
                setattr(sub, name, schedule)
        model.train_function = saved_function
        model.history = saved_history
        model.steps_per_execution = saved_steps_per_execution
        model.stop_training = False
        for variable, value in zip(model.variables, saved_model):
            variable.assign(value)
        for variable, value in zip(model.optimizer.variables, saved_optimizer):
            variable.assign(value)
