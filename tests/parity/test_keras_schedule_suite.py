"""Keras's own published test values, checked against keras_lr's schedules:
`keras/src/optimizers/schedules/learning_rate_schedule_test.py`. Values, not
code: see `peer_suite.py`.

keras_lr's Keras-named classes take Keras's arguments in Keras's order.
Keras calls its schedules with the optimizer step, as keras_lr does.
"""

import math

import keras
import numpy as np
import pytest
from keras import ops

from keras_lr import schedules as S
from tests.parity.peer_suite import assert_rates
from tests.parity.peer_suite import cosine

pytestmark = pytest.mark.backend_neutral

# The tolerance, from Keras's own assertion: `assertAllClose(x, y, 1e-6)`,
# i.e. atol=1e-6 and rtol=1e-6; we keep the rtol and drop the atol, which
# would hide a 0.1 % error in a rate of 1e-3 (the atol left only absorbs
# exact zeros).
KERAS = dict(rtol=1e-6, atol=1e-12)


def test_keras_exponential_decay_continuous():
    # ExponentialDecayTest.test_continuous
    assert_rates(
        S.ExponentialDecay(0.05, 10, 0.96), [5], [0.05 * 0.96 ** (5.0 / 10.0)],
        KERAS,
    )


def test_keras_exponential_decay_staircase():
    # ExponentialDecayTest.test_staircase and .test_variables
    assert_rates(
        S.ExponentialDecay(0.1, 3, 0.96, staircase=True),
        [1, 2, 100],
        [0.1, 0.1, 0.1 * 0.96 ** (100 // 3)],
        KERAS,
    )


def test_keras_piecewise_constant_decay_values():
    # PiecewiseConstantDecayTest.test_piecewise_values (step -999 included)
    schedule = S.PiecewiseConstantDecay([100, 110, 120], [1.0, 0.1, 0.01, 0.001])
    steps = [-999, 100, 105, 110, 120, 999]
    assert_rates(schedule, steps, [1.0, 1.0, 0.1, 0.1, 0.01, 0.001], KERAS)


def test_keras_piecewise_constant_decay_boundary_values_int64():
    # PiecewiseConstantDecayTest.test_boundary_values (an int64 step)
    schedule = S.PiecewiseConstantDecay([1, 2, 3], [0.4, 0.5, 0.6, 0.7])
    steps = np.arange(5, dtype="int64")
    assert_rates(schedule, steps, [0.4, 0.4, 0.5, 0.6, 0.7], KERAS)


def test_keras_piecewise_values_through_piecewise_constant_one_step_earlier():
    # PiecewiseConstantDecayTest.test_piecewise_values and
    # .test_boundary_values through keras_lr's own PiecewiseConstant.
    # Documented difference (docs/pages/schedules.md; PiecewiseConstant's docstring): a
    # boundary is the first step of the next value, so keras_lr switches at
    # the boundary step, where Keras still gives the earlier value.
    schedule = S.PiecewiseConstant([100, 110, 120], [1.0, 0.1, 0.01, 0.001])
    steps = [-999, 99, 100, 105, 110, 120, 999]
    assert_rates(schedule, steps, [1.0, 1.0, 0.1, 0.1, 0.01, 0.001, 0.001], KERAS)
    schedule = S.PiecewiseConstant([1, 2, 3], [0.4, 0.5, 0.6, 0.7])
    assert_rates(schedule, np.arange(5), [0.4, 0.5, 0.6, 0.7, 0.7], KERAS)


# LinearDecayTest and SqrtDecayTest: (arguments after initial 0.05 and 10
# decay steps, step, expected). `cycle` is Keras's restart of the decay
# with a period grown to the next multiple of decay_steps.
KERAS_POLYNOMIAL_CASES = {
    "LinearDecayTest.test_halfway": (dict(end_learning_rate=0.0), 5, 0.05 * 0.5),
    "LinearDecayTest.test_end": (dict(end_learning_rate=0.001), 10, 0.001),
    "LinearDecayTest.test_halfway_with_end": (
        dict(end_learning_rate=0.001), 5, (0.05 + 0.001) * 0.5,
    ),
    "LinearDecayTest.test_beyond_end": (dict(end_learning_rate=0.001), 15, 0.001),
    "LinearDecayTest.test_beyond_end_with_cycle": (
        dict(end_learning_rate=0.001, cycle=True), 15, (0.05 - 0.001) * 0.25 + 0.001,
    ),
    "SqrtDecayTest.test_halfway": (
        dict(end_learning_rate=0.0, power=0.5), 5, 0.05 * 0.5**0.5,
    ),
    "SqrtDecayTest.test_end": (dict(end_learning_rate=0.001, power=0.5), 10, 0.001),
    "SqrtDecayTest.test_halfway_with_end": (
        dict(end_learning_rate=0.001, power=0.5), 5,
        (0.05 - 0.001) * 0.5**0.5 + 0.001,
    ),
    "SqrtDecayTest.test_beyond_end": (
        dict(end_learning_rate=0.001, power=0.5), 15, 0.001,
    ),
    "SqrtDecayTest.test_beyond_end_with_cycle": (
        dict(end_learning_rate=0.001, power=0.5, cycle=True), 15,
        (0.05 - 0.001) * 0.25**0.5 + 0.001,
    ),
}


@pytest.mark.parametrize("case", sorted(KERAS_POLYNOMIAL_CASES))
def test_keras_polynomial_decay(case):
    # The Keras test named by `case`; end_learning_rate is passed third,
    # positionally, as the peer does.
    kwargs, step, expected = KERAS_POLYNOMIAL_CASES[case]
    kwargs = dict(kwargs)
    end = kwargs.pop("end_learning_rate")
    assert_rates(S.PolynomialDecay(0.05, 10, end, **kwargs), [step], [expected], KERAS)


def test_keras_polynomial_decay_begin_with_cycle():
    # SqrtDecayTest.test_begin_with_cycle: Keras's default end rate (1e-4)
    # and cycle=True still start at the initial rate.
    assert_rates(S.PolynomialDecay(0.001, 10, cycle=True), [0], [0.001], KERAS)


def test_keras_polynomial_decay_default_end_learning_rate_is_keras():
    # Keras's PolynomialDecay ends at 1e-4 unless told otherwise (its
    # signature; every Linear/SqrtDecayTest passes the end rate explicitly).
    assert_rates(S.PolynomialDecay(0.05, 10), [10, 15], [1e-4, 1e-4], KERAS)


@pytest.mark.parametrize("staircase", [False, True])
def test_keras_inverse_time_decay(staircase):
    # InverseTimeDecayTest.test_decay and .test_staircase: k=10 decay steps,
    # decay_rate=0.96, steps 0..10
    steps = np.arange(11)
    periods = steps // 10 if staircase else steps / 10
    assert_rates(
        S.InverseTimeDecay(0.1, 10, 0.96, staircase=staircase),
        steps,
        0.1 / (1 + 0.96 * periods),
        KERAS,
    )


KERAS_STEPS = np.arange(0, 1500, 250)  # Keras's `range(0, 1500, 250)`


@pytest.mark.parametrize("initial", [1.0, np.float64(1.0)], ids=["float", "float64"])
def test_keras_cosine_decay(initial):
    # CosineDecayTest.test_decay and .test_float64 (1000 decay steps)
    expected = [cosine(min(s, 1000) / 1000) for s in KERAS_STEPS]
    assert_rates(S.CosineDecay(initial, 1000), KERAS_STEPS, expected, KERAS)
    # CosineAnnealing's docstring: equals CosineDecay without warmup.
    assert_rates(S.CosineAnnealing(initial, 1000), KERAS_STEPS, expected, KERAS)


def test_keras_cosine_decay_alpha():
    # CosineDecayTest.test_alpha: alpha=0.1
    expected = [0.9 * cosine(min(s, 1000) / 1000) + 0.1 for s in KERAS_STEPS]
    assert_rates(S.CosineDecay(1.0, 1000, 0.1), KERAS_STEPS, expected, KERAS)
    # CosineAnnealing's docstring: alpha = min_learning_rate / initial.
    assert_rates(
        S.CosineAnnealing(1.0, 1000, min_learning_rate=0.1), KERAS_STEPS,
        expected, KERAS,
    )


def test_keras_cosine_decay_warmup():
    # CosineDecayTest.test_warmup: from 0.0 to warmup_target=10.0 over 1500
    # steps (10 decay steps, never reached at steps 0..1250)
    expected = [10.0 * s / 1500 for s in KERAS_STEPS]
    schedule = S.CosineDecay(0.0, 10, warmup_target=10.0, warmup_steps=1500)
    assert_rates(schedule, KERAS_STEPS, expected, KERAS)
    # Warmup's docstring: Warmup(CosineAnnealing(target, ...), warmup_steps,
    # initial) equals CosineDecay(initial, ..., warmup_target=target).
    schedule = S.Warmup(S.CosineAnnealing(10.0, 10), 1500, initial_learning_rate=0.0)
    assert_rates(schedule, KERAS_STEPS, expected, KERAS)


def test_keras_cosine_decay_warmup_decay():
    # CosineDecayTest.test_warmup_decay: warmup 0 -> 10 over 2000 steps, then
    # a cosine over 1000 steps, at steps 0, 250, ..., 2750
    steps = np.arange(0, 3000, 250)
    expected = [
        10.0 * s / 2000 if s < 2000 + 1 else 10.0 * cosine(min(s - 2000, 1000) / 1000)
        for s in steps
    ]
    schedule = S.CosineDecay(0.0, 1000, warmup_target=10.0, warmup_steps=2000)
    assert_rates(schedule, steps, expected, KERAS)
    schedule = S.Warmup(S.CosineAnnealing(10.0, 1000), 2000, initial_learning_rate=0.0)
    assert_rates(schedule, steps, expected, KERAS)


def keras_restart_targets(steps, decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0):
    """CosineDecayRestartsTest's targets: find the period holding each step."""
    targets = []
    for step in steps:
        period, scale = decay_steps, 1.0
        while step >= period:
            step, period, scale = step - period, period * t_mul, scale * m_mul
        targets.append((1.0 - alpha) * scale * cosine(step / period) + alpha)
    return targets


KERAS_RESTART_CASES = {
    "test_decay": dict(),
    "test_alpha": dict(alpha=0.1),
    "test_mmul": dict(m_mul=0.9),
    "test_tmul": dict(t_mul=1.0),
}


@pytest.mark.parametrize("case", sorted(KERAS_RESTART_CASES))
def test_keras_cosine_decay_restarts(case):
    # CosineDecayRestartsTest.<case> (test_float64 is test_decay with a
    # NumPy float64 rate): 1000 first decay steps, steps 0..1250.
    kwargs = KERAS_RESTART_CASES[case]
    expected = keras_restart_targets(KERAS_STEPS, 1000, **kwargs)
    for initial in (1.0, np.float64(1.0)):
        schedule = S.CosineDecayRestarts(initial, 1000, **kwargs)
        assert_rates(schedule, KERAS_STEPS, expected, KERAS)
    # CosineRestarts's docstring: equals CosineDecayRestarts with
    # alpha = min_learning_rate / initial_learning_rate.
    ours = dict(kwargs)
    ours["min_learning_rate"] = ours.pop("alpha", 0.0)
    assert_rates(S.CosineRestarts(1.0, 1000, **ours), KERAS_STEPS, expected, KERAS)


# Each Keras class's test_config arguments.
KERAS_CONFIGS = {
    "ExponentialDecay": dict(
        initial_learning_rate=0.05, decay_steps=10, decay_rate=0.96,
        staircase=True, name="my_ed",
    ),
    "PiecewiseConstantDecay": dict(boundaries=[10, 20], values=[1, 2, 3], name="my_pcd"),
    "PolynomialDecay": dict(
        initial_learning_rate=0.1, decay_steps=100, end_learning_rate=0.005,
        power=1.0, cycle=False, name="my_ld",
    ),
    "InverseTimeDecay": dict(
        initial_learning_rate=0.05, decay_steps=10, decay_rate=0.96,
        staircase=True, name="my_itd",
    ),
    "CosineDecay": dict(
        initial_learning_rate=0.05, decay_steps=10, alpha=0.1,
        warmup_target=0.2, warmup_steps=2, name="my_cd",
    ),
}


@pytest.mark.parametrize("name", sorted(KERAS_CONFIGS))
def test_keras_config(name):
    # <Class>Test.test_config: Keras's serialization round trip, with the
    # peer's arguments. keras_lr's config holds every key of Keras's with
    # the same value (its extras may follow), and survives the round trip.
    kwargs = KERAS_CONFIGS[name]
    ours = getattr(S, name)(**kwargs)
    theirs = getattr(keras.optimizers.schedules, name)(**kwargs)
    config = ours.get_config()
    for key, value in theirs.get_config().items():
        got = config[key]
        if isinstance(value, (list, tuple)):
            got, value = list(got), list(value)
        assert got == value, key
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(ours)
    )
    assert type(restored) is type(ours)
    assert restored.get_config() == config
    steps = np.arange(30)
    np.testing.assert_array_equal(restored.numpy(steps), ours.numpy(steps))


def test_keras_config_cosine_decay_restarts_growing_restarts():
    # CosineDecayRestartsTest.test_config builds CosineDecayRestarts with
    # m_mul=4.0 (each restart's peak 4x the previous). keras_lr's drop-in
    # accepts it as Keras does, with Keras's config, and equals Keras's
    # rates until they leave float32's range, where keras_lr's stop at
    # float32's largest number (docs/pages/migrating/keras.md) and Keras's
    # become inf.
    kwargs = dict(
        initial_learning_rate=0.05, first_decay_steps=10, alpha=0.1,
        t_mul=3.0, m_mul=4.0, name="my_cdr",
    )
    ours = S.CosineDecayRestarts(**kwargs)
    theirs = keras.optimizers.schedules.CosineDecayRestarts(**kwargs)
    assert ours.get_config() == theirs.get_config()
    # Restarts at 10, 40, 130, 400: peaks 0.05 * (0.1 + 0.9 * 4**i).
    starts = np.array([0, 10, 40, 130, 400])
    np.testing.assert_allclose(
        ours.numpy(starts), 0.05 * (0.1 + 0.9 * 4.0 ** np.arange(5)), rtol=1e-12
    )
    # Peaks 1e10 times higher each restart leave float32's range at the
    # restart of step 400: that peak is float32's largest number, and the
    # cycle's cosine runs down from it.
    largest = float(np.finfo(np.float32).max)
    steep = S.CosineDecayRestarts(0.05, 10, t_mul=3.0, m_mul=1e10, alpha=0.1)
    rates = steep.numpy([130, 400, 401])
    assert rates[0] == pytest.approx(0.05 * (0.1 + 0.9 * 1e30), rel=1e-12)
    assert rates[1] == largest
    cosine = (1 + math.cos(math.pi / 810)) / 2  # cycle 4 lasts 10 * 3**4
    assert rates[2] == pytest.approx(0.005 + (largest - 0.005) * cosine, rel=1e-9)
    graph = keras.ops.convert_to_numpy(steep(keras.ops.convert_to_tensor([400, 401])))
    np.testing.assert_allclose(graph, rates[1:], rtol=1e-6)


def test_keras_fit_lr_correctness():
    # TestFitLRSchedulesFlow.test_fit_lr_correctness: Adam on a Dense(2)
    # with ones, ExponentialDecay(0.05, decay_steps=1, decay_rate=0.9), 3
    # epochs of 4 batches; the peer's losses, to its rtol=5e-5.
    model = keras.Sequential(
        [keras.layers.Dense(2, kernel_initializer="ones", bias_initializer="ones")]
    )
    optimizer = keras.optimizers.Adam(
        learning_rate=S.ExponentialDecay(
            initial_learning_rate=0.05, decay_steps=1, decay_rate=0.9
        )
    )
    assert len(optimizer.variables) == 1  # the iteration count only
    model.compile(optimizer=optimizer, loss="mse")
    x = np.arange(32).reshape((16, 2))
    history = model.fit(x, x, epochs=3, batch_size=4, shuffle=False, verbose=0)
    assert int(ops.convert_to_numpy(optimizer.iterations)) == 4 * 3
    np.testing.assert_allclose(
        history.history["loss"],
        [230.79457092285156, 128.30319213867188, 79.33648681640625],
        rtol=5e-5,
    )
