"""Exact step arithmetic: every schedule in bounds at any countable step, and
graph equal to host at every step float32 can count exactly.

For every entry of `tests/schedules/cases.py`, on the backend under test
(TensorFlow in float64, JAX and torch in float32):

- rates at steps drawn from [0, 2**31) (the int32 counter of JAX and torch)
  and, where the graph counts in int64, up to 2**40, are finite and within
  the schedule's documented bounds, on the host and in the graph (eager and
  compiled);
- at steps drawn from [0, 2**24] the graph equals `numpy()` to 1e-6
  relative (1e-12 absolute near zero).
"""

import keras
import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from keras_lr import schedules as S
from tests.schedules.bounds import assert_within
from tests.schedules.cases import SCHEDULES
from tests.support.backends import STEP_DTYPE
from tests.support.backends import as_train_step
from tests.support.backends import graph_rates

pytestmark = pytest.mark.backend_neutral

CASES = list(SCHEDULES)
INT32_MAX = 2**31 - 1
# The largest step the graph's counter holds: int64 on TensorFlow (tested to
# 2**40, as docs/pages/precision.md states), int32 on JAX and torch.
LARGEST = 2**40 if STEP_DTYPE == "int64" else INT32_MAX
# A fixed length, so JAX compiles each schedule once.
DRAWS = 64


_BUILT = {}


def _case(name):
    """The case's schedule and its compiled call, built once per session so
    that each compiles once (XLA and jax.jit per shape)."""
    if name not in _BUILT:
        schedule = SCHEDULES[name]()
        _BUILT[name] = schedule, as_train_step(schedule.__call__)
    return _BUILT[name]


def _steps(upper):
    """DRAWS steps: the edges of [0, upper] and draws from all of it."""
    edges = [0, 1, 2**24 - 1, 2**24, 2**24 + 1, upper]
    return st.lists(
        st.integers(0, upper), min_size=DRAWS - len(edges), max_size=DRAWS - len(edges)
    ).map(lambda drawn: sorted(set(drawn + [e for e in edges if e <= upper])))


def _eager_and_compiled(compiled):
    """The graph as run eagerly, and compiled where the backend compiles (on
    torch, Keras's train step is the eager code: once is enough)."""
    return (None,) if keras.backend.backend() == "torch" else (None, compiled)


def _pad(steps):
    return np.array(steps + [steps[-1]] * (DRAWS - len(steps)), dtype=np.int64)


@pytest.mark.parametrize("case", CASES)
@settings(derandomize=True, max_examples=6, deadline=None)
@given(steps=_steps(LARGEST))
def test_rates_stay_in_bounds_at_any_countable_step(case, steps):
    schedule, compiled = _case(case)
    steps = _pad(steps)
    assert_within(schedule.numpy(steps), schedule)
    for fn in _eager_and_compiled(compiled):
        assert_within(graph_rates(schedule, steps, fn), schedule, float32=True)


def _runs_a_keras_formula(schedule):
    """Whether a Keras built-in runs inside the schedule (a wrapper's or a
    join's child): Keras's float32 formula, with Keras's rounding."""
    if not isinstance(schedule, S.Schedule):
        return isinstance(schedule, keras.optimizers.schedules.LearningRateSchedule)
    children = []
    for value in vars(schedule).values():
        children.extend(value if isinstance(value, (list, tuple)) else [value])
    return any(_runs_a_keras_formula(child) for child in children
               if isinstance(child, keras.optimizers.schedules.LearningRateSchedule))


@pytest.mark.parametrize("case", CASES)
@settings(derandomize=True, max_examples=6, deadline=None)
@given(steps=_steps(2**24))
def test_graph_equals_host_up_to_2_24(case, steps):
    schedule, compiled = _case(case)
    steps = _pad(steps)
    host = schedule.numpy(steps)
    # The bounds of docs/pages/precision.md: 1e-6 for keras_lr's formulas, 1e-5 where Keras's
    # own float32 formula runs inside a keras_lr wrapper.
    rtol = 1e-5 if _runs_a_keras_formula(schedule) else 1e-6
    for fn in _eager_and_compiled(compiled):
        np.testing.assert_allclose(
            graph_rates(schedule, steps, fn), host, rtol=rtol, atol=1e-12
        )


def test_the_looser_bound_is_for_keras_s_own_formulas_only():
    keras_inside = [c for c in CASES if _runs_a_keras_formula(_case(c)[0])]
    assert sorted(keras_inside) == ["sequential_keras_inside", "warmup_keras_cosine_decay"]
    assert not _runs_a_keras_formula(S.Warmup(S.CosineDecay(0.1, 30_000), 50))


def test_arguments_that_once_failed_give_the_right_rates():
    """Arguments and steps that once gave a wrong rate (0, negative, NaN, a
    rise too low), each checked at the step it failed."""

    # Torch applied 0.0 at step 3 (a float64 -> float32 demotion).
    restarts = S.CosineRestarts(0.1, 3, t_mul=1.1)
    np.testing.assert_allclose(graph_rates(restarts, [3]), [0.1], rtol=1e-6)
    # A negative rate at step 33,554,454 on float32 (the step cast to
    # float32 before periods were counted).
    cyclical = S.CyclicalLearningRate(0.0, 0.1, step_size=3)
    step = 33_554_454
    expected = cyclical.numpy(step)  # 33554454 = 6 * 5592409: the low end
    assert expected == 0.0
    np.testing.assert_allclose(graph_rates(cyclical, [step, step + 3]), [0.0, 0.1])
    # A polynomial warmup from 0: exactly 0 at step 0, 1e-5 at step 1.
    warmup = S.PolynomialDecay(0.0, 10000, end_learning_rate=0.1)
    np.testing.assert_allclose(
        graph_rates(warmup, [0, 1, 10000]), [0.0, 1e-5, 0.1], rtol=1e-6, atol=0.0
    )
    # NaN from step 2 with an enormous t_mul: one long cycle instead.
    huge = S.CosineRestarts(0.1, 1, t_mul=1e308)
    np.testing.assert_allclose(graph_rates(huge, [0, 1, 2, 1000]), [0.1] * 4, rtol=1e-6)
    np.testing.assert_allclose(huge.numpy([0, 1, 2, 1000]), [0.1] * 4, rtol=1e-12)
    # A power that rounds to inf in float32 (NaN at step 0: inf * log(1)).
    steep = S.PolynomialDecay(0.0, 1, power=3.4028235677973366e38)
    np.testing.assert_allclose(
        graph_rates(steep, [0, 1, 2]), [0.0, 1e-4, 1e-4], rtol=1e-6)
    # Keras's alpha far above 1: the rise starts at the initial rate itself
    # (1.5 % below it, lost in the minimum's rounding, before).
    rising = S.CosineDecay(1.3984780575189016e-281, 1, alpha=138601581297207.0)
    assert rising.numpy(0) == pytest.approx(1.3984780575189016e-281, rel=1e-12)
    # A subnormal power, 0 in float32 (NaN at step 1: 0 * log(0)).
    flat = S.PolynomialDecay(0.0, 1, power=5e-324)
    np.testing.assert_allclose(
        graph_rates(flat, [0, 1, 2]), [0.0, 1e-4, 1e-4], rtol=1e-6)


def test_a_fractional_step_count_is_the_fraction_it_rounds():
    """decay_steps=1000/3 switches at steps 1000, 2000, ... on every backend
    (float32 rounding of 1000/3 would switch one step later)."""

    schedule = S.ExponentialDecay(1.0, 1000 / 3, 0.5, staircase=True)
    steps = np.array([0, 333, 334, 666, 667, 999, 1000, 1999, 2000, 2**24 - 1])
    expected = 0.5 ** np.floor(steps * 3 / 1000)
    np.testing.assert_allclose(schedule.numpy(steps), expected, rtol=1e-12)
    np.testing.assert_allclose(graph_rates(schedule, steps), expected, rtol=1e-6)


def test_an_irregular_fractional_step_count_is_within_float_rounding():
    """The documented limit: a fractional step count that is no ratio n / d
    with n * d within the step's integer range (here 123456.789 = 123456789
    / 1000 on int32) is divided in floating point on JAX and torch, so the
    staircase may switch one step early or late where a multiple of it is
    within float32 rounding of a whole step; TensorFlow is exact."""

    period = 123456.789
    schedule = S.ExponentialDecay(1.0, period, 0.5, staircase=True)
    multiples = np.floor(np.arange(1, 130) * period).astype(np.int64)
    steps = np.unique(np.concatenate([multiples - 1, multiples, multiples + 1]))
    host, graph = schedule.numpy(steps), graph_rates(schedule, steps)
    differ = ~np.isclose(graph, host, rtol=1e-6)
    if STEP_DTYPE == "int64":
        assert not differ.any()
    else:
        ratio = steps[differ] / period
        # Only next to a multiple, by one staircase level.
        assert np.all(np.abs(ratio - np.round(ratio)) < 2.0**-21 * ratio)
        np.testing.assert_allclose(
            np.abs(np.log2(graph[differ] / host[differ])), 1.0, rtol=1e-6
        )


def test_compute_dtypes_are_what_the_docs_say():
    from keras_lr.schedules.base import compute_dtypes

    expected = {
        "tensorflow": ("float64", "int64"),
        "jax": ("float32", "int32"),
        "torch": ("float32", "int32"),
    }[keras.backend.backend()]
    if keras.backend.backend() == "jax":
        import jax

        if jax.config.jax_enable_x64:
            expected = ("float64", "int64")
    assert compute_dtypes() == expected


@pytest.mark.parametrize("case", CASES)
def test_fractional_epochs_of_every_case_agree_with_the_host(case):
    """`Epochs(schedule, staircase=False)` hands each case a fraction of an
    epoch (k / 7): at every step through 9,362 epochs, the graph equals the
    host to 1e-6 relative, also near the ends of cycles and segments where a
    rounded fraction would be magnified."""
    schedule = S.Epochs(SCHEDULES[case](), steps_per_epoch=7, staircase=False)
    steps = np.arange(2**16)
    np.testing.assert_allclose(
        graph_rates(schedule, steps), schedule.numpy(steps), rtol=1e-6, atol=1e-12
    )
