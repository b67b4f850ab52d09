"""Every constructor check, and `get` refusing what it must not build."""

import math
import re

import keras
import pytest

from keras_lr import schedules as S
from tests.schedules.test_cyclical import BAD as CYCLICAL_BAD
from tests.schedules.test_wrappers import BAD as WRAPPERS_BAD

# Constructor and `get` checks run on the host only: once, on TensorFlow.

NAN, INF = math.nan, math.inf

# (class, arguments, the argument the error must name, error type)
BAD = [
    (S.Constant, dict(learning_rate=-0.1), "learning_rate", ValueError),
    (S.Constant, dict(learning_rate=NAN), "learning_rate", ValueError),
    (S.Constant, dict(learning_rate=INF), "learning_rate", ValueError),
    (S.Constant, dict(learning_rate=None), "learning_rate", TypeError),
    (S.Constant, dict(learning_rate="0.1"), "learning_rate", TypeError),
    (S.Constant, dict(learning_rate=True), "learning_rate", TypeError),
    (S.PiecewiseConstant, dict(boundaries=[100, 50], values=[1, 2, 3]), "boundaries", ValueError),
    (S.PiecewiseConstant, dict(boundaries=[50, 50], values=[1, 2, 3]), "boundaries", ValueError),
    (S.PiecewiseConstant, dict(boundaries=[-1, 50], values=[1, 2, 3]), "boundaries", ValueError),
    (S.PiecewiseConstant, dict(boundaries=[10.5], values=[1, 2]), "boundaries", ValueError),
    (S.PiecewiseConstant, dict(boundaries=[], values=[1]), "boundaries", ValueError),
    (S.PiecewiseConstant, dict(boundaries="50", values=[1, 2]), "boundaries", TypeError),
    (S.PiecewiseConstant, dict(boundaries=[True], values=[1, 2]), "boundaries", TypeError),
    (S.PiecewiseConstant, dict(boundaries=[50, 100], values=[1, 2]), "values", ValueError),
    (S.PiecewiseConstant, dict(boundaries=[50], values=[1, NAN]), "values", ValueError),
    (S.PiecewiseConstant, dict(boundaries=[50], values=[1, -2]), "values", ValueError),
    (S.PiecewiseConstant, dict(boundaries=[50], values=None), "values", TypeError),
    (S.PiecewiseLinear, dict(boundaries=[0], values=[1]), "boundaries", ValueError),
    (S.PiecewiseLinear, dict(boundaries=[0, 10], values=[1]), "values", ValueError),
    (S.PiecewiseLinear, dict(boundaries=[10, 0], values=[1, 2]), "boundaries", ValueError),
    (S.StepDecay, dict(initial_learning_rate=0.1, step_size=0), "step_size", ValueError),
    (S.StepDecay, dict(initial_learning_rate=0.1, step_size=-3), "step_size", ValueError),
    (S.StepDecay, dict(initial_learning_rate=0.1, step_size=2.5), "step_size", ValueError),
    (S.StepDecay, dict(initial_learning_rate=0.1, step_size=None), "step_size", TypeError),
    (S.StepDecay, dict(initial_learning_rate=0.1, step_size=True), "step_size", TypeError),
    (S.StepDecay, dict(initial_learning_rate=0.1, step_size=10, gamma=0.0), "gamma", ValueError),
    (S.StepDecay, dict(initial_learning_rate=0.1, step_size=10, gamma=1.5), "gamma", ValueError),
    (S.StepDecay, dict(initial_learning_rate=-1, step_size=10), "initial_learning_rate", ValueError),
    (S.MultiStepDecay, dict(initial_learning_rate=0.1, milestones=[30, 10]), "milestones", ValueError),
    (S.MultiStepDecay, dict(initial_learning_rate=0.1, milestones=[10, 10]), "milestones", ValueError),
    (S.MultiStepDecay, dict(initial_learning_rate=0.1, milestones=[10], gamma=NAN), "gamma", ValueError),
    (S.ExponentialDecay, dict(initial_learning_rate=0.1, decay_steps=1, decay_rate=-0.5), "decay_rate", ValueError),
    (S.ExponentialDecay, dict(initial_learning_rate=0.1, decay_steps=1, decay_rate=INF), "decay_rate", ValueError),
    (S.ExponentialDecay, dict(initial_learning_rate=0.1, decay_rate=0.9, decay_steps=0), "decay_steps", ValueError),
    (S.ExponentialDecay, dict(initial_learning_rate=0.1, decay_rate=0.9, decay_steps=-2.5), "decay_steps", ValueError),
    (S.ExponentialDecay, dict(initial_learning_rate=0.1, decay_rate=0.9, decay_steps=2.0**60), "decay_steps", ValueError),
    (S.ExponentialDecay, dict(initial_learning_rate=0.1, decay_rate=0.9, decay_steps=1, staircase=1), "staircase", TypeError),
    (S.ExponentialDecay, dict(initial_learning_rate=0.1, decay_rate=0.9, decay_steps=1, name=3), "name", TypeError),
    (S.ExponentialDecay, dict(initial_learning_rate=0.1, decay_rate=0.9, decay_steps=1, min_learning_rate=0.2), "min_learning_rate", ValueError),
    (S.ExponentialDecay, dict(initial_learning_rate=0.1, decay_rate=0.9, decay_steps=1, min_learning_rate=-0.1), "min_learning_rate", ValueError),
    (S.InverseTimeDecay, dict(initial_learning_rate=0.1, decay_steps=1, decay_rate=-0.5), "decay_rate", ValueError),
    (S.InverseTimeDecay, dict(initial_learning_rate=0.1, decay_steps=1, decay_rate=INF), "decay_rate", ValueError),
    (S.InverseTimeDecay, dict(initial_learning_rate=0.1, decay_rate=0.5, decay_steps=0), "decay_steps", ValueError),
    (S.PolynomialDecay, dict(initial_learning_rate=0.1, decay_steps=0), "decay_steps", ValueError),
    (S.PolynomialDecay, dict(initial_learning_rate=0.1, decay_steps=10, power=-1.0), "power", ValueError),
    (S.PolynomialDecay, dict(initial_learning_rate=0.1, decay_steps=10, end_learning_rate=-1), "end_learning_rate", ValueError),
    (S.PolynomialDecay, dict(initial_learning_rate=0.1, decay_steps=10, cycle="yes"), "cycle", TypeError),
    (S.CosineAnnealing, dict(initial_learning_rate=0.1, decay_steps=0), "decay_steps", ValueError),
    (S.CosineAnnealing, dict(initial_learning_rate=0.1, decay_steps=100, min_learning_rate=0.5), "min_learning_rate", ValueError),
    (S.CosineAnnealing, dict(initial_learning_rate=NAN, decay_steps=100), "initial_learning_rate", ValueError),
    (S.CosineRestarts, dict(initial_learning_rate=0.1, first_decay_steps=0), "first_decay_steps", ValueError),
    (S.CosineRestarts, dict(initial_learning_rate=0.1, first_decay_steps=10, t_mul=0.5), "t_mul", ValueError),
    (S.CosineRestarts, dict(initial_learning_rate=0.1, first_decay_steps=10, m_mul=0.0), "m_mul", ValueError),
    (S.CosineRestarts, dict(initial_learning_rate=0.1, first_decay_steps=10, m_mul=2.0), "m_mul", ValueError),
    (S.CosineRestarts, dict(initial_learning_rate=0.1, first_decay_steps=10, t_mul="2"), "t_mul", TypeError),
    # Keras's names: what Keras accepts and keras_lr refuses (the migration
    # table lists each).
    (S.CosineDecay, dict(initial_learning_rate=0.1, decay_steps=0), "decay_steps", ValueError),
    (S.CosineDecay, dict(initial_learning_rate=0.1, decay_steps=10, alpha=-0.1), "alpha", ValueError),
    (S.CosineDecay, dict(initial_learning_rate=0.1, decay_steps=10, warmup_target=-1.0), "warmup_target", ValueError),
    (S.CosineDecay, dict(initial_learning_rate=0.1, decay_steps=10, warmup_steps=-5), "warmup_steps", ValueError),
    (S.CosineDecay, dict(initial_learning_rate=1.0, decay_steps=10, alpha=1e39), "alpha", ValueError),
    (S.CosineDecayRestarts, dict(initial_learning_rate=0.1, first_decay_steps=10, t_mul=0.5), "t_mul", ValueError),
    # Over 65,536 restarts before step 2**31: refused, not placed inexactly.
    (S.CosineDecayRestarts, dict(initial_learning_rate=0.1, first_decay_steps=1, t_mul=1.0001), "t_mul", ValueError),
    (S.CosineRestarts, dict(initial_learning_rate=0.1, first_decay_steps=100, t_mul=1.00001), "t_mul", ValueError),
    (S.CosineDecayRestarts, dict(initial_learning_rate=0.1, first_decay_steps=10, m_mul=-1.0), "m_mul", ValueError),
    (S.CosineDecayRestarts, dict(initial_learning_rate=0.1, first_decay_steps=10, m_mul=1.5, alpha=2.0), "m_mul", ValueError),
    (S.PiecewiseConstantDecay, dict(boundaries=[100, 50], values=[1, 2, 3]), "boundaries", ValueError),
    (S.PiecewiseConstantDecay, dict(boundaries=[50, NAN], values=[1, 2, 3]), "boundaries", ValueError),
    (S.PiecewiseConstantDecay, dict(boundaries=[50], values=[1, 2, 3]), "values", ValueError),
    (S.PiecewiseConstantDecay, dict(boundaries=[50], values=[1, 2], name=""), "name", TypeError),
    # Numbers beyond what a schedule can compute with.
    (S.Constant, dict(learning_rate=10**400), "learning_rate", ValueError),
    (S.Constant, dict(learning_rate=1e39), "learning_rate", ValueError),
    (S.StepDecay, dict(initial_learning_rate=0.1, step_size=10**400), "step_size", ValueError),
    (S.StepDecay, dict(initial_learning_rate=0.1, step_size=2**53 + 1), "step_size", ValueError),
    (S.StepDecay, dict(initial_learning_rate=0.1, step_size=1e308), "step_size", ValueError),
    (S.PiecewiseConstant, dict(boundaries=[10**400], values=[1, 2]), "boundaries", ValueError),
    (S.PiecewiseConstant, dict(boundaries=[INF], values=[1, 2]), "boundaries", ValueError),
    (S.PiecewiseLinear, dict(boundaries=[0, 2**53 + 2], values=[1, 2]), "boundaries", ValueError),
    (S.PiecewiseConstant, dict(boundaries=[5], values=[1, 1e39]), "values", ValueError),
    (S.PiecewiseConstant, dict(boundaries=[5], values=[1, NAN]), "values", ValueError),
    (S.ExponentialDecay, dict(initial_learning_rate=0.1, decay_steps=1, decay_rate=10**400), "decay_rate", ValueError),
]


BAD += CYCLICAL_BAD + WRAPPERS_BAD


@pytest.mark.parametrize(
    "cls, arguments, name, error",
    BAD,
    ids=[f"{c.__name__}-{n}-{i}" for i, (c, _, n, _e) in enumerate(BAD)],
)
def test_bad_argument_is_named(cls, arguments, name, error):
    with pytest.raises(error) as caught:
        cls(**arguments)
    message = str(caught.value)
    assert message.startswith(f"Argument `{name}` must "), message
    assert f"Received: {name}=" in message, message


def test_keras_style_message_in_full():
    with pytest.raises(ValueError) as caught:
        S.CosineAnnealing(0.1, decay_steps=0)
    assert str(caught.value) == (
        "Argument `decay_steps` must be a positive integer. Received: decay_steps=0"
    )


def test_integral_floats_are_accepted_as_steps():
    assert S.StepDecay(0.1, step_size=30.0).step_size == 30
    assert isinstance(S.StepDecay(0.1, step_size=30.0).step_size, int)


def test_numpy_rejects_non_numeric_steps():
    with pytest.raises(TypeError, match="Argument `steps`"):
        S.Constant(0.1).numpy(["a"])


def test_get_builds_by_snake_case_name():
    schedule = S.get("cosine_annealing", initial_learning_rate=0.1, decay_steps=1000)
    assert schedule == S.CosineAnnealing(0.1, 1000)
    # Keras's six names build keras_lr's drop-ins.
    drop_in = S.get("cosine_decay", initial_learning_rate=0.1, decay_steps=10)
    assert drop_in == S.CosineDecay(0.1, 10)


def test_get_prefers_keras_lr_on_a_name_clash_and_keras_by_module():
    built = S.get(
        "exponential_decay", initial_learning_rate=0.1, decay_steps=1, decay_rate=0.9
    )
    assert type(built) is S.ExponentialDecay
    config = keras.saving.serialize_keras_object(
        keras.optimizers.schedules.ExponentialDecay(0.1, 100, 0.9)
    )
    assert type(S.get(config)) is keras.optimizers.schedules.ExponentialDecay


def test_get_unknown_name():
    with pytest.raises(ValueError, match=re.escape("Received: identifier='cosine'")):
        S.get("cosine", initial_learning_rate=0.1)


def test_get_wrong_type():
    with pytest.raises(TypeError, match="Argument `identifier`"):
        S.get(0.1)


def test_get_rejects_kwargs_with_a_config_or_schedule():
    with pytest.raises(ValueError, match="only accepted with a schedule name"):
        S.get(S.Constant(0.1), learning_rate=0.2)


@keras.saving.register_keras_serializable(package="someone_else")
class ForeignSchedule(keras.optimizers.schedules.LearningRateSchedule):
    def __call__(self, step):
        return 0.1

    def get_config(self):
        return {}


@pytest.mark.parametrize(
    "config",
    [
        keras.saving.serialize_keras_object(ForeignSchedule()),
        {"class_name": "ForeignSchedule", "config": {}},
        {"module": "os", "class_name": "system", "config": {"command": "true"}},
        {"module": "keras.optimizers.schedules", "class_name": "Dense", "config": {}},
        {"class_name": "StepDecay", "registered_name": "evil>StepDecay", "config": {}},
    ],
    ids=["registered-foreign", "bare-foreign", "os-system", "keras-non-schedule", "spoofed"],
)
def test_get_refuses_foreign_classes(config, monkeypatch):
    imported = []
    monkeypatch.setattr(
        "importlib.import_module", lambda name, *a: imported.append(name)
    )
    with pytest.raises(ValueError, match="Only keras_lr and Keras built-in"):
        S.get(config)
    assert imported == []


def test_get_refuses_a_foreign_class_nested_in_a_config():
    config = keras.saving.serialize_keras_object(S.Constant(0.1))
    config["config"]["learning_rate"] = keras.saving.serialize_keras_object(
        ForeignSchedule()
    )
    with pytest.raises(ValueError, match="Only keras_lr and Keras built-in"):
        S.get(config)


def test_get_accepts_the_plateau_wrapper_registered_by_keras_lr():
    from keras_lr.callbacks.plateau import ReducedSchedule

    config = keras.saving.serialize_keras_object(
        ReducedSchedule(S.CosineAnnealing(0.1, 100))
    )
    rebuilt = S.get(config)
    assert type(rebuilt) is ReducedSchedule
    assert rebuilt.get_config() == config["config"]


def test_repr_of_a_wrapper_around_a_keras_schedule_shows_its_config():
    inner = keras.optimizers.schedules.CosineDecay(0.1, 100)
    text = repr(S.Warmup(inner, warmup_steps=10))
    assert "object at 0x" not in text
    assert text.startswith("Warmup(schedule=CosineDecay(initial_learning_rate=0.1, decay_steps=100")
    assert hash(S.Warmup(inner, 10)) == hash(
        S.Warmup(keras.optimizers.schedules.CosineDecay(0.1, 100), 10)
    )
