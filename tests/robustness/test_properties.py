"""Invariants over random parameters (hypothesis)."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from keras import ops

from keras_lr import schedules as S


rates = st.floats(1e-4, 10.0)
fractions = st.floats(0.0, 1.0)
steps_count = st.integers(1, 5000)
factor = st.floats(0.01, 1.0)
STEPS = np.arange(0, 20_000, 3)


@st.composite
def decays(draw):
    """A decaying schedule and its (min, max) bounds."""
    initial = draw(rates)
    low = initial * draw(fractions)
    kind = draw(st.sampled_from(
        ["step", "multi", "exp", "inverse", "poly", "cos", "restarts"]
    ))
    if kind == "step":
        return S.StepDecay(initial, draw(steps_count), draw(factor)), 0.0, initial
    if kind == "multi":
        milestones = sorted(set(draw(st.lists(st.integers(1, 20_000), min_size=1, max_size=20))))
        return S.MultiStepDecay(initial, milestones, draw(factor)), 0.0, initial
    if kind == "exp":
        return (
            S.ExponentialDecay(initial, draw(steps_count), draw(st.floats(0.5, 1.0)),
                               draw(st.booleans()), min_learning_rate=low),
            low, initial,
        )
    if kind == "inverse":
        return S.InverseTimeDecay(initial, draw(steps_count), draw(st.floats(0.0, 10.0)),
                                  draw(st.booleans())), 0.0, initial
    if kind == "poly":
        return (
            S.PolynomialDecay(initial, draw(steps_count), low, draw(st.floats(0.1, 5.0))),
            low, initial,
        )
    if kind == "cos":
        return S.CosineAnnealing(initial, draw(steps_count), low), low, initial
    return (
        S.CosineRestarts(initial, draw(steps_count), draw(st.floats(1.0, 3.0)),
                         draw(st.floats(0.1, 1.0)), low),
        low, initial,
    )


@settings(derandomize=True, max_examples=60, deadline=None)
@given(decays())
def test_within_bounds(case):
    schedule, low, high = case
    values = schedule.numpy(STEPS)
    assert np.all(values >= low * (1 - 1e-12))
    assert np.all(values <= high * (1 + 1e-12))
    assert values[0] == pytest.approx(high, rel=1e-12)


@settings(derandomize=True, max_examples=60, deadline=None)
@given(decays())
def test_decays_are_non_increasing(case):
    schedule, _, _ = case
    if isinstance(schedule, S.CosineRestarts):
        return  # restarts rise by design; see the restart tests below
    values = schedule.numpy(np.arange(20_000))
    assert np.all(np.diff(values) <= 1e-15 * values[:-1])


@settings(derandomize=True, max_examples=100, deadline=None)
@given(
    initial=rates,
    first=st.integers(1, 500),
    t_mul=st.integers(1, 4),
    m_mul=factor,
    floor=fractions,
)
def test_cosine_restarts_positions_and_peaks(initial, first, t_mul, m_mul, floor):
    low = initial * floor * 0.5
    schedule = S.CosineRestarts(initial, first, float(t_mul), m_mul, low)
    lengths = [first * t_mul**i for i in range(6)]
    starts = np.cumsum([0] + lengths[:-1])
    peaks = low + (initial - low) * m_mul ** np.arange(6)
    np.testing.assert_allclose(schedule.numpy(starts), peaks, rtol=1e-9)
    # Within each cycle the rate only falls; it never dips below the floor.
    for start, length in zip(starts[:4], lengths[:4]):
        cycle = schedule.numpy(np.arange(start, start + length))
        assert np.all(np.diff(cycle) <= 1e-12 * initial)
        assert cycle.min() >= low * (1 - 1e-12)


@settings(derandomize=True, max_examples=60, deadline=None)
@given(
    first=st.integers(1, 300),
    t_mul=st.floats(1.0, 3.0),
    step=st.integers(0, 10**6),
)
def test_cosine_restarts_fractional_cycle_holds_the_step(first, t_mul, step):
    """The cycle index found by the logarithm is the cycle containing step."""
    schedule = S.CosineRestarts(1.0, first, t_mul)
    start, length = 0.0, float(first)
    while start + length <= step:
        start, length = start + length, length * t_mul
    expected = (1 + math.cos(math.pi * (step - start) / length)) / 2
    assert schedule.numpy(step) == pytest.approx(expected, rel=1e-6, abs=1e-12)


@pytest.mark.backend_neutral
@settings(derandomize=True, max_examples=40, deadline=None)
@given(decays())
def test_graph_matches_host_for_random_parameters(case):
    schedule, _, _ = case
    steps = np.arange(0, 20_000, 97)
    graph = ops.convert_to_numpy(schedule(ops.convert_to_tensor(steps)))
    # Random decays reach 1e-300, far below float32's range: near zero the
    # promise is 1e-12 absolute.
    np.testing.assert_allclose(graph, schedule.numpy(steps), rtol=1e-6, atol=1e-12)
