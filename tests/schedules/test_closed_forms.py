"""Values against closed forms and named peers, boundary steps included."""

import math

import keras
import numpy as np
import pytest
from keras import ops

from keras_lr import schedules as S
from tests.parity import reference

pytestmark = pytest.mark.backend_neutral

STEPS = np.arange(5000)


def keras_values(schedule, steps=STEPS):
    return ops.convert_to_numpy(schedule(ops.convert_to_tensor(steps))).astype(
        "float64"
    )


def test_constant():
    np.testing.assert_array_equal(S.Constant(0.03).numpy([0, 7, 10**9]), [0.03] * 3)


def test_piecewise_constant_boundary_is_first_step_of_next_value():
    schedule = S.PiecewiseConstant([50, 100, 150], [0.1, 0.05, 0.01, 0.005])
    values = schedule.numpy(np.arange(200))
    np.testing.assert_array_equal(values[:50], 0.1)
    np.testing.assert_array_equal(values[50:100], 0.05)
    np.testing.assert_array_equal(values[100:150], 0.01)
    np.testing.assert_array_equal(values[150:], 0.005)


def test_piecewise_constant_is_keras_shifted_by_one_step():
    """Keras switches one step later: at `step > boundary`, not `>=`."""
    boundaries, values = [50, 100, 150], [0.1, 0.05, 0.01, 0.005]
    ours = S.PiecewiseConstant(boundaries, values).numpy(STEPS[:-1])
    # One step at a time: Keras's class fails on a vector of steps on torch.
    theirs = S.evaluate(
        keras.optimizers.schedules.PiecewiseConstantDecay(boundaries, values),
        STEPS[1:],
    )
    np.testing.assert_allclose(ours, theirs, rtol=1e-7)


def test_piecewise_constant_many_boundaries():
    boundaries = list(range(10, 10_010, 10))
    values = [1.0 / (i + 1) for i in range(len(boundaries) + 1)]
    steps = np.array([0, 9, 10, 11, 5005, 9999, 10_000, 10**6])
    expected = [values[int(np.sum(np.array(boundaries) <= s))] for s in steps]
    np.testing.assert_array_equal(
        S.PiecewiseConstant(boundaries, values).numpy(steps), expected
    )


def test_piecewise_linear_is_numpy_interp():
    """Both twins equal `np.interp` (flat outside, linear between)."""
    boundaries, values = [10, 100, 2000, 9000], [0.0, 0.1, 0.02, 0.0]
    schedule = S.PiecewiseLinear(boundaries, values)
    steps = np.arange(12_000)
    expected = np.interp(steps, boundaries, values)
    np.testing.assert_allclose(schedule.numpy(steps), expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(
        keras_values(schedule, steps), expected, rtol=1e-6, atol=1e-12
    )


def test_piecewise_linear_closed_form_at_boundaries_and_between():
    schedule = S.PiecewiseLinear([10, 100, 2000], [0.0, 0.1, 0.02])
    steps = [0, 10, 55, 100, 1050, 2000, 5000]
    expected = [0.0, 0.0, 0.05, 0.1, 0.06, 0.02, 0.02]
    np.testing.assert_allclose(schedule.numpy(steps), expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(keras_values(schedule, steps), expected, rtol=1e-6, atol=1e-9)


def test_step_decay_equals_torch_step_lr():
    np.testing.assert_allclose(
        S.StepDecay(0.1, step_size=70, gamma=0.5).numpy(STEPS),
        reference.torch_step_lr(0.1, 70, 0.5, len(STEPS)),
        rtol=1e-12,
    )
    schedule = S.StepDecay(0.1, step_size=30)
    assert schedule.numpy(29) == 0.1
    assert schedule.numpy(30) == pytest.approx(0.01, rel=1e-12)


def test_multi_step_decay_equals_torch_multi_step_lr():
    np.testing.assert_allclose(
        S.MultiStepDecay(0.1, [3, 500, 2000], gamma=0.2).numpy(STEPS),
        reference.torch_multi_step_lr(0.1, [3, 500, 2000], 0.2, len(STEPS)),
        rtol=1e-12,
    )


def test_exponential_decay_equals_torch_exponential_lr():
    np.testing.assert_allclose(
        S.ExponentialDecay(0.1, 1, 0.999).numpy(STEPS),
        reference.torch_exponential_lr(0.1, 0.999, len(STEPS)),
        rtol=1e-9,
    )


@pytest.mark.parametrize("staircase", [False, True])
def test_exponential_decay_equals_keras(staircase):
    ours = S.ExponentialDecay(0.1, 300, 0.7, staircase=staircase)
    theirs = keras.optimizers.schedules.ExponentialDecay(
        0.1, decay_steps=300, decay_rate=0.7, staircase=staircase
    )
    np.testing.assert_allclose(ours.numpy(STEPS), keras_values(theirs), rtol=2e-6)


def test_exponential_decay_floor():
    schedule = S.ExponentialDecay(1.0, 10, 0.5, min_learning_rate=0.1)
    assert schedule.numpy(10) == pytest.approx(0.5, rel=1e-12)
    assert schedule.numpy(30) == pytest.approx(0.125, rel=1e-12)
    assert schedule.numpy(34) == 0.1
    assert schedule.numpy(10**6) == 0.1


@pytest.mark.parametrize("staircase", [False, True])
def test_inverse_time_decay_equals_keras(staircase):
    ours = S.InverseTimeDecay(0.1, 100, 0.5, staircase=staircase)
    theirs = keras.optimizers.schedules.InverseTimeDecay(
        0.1, decay_steps=100, decay_rate=0.5, staircase=staircase
    )
    np.testing.assert_allclose(ours.numpy(STEPS), keras_values(theirs), rtol=2e-6)
    assert ours.numpy(200) == pytest.approx(0.05, rel=1e-12)


@pytest.mark.parametrize("power", [1.0, 2.0, 0.5])
def test_polynomial_decay_equals_torch_polynomial_lr(power):
    np.testing.assert_allclose(
        S.PolynomialDecay(
            0.1, decay_steps=2500, end_learning_rate=0.0, power=power
        ).numpy(STEPS),
        reference.torch_polynomial_lr(0.1, 2500, power, len(STEPS)),
        rtol=1e-9,
        atol=1e-15,
    )


def test_polynomial_decay_with_end_rate_equals_keras():
    ours = S.PolynomialDecay(0.1, 3000, end_learning_rate=0.01, power=0.5)
    theirs = keras.optimizers.schedules.PolynomialDecay(
        0.1, 3000, end_learning_rate=0.01, power=0.5
    )
    # Keras's float32 `1 - step / decay_steps` loses digits near the end.
    np.testing.assert_allclose(ours.numpy(STEPS), keras_values(theirs), rtol=1e-5)
    assert ours.numpy(3000) == pytest.approx(0.01, rel=1e-12)
    assert ours.numpy(10**7) == pytest.approx(0.01, rel=1e-12)


def test_cosine_annealing_equals_torch_then_holds_the_minimum():
    schedule = S.CosineAnnealing(0.1, decay_steps=1000, min_learning_rate=0.001)
    torch_values = reference.torch_cosine_annealing_lr(0.1, 1000, 0.001, 1001)
    np.testing.assert_allclose(schedule.numpy(np.arange(1001)), torch_values, rtol=1e-9)
    np.testing.assert_allclose(schedule.numpy([1000, 1500, 2000]), 0.001, rtol=1e-12)
    assert schedule.numpy(500) == pytest.approx(0.0505, rel=1e-12)


def test_cosine_annealing_equals_keras_cosine_decay():
    ours = S.CosineAnnealing(0.1, 4000, min_learning_rate=0.002)
    theirs = keras.optimizers.schedules.CosineDecay(0.1, 4000, alpha=0.02)
    np.testing.assert_allclose(ours.numpy(STEPS), keras_values(theirs), rtol=2e-6)


@pytest.mark.parametrize("t_mul", [1, 2, 3])
def test_cosine_restarts_equals_torch_warm_restarts(t_mul):
    schedule = S.CosineRestarts(0.1, 100, t_mul=t_mul, min_learning_rate=0.001)
    np.testing.assert_allclose(
        schedule.numpy(STEPS),
        reference.torch_cosine_annealing_warm_restarts(0.1, 100, t_mul, 0.001, len(STEPS)),
        rtol=1e-9,
    )


@pytest.mark.parametrize("t_mul, m_mul", [(2.0, 1.0), (1.5, 0.7), (1.0, 0.9)])
def test_cosine_restarts_equals_keras_cosine_decay_restarts(t_mul, m_mul):
    ours = S.CosineRestarts(0.1, 37, t_mul=t_mul, m_mul=m_mul, min_learning_rate=0.001)
    theirs = keras.optimizers.schedules.CosineDecayRestarts(
        0.1, 37, t_mul=t_mul, m_mul=m_mul, alpha=0.01
    )
    # Keras computes in float32, so its cycle index flips a step early or
    # late where a float32 log lands on a restart; compare away from them.
    values, expected = ours.numpy(STEPS), keras_values(theirs)
    close = np.isclose(values, expected, rtol=2e-5)
    assert close.mean() > 0.995


def test_cosine_restarts_restart_positions_and_peaks():
    schedule = S.CosineRestarts(1.0, 10, t_mul=2.0, m_mul=0.5)
    starts = [0, 10, 30, 70, 150]
    np.testing.assert_allclose(schedule.numpy(starts), [1.0, 0.5, 0.25, 0.125, 0.0625])
    # The step before each restart is the last, lowest step of its cycle.
    before = schedule.numpy(np.array(starts[1:]) - 1)
    lengths = [10, 20, 40, 80]
    peaks = [1.0, 0.5, 0.25, 0.125]
    expected = [
        p * (1 + math.cos(math.pi * (n - 1) / n)) / 2 for p, n in zip(peaks, lengths)
    ]
    np.testing.assert_allclose(before, expected, rtol=1e-12)


def test_exponential_decay_is_finite_and_exact_far_out():
    """No 0 * inf in the float32-exact exponential at huge step counts."""
    schedule = S.ExponentialDecay(0.1, 1, 0.5)
    steps = np.array([0, 1, 100, 10**5, 10**6, 10**7])
    graph = keras_values(schedule, steps)
    assert np.all(np.isfinite(graph))
    np.testing.assert_allclose(graph[:3], 0.1 * 0.5 ** steps[:3], rtol=1e-6)
    np.testing.assert_array_equal(graph[3:], 0.0)
    slow = S.ExponentialDecay(1.0, 1, 0.99999)
    far = np.array([10**6, 3 * 10**6])
    np.testing.assert_allclose(keras_values(slow, far), 0.99999**far, rtol=1e-6)
