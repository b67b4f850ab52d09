"""tf-models' own published test values, checked against keras_lr's
schedules: `official/modeling/optimization/lr_schedule_test.py` and the
schedule tests of `official/modeling/optimization/optimizer_factory_test.py`.
Values, not code: see `peer_suite.py`.

Its "stepwise" schedule is Keras's PiecewiseConstantDecay, its "cosine"
Keras's CosineDecay. Its linear warmup runs *over* the schedule (the
schedule keeps its own step count), keras_lr's Warmup runs *before* it (the
schedule starts at its step 0 when warmup ends), so migrating a warmup
moves the schedule's boundaries back by warmup_steps. tf-models calls its
schedules with the optimizer step, as keras_lr does.
"""

import pytest

from keras_lr import schedules as S
from tests.parity.peer_suite import assert_rates

pytestmark = pytest.mark.backend_neutral

# The tolerance, from tf-models' own assertion:
# `assertAlmostEqual(actual, expected)`, 7 places, i.e. atol 5e-8. Its
# targets are printed to 8 digits (0.08535534, 0.04999999), so an absolute
# tolerance is the right one; near 1 it is below float32's resolution (one
# ulp of 0.99 is 6e-8), where keras_lr's documented 1e-6 relative applies.
TF_MODELS = dict(rtol=1e-6, atol=5e-8)



TF_MODELS_CASES = {
    # optimizer_factory_test.py: test_stepwise_lr_schedule
    "test_stepwise_lr_schedule": (
        lambda: S.PiecewiseConstantDecay([10000, 20000], [0.1, 0.01, 0.001]),
        [[0, 0.1], [5000, 0.1], [10000, 0.1], [10001, 0.01], [20000, 0.01],
         [20001, 0.001]],
    ),
    # the same through PiecewiseConstant, whose boundary is the first step
    # of the next value (docs/pages/schedules.md: one step earlier than Keras's)
    "test_stepwise_lr_schedule[PiecewiseConstant]": (
        lambda: S.PiecewiseConstant([10001, 20001], [0.1, 0.01, 0.001]),
        [[0, 0.1], [5000, 0.1], [10000, 0.1], [10001, 0.01], [20000, 0.01],
         [20001, 0.001]],
    ),
    # optimizer_factory_test.py: test_stepwise_lr_with_warmup_schedule
    # (linear warmup from 0.01 over 500 steps)
    "test_stepwise_lr_with_warmup_schedule": (
        lambda: S.Warmup(
            S.PiecewiseConstantDecay([10000 - 500, 20000 - 500], [0.1, 0.01, 0.001]),
            500,
            initial_learning_rate=0.01,
        ),
        [[0, 0.01], [250, 0.055], [500, 0.1], [5500, 0.1], [10000, 0.1],
         [10001, 0.01], [20000, 0.01], [20001, 0.001]],
    ),
    "test_stepwise_lr_with_warmup_schedule[PiecewiseConstant]": (
        lambda: S.Warmup(
            S.PiecewiseConstant([10001 - 500, 20001 - 500], [0.1, 0.01, 0.001]),
            500,
            initial_learning_rate=0.01,
        ),
        [[0, 0.01], [250, 0.055], [500, 0.1], [5500, 0.1], [10000, 0.1],
         [10001, 0.01], [20000, 0.01], [20001, 0.001]],
    ),
    # optimizer_factory_test.py: test_exponential_lr_schedule
    "test_exponential_lr_schedule": (
        lambda: S.ExponentialDecay(
            initial_learning_rate=0.1, decay_steps=1000, decay_rate=0.96,
            staircase=True,
        ),
        [[0, 0.1], [999, 0.1], [1000, 0.096], [1999, 0.096], [2000, 0.09216]],
    ),
    # optimizer_factory_test.py: test_polynomial_lr_schedule
    "test_polynomial_lr_schedule": (
        lambda: S.PolynomialDecay(
            initial_learning_rate=0.1, decay_steps=1000, end_learning_rate=0.001
        ),
        [[0, 0.1], [500, 0.0505], [1000, 0.001]],
    ),
    # optimizer_factory_test.py: test_cosine_lr_schedule
    "test_cosine_lr_schedule": (
        lambda: S.CosineDecay(initial_learning_rate=0.1, decay_steps=1000),
        [[0, 0.1], [250, 0.08535534], [500, 0.04999999], [750, 0.01464466],
         [1000, 0]],
    ),
    "test_cosine_lr_schedule[CosineAnnealing]": (
        lambda: S.CosineAnnealing(initial_learning_rate=0.1, decay_steps=1000),
        [[0, 0.1], [250, 0.08535534], [500, 0.04999999], [750, 0.01464466],
         [1000, 0]],
    ),
    # optimizer_factory_test.py: test_constant_lr_with_warmup_schedule
    "test_constant_lr_with_warmup_schedule": (
        lambda: S.Warmup(S.Constant(0.1), 500, initial_learning_rate=0.01),
        [[0, 0.01], [250, 0.055], [500, 0.1], [5000, 0.1], [10000, 0.1],
         [20000, 0.1]],
    ),
    # lr_schedule_test.py: PowerAndLinearDecayTest, linear_only (power=0,
    # linear_decay_fraction=1: a linear decay from 1 to 0 over 100 steps)
    "PowerAndLinearDecayTest[linear_only]": (
        lambda: S.PolynomialDecay(1.0, 100, end_learning_rate=0.0),
        [[0, 1.0], [1, 0.99], [40, 0.6], [60, 0.4], [100, 0.0]],
    ),
}


@pytest.mark.parametrize("case", sorted(TF_MODELS_CASES))
def test_tf_models(case):
    # official/modeling/optimization: the test named by `case`.
    build, pairs = TF_MODELS_CASES[case]
    steps, expected = zip(*pairs)
    assert_rates(build(), steps, expected, TF_MODELS)
