"""PyTorch's `ReduceLROnPlateau` on keras_lr's: the exact argument mapping,
checked against the expected rates of PyTorch's own tests
(`test/optim/test_lrscheduler.py`, `test_reduce_lr_on_plateau1` to `8`).

    torch ReduceLROnPlateau(opt, mode, factor, patience=p, threshold=t,
                            threshold_mode, cooldown=c, min_lr, eps)
    keras_lr ReduceLROnPlateau(monitor, factor=factor, patience=p + 1,
                               mode=mode, min_delta=t, cooldown=c + 1,
                               min_lr=min_lr, threshold_mode=threshold_mode,
                               eps=eps)

PyTorch counts an epoch as bad before it looks at the cooldown (the epoch
that ends a cooldown never counts) and reduces after more than `patience`
bad epochs; Keras looks at the cooldown first (the epoch that ends it
counts) and reduces after `patience`. Both shifts are one epoch.
"""

import math

import keras
import numpy as np
import pytest

from keras_lr import schedules as S
from keras_lr.callbacks import ReduceLROnPlateau
from tests.support.callbacks import Feed
from tests.support.models import rates_used
from tests.support.models import tiny_model

pytestmark = pytest.mark.backend_neutral

TORCH_DEFAULTS = dict(mode="min", factor=0.1, patience=10, threshold=1e-4,
                      threshold_mode="rel", cooldown=0, min_lr=0.0, eps=1e-8)


def from_torch(**torch_kwargs):
    """keras_lr's ReduceLROnPlateau for PyTorch's arguments (the migration
    table of docs/pages/migrating/pytorch.md, as code)."""
    t = {**TORCH_DEFAULTS, **torch_kwargs}
    return ReduceLROnPlateau(
        "score", factor=t["factor"], patience=t["patience"] + 1, mode=t["mode"],
        min_delta=t["threshold"], cooldown=t["cooldown"] + 1, min_lr=t["min_lr"],
        threshold_mode=t["threshold_mode"], eps=t["eps"])


# PyTorch's cases: (arguments, metric of each epoch, the rate after each
# epoch's `scheduler.step(metric)`, epochs checked). The optimizer starts
# at 0.5. Values from PyTorch's test_lrscheduler.py.
CASES = {
    "plateau1": (dict(threshold_mode="abs", mode="min", threshold=0.01, patience=5,
                      cooldown=5),
                 [10 - i * 0.0167 for i in range(20)], [0.5] * 20, 10),
    "plateau2": (dict(patience=5, cooldown=0, threshold_mode="abs", mode="min",
                      threshold=0.1),
                 [10 - i * 0.0165 for i in range(22)],
                 [0.5] * 6 + [0.05] * 7 + [0.005] * 7 + [0.0005] * 2, 22),
    "plateau3": (dict(mode="max", patience=5, cooldown=5, threshold_mode="abs"),
                 [-0.8] * 2 + [-0.234] * 20,
                 [0.5] * (2 + 6) + [0.05] * (5 + 6) + [0.005] * 4, 22),
    "plateau4": (dict(mode="max", patience=3, threshold_mode="rel", threshold=0.1),
                 [1.5 * (1.025**i) for i in range(20)], [0.5] * 20, 20),
    "plateau5": (dict(mode="max", threshold_mode="rel", threshold=0.1, patience=5,
                      cooldown=5),
                 [1.5 * (1.005**i) for i in range(20)],
                 [0.5] * 6 + [0.05] * (5 + 6) + [0.005] * 4, 20),
    "plateau6": (dict(mode="min", threshold_mode="rel", threshold=0.1),
                 [1.5 * (0.85**i) for i in range(20)], [0.5] * 20, 20),
    "plateau7": (dict(mode="min", threshold_mode="rel", threshold=0.1, patience=5,
                      cooldown=5),
                 [1] * 7 + [0.6] + [0.5] * 12,
                 [0.5] * 6 + [0.05] * (5 + 6) + [0.005] * 4, 20),
    # plateau8 has two parameter groups with min_lr=[0.4, 0.3]: one run each.
    "plateau8_group0": (dict(mode="max", threshold_mode="rel", min_lr=0.4,
                             threshold=0.1, patience=5, cooldown=5),
                        [1.5 * (1.005**i) for i in range(20)],
                        [0.5] * 6 + [0.4] * 14, 20),
    "plateau8_group1": (dict(mode="max", threshold_mode="rel", min_lr=0.3,
                             threshold=0.1, patience=5, cooldown=5),
                        [1.5 * (1.005**i) for i in range(20)],
                        [0.5] * 6 + [0.3] * 14, 20),
}


def drive(callback, rate, metrics):
    """The rate after each epoch's end, with `metrics[e]` in epoch e's logs:
    PyTorch's test loop (`scheduler.step(metric)`, then read the rate)."""
    model = tiny_model(rate)
    callback.set_model(model)
    callback.on_train_begin()
    rates = []
    for epoch, metric in enumerate(metrics):
        callback.on_epoch_begin(epoch)
        callback.on_epoch_end(epoch, {"score": metric})
        step = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
        rates.append(float(S.evaluate(model.optimizer._learning_rate, step))
                     if callback.schedule is not None
                     else float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)))
    return rates


@pytest.mark.parametrize("rate", [0.5, S.Constant(0.5)], ids=["float", "schedule"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_pytorch_s_own_expected_rates(case, rate):
    torch_kwargs, metrics, targets, epochs = CASES[case]
    rates = drive(from_torch(**torch_kwargs), rate, metrics[:epochs])
    # PyTorch checks to 1e-5; the float rate here is float32, as in Keras.
    np.testing.assert_allclose(rates, targets[:epochs], rtol=1e-6)


def test_patience_plus_one_alone_reduces_too_early_in_pytorch_s_cooldown_cases():
    # The former mapping (cooldown unchanged) reduces too early once a
    # cooldown is involved: PyTorch's plateau3, 5 and 7 say so.
    for case in ("plateau3", "plateau5", "plateau7"):
        torch_kwargs, metrics, targets, epochs = CASES[case]
        t = {**TORCH_DEFAULTS, **torch_kwargs}
        old = ReduceLROnPlateau(
            "score", factor=t["factor"], patience=t["patience"] + 1, mode=t["mode"],
            min_delta=t["threshold"], cooldown=t["cooldown"], min_lr=t["min_lr"],
            threshold_mode=t["threshold_mode"], eps=t["eps"])
        rates = drive(old, 0.5, metrics[:epochs])
        assert not np.allclose(rates, targets[:epochs], rtol=1e-6), case


def test_through_fit(data):
    # One case end to end: the rate each epoch's updates used.
    torch_kwargs, metrics, targets, epochs = CASES["plateau7"]
    model = tiny_model(0.5)
    model.fit(data[0][:8], data[1][:8], batch_size=8, epochs=epochs, verbose=0,
              callbacks=[Feed(metrics), from_torch(**torch_kwargs)])
    np.testing.assert_allclose(rates_used(model, epochs), [0.5] + targets[: epochs - 1],
                               rtol=1e-6)


def torch_rule(metrics, mode="min", factor=0.1, patience=10, threshold=1e-4,
               threshold_mode="rel", cooldown=0, min_lr=0.0, eps=1e-8, lr=0.5):
    """The rate after each epoch by PyTorch's documented rule (its `step`)."""
    def better(a, best):
        if mode == "min":
            return a < (best * (1 - threshold) if threshold_mode == "rel"
                        else best - threshold)
        return a > (best * (1 + threshold) if threshold_mode == "rel"
                    else best + threshold)

    best = math.inf if mode == "min" else -math.inf
    bad = cool = 0
    rates = []
    for a in metrics:
        if better(a, best):
            best, bad = a, 0
        else:
            bad += 1
        if cool > 0:
            cool, bad = cool - 1, 0
        if bad > patience:
            new = max(lr * factor, min_lr)
            if lr - new > eps:
                lr = new
            cool, bad = cooldown, 0
        rates.append(lr)
    return rates


@pytest.mark.parametrize("seed", range(6))
def test_random_walks_against_pytorch_s_rule(seed):
    rng = np.random.RandomState(seed)
    metrics = list(1.0 + np.abs(np.cumsum(rng.normal(0, 0.05, 40))))
    kwargs = dict(mode=["min", "max"][seed % 2], factor=0.5,
                  patience=int(rng.randint(0, 3)), cooldown=int(rng.randint(0, 3)),
                  threshold=0.01, threshold_mode=["rel", "abs"][seed // 2 % 2],
                  min_lr=0.05)
    np.testing.assert_allclose(drive(from_torch(**kwargs), 0.5, metrics),
                               torch_rule(metrics, **kwargs), rtol=1e-6)


def test_an_infinite_value_never_becomes_best_where_pytorch_keeps_it():
    # PyTorch takes -inf as the best of a "min" metric and then never sees
    # an improvement; keras_lr counts it as a bad epoch and goes on.
    metrics = [1.0, -math.inf, 0.9, 0.8, 0.7, 0.6]
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = drive(from_torch(patience=1), 0.5, metrics)
    np.testing.assert_allclose(torch_rule(metrics, patience=1),
                               [0.5, 0.5, 0.5, 0.05, 0.05, 0.005])
    np.testing.assert_allclose(ours, [0.5] * 6, rtol=1e-6)


def test_at_the_floor_pytorch_restarts_its_count_and_keras_lr_does_not():
    # Both stop at min_lr=0.05. Then the rate is raised to 0.5 (by the user,
    # after epoch 4): PyTorch, which started a cooldown and zeroed its count
    # at each blocked reduction, waits patience + 1 bad epochs again;
    # keras_lr, as Keras, had kept counting and reduces at once.
    metrics = [1.0] + [2.0] * 9
    kwargs = dict(factor=0.1, patience=1, min_lr=0.05)
    model = tiny_model(0.5)
    callback = from_torch(**kwargs)
    callback.set_model(model)
    callback.on_train_begin()
    ours = []
    for epoch, metric in enumerate(metrics):
        callback.on_epoch_begin(epoch)
        callback.on_epoch_end(epoch, {"score": metric})
        if epoch == 4:
            model.optimizer.learning_rate = 0.5
        ours.append(float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)))

    def torch_with_raise():
        rates = torch_rule(metrics[:5], **kwargs)
        # PyTorch's state after epoch 4: it blocked a reduction at epoch 4
        # (bad count 2 > 1), so the count restarts from 0 after the raise.
        return rates[:4] + [0.5] + torch_rule([0.0] + metrics[5:], lr=0.5,
                                              **kwargs)[1:]

    np.testing.assert_allclose(ours[:4], [0.5, 0.5, 0.05, 0.05], rtol=1e-6)
    np.testing.assert_allclose(ours[4:], [0.5, 0.05, 0.05, 0.05, 0.05, 0.05],
                               rtol=1e-6)
    np.testing.assert_allclose(torch_with_raise(),
                               [0.5, 0.5, 0.05, 0.05, 0.5, 0.5, 0.05, 0.05, 0.05, 0.05])


def test_the_float32_rate_underflows_where_pytorch_s_float64_goes_on():
    metrics = [1.0] + [2.0] * 12
    kwargs = dict(factor=0.1, patience=0, eps=0.0)
    rates = drive(from_torch(**kwargs), 1e-35, metrics)
    assert torch_rule(metrics, lr=1e-35, **kwargs)[-1] == pytest.approx(1e-47)
    assert rates[-1] == 0.0


def test_one_min_lr_per_callback():
    # PyTorch's per-parameter-group list: one rate per Keras optimizer here.
    with pytest.raises(TypeError, match="Argument `min_lr` must be"):
        from_torch(min_lr=[0.4, 0.3])
