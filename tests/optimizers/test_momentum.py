"""Momentum that pairs with a cycle, and the callbacks beside scheduled
hyperparameters.

`CyclicalMomentum` and `OneCycleMomentum` (from `momentum_schedule()`)
against PyTorch's momentum traces (`tests/parity/reference_cyclical.py`,
checked against PyTorch itself by `tests/parity/torch_parity.py`), on the
host and in the graph; their contract (serialization, bounds at any step,
fit-level) is `tests/schedules/test_contract.py` and
`tests/robustness/test_numerics.py` over `tests/schedules/cases.py`.
Then `LearningRateLogger`'s momentum and weight-decay series (read back
with TensorBoard's reader), `ReduceLROnPlateau`, the scheduler callbacks
and `find_learning_rate` with `keras_lr.optimizers`.
"""

import math

import keras
import numpy as np
import pytest
from keras import ops

import keras_lr
from keras_lr import optimizers as O
from keras_lr import schedules as S
from keras_lr.finder import _sweep
from tests.parity import reference_cyclical as ref
from tests.support.backends import as_train_step
from tests.support.models import dense_model
from tests.support.tensorboard import read_scalars

pytestmark = pytest.mark.backend_neutral

MODES = [("triangular", 1.0), ("triangular2", 1.0), ("exp_range", 0.999)]
STEP_SIZES = [(100, None), (30, 170), (170, 30)]
ONE_CYCLES = [(1000, 0.3), (1001, 0.37), (150, 0.25)]
STEPS = np.arange(2000)


def _cases():
    """`{name: (momentum schedule, PyTorch's momentum at STEPS)}`: every
    mode and asymmetry of `CyclicLR`, every anneal and phase count of
    `OneCycleLR`, built through `momentum_schedule()`."""
    cases = {}
    for mode, gamma in MODES:
        for up, down in STEP_SIZES:
            rate = S.CyclicalLearningRate(0.001, 0.01, up, down, mode, gamma)
            momentum = rate.momentum_schedule(base_momentum=0.8, max_momentum=0.9)
            assert momentum == S.CyclicalMomentum(0.8, 0.9, up, down, mode, gamma)
            expected = ref.torch_cyclic_momentum(0.8, 0.9, up, down, mode, gamma, len(STEPS))
            cases[f"cyclic {mode} {up}/{down}"] = (momentum, expected)
    for total, pct in ONE_CYCLES:
        for strategy in ("cos", "linear"):
            for three_phase in (False, True):
                rate = S.OneCycle(0.1, total, pct, strategy, three_phase=three_phase)
                momentum = rate.momentum_schedule()
                assert momentum == S.OneCycleMomentum(
                    total, 0.85, 0.95, pct, strategy, three_phase
                )
                # PyTorch raises past total_steps; keras_lr holds max_momentum.
                expected = np.concatenate([
                    ref.torch_one_cycle_momentum(
                        0.85, 0.95, total, pct, strategy, three_phase, total
                    ),
                    np.full(len(STEPS) - total, 0.95),
                ])
                name = f"one-cycle {total} {pct} {strategy} three={three_phase}"
                cases[name] = (momentum, expected)
    return cases


def test_momentum_schedules_are_pytorch_s_momentum_host_and_graph():
    """Host: PyTorch's float64 values to 1e-12; graph (every case in one
    compiled function, at integer steps as the optimizer passes them): to
    float32's precision of a momentum."""
    cases = _cases()
    schedules = [schedule for schedule, _ in cases.values()]
    dtype = "int64" if keras.backend.backend() == "tensorflow" else "int32"
    graph = as_train_step(lambda step: ops.stack([s(step) for s in schedules]),
                          jit_compile=None)
    values = ops.convert_to_numpy(graph(ops.convert_to_tensor(STEPS, dtype=dtype)))
    for (name, (schedule, expected)), in_graph in zip(cases.items(), values):
        np.testing.assert_allclose(
            schedule.numpy(STEPS), expected, rtol=1e-12, atol=1e-15, err_msg=name
        )
        np.testing.assert_allclose(
            in_graph.astype(np.float64), expected, rtol=2e-7, err_msg=name
        )
    # A flat three-phase end is exactly max_momentum, in float32 too.
    name = "one-cycle 1000 0.3 cos three=True"
    np.testing.assert_array_equal(cases[name][0].numpy(np.arange(598, 3000)), 0.95)
    index = list(cases).index(name)
    np.testing.assert_array_equal(values[index, 598:], np.float32(0.95))


def test_momentum_moves_against_the_rate():
    """Where the rate peaks, the momentum bottoms out, and vice versa."""
    rate = S.OneCycle(0.1, 1000)
    momentum = rate.momentum_schedule(0.8, 0.9)
    steps = np.arange(1000)
    lr, mom = rate.numpy(steps), momentum.numpy(steps)
    assert np.argmax(lr) == np.argmin(mom) == 299
    assert mom[0] == mom[999] == 0.9
    # The same anneal, mirrored: equal fractions of the way between the ends.
    initial, final = 0.1 / 25.0, 0.1 / 25.0 / 1e4
    np.testing.assert_allclose(
        (0.9 - mom[:300]) / 0.1, (lr[:300] - initial) / (0.1 - initial), atol=1e-12
    )
    np.testing.assert_allclose(
        (0.9 - mom[299:]) / 0.1, (lr[299:] - final) / (0.1 - final), atol=1e-12
    )
    cyclical = S.CyclicalLearningRate(0.001, 0.006, 50, mode="triangular2")
    fraction = (cyclical.numpy(steps) - 0.001) / 0.005
    np.testing.assert_allclose(
        cyclical.momentum_schedule().numpy(steps), 0.9 - 0.1 * fraction, atol=1e-12
    )


BAD = [
    (S.OneCycleMomentum, dict(total_steps=100, base_momentum=0.96), "base_momentum", ValueError),
    (S.OneCycleMomentum, dict(total_steps=100, max_momentum=1.5), "max_momentum", ValueError),
    (S.OneCycleMomentum, dict(total_steps=100, base_momentum=-0.1), "base_momentum", ValueError),
    (S.OneCycleMomentum, dict(total_steps=100, base_momentum=math.nan), "base_momentum", ValueError),
    (S.OneCycleMomentum, dict(total_steps=100, max_momentum="0.9"), "max_momentum", TypeError),
    (S.OneCycleMomentum, dict(total_steps=0), "total_steps", ValueError),
    (S.OneCycleMomentum, dict(total_steps=100, pct_start=0.01), "pct_start", ValueError),
    (S.OneCycleMomentum, dict(total_steps=100, anneal_strategy="cosine"), "anneal_strategy", ValueError),
    (S.OneCycleMomentum, dict(total_steps=100, three_phase=1), "three_phase", TypeError),
    (S.CyclicalMomentum, dict(base_momentum=0.9, max_momentum=0.8, step_size=10), "base_momentum", ValueError),
    (S.CyclicalMomentum, dict(base_momentum=0.8, max_momentum=0.9, step_size=0), "step_size", ValueError),
    (S.CyclicalMomentum, dict(base_momentum=0.8, max_momentum=0.9, step_size=10, step_size_down=2.5), "step_size_down", ValueError),
    (S.CyclicalMomentum, dict(base_momentum=0.8, max_momentum=0.9, step_size=10, mode="exp"), "mode", ValueError),
    (S.CyclicalMomentum, dict(base_momentum=0.8, max_momentum=0.9, step_size=10, gamma=0.9), "gamma", ValueError),
    (S.CyclicalMomentum, dict(base_momentum=None, max_momentum=0.9, step_size=10), "base_momentum", TypeError),
]


@pytest.mark.parametrize(
    "cls, kwargs, name, error", BAD,
    ids=[f"{c.__name__}-{n}-{i}" for i, (c, _, n, _e) in enumerate(BAD)],
)
def test_bad_arguments_are_named(cls, kwargs, name, error):
    with pytest.raises(error, match=rf"^Argument `{name}` must "):
        cls(**kwargs)


def test_momentum_schedule_checks_its_arguments():
    with pytest.raises(ValueError, match="^Argument `base_momentum` must "):
        S.OneCycle(0.1, 100).momentum_schedule(base_momentum=0.99)
    with pytest.raises(ValueError, match="^Argument `max_momentum` must "):
        S.CyclicalLearningRate(0.01, 0.1, 10).momentum_schedule(max_momentum=2.0)


def test_momentum_schedules_are_public_and_built_by_name():
    for cls in (S.CyclicalMomentum, S.OneCycleMomentum):
        assert cls in S.ALL_SCHEDULES and cls.__name__ in S.__all__
    assert S.get("one_cycle_momentum", total_steps=10) == S.OneCycleMomentum(10)
    config = keras.saving.serialize_keras_object(S.CyclicalMomentum(0.8, 0.9, 5))
    assert S.get(config) == S.CyclicalMomentum(0.8, 0.9, 5)


# The callbacks, with keras_lr.optimizers (one tiny model per fit).

X = np.random.RandomState(0).rand(40, 3).astype("float32")
Y = X.sum(axis=1, keepdims=True)
# Keras's torch backend refuses steps_per_execution > 1.
STEPS_PER_EXECUTION = 1 if keras.backend.backend() == "torch" else 2
RATE = S.CyclicalLearningRate(0.01, 0.05, step_size=3)
MOMENTUM = RATE.momentum_schedule()
DECAY = S.PiecewiseConstant([7], [0.01, 0.02])


def test_logger_writes_scheduled_momentum_and_weight_decay(tmp_path):
    """Every update's values, on the optimizer's step, read by TensorBoard;
    `History` gets the epoch's last."""
    model = dense_model(O.SGD(RATE, momentum=MOMENTUM, weight_decay=DECAY))
    logger = keras_lr.callbacks.LearningRateLogger(str(tmp_path))
    history = model.fit(X, Y, batch_size=8, epochs=3, verbose=0, callbacks=[logger])
    steps = np.arange(15)
    for tag, schedule in (
        ("learning_rate", RATE), ("momentum", MOMENTUM), ("weight_decay", DECAY)
    ):
        logged_steps, values = read_scalars(str(tmp_path), tag)
        np.testing.assert_array_equal(logged_steps, steps)
        np.testing.assert_allclose(values, schedule.numpy(steps), rtol=1e-7)
        np.testing.assert_allclose(
            history.history[tag], schedule.numpy([4, 9, 14]), rtol=1e-12
        )


def test_logger_logs_floats_when_asked_and_nothing_when_told_not(tmp_path):
    """Keras's own SGD: a float momentum with `log_momentum=True`; a float
    weight decay is not logged by default. Adam's tag is `beta_1`, off with
    `log_momentum=False` even when scheduled."""
    model = dense_model(keras.optimizers.SGD(RATE, momentum=0.8, weight_decay=0.004))
    history = model.fit(X, Y, batch_size=8, epochs=1, verbose=0, callbacks=[
        keras_lr.callbacks.LearningRateLogger(str(tmp_path / "sgd"), log_momentum=True)
    ])
    steps, values = read_scalars(str(tmp_path / "sgd"), "momentum")
    np.testing.assert_array_equal(steps, np.arange(5))
    np.testing.assert_array_equal(values, np.float32(0.8))
    assert history.history["momentum"] == [0.8]
    assert "weight_decay" not in history.history
    with pytest.raises(KeyError):
        read_scalars(str(tmp_path / "sgd"), "weight_decay")

    model = dense_model(O.Adam(RATE, beta_1=MOMENTUM, weight_decay=0.004))
    history = model.fit(X, Y, batch_size=8, epochs=1, verbose=0, callbacks=[
        keras_lr.callbacks.LearningRateLogger(
            str(tmp_path / "adam"), log_momentum=False, log_weight_decay=True
        )
    ])
    _, values = read_scalars(str(tmp_path / "adam"), "weight_decay")
    np.testing.assert_array_equal(values, np.full(5, np.float32(0.004)))
    assert history.history["weight_decay"] == [0.004]
    assert "beta_1" not in history.history
    with pytest.raises(KeyError):
        read_scalars(str(tmp_path / "adam"), "beta_1")


def test_logger_under_accumulation_and_steps_per_execution(tmp_path):
    """Update k used the schedules at batch k * n + n - 1, as the rate."""
    model = dense_model(
        O.SGD(RATE, momentum=MOMENTUM, gradient_accumulation_steps=2),
        steps_per_execution=STEPS_PER_EXECUTION,
    )
    model.fit(X, Y, batch_size=4, epochs=2, verbose=0, callbacks=[
        keras_lr.callbacks.LearningRateLogger(str(tmp_path))
    ])
    steps, values = read_scalars(str(tmp_path), "momentum")
    np.testing.assert_array_equal(steps, np.arange(10))
    np.testing.assert_allclose(values, MOMENTUM.numpy(np.arange(10) * 2 + 1), rtol=1e-7)


def test_logger_arguments_are_checked():
    for name in ("log_momentum", "log_weight_decay"):
        with pytest.raises(TypeError, match=f"^Argument `{name}` must "):
            keras_lr.callbacks.LearningRateLogger(**{name: "yes"})
    logger = keras_lr.callbacks.LearningRateLogger(log_momentum=True)
    assert logger.get_config()["log_momentum"] is True
    assert logger.get_config()["log_weight_decay"] is None


def test_plateau_and_schedulers_beside_scheduled_momentum():
    """The rate callbacks drive the rate; the momentum schedule carries on."""
    model = dense_model(O.SGD(S.Constant(0.02), momentum=MOMENTUM, weight_decay=DECAY))
    # No epoch improves by 1e9: a reduction at the end of epoch 1.
    plateau = keras_lr.callbacks.ReduceLROnPlateau(
        monitor="loss", factor=0.5, patience=1, min_delta=1e9
    )
    logger = keras_lr.callbacks.LearningRateLogger()
    history = model.fit(
        X, Y, batch_size=8, epochs=3, verbose=0, callbacks=[plateau, logger]
    )
    np.testing.assert_allclose(history.history["momentum"], MOMENTUM.numpy([4, 9, 14]))
    np.testing.assert_allclose(history.history["weight_decay"], DECAY.numpy([4, 9, 14]))
    np.testing.assert_allclose(
        history.history["learning_rate"], [0.02, 0.02, 0.01], rtol=1e-7
    )
    assert model.optimizer.hyperparameter_schedules == {
        "momentum": MOMENTUM, "weight_decay": DECAY
    }

    model = dense_model(O.Adam(0.01, beta_1=MOMENTUM))
    scheduler = keras_lr.callbacks.LearningRateScheduler(RATE, unit="step")
    history = model.fit(
        X, Y, batch_size=8, epochs=2, verbose=0,
        callbacks=[scheduler, keras_lr.callbacks.LearningRateLogger()],
    )
    np.testing.assert_allclose(history.history["beta_1"], MOMENTUM.numpy([4, 9]))
    np.testing.assert_allclose(
        history.history["learning_rate"], RATE.numpy([4, 9]), rtol=1e-6
    )


def test_find_learning_rate_holds_and_restores_scheduled_hyperparameters(monkeypatch):
    """On a freshly compiled model, as the range test is meant to run: the
    schedules hold their first update's value during the test; after it
    they are back, and a fit is bit-identical to one without the test."""
    model = dense_model(O.SGD(RATE, momentum=MOMENTUM, weight_decay=DECAY))
    twin = dense_model(O.SGD(RATE, momentum=MOMENTUM, weight_decay=DECAY))
    for variable, source in zip(twin.variables, model.variables):
        variable.assign(ops.convert_to_numpy(source))

    seen = []
    record = _sweep._Recorder.on_train_batch_end

    def watched(recorder, batch, logs=None):
        optimizer = recorder.model.optimizer
        seen.append((optimizer.momentum, optimizer.weight_decay))
        record(recorder, batch, logs)

    monkeypatch.setattr(_sweep._Recorder, "on_train_batch_end", watched)
    result = keras_lr.find_learning_rate(
        model, X, Y, batch_size=8, start_lr=1e-4, end_lr=0.05, num_steps=6,
        divergence_threshold=1e6, seed=0, verbose=0,
    )
    assert len(result.losses) == 6
    # Floats while the test ran: the values of a fresh optimizer's first update.
    assert seen == [(MOMENTUM.numpy(0), DECAY.numpy(0))] * 6
    optimizer = model.optimizer
    assert optimizer.hyperparameter_schedules == {
        "momentum": MOMENTUM, "weight_decay": DECAY
    }
    model.fit(X, Y, batch_size=8, epochs=1, verbose=0, shuffle=False)
    twin.fit(X, Y, batch_size=8, epochs=1, verbose=0, shuffle=False)
    for a, b in zip(model.variables + optimizer.variables,
                    twin.variables + twin.optimizer.variables):
        np.testing.assert_array_equal(ops.convert_to_numpy(a), ops.convert_to_numpy(b))


def test_mnist_demo_one_cycle_cycles_momentum_as_pytorch():
    """The demo's one-cycle run: PyTorch's default `cycle_momentum=True`;
    every other SGD run keeps Keras's SGD with momentum 0.9."""
    from keras_lr import demo
    from keras_lr.demo.runs import PEAK

    run = demo.make_run("one_cycle", steps_per_epoch=10, epochs=3)
    optimizer = run.build_optimizer()
    assert isinstance(optimizer, O.SGD)
    assert optimizer.hyperparameter_schedules == {
        "momentum": S.OneCycleMomentum(30, 0.85, 0.95)
    }
    assert run.learning_rate == S.OneCycle(PEAK, total_steps=30)
    for name in ("constant", "cyclical", "cosine_plateau"):
        optimizer = demo.make_run(name, 10, 3).build_optimizer()
        assert type(optimizer) is type(keras.optimizers.SGD(momentum=0.9))
        assert optimizer.momentum == 0.9
