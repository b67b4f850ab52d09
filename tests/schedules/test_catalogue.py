"""The catalogue's schedules (from Hugging Face, tf-models and optax, and
the cooldown) against their origins.

Each schedule is checked against the expected values its origin's own test
file asserts (Hugging Face `tests/optimization/test_optimization.py`,
tf-models `official/modeling/optimization/lr_schedule_test.py` and
`optimizer_factory_test.py`, optax `optax/schedules/_schedule_test.py`),
with the origin's tolerance, on the host and in the graph; then against an
independent reference of the origin's algorithm
(`tests/parity/reference_catalogue.py`) over whole runs, at its seams, and
for its argument checks. Host-vs-graph agreement at every step, bounds,
`.keras` save/load and `model.fit` are the contract tests'
(`tests/schedules/cases.py`).
"""

import math

import keras
import numpy as np
import pytest
from keras import ops

from keras_lr import schedules as S
from tests.parity import reference_catalogue as ref
from tests.support.backends import STEP_DTYPE

# The tests that run a backend's ops carry `backend_neutral` (they run again
# on JAX and torch); the host-only ones run once.
on_every_backend = pytest.mark.backend_neutral

K = keras.optimizers.schedules


def host_and_graph(schedule, steps):
    """The schedule's rates at `steps`, from `numpy()` and from the graph."""
    steps = np.asarray(steps)
    # One length for every call (the steps repeated): JAX compiles each
    # eager operation once per shape, so the checks share compilations.
    padded = np.resize(steps, max(64, steps.size))
    graph = ops.convert_to_numpy(
        schedule(ops.convert_to_tensor(padded, dtype=STEP_DTYPE))
    ).astype(np.float64)[: steps.size]
    return schedule.numpy(steps), graph


def assert_values(schedule, steps, expected, rtol=0.0, atol=0.0):
    """Host and graph rates against a peer's expected values, with the peer's
    tolerance; the graph's float32 result (floatx) gets two float32 ulps
    more (XLA may divide by a constant as a multiplication by its
    reciprocal, one ulp off)."""
    host, graph = host_and_graph(schedule, steps)
    np.testing.assert_allclose(host, expected, rtol=rtol, atol=atol)
    np.testing.assert_allclose(graph, expected, rtol=rtol + 2.0**-22, atol=atol)


def places(n):
    """unittest's `assertAlmostEqual(places=n)`: |a - b| < 0.5 * 10**-n."""
    return dict(rtol=0, atol=0.5 * 10.0**-n)


# --- Hugging Face -----------------------------------------------------------


@on_every_backend
def test_hf_inverse_sqrt_expected_values():
    # test_schedulers: get_inverse_sqrt_schedule, lr 10, num_warmup_steps=2
    # (timescale defaults to num_warmup_steps), tolerance 1e-2.
    schedule = S.Warmup(S.InverseSqrtDecay(10.0, timescale=2), warmup_steps=2)
    expected = [0.0, 5.0, 10.0, 8.165, 7.071, 6.325, 5.774, 5.345, 5.0, 4.714]
    assert_values(schedule, np.arange(10), expected, rtol=0, atol=1e-2)


@pytest.mark.parametrize("warmup, timescale", [(100, None), (37, 500), (1, 10_000)])
def test_warmup_of_inverse_sqrt_is_hf_step_for_step(warmup, timescale):
    scale = timescale if timescale is not None else warmup
    schedule = S.Warmup(S.InverseSqrtDecay(0.3, scale), warmup_steps=warmup)
    expected = ref.hf_inverse_sqrt(0.3, warmup, timescale, 3000)
    np.testing.assert_allclose(schedule.numpy(np.arange(3000)), expected, rtol=1e-13)


def test_inverse_sqrt_without_warmup_is_hf_with_zero_warmup():
    # get_inverse_sqrt_schedule(num_warmup_steps=0): timescale 10,000.
    expected = ref.hf_inverse_sqrt(0.1, 0, None, 50_000)[::97]
    schedule = S.InverseSqrtDecay(0.1)
    np.testing.assert_allclose(
        schedule.numpy(np.arange(50_000)[::97]), expected, rtol=1e-13
    )


WSD_HF = [
    # num_warmup_steps, num_decay_steps, num_training_steps, num_stable_steps
    (2, 2, 10, None),
    (100, 300, 1000, None),
    (0, 50, None, 200),
    (17, 33, None, 0),
]


@pytest.mark.parametrize("warmup_type", ["linear", "cosine", "1-sqrt"])
@pytest.mark.parametrize("decay_type", ["linear", "cosine", "1-sqrt"])
@pytest.mark.parametrize("case", WSD_HF)
def test_wsd_is_hf_get_wsd_schedule(case, decay_type, warmup_type):
    warmup, decay, training, stable = case
    total = training if training is not None else warmup + stable + decay
    for ratio in (0.0, 0.1):
        lr = 0.02
        schedule = S.WarmupStableDecay(
            lr, total, warmup, decay, initial_learning_rate=ratio * lr,
            min_learning_rate=ratio * lr, decay_shape=decay_type,
            warmup_shape=warmup_type,
        )
        n = total + 20
        expected = ref.hf_wsd(
            lr, warmup, decay, n, num_training_steps=training,
            num_stable_steps=stable, warmup_type=warmup_type,
            decay_type=decay_type, min_lr_ratio=ratio,
        )
        np.testing.assert_allclose(
            schedule.numpy(np.arange(n)), expected, rtol=1e-13, atol=1e-17
        )


def test_wsd_defaults_to_the_1_sqrt_decay():
    schedule = S.WarmupStableDecay(1.0, 100, 0, 100)
    assert schedule.decay_shape == "1-sqrt"
    assert schedule.numpy(25) == pytest.approx(0.5, rel=1e-15)


@pytest.mark.parametrize("shape", ["cosine", "1-sqrt"])
def test_wsd_warmup_shapes_and_seam(shape):
    lr = S.WarmupStableDecay(0.1, 1000, 100, 100, 0.01, warmup_shape=shape).numpy
    middle = {"cosine": 0.5, "1-sqrt": 1 - math.sqrt(0.5)}[shape]
    assert lr(0) == 0.01
    assert lr(50) == pytest.approx(0.01 + 0.09 * middle, rel=1e-14)
    assert lr(99) < lr(100) == 0.1
    assert np.all(np.diff(lr(np.arange(101))) > 0)


# --- tf-models --------------------------------------------------------------

POWER_AND_LINEAR = [
    # lr_schedule_test.PowerAndLinearDecayTest, assertAlmostEqual (7 places)
    dict(power=-1.0, linear_decay_fraction=0.0, offset=0,
         expected=[[0, 1.0], [1, 1.0], [40, 1.0 / 40], [60, 1.0 / 60], [100, 1.0 / 100]]),
    dict(power=0.0, linear_decay_fraction=1.0, offset=0,
         expected=[[0, 1.0], [1, 0.99], [40, 0.6], [60, 0.4], [100, 0.0]]),
    dict(power=-1.0, linear_decay_fraction=0.5, offset=0,
         expected=[[0, 1.0], [1, 1.0], [40, 1.0 / 40], [60, 1.0 / 60 * 0.8], [100, 0.0]]),
    dict(power=-1.0, linear_decay_fraction=0.5, offset=90,
         expected=[[0, 1.0], [90, 1.0], [91, 1.0], [130, 1.0 / 40],
                   [150, 1.0 / 60 * 0.8], [190, 0.0], [200, 0.0]]),
]


@on_every_backend
@pytest.mark.parametrize("case", POWER_AND_LINEAR, ids=lambda c: str(c["offset"]) + "-" + str(c["linear_decay_fraction"]) + "-" + str(c["power"]))
def test_power_and_linear_decay_expected_values(case):
    schedule = S.PowerAndLinearDecay(
        initial_learning_rate=1.0, total_decay_steps=100, power=case["power"],
        linear_decay_fraction=case["linear_decay_fraction"], offset=case["offset"],
    )
    steps, expected = np.array(case["expected"]).T
    assert_values(schedule, steps.astype(int), expected, **places(7))


@on_every_backend
def test_power_and_linear_decay_with_a_span_below_float32():
    # total_decay_steps * linear_decay_fraction rounds to 0 in float32: the
    # end of the decay is still 0, not 0 / 0 (found by the constructor fuzz).
    schedule = S.PowerAndLinearDecay(0.1, 1, linear_decay_fraction=1e-77)
    assert_values(schedule, [0, 1, 2, 2**24], [0.1, 0.0, 0.0, 0.0])


@pytest.mark.parametrize("args", [(0.3, 5000, -0.5, 0.1, 0), (1.0, 777, -1.7, 0.33, 41), (0.05, 100, 0.0, 1.0, 3)])
def test_power_and_linear_decay_is_tf_models_step_for_step(args):
    steps = np.arange(0, 6000)
    expected = ref.tfm_power_and_linear(*args, steps)
    np.testing.assert_allclose(
        S.PowerAndLinearDecay(*args).numpy(steps), expected, rtol=1e-13, atol=1e-300
    )


@on_every_backend
def test_power_decay_expected_values():
    # optimizer_factory_test.test_power_lr_schedule (DirectPowerDecay).
    schedule = S.PowerDecay(initial_learning_rate=1.0, power=-1.0)
    assert_values(schedule, [0, 1, 250], [1.0, 1.0, 1.0 / 250.0], **places(7))


@pytest.mark.parametrize("power", [-0.5, -1.0, -1.3, 0.0, -3.0])
def test_power_decay_is_direct_power_decay(power):
    steps = np.concatenate([np.arange(0, 3000), [2**24 - 1, 2**24, 2**31 - 1]])
    np.testing.assert_allclose(
        S.PowerDecay(0.2, power).numpy(steps),
        ref.tfm_direct_power(0.2, power, steps), rtol=1e-14,
    )


@on_every_backend
@pytest.mark.parametrize(
    "inner",
    [
        # lr_schedule_test.OffsetLearningRateTest.test_offset: offset 10,
        # base_lr(step - offset) for step in range(10, 101, 10), exactly.
        lambda: S.PiecewiseConstantDecay(boundaries=[50, 80], values=[1.0, 0.5, 0.1]),
        lambda: S.PolynomialDecay(initial_learning_rate=1.0, decay_steps=100),
        lambda: S.ExponentialDecay(initial_learning_rate=1.0, decay_steps=100, decay_rate=0.5),
        lambda: S.CosineDecay(initial_learning_rate=1.0, decay_steps=100),
        lambda: K.CosineDecay(initial_learning_rate=1.0, decay_steps=100),
    ],
)
def test_offset_is_tf_models_with_offset(inner):
    inner = inner()
    offset_lr = S.Offset(inner, offset=10)
    steps = np.arange(10, 101, 10)
    np.testing.assert_array_equal(offset_lr.numpy(steps), S.evaluate(inner, steps - 10))
    np.testing.assert_array_equal(
        ops.convert_to_numpy(offset_lr(ops.convert_to_tensor(steps, dtype=STEP_DTYPE))),
        ops.convert_to_numpy(inner(ops.convert_to_tensor(steps - 10, dtype=STEP_DTYPE))),
    )
    # Before the offset it holds the first rate (tf-models extrapolates).
    np.testing.assert_array_equal(offset_lr.numpy(np.arange(10)), S.evaluate(inner, 0))


STEPWISE = lambda: S.PiecewiseConstantDecay([10000, 20000], [0.1, 0.01, 0.001])  # noqa: E731


@on_every_backend
@pytest.mark.parametrize(
    "build, expected, digits",
    [
        # optimizer_factory_test.test_stepwise_lr_with_warmup_schedule
        (lambda: S.Warmup(STEPWISE(), 500, 0.01, overlay=True),
         [[0, 0.01], [250, 0.055], [500, 0.1], [5500, 0.1], [10000, 0.1],
          [10001, 0.01], [20000, 0.01], [20001, 0.001]], 7),
        # test_constant_lr_with_warmup_schedule
        (lambda: S.Warmup(S.Constant(0.1), 500, 0.01, overlay=True),
         [[0, 0.01], [250, 0.055], [500, 0.1], [5000, 0.1], [10000, 0.1],
          [20000, 0.1]], 7),
        # test_stepwise_lr_with_polynomial_warmup_schedule (places=6)
        (lambda: S.Warmup(STEPWISE(), 500, shape="polynomial", power=2.0, overlay=True),
         [[0, 0.0], [250, 0.025], [500, 0.1], [5500, 0.1], [10000, 0.1],
          [10001, 0.01], [20000, 0.01], [20001, 0.001]], 6),
        # test_step_cosine_lr_schedule_with_warmup: StepCosineDecayWithOffset
        # (values (1e-4, 5e-5), boundaries (0, 500000), offset 10000) under
        # LinearWarmup(10000 steps from 0).
        (lambda: S.Warmup(
            S.Offset(S.PiecewiseLinear([0, 500_000], [1e-4, 5e-5], interpolation="cosine"), 10_000),
            10_000, overlay=True),
         [[0, 0.0], [5000, 1e-4 / 2.0], [10000, 1e-4], [20000, 9.994863e-05],
          [499999, 5e-05]], 7),
    ],
    ids=["linear_warmup_stepwise", "linear_warmup_constant", "polynomial_warmup", "step_cosine_offset"],
)
def test_tf_models_warmups_expected_values(build, expected, digits):
    steps, values = np.array(expected).T
    assert_values(build(), steps.astype(int), values, **places(digits))


def test_overlaid_warmups_are_tf_models_step_for_step():
    inner = S.CosineAnnealing(0.1, 3000, 0.001)
    steps = np.arange(0, 4000)
    linear = S.Warmup(inner, 300, 0.02, overlay=True)
    np.testing.assert_allclose(
        linear.numpy(steps), ref.tfm_linear_warmup(inner.numpy, 300, 0.02, steps),
        rtol=1e-13,
    )
    poly = S.Warmup(inner, 300, shape="polynomial", power=1.5, overlay=True)
    expected = ref.tfm_polynomial_warmup(inner.numpy, 300, 1.5, steps)
    # tf-models takes step 1 at step 0.
    assert poly.numpy(0) == 0.0 and expected[0] == pytest.approx(
        inner.numpy(300) / 300**1.5, rel=1e-14
    )
    np.testing.assert_allclose(poly.numpy(steps[1:]), expected[1:], rtol=1e-13)


def test_step_cosine_with_offset_is_tf_models_before_its_last_boundary():
    boundaries, values, offset = [0, 1000, 1500, 4000], [0.1, 0.05, 0.02, 0.01], 77
    schedule = S.Offset(
        S.PiecewiseLinear(boundaries, values, interpolation="cosine"), offset
    )
    steps = np.arange(offset, offset + 4000)
    np.testing.assert_allclose(
        schedule.numpy(steps),
        ref.tfm_step_cosine_with_offset(boundaries, values, offset, steps),
        rtol=1e-12, atol=1e-17,
    )


# --- optax ------------------------------------------------------------------


@on_every_backend
def test_cosine_exponent_expected_values():
    # CosineDecayTest.test_with_exponent (rtol 1e-6, atol 1e-8).
    schedule = S.CosineAnnealing(0.1, decay_steps=100, exponent=2.0)
    assert_values(
        schedule, [0, 10, 50, 75, 100],
        [0.1, 0.09516553580760956, 0.025, 0.0021446612663567066, 0.0],
        rtol=1e-6, atol=1e-8,
    )


def test_cosine_with_giant_int_steps():
    # CosineDecayTest.test_with_giant_int_steps: decay_steps beyond int32.
    schedule = S.CosineAnnealing(1000.0, decay_steps=int(1e10))
    np.testing.assert_allclose(schedule.numpy(int(1e9)), 975.52826, rtol=1e-7)


@pytest.mark.parametrize("exponent", [0.5, 1.0, 2.0, 3.7])
def test_cosine_exponent_is_optax_step_for_step(exponent):
    init, decay, alpha = 0.3, 2500, 0.01
    schedule = S.CosineAnnealing(init, decay, alpha * init, exponent=exponent)
    steps = np.arange(3000)
    # optax's `1 + cos` loses ~1e-16 near the end of the decay, which a
    # square root (exponent 0.5) turns into ~1e-13 of the peak there.
    np.testing.assert_allclose(
        schedule.numpy(steps),
        ref.optax_cosine_decay(init, decay, alpha, exponent, steps),
        rtol=1e-12, atol=1e-13 * init,
    )


@on_every_backend
def test_piecewise_interpolate_expected_values():
    # PiecewiseInterpolateTest.test_linear_piecewise and test_cos_piecewise
    # (atol 1e-3): optax's boundaries and scales as absolute points.
    linear = S.PiecewiseLinear([0, 5, 10], [200.0, 300.0, 75.0])
    assert_values(
        linear, np.arange(13),
        [200., 220., 240., 260., 280., 300., 255., 210., 165., 120., 75., 75., 75.],
        rtol=0, atol=1e-3,
    )
    cosine = S.PiecewiseLinear([0, 3, 5, 7], [400.0, 240.0, 288.0, 288.0], interpolation="cosine")
    assert_values(
        cosine, np.arange(9),
        [400., 360., 280., 240., 264., 288., 288., 288., 288.], rtol=0, atol=1e-3,
    )


@pytest.mark.parametrize("kind", ["linear", "cosine"])
def test_piecewise_interpolation_is_optax_step_for_step(kind):
    init, scales = 0.1, {30: 2.0, 100: 0.25, 250: 0.1, 251: 3.0}
    points, values = [0], [init]
    for b in sorted(scales):
        points.append(b)
        values.append(values[-1] * scales[b])
    schedule = S.PiecewiseLinear(points, values, interpolation=kind)
    steps = np.arange(400)
    np.testing.assert_allclose(
        schedule.numpy(steps), ref.optax_piecewise_interpolate(kind, init, scales, steps),
        rtol=1e-13,
    )


@on_every_backend
@pytest.mark.parametrize("staircase", [False, True])
def test_offset_is_optax_transition_begin(staircase):
    # PolynomialTest.test_with_decay_begin and ExponentialTest.test_exponential
    # with transition_begin=5 (atol 1e-3).
    poly = S.Offset(S.PolynomialDecay(30.0, 10, end_learning_rate=10.0, power=2), 4)
    expected = [30.0] * 4 + [10.0 + 20.0 * (1.0 - n / 10) ** 2 for n in range(10)] + [10.0] * 6
    assert_values(poly, np.arange(20), expected, rtol=0, atol=1e-3)
    grow = S.Offset(S.ExponentialDecay(1.0, 2, 2.0, staircase=staircase), 5)
    p = np.arange(15) / 2
    expected = [1.0] * 5 + list(2.0 ** (np.floor(p) if staircase else p))
    assert_values(grow, np.arange(20), expected, rtol=0, atol=1e-3)


# --- the cooldown -----------------------------------------------------------


@pytest.mark.parametrize("shape", ["1-sqrt", "linear", "cosine"])
def test_cooldown_is_the_papers_cooldown(shape):
    inner = S.Warmup(S.InverseSqrtDecay(0.1, 200), 50)
    schedule = S.Cooldown(inner, 700, 300, shape=shape, min_learning_rate=1e-3)
    n = 1200
    expected = ref.cooldown(inner.numpy(np.arange(n)), 700, 300, shape, 1e-3, n)
    np.testing.assert_allclose(schedule.numpy(np.arange(n)), expected, rtol=1e-13)


def test_cooldown_seams():
    inner = S.Constant(0.1)
    lr = S.Cooldown(inner, start_step=100, decay_steps=400).numpy
    assert lr(99) == lr(100) == 0.1
    # 1-sqrt: the steepest drop is the first step, (peak - min) * sqrt(1/400).
    assert 0.1 - lr(101) == pytest.approx(0.1 * math.sqrt(1 / 400), rel=1e-12)
    assert lr(499) > 0.0 and lr(500) == 0.0 and lr(10**9) == 0.0
    # From step 0: a cooldown of the whole run.
    assert S.Cooldown(inner, 0, 10, shape="linear").numpy(5) == pytest.approx(0.05)


def test_cooldown_starts_from_wherever_the_schedule_is():
    inner = S.CosineAnnealing(0.1, 1000)
    schedule = S.Cooldown(inner, 400, 100, shape="linear")
    peak = inner.numpy(400)
    np.testing.assert_allclose(schedule.numpy([399, 400, 450, 500]),
                               [inner.numpy(399), peak, peak / 2, 0.0], rtol=1e-14)


# --- the warmup's new forms -------------------------------------------------


def test_overlay_warmup_ends_at_the_schedules_rate_there():
    inner = S.ExponentialDecay(0.1, 1, 0.99)
    overlaid = S.Warmup(inner, 100, 0.001, shape="exponential", overlay=True)
    assert overlaid.numpy(0) == 0.001
    np.testing.assert_allclose(
        overlaid.numpy(np.arange(100, 500)), inner.numpy(np.arange(100, 500)), rtol=0
    )
    assert overlaid.numpy(99) < inner.numpy(100)


@pytest.mark.parametrize("power", [0.5, 1.0, 2.0, 7.0])
def test_polynomial_warmup_is_hf_tf_warmup(power):
    # transformers' TF `WarmUp(initial_learning_rate, decay_schedule_fn,
    # warmup_steps, power)`: init * (step / warmup) ** power, then
    # decay_schedule_fn(step - warmup_steps).
    inner = S.PolynomialDecay(0.01, 1000, end_learning_rate=0.0)
    schedule = S.Warmup(inner, 40, shape="polynomial", power=power)
    steps = np.arange(1100)
    expected = np.where(
        steps < 40, 0.01 * (steps / 40) ** power, inner.numpy(np.maximum(steps - 40, 0))
    )
    np.testing.assert_allclose(schedule.numpy(steps), expected, rtol=1e-13)
    assert schedule.numpy(0) == 0.0


# --- validation -------------------------------------------------------------

C = S.Constant(0.1)
BAD = [
    (S.InverseSqrtDecay, dict(initial_learning_rate=0.1, timescale=0), "timescale", ValueError),
    (S.InverseSqrtDecay, dict(initial_learning_rate=0.1, timescale="1"), "timescale", TypeError),
    (S.InverseSqrtDecay, dict(initial_learning_rate=-1.0), "initial_learning_rate", ValueError),
    (S.PowerDecay, dict(initial_learning_rate=0.1, power=0.5), "power", ValueError),
    (S.PowerDecay, dict(initial_learning_rate=0.1, power=-101.0), "power", ValueError),
    (S.PowerDecay, dict(initial_learning_rate=0.1, power=math.nan), "power", ValueError),
    (S.PowerAndLinearDecay, dict(initial_learning_rate=0.1, total_decay_steps=0), "total_decay_steps", ValueError),
    (S.PowerAndLinearDecay, dict(initial_learning_rate=0.1, total_decay_steps=10, linear_decay_fraction=1.5), "linear_decay_fraction", ValueError),
    (S.PowerAndLinearDecay, dict(initial_learning_rate=0.1, total_decay_steps=10, offset=-1), "offset", ValueError),
    (S.PowerAndLinearDecay, dict(initial_learning_rate=0.1, total_decay_steps=10, power=1.0), "power", ValueError),
    (S.Offset, dict(schedule=0.1, offset=3), "schedule", TypeError),
    (S.Offset, dict(schedule=C, offset=2.5), "offset", ValueError),
    (S.Warmup, dict(schedule=C, warmup_steps=10, shape="polynomial", power=0.0), "power", ValueError),
    (S.Warmup, dict(schedule=C, warmup_steps=10, shape="polynomial", power=101.0), "power", ValueError),
    (S.Warmup, dict(schedule=C, warmup_steps=10, power=2.0), "power", ValueError),
    (S.Warmup, dict(schedule=C, warmup_steps=10, overlay=1), "overlay", TypeError),
    (S.Warmup, dict(schedule=S.PiecewiseConstant([5], [0.1, 0.0]), warmup_steps=10, initial_learning_rate=0.1, shape="exponential", overlay=True), "schedule", ValueError),
    (S.CosineAnnealing, dict(initial_learning_rate=0.1, decay_steps=10, exponent=0.0), "exponent", ValueError),
    (S.CosineAnnealing, dict(initial_learning_rate=0.1, decay_steps=10, exponent=math.inf), "exponent", ValueError),
    (S.PiecewiseLinear, dict(boundaries=[0, 10], values=[0.1, 0.0], interpolation="cos"), "interpolation", ValueError),
    (S.WarmupStableDecay, dict(peak_learning_rate=0.1, total_steps=100, warmup_steps=10, decay_steps=10, warmup_shape="exponential"), "warmup_shape", ValueError),
    (S.Cooldown, dict(schedule=C, start_step=-1, decay_steps=10), "start_step", ValueError),
    (S.Cooldown, dict(schedule=C, start_step=0, decay_steps=0), "decay_steps", ValueError),
    (S.Cooldown, dict(schedule=C, start_step=0, decay_steps=10, shape="square"), "shape", ValueError),
    (S.Cooldown, dict(schedule=C, start_step=0, decay_steps=10, min_learning_rate=0.2), "min_learning_rate", ValueError),
    (S.Cooldown, dict(schedule="cosine", start_step=0, decay_steps=10), "schedule", TypeError),
]


@pytest.mark.parametrize(
    "cls, kwargs, name, error", BAD,
    ids=[f"{c.__name__}-{n}-{i}" for i, (c, _, n, _e) in enumerate(BAD)],
)
def test_bad_arguments_are_refused_by_name(cls, kwargs, name, error):
    with pytest.raises(error, match=rf"^Argument `{name}` must .*Received: "):
        cls(**kwargs)


def test_cooldown_minimum_error_names_the_schedules_rate():
    with pytest.raises(ValueError) as caught:
        S.Cooldown(S.CosineAnnealing(0.1, 100), 100, 10, min_learning_rate=0.01)
    assert "rate at start_step=100 (0.0)" in str(caught.value)


def test_get_builds_every_new_name():
    assert S.get("inverse_sqrt_decay", initial_learning_rate=0.1) == S.InverseSqrtDecay(0.1)
    assert S.get("power_decay", initial_learning_rate=0.1, power=-1.0) == S.PowerDecay(0.1, -1.0)
    assert S.get("power_and_linear_decay", initial_learning_rate=0.1, total_decay_steps=9) == (
        S.PowerAndLinearDecay(0.1, 9)
    )
    assert S.get("offset", schedule=C, offset=3) == S.Offset(C, 3)
    assert S.get("cooldown", schedule=C, start_step=3, decay_steps=4) == S.Cooldown(C, 3, 4)
