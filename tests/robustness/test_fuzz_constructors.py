"""Constructor fuzz: every accepted argument list gives finite, in-bound rates.

For every public keras_lr schedule, hypothesis builds argument lists mixing
plausible values with hostile ones (NaN, infinities, subnormals, 1e308,
10**400, huge ints, bools, strings, arrays, None). Each either raises the
Keras-style `ValueError`/`TypeError` naming one of the constructor's
arguments, or builds a schedule whose rates at steps 0, 1, 2**24 and
2**31 - 1 are finite and within its documented bounds, on the host and in
the graph. Any other exception fails the test.
"""

import inspect
import re

import keras
import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from keras import ops

from keras_lr import schedules as S
from keras_lr.callbacks import ReducedSchedule
from tests.schedules.bounds import assert_within
from tests.support.backends import STEP_DTYPE

pytestmark = pytest.mark.backend_neutral

STEPS = np.array([0, 1, 2**24, 2**31 - 1])

HOSTILE = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True),
    st.integers(-(2**70), 2**70),
    st.sampled_from([
        0, 1, -1, 0.5, 1e308, -1e308, 5e-324, 1e-310, 3.5e38, 10**400,
        # float32's largest value, and the smallest float64 that rounds to inf
        # in float32.
        3.4028234663852886e38, 3.4028235677973366e38,
        -(10**400), 2**53, 2**53 + 1, 2**63, True, False, None, "0.1", "",
        b"1", [], [1.0], [1, 2, 3], [float("inf")], [float("nan")], (5,),
        np.float32(0.5), np.int64(7), np.array([1.0]), np.array(3),
        {"a": 1}, float("nan"), float("inf"), -float("inf"),
    ]),
)

rates = st.one_of(st.floats(0.0, 1.0), st.sampled_from([0.0, 1e-310, 3e38]))
step_counts = st.one_of(st.integers(1, 10**6), st.floats(0.5, 1e6))
whole_steps = st.integers(1, 10**6)
increasing = st.lists(st.integers(0, 10**6), min_size=1, max_size=6, unique=True).map(sorted)
inner = st.sampled_from([
    S.CosineAnnealing(0.1, 1000),
    S.StepDecay(0.05, 7, 0.5),
    S.Constant(0.01),
    S.CyclicalLearningRate(0.001, 0.01, 50),
])

PLAUSIBLE = {
    "learning_rate": rates,
    "initial_learning_rate": rates,
    "maximal_learning_rate": st.floats(0.0, 10.0),
    "peak_learning_rate": rates,
    "min_learning_rate": st.floats(0.0, 0.001),
    "end_learning_rate": rates,
    "warmup_target": st.one_of(st.none(), rates),
    "decay_steps": step_counts,
    "first_decay_steps": step_counts,
    "warmup_steps": st.one_of(st.integers(0, 1000), st.floats(0.0, 1000.0)),
    "step_size": whole_steps,
    "step_size_down": st.one_of(st.none(), whole_steps),
    "total_steps": st.integers(2, 10**6),
    "steps_per_epoch": st.integers(1, 1000),
    "decay_rate": st.floats(0.0, 2.0),
    "gamma": st.floats(0.5, 1.0),
    # PolynomialDecay takes >= 0, Warmup (0, 100], the power decays [-100, 0].
    "power": st.floats(-3.0, 5.0),
    "exponent": st.floats(0.0, 5.0),
    "timescale": step_counts,
    "total_decay_steps": whole_steps,
    "linear_decay_fraction": st.floats(0.0, 1.0),
    "offset": st.integers(0, 10**6),
    "start_step": st.integers(0, 10**6),
    "overlay": st.booleans(),
    "interpolation": st.sampled_from(["linear", "cosine"]),
    "warmup_shape": st.sampled_from(["linear", "cosine", "1-sqrt"]),
    "t_mul": st.one_of(st.floats(1.0, 3.0), st.sampled_from([1.0, 2.0, 1e300])),
    "m_mul": st.floats(0.0, 1.5),
    "alpha": st.floats(0.0, 1.5),
    "pct_start": st.floats(0.01, 0.99),
    "div_factor": st.floats(1e-3, 1e3),
    "final_div_factor": st.floats(1e-3, 1e4),
    "boundaries": increasing,
    "milestones": increasing,
    "values": st.lists(rates, min_size=1, max_size=7),
    "staircase": st.booleans(),
    "cycle": st.booleans(),
    "three_phase": st.booleans(),
    "mode": st.sampled_from(["triangular", "triangular2", "exp_range"]),
    "anneal_strategy": st.sampled_from(["cos", "linear"]),
    "decay_shape": st.sampled_from(["linear", "cosine", "1-sqrt"]),
    # Warmup's shapes and Cooldown's: each refuses the other's.
    "shape": st.sampled_from(
        ["linear", "cosine", "exponential", "polynomial", "1-sqrt"]
    ),
    "name": st.text(min_size=1, max_size=5),
    "schedule": inner,
    "schedules": st.lists(inner, min_size=2, max_size=3),
    "scale": st.floats(0.0, 1.0),
    "plateau_state": st.none(),
    "base_momentum": st.floats(0.0, 1.0),
    "max_momentum": st.floats(0.0, 1.0),
}

CLASSES = list(S.ALL_SCHEDULES) + [ReducedSchedule]
# The constructors are the same on every backend; the graph's ops are not,
# but each has its own tests. Fewer examples when this runs again.
EXAMPLES = 60 if keras.backend.backend() == "tensorflow" else 20


def _parameters(cls):
    return [
        p for name, p in inspect.signature(cls.__init__).parameters.items()
        if name != "self"
    ]


@st.composite
def arguments(draw, cls):
    kwargs = {}
    for parameter in _parameters(cls):
        has_default = parameter.default is not inspect.Parameter.empty
        if has_default and draw(st.booleans()):
            continue
        choice = draw(st.integers(0, 3))  # hostile one time in four
        strategy = HOSTILE if choice == 0 else PLAUSIBLE[parameter.name]
        kwargs[parameter.name] = draw(strategy)
    return kwargs


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
@settings(derandomize=True, max_examples=EXAMPLES, deadline=None)
@given(data=st.data())
def test_accepted_means_finite_and_in_bounds(cls, data):
    kwargs = data.draw(arguments(cls))
    names = {p.name for p in _parameters(cls)}
    try:
        schedule = cls(**kwargs)
    except (ValueError, TypeError) as error:
        named = re.match(r"Argument `([a-z_]+)", str(error))
        assert named and named.group(1) in names, f"{cls.__name__}: {error}"
        return
    assert_within(schedule.numpy(STEPS), schedule)
    graph = ops.convert_to_numpy(
        schedule(ops.convert_to_tensor(STEPS, dtype=STEP_DTYPE))
    )
    assert_within(graph, schedule, float32=True)


def test_every_class_has_plausible_values():
    """A new constructor argument needs an entry in PLAUSIBLE."""
    for cls in CLASSES:
        for parameter in _parameters(cls):
            assert parameter.name in PLAUSIBLE, (cls.__name__, parameter.name)


@pytest.mark.parametrize(
    "build, name",
    [
        (lambda: S.Constant(10**400), "learning_rate"),
        (lambda: S.PiecewiseConstant([5], [float("inf"), 0.1]), "values"),
        (lambda: S.PiecewiseLinear([0, 5], [float("nan"), 0.1]), "values"),
        (lambda: S.CyclicalLearningRate(0.0, 4e38, 3), "maximal_learning_rate"),
        (lambda: S.CyclicalLearningRate(0.0, 0.1, 1e308), "step_size"),
        (lambda: S.OneCycle(0.1, 100, div_factor=1e-310), "div_factor"),
        (lambda: S.PiecewiseLinear([2**53, 2**53 + 1], [0.1, 0.2]), "boundaries"),
    ],
)
def test_arguments_beyond_what_a_schedule_computes_are_refused_by_name(build, name):
    with pytest.raises(ValueError, match=rf"^Argument `{name}` must "):
        build()


def test_extreme_accepted_arguments_stay_finite():
    """Accepted extremes: finite and in bounds everywhere."""
    for schedule in [
        S.CosineRestarts(0.1, 3, t_mul=1e308),
        S.Warmup(S.Constant(0.1), 100, initial_learning_rate=1e-310,
                 shape="exponential"),
        S.PiecewiseLinear([2**52, 2**52 + 1], [0.1, 0.2]),
        S.ExponentialDecay(1e-7, 1, 1.2),  # an LR-finder sweep: saturates
        S.OneCycle(0.1, 100, div_factor=1e-30, final_div_factor=1e-3),
    ]:
        assert_within(schedule.numpy(STEPS), schedule)
        graph = ops.convert_to_numpy(
            schedule(ops.convert_to_tensor(STEPS, dtype=STEP_DTYPE))
        )
        assert_within(graph, schedule, float32=True)
