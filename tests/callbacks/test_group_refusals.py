"""The callbacks that drive one optimizer's rate (or weights) refuse a
MultiOptimizer at on_train_begin, naming its groups and what to use
instead, before any update: ReduceLROnPlateau is the one that reduces every
group (tests/callbacks/test_plateau_groups.py)."""

import keras
import numpy as np
import pytest

import keras_lr
from keras_lr import _keras_private
from keras_lr import schedules as S
from keras_lr.optimizers import groups
from keras_lr.optimizers import scale_rates
from tests.support.models import transformer_model

pytestmark = pytest.mark.backend_neutral

HEAD = "head/.*"

CASES = {
    "LearningRateScheduler": (
        lambda: keras.optimizers.SGD(0.1),
        lambda: keras_lr.callbacks.LearningRateScheduler(S.Constant(0.1)),
        "LearningRateScheduler sets one optimizer's rate",
        "Give the base optimizer the schedule before",
    ),
    "CyclicLR": (
        lambda: keras.optimizers.SGD(0.1),
        lambda: keras_lr.callbacks.CyclicLR(base_lr=0.01, max_lr=0.1, step_size=4),
        "CyclicLR sets one optimizer's rate",
        "CyclicalLearningRate",
    ),
    "CooldownOnTrigger": (
        lambda: keras.optimizers.SGD(S.Constant(0.1)),
        lambda: keras_lr.callbacks.CooldownOnTrigger(decay_steps=4, start_epoch=0),
        "CooldownOnTrigger cools down one optimizer's schedule",
        "ReduceLROnPlateau",
    ),
    "ScheduleFreeEval": (
        lambda: keras.optimizers.ScheduleFreeAdamW(1e-3),
        lambda: keras_lr.callbacks.ScheduleFreeEval(),
        "ScheduleFreeEval swaps one optimizer's averaged weights",
        "one `keras.optimizers.ScheduleFreeAdamW`",
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_a_multi_optimizer_is_refused_at_train_begin_before_any_update(name, data):
    base, callback, what, instead = CASES[name]
    model = transformer_model(1)
    model.compile(scale_rates(model, base(), {HEAD: 0.5}), loss="mse")
    before = [keras.ops.convert_to_numpy(v).copy() for v in model.trainable_variables]
    rates = {n: _keras_private.rate_as_held(sub) for n, sub in groups(model.optimizer).items()}
    message = (
        f"{what}; the model's optimizer is a MultiOptimizer with groups "
        f"['default', '{HEAD}']."
    )
    with pytest.raises(ValueError) as raised:
        model.fit(*data, batch_size=8, epochs=1, verbose=0, callbacks=[callback()])
    assert str(raised.value).startswith(message)
    assert instead in str(raised.value)
    assert "Received: optimizer=" in str(raised.value)
    # Nothing trained, and every group keeps the rate it had.
    after = [keras.ops.convert_to_numpy(v) for v in model.trainable_variables]
    assert all(np.array_equal(a, b) for a, b in zip(after, before))
    for n, sub in groups(model.optimizer).items():
        assert _keras_private.rate_as_held(sub) is rates[n]


def test_scheduled_groups_are_what_the_refusals_suggest(data):
    # The way round the CyclicLR refusal: a cyclical schedule given to the
    # base optimizer, which every group follows at its share.
    model = transformer_model(1)
    cyclic = S.CyclicalLearningRate(0.01, 0.1, step_size=4)
    model.compile(scale_rates(model, keras.optimizers.SGD(cyclic), {HEAD: 0.5}), loss="mse")
    model.fit(*data, batch_size=8, epochs=1, verbose=0)
    named = groups(model.optimizer)
    for name, share in (("default", 1.0), (HEAD, 0.5)):
        rate = _keras_private.rate_as_held(named[name])
        np.testing.assert_allclose(
            S.evaluate(rate, np.arange(8)), share * S.evaluate(cyclic, np.arange(8)))
