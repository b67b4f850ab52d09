"""Keras's six schedule names are drop-ins: any argument list, same rates.

Hypothesis draws argument lists for each of Keras's built-in schedules
(positional, keyword or mixed; optional arguments given or left at their
defaults) and builds `keras.optimizers.schedules.X(...)` and
`keras_lr.schedules.X(...)` from the same call. On TensorFlow, Keras's own
class computes in float64 when given a float64 rate (its formula, without
float32 rounding), and keras_lr's host and graph must equal it over 10,000
steps. On every backend, keras_lr's graph equals its host twin for the same
random argument lists.
"""

import inspect
from fractions import Fraction

import keras
import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from keras import ops

from keras_lr import schedules as S
from tests.support.backends import graph_rates

STEPS = np.arange(10_000)
K = keras.optimizers.schedules
TENSORFLOW = keras.backend.backend() == "tensorflow"

rate = st.floats(1e-6, 1.0)
step_count = st.one_of(
    st.integers(1, 4000),
    st.integers(4, 16000).map(lambda quarters: quarters / 4),  # n / batch * epochs
)


def _growth_is_bounded(values):
    # Growing rates must stay far from float32's range over the steps
    # compared (keras_lr saturates there, Keras's float64 does not).
    initial, decay_steps, decay_rate = values[:3]
    return decay_rate <= 1 or decay_rate ** (STEPS[-1] / decay_steps) * initial < 1e30


ARGUMENTS = {
    "ExponentialDecay": st.tuples(
        rate, step_count, st.one_of(st.floats(0.0, 1.0), st.floats(1.0, 1.1)),
        st.booleans(), st.just("ExponentialDecay"),
    ).filter(_growth_is_bounded),
    "InverseTimeDecay": st.tuples(
        rate, step_count, st.floats(0.0, 10.0), st.booleans(),
        st.just("InverseTimeDecay"),
    ),
    "PolynomialDecay": st.tuples(
        rate, step_count, st.floats(0.0, 1.0), st.floats(0.0, 4.0),
        st.booleans(), st.just("PolynomialDecay"),
    ),
    "PiecewiseConstantDecay": st.integers(1, 8).flatmap(lambda n: st.tuples(
        st.lists(st.integers(0, 12_000), min_size=n, max_size=n, unique=True).map(sorted),
        st.lists(rate, min_size=n + 1, max_size=n + 1),
        st.just("PiecewiseConstant"),
    )),
    "CosineDecay": st.tuples(
        rate, step_count, st.floats(0.0, 1.0), st.just("CosineDecay"),
        st.one_of(st.none(), rate), st.integers(0, 3000),
    ),
    "CosineDecayRestarts": st.tuples(
        rate, step_count, st.one_of(st.just(1.0), st.just(2.0), st.floats(1.0, 3.0)),
        st.floats(0.0, 1.0), st.floats(0.0, 1.0), st.just("SGDRDecay"),
    ),
}


@st.composite
def calls(draw, name):
    """`(args, kwargs)`: the first k arguments positional, the rest by keyword,
    each optional one given or left out."""
    values = draw(ARGUMENTS[name])
    parameters = [
        p for p in inspect.signature(getattr(K, name).__init__).parameters.values()
        if p.name != "self"
    ]
    positional = draw(st.integers(0, len(values)))
    args, kwargs = list(values[:positional]), {}
    for parameter, value in zip(parameters[positional:], values[positional:]):
        optional = parameter.default is not inspect.Parameter.empty
        if optional and draw(st.booleans()):
            continue
        kwargs[parameter.name] = value
    return args, kwargs


def _float64(name, args, kwargs):
    """The same call with every float, given or default, as a NumPy float64:
    Keras then computes in float64 on TensorFlow (a Python float it casts
    through float32)."""

    def widen(value):
        if isinstance(value, list):
            return [widen(v) for v in value]
        return np.float64(value) if isinstance(value, float) else value

    wide_kwargs = {k: widen(v) for k, v in kwargs.items()}
    parameters = list(inspect.signature(getattr(K, name).__init__).parameters.values())
    for parameter in parameters[1 + len(args):]:
        if parameter.name not in kwargs and isinstance(parameter.default, float):
            wide_kwargs[parameter.name] = np.float64(parameter.default)
    return [widen(v) for v in args], wide_kwargs


def _keras_values(schedule, steps=STEPS):
    """Keras's formula at each step. Its `CosineDecay` and
    `CosineDecayRestarts` branch with `cond`, which takes a scalar step:
    `tf.vectorized_map` runs them on the vector, each branch elementwise with
    the same kernels (a `map_fn` loop would run 10,000 iterations).

    Grappler's arithmetic optimization is off while it runs: it turns
    `step / decay_steps` into `step * (1 / decay_steps)`, which in a
    `tf.function` makes Keras's own staircase switch a step late at some
    exact multiples (InverseTimeDecay(1.0, 1869, 1.0, staircase=True) keeps
    1.0 at step 1869). The reference here is Keras's formula, not that.
    """
    import tensorflow as tf

    try:  # Eagerly on the vector, when Keras's class takes one.
        return ops.convert_to_numpy(
            schedule(tf.constant(steps, dtype=tf.int64))
        ).astype(np.float64)
    except ValueError:
        pass
    options = tf.config.optimizer.get_experimental_options()
    tf.config.optimizer.set_experimental_options({"arithmetic_optimization": False})
    try:
        run = tf.function(
            lambda s: tf.vectorized_map(
                lambda step: tf.cast(schedule(step), tf.float64), s,
                fallback_to_while_loop=False,
            )
        )
        return run(tf.constant(steps, dtype=tf.int64)).numpy()
    finally:
        tf.config.optimizer.set_experimental_options(
            {"arithmetic_optimization": options.get("arithmetic_optimization", True)}
        )


def _restarts(first_decay_steps, t_mul, last):
    """{step: k} for the whole steps up to `last` at which cycle k >= 1
    starts, in exact arithmetic (none unless `t_mul` is a whole number: the
    other ones rarely start a cycle on a whole step)."""
    if not float(t_mul).is_integer():
        return {}
    length, t = Fraction(first_decay_steps), int(t_mul)
    start, k, found = Fraction(0), 0, {}
    while start <= last:
        start, length, k = start + length, length * t, k + 1
        if start.denominator == 1 and start <= last:
            found[int(start)] = k
    return found


def _documented_differences(name, theirs, expected):
    """Keras's values with the differences documented in
    docs/pages/migrating/keras.md applied.

    `CosineDecayRestarts`: Keras finds the cycle with a logarithm, which at
    some restarts rounds down even in float64; there Keras gives the end of
    the previous cycle (its minimum) and keras_lr the new cycle's peak.
    `PolynomialDecay`: TensorFlow's CPU kernels flush a subnormal `power` to
    0, so Keras's rate past the end is `0 ** 0 = 1` times the initial rate;
    keras_lr's is the end rate, as for any other positive power.
    """
    config = theirs.get_config()
    expected = expected.copy()
    if name == "CosineDecayRestarts":
        initial, alpha = config["initial_learning_rate"], config["alpha"]
        for step, k in _restarts(
            config["first_decay_steps"], config["t_mul"], STEPS[-1]
        ).items():
            peak = initial * ((1 - alpha) * config["m_mul"] ** k + alpha)
            if not np.isclose(expected[step], peak, rtol=1e-9, atol=1e-15):
                # Rounded down: the previous cycle's minimum.
                np.testing.assert_allclose(
                    expected[step], initial * alpha, rtol=1e-9, atol=1e-12 * initial)
                expected[step] = peak
    if name == "PolynomialDecay" and 0 < config["power"] < np.finfo(np.float64).tiny:
        decay_steps = config["decay_steps"]
        if config["cycle"]:
            at_end = (STEPS > 0) & (STEPS % decay_steps == 0)
        else:
            at_end = STEPS >= decay_steps
        np.testing.assert_allclose(expected[at_end], config["initial_learning_rate"])
        expected[at_end] = config["end_learning_rate"]
    return expected


@pytest.mark.skipif(not TENSORFLOW, reason="Keras computes in float64 only on TensorFlow")
@pytest.mark.parametrize("name", sorted(ARGUMENTS))
@settings(derandomize=True, max_examples=12, deadline=None)
@given(data=st.data())
def test_same_rates_as_keras_for_any_argument_list(name, data):
    args, kwargs = data.draw(calls(name))
    wide_args, wide_kwargs = _float64(name, args, kwargs)
    theirs = getattr(K, name)(*wide_args, **wide_kwargs)
    ours = getattr(S, name)(*args, **kwargs)
    expected = _documented_differences(name, theirs, _keras_values(theirs))
    host = ours.numpy(STEPS)
    scale = float(np.max(np.abs(expected)))
    # Keras's float64 `1 + cos(...)` and `1 - p` cancel near the minimum:
    # an absolute 1e-15 of the largest rate covers that rounding.
    np.testing.assert_allclose(host, expected, rtol=1e-9, atol=1e-15 * scale)
    np.testing.assert_allclose(
        graph_rates(ours, STEPS), expected, rtol=1e-6, atol=1e-15 * scale)
    # The config holds every Keras key with Keras's value.
    config = ours.get_config()
    for key, value in theirs.get_config().items():
        if isinstance(value, float):
            assert config[key] == pytest.approx(value, rel=1e-15), key
        else:
            assert config[key] == value, key


@pytest.mark.backend_neutral
@pytest.mark.parametrize("name", sorted(ARGUMENTS))
@settings(derandomize=True, max_examples=15, deadline=None)
@given(data=st.data())
def test_graph_equals_host_for_any_keras_argument_list(name, data):
    args, kwargs = data.draw(calls(name))
    ours = getattr(S, name)(*args, **kwargs)
    np.testing.assert_allclose(
        graph_rates(ours, STEPS), ours.numpy(STEPS), rtol=1e-6, atol=1e-12)


@pytest.mark.skipif(not TENSORFLOW, reason="Keras's tf.function behaviour")
def test_keras_staircase_in_a_tf_function_can_switch_late_ours_does_not():
    """The example of docs/pages/migrating/keras.md: a documented difference,
    checked so that the page changes if TensorFlow stops rewriting the division."""
    import tensorflow as tf

    theirs = K.InverseTimeDecay(np.float64(1.0), 1869, np.float64(1.0), staircase=True)
    compiled = tf.function(lambda step: theirs(step))
    assert float(compiled(tf.constant(1869, dtype=tf.int64))) == 1.0
    ours = S.InverseTimeDecay(1.0, 1869, 1.0, staircase=True)
    assert ours.numpy(1869) == 0.5
    assert float(graph_rates(ours, np.array([1869]))[0]) == 0.5


@pytest.mark.skipif(not TENSORFLOW, reason="Keras's tf.function behaviour")
def test_keras_restarts_in_a_tf_function_round_down_ours_restart():
    """The example of docs/pages/migrating/keras.md: with t_mul=2 and first_decay_steps=1, Keras's
    logarithm in a `tf.function` (as in a train step) misses the restarts at
    steps 7, 63, 127, 4095 and 8191 even in float64 (TensorFlow divides by
    log(t_mul) as a multiplication by its reciprocal); keras_lr restarts
    there, at the peak 1.0, as Keras's formula does evaluated eagerly."""
    import tensorflow as tf

    steps = np.array([7, 63, 127, 4095, 8191])
    theirs = K.CosineDecayRestarts(np.float64(1.0), 1)
    compiled = tf.function(lambda s: tf.map_fn(
        lambda step: tf.cast(theirs(step), tf.float64), s,
        fn_output_signature=tf.float64,
    ))
    in_a_function = compiled(tf.constant(steps, dtype=tf.int64)).numpy()
    np.testing.assert_allclose(in_a_function, 0.0, atol=1e-12)
    np.testing.assert_allclose(_keras_values(theirs, steps), 1.0, rtol=1e-12)
    ours = S.CosineDecayRestarts(1.0, 1)
    np.testing.assert_array_equal(ours.numpy(steps), 1.0)
    np.testing.assert_allclose(graph_rates(ours, steps), 1.0, rtol=1e-6)


@pytest.mark.skipif(not TENSORFLOW, reason="Keras's float64 on TensorFlow")
def test_documented_differences_seen_where_the_readme_says():
    """Both of `_documented_differences`' cases, at arguments that show them:
    Keras's float64 restarts with t_mul=3 round down at steps 1, 4, 40, 121
    and 3280; a subnormal `power` keeps Keras at its initial rate past the
    end. keras_lr gives the peak, and the end rate."""
    theirs = K.CosineDecayRestarts(np.float64(1.0), 1, np.float64(3.0),
                                   m_mul=np.float64(1.0), alpha=np.float64(0.0))
    keras_values = _keras_values(theirs)
    missed = [1, 4, 40, 121, 3280]
    np.testing.assert_allclose(keras_values[missed], 0.0, atol=1e-12)
    fixed = _documented_differences("CosineDecayRestarts", theirs, keras_values)
    np.testing.assert_array_equal(fixed[missed], 1.0)
    ours = S.CosineDecayRestarts(1.0, 1, 3.0, m_mul=1.0, alpha=0.0)
    np.testing.assert_allclose(ours.numpy(STEPS), fixed, rtol=1e-9, atol=1e-15)
    assert _restarts(1, 3.0, 200) == {1: 1, 4: 2, 13: 3, 40: 4, 121: 5}

    theirs = K.PolynomialDecay(np.float64(1.0), 1, np.float64(0.0), power=np.float64(5e-324))
    keras_values = _keras_values(theirs, np.arange(4))
    np.testing.assert_array_equal(keras_values, [1.0, 1.0, 1.0, 1.0])
    ours = S.PolynomialDecay(1.0, 1, 0.0, power=5e-324)
    np.testing.assert_array_equal(ours.numpy(np.arange(4)), [1.0, 0.0, 0.0, 0.0])
