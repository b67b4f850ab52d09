"""Warmup, Sequential and Epochs: peers, seams, nesting and validation.

The peers are PyTorch's `SequentialLR` (with `LinearLR` for a warmup) and
`StepLR` stepped once per epoch (`tests/parity/reference_cyclical.py`,
`tests/parity/reference.py`), and Keras's own `CosineDecay` warmup.
Host-vs-graph agreement, `.keras` save/load and `model.fit` for every
wrapper, nested ones included, are the contract tests'
(`tests/schedules/cases.py`).
"""

import math

import keras
import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from keras import ops

from keras_lr import schedules as S
from tests.parity import reference
from tests.parity import reference_cyclical as ref

pytestmark = pytest.mark.backend_neutral

K = keras.optimizers.schedules


def assert_close(actual, expected, rtol=1e-12):
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=1e-15)


# Warmup


def test_linear_warmup_is_torch_sequential_linear_then_exponential():
    peak, start_factor, warmup, gamma = 0.1, 0.05, 50, 0.99
    schedule = S.Warmup(
        S.ExponentialDecay(peak, 1, gamma), warmup,
        initial_learning_rate=peak * start_factor,
    )
    expected = ref.torch_sequential_lr(
        [ref.TorchLinearLR(peak, start_factor, 1.0, warmup),
         ref.TorchExponentialLR(peak, gamma)],
        [warmup], 600,
    )
    assert_close(schedule.numpy(np.arange(600)), expected, rtol=1e-10)


def test_warmup_of_cosine_annealing_is_keras_cosine_decay_with_warmup():
    initial, peak, warmup, decay, alpha = 0.001, 0.1, 20, 80, 0.05
    ours = S.Warmup(
        S.CosineAnnealing(peak, decay, alpha * peak), warmup, initial
    )
    keras_schedule = K.CosineDecay(
        initial, decay, alpha, warmup_target=peak, warmup_steps=warmup
    )
    steps = np.array([0, 1, 10, 19, 20, 21, 60, 99, 100, 101, 129])
    # Keras's warmup branch is a `cond`: one scalar step per call.
    theirs = [float(keras_schedule(ops.convert_to_tensor(s))) for s in steps]
    np.testing.assert_allclose(ours.numpy(steps), theirs, rtol=2e-6)


@pytest.mark.parametrize("shape", ["linear", "cosine", "exponential"])
def test_warmup_shapes_and_the_seam(shape):
    initial, target, warmup = 0.001, 0.1, 40
    inner = S.CosineAnnealing(target, decay_steps=100)
    lr = S.Warmup(inner, warmup, initial, shape=shape).numpy
    middle = {
        "linear": (initial + target) / 2,
        "cosine": (initial + target) / 2,
        "exponential": math.sqrt(initial * target),
    }[shape]
    assert lr(0) == initial
    assert lr(warmup // 2) == pytest.approx(middle, rel=1e-14)
    # At the seam the inner schedule starts from its own step 0.
    assert lr(warmup) == inner.numpy(0) == target
    assert_close(lr(np.arange(warmup, 300)), inner.numpy(np.arange(0, 300 - warmup)))
    ramp = lr(np.arange(warmup + 1))
    assert np.all(np.diff(ramp) > 0)
    # Continuous: the last warmup step is within one step's slope of the seam.
    slope = {"linear": 1.0, "cosine": math.pi / 2, "exponential": math.log(100)}[shape]
    assert target - lr(warmup - 1) <= slope * target / warmup


def test_warmup_shape_closed_forms():
    inner = S.Constant(0.2)
    steps = np.arange(11)
    t = steps / 10
    assert_close(S.Warmup(inner, 10, 0.02).numpy(steps), 0.02 + 0.18 * t)
    assert_close(
        S.Warmup(inner, 10, 0.02, "cosine").numpy(steps),
        0.02 + 0.18 * (1 - np.cos(np.pi * t)) / 2,
    )
    assert_close(
        S.Warmup(inner, 10, 0.02, "exponential").numpy(steps), 0.02 * 10.0**t
    )


def test_warmup_down_to_a_lower_first_rate():
    """A 'warmup' from above is the same ramp, run downwards."""
    lr = S.Warmup(S.Constant(0.01), 10, initial_learning_rate=0.1).numpy
    assert_close(lr(np.arange(12)), [0.1 - 0.009 * s for s in range(10)] + [0.01] * 2)


def test_warmup_over_a_keras_built_in_has_a_host_twin():
    """A schedule without `numpy()` is evaluated through keras.ops."""
    inner = K.ExponentialDecay(0.1, decay_steps=1000, decay_rate=0.5)
    schedule = S.Warmup(inner, warmup_steps=100)
    steps = np.array([0, 50, 99, 100, 600, 2100])
    expected = [0.0, 0.05, 0.099, 0.1, 0.1 * 0.5**0.5, 0.1 * 0.5**2]
    # Keras computes in float32.
    np.testing.assert_allclose(schedule.numpy(steps), expected, rtol=1e-6)


@settings(max_examples=40, deadline=None)
@given(
    initial=st.floats(1e-5, 1.0),
    target=st.floats(1e-5, 1.0),
    warmup=st.integers(1, 500),
    shape=st.sampled_from(["linear", "cosine", "exponential"]),
)
def test_warmup_stays_between_its_ends(initial, target, warmup, shape):
    lr = S.Warmup(S.Constant(target), warmup, initial, shape=shape).numpy
    ramp = lr(np.arange(warmup + 1))
    low, high = min(initial, target), max(initial, target)
    assert np.all(ramp >= low * (1 - 1e-12)) and np.all(ramp <= high * (1 + 1e-12))
    assert ramp[0] == pytest.approx(initial, rel=1e-12)
    assert ramp[-1] == target


# Sequential


def test_sequential_is_torch_sequential_lr():
    schedule = S.Sequential(
        [S.ExponentialDecay(0.1, 1, 0.98), S.StepDecay(0.1, 30, 0.5),
         S.ExponentialDecay(0.1, 1, 0.995)],
        boundaries=[40, 200],
    )
    expected = ref.torch_sequential_lr(
        [ref.TorchExponentialLR(0.1, 0.98), ref.TorchStepLR(0.1, 30, 0.5),
         ref.TorchExponentialLR(0.1, 0.995)],
        [40, 200], 500,
    )
    assert_close(schedule.numpy(np.arange(500)), expected, rtol=1e-10)


def test_sequential_boundary_is_the_first_step_of_the_next_schedule():
    first = S.PolynomialDecay(0.1, 100, 0.01)
    second = S.CosineAnnealing(0.05, 1000)
    third = K.PolynomialDecay(0.02, 50, 0.001)
    lr = S.Sequential([first, second, third], [30, 500]).numpy
    assert lr(29) == first.numpy(29)
    assert lr(30) == second.numpy(0) == 0.05
    assert lr(31) == second.numpy(1)
    assert lr(499) == second.numpy(469)
    assert lr(500) == pytest.approx(0.02, rel=1e-7)
    assert lr(550) == pytest.approx(0.001, rel=1e-6)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.integers(1, 2000), min_size=1, max_size=4, unique=True),
    st.lists(st.floats(1e-4, 1.0), min_size=5, max_size=5),
)
def test_sequential_each_schedule_runs_on_its_own_clock(boundaries, rates):
    boundaries = sorted(boundaries)
    parts = [
        S.ExponentialDecay(rate, 1, 0.999) for rate in rates[: len(boundaries) + 1]
    ]
    lr = S.Sequential(parts, boundaries).numpy
    starts = [0] + boundaries
    for i, (start, part) in enumerate(zip(starts, parts)):
        end = boundaries[i] if i < len(boundaries) else start + 100
        steps = np.arange(start, end)
        assert_close(lr(steps), part.numpy(steps - start))


# Epochs


def test_epochs_is_torch_step_lr_stepped_once_per_epoch():
    """StepLR(step_size=10, gamma=0.1) with `scheduler.step()` per epoch of
    MNIST's 938 batches, over 30 epochs."""
    schedule = S.Epochs(S.StepDecay(0.1, step_size=10, gamma=0.1), steps_per_epoch=938)
    expected = ref.torch_per_epoch(reference.torch_step_lr(0.1, 10, 0.1, 30), 938)
    assert_close(schedule.numpy(np.arange(30 * 938)), expected)
    assert schedule.numpy(9 * 938 + 937) == 0.1
    assert schedule.numpy(10 * 938) == pytest.approx(0.01, rel=1e-15)


def test_epochs_staircase_and_fractional():
    inner = S.CosineAnnealing(0.1, decay_steps=10)
    staircase = S.Epochs(inner, steps_per_epoch=100).numpy
    smooth = S.Epochs(inner, steps_per_epoch=100, staircase=False).numpy
    for step in (0, 99, 100, 250, 999, 1000, 5000):
        epoch = step / 100
        assert staircase(step) == pytest.approx(
            0.05 * (1 + math.cos(math.pi * min(step // 100, 10) / 10)), abs=1e-15
        )
        assert smooth(step) == pytest.approx(
            0.05 * (1 + math.cos(math.pi * min(epoch, 10) / 10)), abs=1e-15
        )


# Nesting and serialization


@keras.saving.register_keras_serializable(package="test_wrappers_user")
class UserSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """A user's own schedule: no `numpy()`, registered under its package."""

    def __init__(self, rate):
        self.rate = rate

    def __call__(self, step):
        return self.rate / (1.0 + ops.cast(step, "float32") / 100.0)

    def get_config(self):
        return {"rate": self.rate}


def test_a_users_registered_schedule_nests_and_round_trips():
    schedule = S.Warmup(S.Sequential([UserSchedule(0.1), S.Constant(0.001)], [1000]), 10)
    np.testing.assert_allclose(
        schedule.numpy([5, 10, 110, 1010]), [0.05, 0.1, 0.05, 0.001], rtol=1e-6
    )
    serialized = keras.saving.serialize_keras_object(schedule)
    rebuilt = keras.saving.deserialize_keras_object(serialized)
    assert rebuilt == schedule
    assert type(rebuilt.schedule.schedules[0]) is UserSchedule
    # `get` builds nothing it does not know, at any depth.
    with pytest.raises(ValueError, match="Only keras_lr and Keras built-in"):
        S.get(serialized)


def test_get_accepts_a_nested_keras_built_in():
    schedule = S.Epochs(
        S.Warmup(S.Sequential([K.CosineDecay(0.1, 50), S.Constant(0.01)], [60]), 5),
        steps_per_epoch=10,
    )
    rebuilt = S.get(keras.saving.serialize_keras_object(schedule))
    assert rebuilt == schedule
    assert isinstance(rebuilt.schedule.schedule.schedules[0], K.CosineDecay)
    np.testing.assert_array_equal(
        rebuilt.numpy(np.arange(1000)), schedule.numpy(np.arange(1000))
    )


# Validation: every error names its argument.

INNER = S.Constant(0.1)
BAD = [
    (S.Warmup, dict(schedule=0.1, warmup_steps=10), "schedule", TypeError),
    (S.Warmup, dict(schedule=None, warmup_steps=10), "schedule", TypeError),
    (S.Warmup, dict(schedule=INNER, warmup_steps=0), "warmup_steps", ValueError),
    (S.Warmup, dict(schedule=INNER, warmup_steps=10, initial_learning_rate=-1.0), "initial_learning_rate", ValueError),
    (S.Warmup, dict(schedule=INNER, warmup_steps=10, shape="quadratic"), "shape", ValueError),
    (S.Warmup, dict(schedule=INNER, warmup_steps=10, shape="exponential"), "initial_learning_rate", ValueError),
    (S.Sequential, dict(schedules=[INNER], boundaries=[]), "schedules", ValueError),
    (S.Sequential, dict(schedules=INNER, boundaries=[10]), "schedules", TypeError),
    (S.Sequential, dict(schedules=[INNER, 0.01], boundaries=[10]), "schedules", TypeError),
    (S.Sequential, dict(schedules=[INNER, INNER], boundaries=[10, 20]), "boundaries", ValueError),
    (S.Sequential, dict(schedules=[INNER, INNER, INNER], boundaries=[20, 10]), "boundaries", ValueError),
    (S.Sequential, dict(schedules=[INNER, INNER], boundaries=[0]), "boundaries", ValueError),
    (S.Sequential, dict(schedules=[INNER, INNER], boundaries=10), "boundaries", TypeError),
    (S.Epochs, dict(schedule=INNER, steps_per_epoch=0), "steps_per_epoch", ValueError),
    (S.Epochs, dict(schedule=INNER, steps_per_epoch=93.5), "steps_per_epoch", ValueError),
    (S.Epochs, dict(schedule=INNER, steps_per_epoch=100, staircase="yes"), "staircase", TypeError),
    (S.Epochs, dict(schedule="step_decay", steps_per_epoch=100), "schedule", TypeError),
]

# BAD is checked by tests/robustness/test_validation.py, with every other constructor.
