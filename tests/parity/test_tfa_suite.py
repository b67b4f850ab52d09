"""tensorflow-addons' own published test values, checked against keras_lr's
schedules: `tensorflow_addons/optimizers/tests/cyclical_learning_rate_test.py`.
Values, not code: see `peer_suite.py`.

TFA's names are keras_lr's (docs/pages/migrating/tensorflow-addons.md).
TFA calls its schedules with the optimizer step, as keras_lr does.
"""

import keras
import numpy as np
import pytest

from keras_lr import schedules as S
from tests.parity.peer_suite import assert_rates

pytestmark = pytest.mark.backend_neutral

# The tolerance, from TFA's own assertion:
# `np.testing.assert_allclose(actual, expected, 1e-6)`.
TFA = dict(rtol=1e-6, atol=0.0)


@pytest.mark.parametrize("serialize", [False, True])
def test_tfa_triangular_cyclical_learning_rate(serialize):
    # test_triangular_cyclical_learning_rate (serialize: both parameters)
    schedule = S.CyclicalLearningRate(
        initial_learning_rate=0.1, maximal_learning_rate=1, step_size=40
    )
    if serialize:
        schedule = keras.saving.deserialize_keras_object(
            keras.saving.serialize_keras_object(schedule)
        )
    expected = np.concatenate(
        [np.linspace(0.1, 1.0, num=41), np.linspace(1.0, 0.1, num=41)[1:]]
    )
    assert_rates(schedule, np.arange(len(expected)), expected, TFA)


def test_tfa_triangular2_cyclical_learning_rate_expected_values():
    # CyclicalLearningRateTest.testTriangular2CyclicalLearningRate, which
    # TFA skips as failing (tensorflow/addons#1203): its expected rates rise
    # and fall in half-cycles of 2000 steps and start one step in
    # (`linspace(...)[1:]` from step 0), while it built the schedule with
    # step_size=4000. We check those expected rates against the schedule
    # they describe: step_size=2000, read at steps 1..8000.
    middle = (1.0 + 0.1) / 2
    expected = np.concatenate(
        [
            np.linspace(0.1, 1.0, num=2001)[1:],
            np.linspace(1.0, 0.1, num=2001)[1:],
            np.linspace(0.1, middle, num=2001)[1:],
            np.linspace(middle, 0.1, num=2001)[1:],
        ]
    )
    schedule = S.CyclicalLearningRate(0.1, 1.0, 2000, mode="triangular2")
    assert_rates(schedule, np.arange(1, 8001), expected, TFA)


def test_tfa_exponential_cyclical_learning_rate_expected_values():
    # CyclicalLearningRateTest.testExponentialCyclicalLearningRate, skipped
    # by TFA for the same reason (tensorflow/addons#1203): its expected rate
    # at i uses half-cycles of 2000 steps and gamma ** i, i = 1..8000. As
    # TFA's ExponentialCyclicalLearningRate scales by gamma ** step, we read
    # those rates at steps i with step_size=2000.
    steps = np.arange(1, 8001)
    position = np.abs(steps / 2000.0 - 2 * np.floor(1 + steps / (2 * 2000)) + 1)
    expected = 0.1 + 0.9 * np.maximum(0, 1 - position) * 0.996**steps
    schedule = S.CyclicalLearningRate(
        0.1, 1.0, 2000, mode="exp_range", gamma=0.996
    )
    assert_rates(schedule, steps, expected, TFA)
