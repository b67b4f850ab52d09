"""CyclicalLearningRate, OneCycle and WarmupStableDecay against their peers.

The peers are PyTorch's `CyclicLR` and `OneCycleLR`, tensorflow-addons'
cyclical schedules and the WSD papers, as written in
`tests/parity/reference_cyclical.py` (checked there against PyTorch itself).
Host-vs-graph agreement, serialization and `model.fit` are the contract
tests' (`tests/schedules/test_contract.py` over `tests/schedules/cases.py`).
"""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from keras_lr import schedules as S
from tests.parity import reference_cyclical as ref

# Host values against the references: no backend op, so they run once.

MODES = [("triangular", 1.0), ("triangular2", 1.0), ("exp_range", 0.999)]


def assert_close(actual, expected):
    np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-15)


# CyclicalLearningRate


@pytest.mark.parametrize("mode, gamma", MODES)
@pytest.mark.parametrize("step_size, step_size_down", [(100, None), (30, 170), (170, 30)])
def test_cyclical_is_torch_cyclic_lr(mode, gamma, step_size, step_size_down):
    """Ten full cycles, every boundary included, asymmetric ones too."""
    schedule = S.CyclicalLearningRate(
        0.001, 0.01, step_size, step_size_down, mode=mode, gamma=gamma
    )
    steps = np.arange(2000)
    expected = ref.torch_cyclic_lr(
        0.001, 0.01, step_size, step_size_down, mode, gamma, len(steps)
    )
    assert_close(schedule.numpy(steps), expected)


@pytest.mark.parametrize("mode, gamma", MODES)
def test_cyclical_is_tensorflow_addons(mode, gamma):
    schedule = S.CyclicalLearningRate(1e-4, 1e-2, step_size=250, mode=mode, gamma=gamma)
    steps = np.arange(3000)
    expected = ref.tfa_cyclical_learning_rate(1e-4, 1e-2, 250, mode, gamma, len(steps))
    assert_close(schedule.numpy(steps), expected)


def test_cyclical_corners():
    up, down = 40, 60
    lr = S.CyclicalLearningRate(0.01, 0.09, up, down, mode="triangular2").numpy
    # Low end, peak, low end again; the second peak is half as high.
    assert lr(0) == 0.01
    assert lr(up) == pytest.approx(0.09, rel=1e-15)
    assert lr(up + down) == 0.01
    assert lr(up + down + up) == pytest.approx(0.05, rel=1e-15)
    assert lr(up // 2) == pytest.approx(0.05, rel=1e-15)
    assert lr(up + down // 2) == pytest.approx(0.05, rel=1e-15)
    exp_range = S.CyclicalLearningRate(0.01, 0.09, up, mode="exp_range", gamma=0.99)
    assert exp_range.numpy(up) == pytest.approx(0.01 + 0.08 * 0.99**up, rel=1e-14)


@settings(max_examples=40, deadline=None)
@given(
    low=st.floats(0.0, 1.0),
    height=st.floats(0.0, 1.0),
    up=st.integers(1, 300),
    down=st.integers(1, 300),
    mode_gamma=st.sampled_from(MODES + [("exp_range", 0.9)]),
)
def test_cyclical_bounds_and_periodicity(low, height, up, down, mode_gamma):
    mode, gamma = mode_gamma
    high = low + height
    schedule = S.CyclicalLearningRate(low, high, up, down, mode=mode, gamma=gamma)
    period = up + down
    steps = np.arange(3 * period)
    values = schedule.numpy(steps)
    assert np.all(values >= low) and np.all(values <= high)
    amplitude = values[period:] - low
    previous = values[:-period] - low
    if mode == "triangular":
        np.testing.assert_allclose(amplitude, previous, rtol=1e-12, atol=1e-15)
    elif mode == "triangular2":
        np.testing.assert_allclose(amplitude, previous / 2, rtol=1e-12, atol=1e-15)
    else:
        np.testing.assert_allclose(
            amplitude, previous * gamma**period, rtol=1e-9, atol=1e-15
        )


# OneCycle

ONE_CYCLES = [
    (1000, 0.3),  # whole phase ends: 299, 598, 999
    (1001, 0.37),  # fractional phase ends: 369.37, 738.74
    (150, 0.25),
]


@pytest.mark.parametrize("three_phase", [False, True], ids=["two", "three"])
@pytest.mark.parametrize("anneal_strategy", ["cos", "linear"])
@pytest.mark.parametrize("total_steps, pct_start", ONE_CYCLES)
def test_one_cycle_is_torch_one_cycle_lr(
    total_steps, pct_start, anneal_strategy, three_phase
):
    schedule = S.OneCycle(
        0.1, total_steps, pct_start, anneal_strategy,
        div_factor=20.0, final_div_factor=300.0, three_phase=three_phase,
    )
    expected = ref.torch_one_cycle_lr(
        0.1, total_steps, pct_start, anneal_strategy, 20.0, 300.0,
        three_phase, total_steps,
    )
    assert_close(schedule.numpy(np.arange(total_steps)), expected)
    # After the cycle, the final rate holds (PyTorch would raise).
    after = schedule.numpy(np.arange(total_steps - 1, total_steps + 500))
    assert_close(after, np.full(after.shape, 0.1 / 20.0 / 300.0))


def test_one_cycle_phase_ends():
    two = S.OneCycle(1.0, 1000, pct_start=0.3, div_factor=25.0, final_div_factor=1e4)
    assert two.numpy(0) == pytest.approx(0.04, rel=1e-15)
    assert two.numpy(299) == pytest.approx(1.0, rel=1e-15)
    assert two.numpy(999) == pytest.approx(0.04 / 1e4, rel=1e-12)
    three = S.OneCycle(1.0, 1000, pct_start=0.3, three_phase=True)
    assert three.numpy(299) == pytest.approx(1.0, rel=1e-15)
    assert three.numpy(598) == pytest.approx(0.04, rel=1e-15)
    assert three.numpy(999) == pytest.approx(0.04 / 1e4, rel=1e-12)
    # Three phases: symmetric about the peak.
    np.testing.assert_allclose(
        three.numpy(np.arange(299, -1, -1)), three.numpy(np.arange(299, 599)), rtol=1e-12
    )


@settings(max_examples=40, deadline=None)
@given(
    peak=st.floats(1e-4, 10.0),
    total=st.integers(20, 3000),
    pct=st.floats(0.1, 0.45),
    anneal=st.sampled_from(["cos", "linear"]),
    div=st.floats(1.5, 100.0),
    final_div=st.floats(1.0, 1e4),
    three_phase=st.booleans(),
)
def test_one_cycle_within_bounds_and_peaks_once(
    peak, total, pct, anneal, div, final_div, three_phase
):
    schedule = S.OneCycle(peak, total, pct, anneal, div, final_div, three_phase)
    values = schedule.numpy(np.arange(total + 10))
    assert np.all(values <= peak * (1 + 1e-12))
    assert np.all(values >= peak / div / final_div * (1 - 1e-12))
    top = int(np.argmax(values))
    # Monotone up to the peak and down from it, to the rounding of a flat
    # phase (final_div_factor=1).
    assert np.all(np.diff(values[: top + 1]) >= -1e-15 * peak)
    assert np.all(np.diff(values[top:]) <= 1e-15 * peak)


# WarmupStableDecay

WSD_CASES = [
    # peak, total, warmup, decay, initial, min
    (0.1, 1000, 100, 200, 0.0, 0.0),
    (0.02, 777, 0, 133, 0.0, 1e-4),
    (0.5, 400, 37, 363, 0.05, 0.01),  # no stable phase
]


@pytest.mark.parametrize("shape", ["linear", "cosine", "1-sqrt"])
@pytest.mark.parametrize("case", WSD_CASES)
def test_wsd_is_the_papers_schedule(case, shape):
    peak, total, warmup, decay, initial, minimum = case
    schedule = S.WarmupStableDecay(
        peak, total, warmup, decay, initial, minimum, decay_shape=shape
    )
    n = total + 100
    expected = ref.wsd(peak, total, warmup, decay, initial, minimum, shape, n)
    assert_close(schedule.numpy(np.arange(n)), expected)


@pytest.mark.parametrize("shape", ["linear", "cosine", "1-sqrt"])
def test_wsd_is_continuous_at_both_seams(shape):
    peak, total, warmup, decay = 0.1, 1000, 100, 300
    lr = S.WarmupStableDecay(peak, total, warmup, decay, 0.01, 0.001, shape).numpy
    assert lr(warmup - 1) == pytest.approx(0.01 + 0.09 * 99 / 100, rel=1e-14)
    assert lr(warmup) == peak
    start = total - decay
    assert lr(start - 1) == peak and lr(start) == peak
    # One step into the decay moves the rate by at most one step's slope
    # (1-sqrt is steepest there: (peak - min) * sqrt(1 / decay)).
    assert peak - lr(start + 1) <= (peak - 0.001) * math.sqrt(1 / decay) * (1 + 1e-12)
    assert lr(total - 1) > 0.001 and lr(total) == 0.001


@settings(max_examples=40, deadline=None)
@given(
    peak=st.floats(1e-4, 10.0),
    total=st.integers(2, 5000),
    warmup_fraction=st.floats(0.0, 0.5),
    decay_fraction=st.floats(0.01, 0.5),
    initial_fraction=st.floats(0.0, 1.0),
    min_fraction=st.floats(0.0, 1.0),
    shape=st.sampled_from(["linear", "cosine", "1-sqrt"]),
)
def test_wsd_within_bounds_and_decays_monotonically(
    peak, total, warmup_fraction, decay_fraction, initial_fraction, min_fraction, shape
):
    warmup = int(total * warmup_fraction)
    decay = max(1, int(total * decay_fraction))
    initial, minimum = peak * initial_fraction, peak * min_fraction
    schedule = S.WarmupStableDecay(
        peak, total, warmup, decay, initial, minimum, shape
    )
    values = schedule.numpy(np.arange(total + 5))
    # To the rounding of `low * (1 - f) + high * f` when low and high meet.
    rounding = 1e-15 * peak
    assert np.all(values <= peak + rounding)
    assert np.all(values >= min(initial, minimum) - rounding)
    assert np.all(np.diff(values[:warmup + 1]) >= -rounding)
    assert np.all(np.diff(values[warmup:]) <= rounding)
    assert values[total] == pytest.approx(minimum, rel=1e-15)


# Validation: every error names its argument.

BAD = [
    (S.CyclicalLearningRate, dict(initial_learning_rate=0.1, maximal_learning_rate=0.01, step_size=10), "initial_learning_rate", ValueError),
    (S.CyclicalLearningRate, dict(initial_learning_rate=0.01, maximal_learning_rate=math.inf, step_size=10), "maximal_learning_rate", ValueError),
    (S.CyclicalLearningRate, dict(initial_learning_rate=0.01, maximal_learning_rate=0.1, step_size=0), "step_size", ValueError),
    (S.CyclicalLearningRate, dict(initial_learning_rate=0.01, maximal_learning_rate=0.1, step_size=10.5), "step_size", ValueError),
    (S.CyclicalLearningRate, dict(initial_learning_rate=0.01, maximal_learning_rate=0.1, step_size=10, step_size_down=0), "step_size_down", ValueError),
    (S.CyclicalLearningRate, dict(initial_learning_rate=0.01, maximal_learning_rate=0.1, step_size=10, mode="cosine"), "mode", ValueError),
    (S.CyclicalLearningRate, dict(initial_learning_rate=0.01, maximal_learning_rate=0.1, step_size=10, mode="exp_range", gamma=1.5), "gamma", ValueError),
    (S.CyclicalLearningRate, dict(initial_learning_rate=0.01, maximal_learning_rate=0.1, step_size=10, mode="exp_range", gamma=0.0), "gamma", ValueError),
    (S.CyclicalLearningRate, dict(initial_learning_rate=0.01, maximal_learning_rate=0.1, step_size=10, gamma=0.99), "gamma", ValueError),
    (S.CyclicalLearningRate, dict(initial_learning_rate=None, maximal_learning_rate=0.1, step_size=10), "initial_learning_rate", TypeError),
    (S.OneCycle, dict(maximal_learning_rate=-0.1, total_steps=100), "maximal_learning_rate", ValueError),
    (S.OneCycle, dict(maximal_learning_rate=0.1, total_steps=0), "total_steps", ValueError),
    (S.OneCycle, dict(maximal_learning_rate=0.1, total_steps=100, pct_start=0.0), "pct_start", ValueError),
    (S.OneCycle, dict(maximal_learning_rate=0.1, total_steps=100, pct_start=1.0), "pct_start", ValueError),
    (S.OneCycle, dict(maximal_learning_rate=0.1, total_steps=100, pct_start=0.01), "pct_start", ValueError),
    (S.OneCycle, dict(maximal_learning_rate=0.1, total_steps=100, pct_start=0.6, three_phase=True), "pct_start", ValueError),
    (S.OneCycle, dict(maximal_learning_rate=0.1, total_steps=100, anneal_strategy="cosine"), "anneal_strategy", ValueError),
    (S.OneCycle, dict(maximal_learning_rate=0.1, total_steps=100, div_factor=0.0), "div_factor", ValueError),
    (S.OneCycle, dict(maximal_learning_rate=0.1, total_steps=100, final_div_factor=-1.0), "final_div_factor", ValueError),
    (S.OneCycle, dict(maximal_learning_rate=0.1, total_steps=100, three_phase="yes"), "three_phase", TypeError),
    (S.WarmupStableDecay, dict(peak_learning_rate=0.1, total_steps=100, warmup_steps=60, decay_steps=50), "decay_steps", ValueError),
    (S.WarmupStableDecay, dict(peak_learning_rate=0.1, total_steps=100, warmup_steps=-1, decay_steps=50), "warmup_steps", ValueError),
    (S.WarmupStableDecay, dict(peak_learning_rate=0.1, total_steps=100, warmup_steps=10, decay_steps=0), "decay_steps", ValueError),
    (S.WarmupStableDecay, dict(peak_learning_rate=0.1, total_steps=100, warmup_steps=10, decay_steps=10, initial_learning_rate=0.2), "initial_learning_rate", ValueError),
    (S.WarmupStableDecay, dict(peak_learning_rate=0.1, total_steps=100, warmup_steps=10, decay_steps=10, min_learning_rate=0.2), "min_learning_rate", ValueError),
    (S.WarmupStableDecay, dict(peak_learning_rate=0.1, total_steps=100, warmup_steps=10, decay_steps=10, decay_shape="sqrt"), "decay_shape", ValueError),
]

# BAD is checked by tests/robustness/test_validation.py, with every other constructor.


def test_one_cycle_error_says_where_the_phases_would_end():
    with pytest.raises(ValueError) as caught:
        S.OneCycle(0.1, total_steps=100, pct_start=0.01)
    assert "[0.0, 99.0]" in str(caught.value)
    assert "Received: pct_start=0.01" in str(caught.value)
