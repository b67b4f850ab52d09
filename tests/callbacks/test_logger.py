"""LearningRateLogger: TensorBoard's reader sees, at each step, the rate the
update at that step used, whatever drives the rate."""

import os

import keras
import numpy as np
import pytest

import keras_lr
from keras_lr import schedules as S
from keras_lr.callbacks import CooldownOnTrigger
from keras_lr.callbacks import CyclicLR
from keras_lr.callbacks import LearningRateLogger
from keras_lr.callbacks import LearningRateScheduler
from keras_lr.callbacks import ReduceLROnPlateau
from keras_lr.callbacks import logger as logger_module
from keras_lr.optimizers import groups
from keras_lr.optimizers import layer_decay
from tests.support.callbacks import TriggerAt
from tests.support.callbacks import Worse
from tests.support.models import TracingSGD
from tests.support.models import layer_patterns
from tests.support.models import rates_used
from tests.support.models import tiny_model
from tests.support.models import transformer_model
from tests.support.tensorboard import read_scalars

pytestmark = pytest.mark.backend_neutral

EPOCHS, BATCHES = 3, 5  # 40 samples in batches of 8


def _keras_halving():
    return keras.callbacks.LearningRateScheduler(lambda epoch: 0.1 / 2**epoch)


# Each case: (rate given to the optimizer, callbacks listed before the
# logger, callbacks listed after it, steps_per_execution).
CASES = {
    "float": (0.05, [], [], 1),
    "keras_lr_cosine": (S.CosineAnnealing(0.1, decay_steps=12), [], [], 1),
    "keras_lr_warmup": (S.Warmup(S.CosineAnnealing(0.1, 20), 4), [], [], 1),
    "keras_exponential": (
        keras.optimizers.schedules.ExponentialDecay(0.1, 3, 0.5), [], [], 1),
    "keras_scheduler_listed_after": (0.1, [], [_keras_halving], 1),
    "plateau_on_cosine_before": (
        S.CosineAnnealing(0.1, 15),
        [Worse, lambda: ReduceLROnPlateau("score", patience=1, mode="min")], [], 1),
    "plateau_on_float_after": (
        0.1, [Worse], [lambda: ReduceLROnPlateau("score", patience=1, mode="min")], 1),
    "scheduler_per_step": (
        0.1, [lambda: LearningRateScheduler(lambda s: 0.01 * (s + 1), unit="step")],
        [], 1),
    "scheduler_per_step_with_lr": (
        0.1, [lambda: LearningRateScheduler(lambda s, lr: lr * 0.8, unit="step")],
        [], 1),
    "scheduler_per_epoch_with_lr": (
        0.1, [], [lambda: LearningRateScheduler(lambda e, lr: lr * 0.5)], 1),
    "cyclic_after": (0.1, [], [lambda: CyclicLR(0.01, 0.1, step_size=3)], 1),
}
# Keras's torch backend refuses steps_per_execution > 1.
if keras.backend.backend() != "torch":
    CASES.update({
        "cosine_steps_per_execution": (S.CosineAnnealing(0.1, 12), [], [], 2),
        "cyclic_steps_per_execution": (
            0.1, [lambda: CyclicLR(0.01, 0.1, step_size=3)], [], 2),
    })


@pytest.mark.parametrize("case", list(CASES))
def test_logged_rate_is_the_rate_each_update_used(case, data, tmp_path):
    rate, before, after, steps_per_execution = CASES[case]
    model = tiny_model(rate, steps_per_execution=steps_per_execution)
    history = model.fit(
        *data, batch_size=8, epochs=EPOCHS, verbose=0,
        callbacks=[make() for make in before]
        + [LearningRateLogger(str(tmp_path))]
        + [make() for make in after],
    )
    used = rates_used(model, EPOCHS * BATCHES)
    steps, values = read_scalars(str(tmp_path))
    np.testing.assert_array_equal(steps, np.arange(EPOCHS * BATCHES))
    # TensorBoard stores float32; the trace is the graph's float32 rate.
    np.testing.assert_allclose(values, used, rtol=1e-6)
    np.testing.assert_allclose(
        history.history["learning_rate"], used[BATCHES - 1 :: BATCHES], rtol=1e-6
    )
    assert len(np.unique(np.round(used, 9))) > 1 or case == "float"


@pytest.mark.parametrize(
    "update_freq, expected_steps",
    [(3, [0, 3, 6, 9, 12]), ("epoch", [4, 9, 14])],
)
def test_update_freq(update_freq, expected_steps, data, tmp_path):
    schedule = S.CosineAnnealing(0.1, decay_steps=15)
    model = tiny_model(schedule)
    model.fit(*data, batch_size=8, epochs=EPOCHS, verbose=0,
              callbacks=[LearningRateLogger(str(tmp_path), update_freq=update_freq,
                                            tag="lr")])
    steps, values = read_scalars(str(tmp_path), tag="lr")
    np.testing.assert_array_equal(steps, expected_steps)
    np.testing.assert_allclose(values, schedule.numpy(expected_steps), rtol=1e-6)


# keras.callbacks.TensorBoard writes through TensorFlow on every backend.
@pytest.mark.needs_tensorflow
def test_shares_a_log_dir_with_keras_tensorboard(data, tmp_path):
    schedule = S.CosineAnnealing(0.1, decay_steps=15)
    model = tiny_model(schedule)
    model.fit(*data, batch_size=8, epochs=2, verbose=0, callbacks=[
        keras.callbacks.TensorBoard(str(tmp_path)),
        LearningRateLogger(str(tmp_path)),
    ])
    steps, values = read_scalars(str(tmp_path))
    np.testing.assert_allclose(values, schedule.numpy(steps), rtol=1e-6)
    np.testing.assert_array_equal(steps, np.arange(2 * BATCHES))


def test_resumed_fit_continues_the_step_axis(data, tmp_path):
    schedule = S.CosineAnnealing(0.1, decay_steps=15)
    model = tiny_model(schedule)
    for first, last in [(0, 1), (1, 3)]:
        model.fit(*data, batch_size=8, initial_epoch=first, epochs=last, verbose=0,
                  callbacks=[LearningRateLogger(str(tmp_path))])
    steps, values = read_scalars(str(tmp_path))
    np.testing.assert_array_equal(steps, np.arange(EPOCHS * BATCHES))
    np.testing.assert_allclose(values, rates_used(model, EPOCHS * BATCHES), rtol=1e-6)


def test_without_log_dir_only_history(data, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model = tiny_model(S.CosineAnnealing(0.1, decay_steps=15))
    history = model.fit(*data, batch_size=8, epochs=2, verbose=0,
                        callbacks=[LearningRateLogger()])
    np.testing.assert_allclose(
        history.history["learning_rate"],
        rates_used(model, 2 * BATCHES)[BATCHES - 1 :: BATCHES], rtol=1e-6,
    )
    assert os.listdir(tmp_path) == []


class _Resolver:
    task_type, task_id = "worker", 1

    def cluster_spec(self):
        class Spec:
            def as_dict(self):
                return {"worker": ["host0:1", "host1:1"]}

        return Spec()


def test_nothing_written_by_a_non_chief_process(data, tmp_path, monkeypatch):
    model = tiny_model(0.1)
    if keras.backend.backend() == "jax":
        import jax

        monkeypatch.setattr(jax, "process_index", lambda: 1)
    elif keras.backend.backend() == "torch":
        # A real rank would also reach torch's DataLoader; the torch rule
        # itself is tested below.
        monkeypatch.setattr(logger_module, "_is_chief", lambda model: False)
    else:
        real = model.distribute_strategy

        class Strategy:
            """The real (default) strategy, seen as worker 1 of two."""

            cluster_resolver = _Resolver()

            def __getattr__(self, name):
                return getattr(real, name)

        monkeypatch.setattr(type(model), "distribute_strategy", Strategy(),
                            raising=False)
    history = model.fit(*data, batch_size=8, epochs=1, verbose=0,
                        callbacks=[LearningRateLogger(str(tmp_path / "logs"))])
    assert not (tmp_path / "logs").exists()
    assert history.history["learning_rate"] == [pytest.approx(0.1)]


def test_chief_rule_on_tensorflow(monkeypatch):
    class Model:
        pass

    model = Model()
    monkeypatch.setattr(keras.backend, "backend", lambda: "tensorflow")
    assert logger_module._is_chief(model)  # no strategy: one process
    model.distribute_strategy = type("S", (), {"cluster_resolver": _Resolver()})()
    assert not logger_module._is_chief(model)
    _Resolver.task_id = 0
    try:
        assert logger_module._is_chief(model)
    finally:
        _Resolver.task_id = 1


@pytest.mark.needs_torch
def test_chief_rule_on_torch(monkeypatch):
    import torch.distributed

    monkeypatch.setattr(keras.backend, "backend", lambda: "torch")
    assert logger_module._is_chief(None)  # torch.distributed not initialized
    monkeypatch.setattr(torch.distributed, "is_initialized", lambda: True)
    for rank in (0, 1):
        monkeypatch.setattr(torch.distributed, "get_rank", lambda: rank)
        assert logger_module._is_chief(None) == (rank == 0)


def test_unwritable_log_dir_fails_before_training(data, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    model = tiny_model(0.1)
    with pytest.raises(ValueError, match="Argument `log_dir` must be a directory"):
        model.fit(*data, batch_size=8, epochs=1, verbose=0,
                  callbacks=[LearningRateLogger(str(blocker / "logs"))])
    assert int(keras.ops.convert_to_numpy(model.optimizer.iterations)) == 0


def test_argument_errors():
    with pytest.raises(ValueError, match="Argument `update_freq` must be"):
        LearningRateLogger(update_freq="batch")
    with pytest.raises(ValueError, match="Argument `update_freq` must be"):
        LearningRateLogger(update_freq=0)
    with pytest.raises(TypeError, match="Argument `tag` must be"):
        LearningRateLogger(tag="")
    with pytest.raises(TypeError, match="Argument `log_dir` must be"):
        LearningRateLogger(log_dir=3)


def test_a_scheduler_left_over_from_a_crashed_fit_is_not_believed(data, tmp_path):
    class Crash(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            if batch == 2:
                raise RuntimeError("simulated crash")

    model = tiny_model(0.1)
    with pytest.raises(RuntimeError, match="simulated crash"):
        model.fit(*data, batch_size=8, epochs=1, verbose=0, callbacks=[
            LearningRateScheduler(lambda s: 0.5, unit="step"), Crash()])
    model.optimizer.learning_rate = 0.02
    model.fit(*data, batch_size=8, epochs=1, verbose=0,
              callbacks=[LearningRateLogger(str(tmp_path))])
    steps, values = read_scalars(str(tmp_path))
    np.testing.assert_array_equal(steps, np.arange(2, 7))
    np.testing.assert_allclose(values, 0.02, rtol=1e-6)


# A MultiOptimizer: one tag and one logs key per group


def _grouped_model():
    """Three groups, each driven differently: a keras_lr schedule (the
    default group), a Keras built-in schedule and a float."""
    model = transformer_model(depth=1)
    model.compile(keras.optimizers.MultiOptimizer(keras.optimizers.OptimizerMap(
        TracingSGD(S.Warmup(S.CosineAnnealing(0.1, 20), 3)),
        {
            "embeddings/.*": TracingSGD(
                keras.optimizers.schedules.ExponentialDecay(0.05, 4, 0.5)),
            "block_0_.*": TracingSGD(0.02),
        },
    )), loss="mse")
    return model


def test_each_group_of_a_multi_optimizer_has_its_own_tag(data, tmp_path):
    model = _grouped_model()
    history = model.fit(*data, batch_size=8, epochs=EPOCHS, verbose=0,
                        callbacks=[LearningRateLogger(str(tmp_path))])
    named = groups(model.optimizer)
    assert list(named) == ["default", "embeddings/.*", "block_0_.*"]
    for name, sub in named.items():
        used = keras.ops.convert_to_numpy(sub.trace)[: EPOCHS * BATCHES].astype(np.float64)
        steps, values = read_scalars(str(tmp_path), tag=f"learning_rate/{name}")
        np.testing.assert_array_equal(steps, np.arange(EPOCHS * BATCHES))
        np.testing.assert_allclose(values, used, rtol=1e-6)
        np.testing.assert_allclose(
            history.history[f"learning_rate/{name}"], used[BATCHES - 1 :: BATCHES],
            rtol=1e-6,
        )
        assert len(np.unique(np.round(used, 9))) > 1 or name == "block_0_.*"
    # No ungrouped tag or key: a MultiOptimizer has no one rate.
    assert "learning_rate" not in history.history
    with pytest.raises(KeyError):
        read_scalars(str(tmp_path), tag="learning_rate")


def test_groups_are_read_from_the_device_once_per_epoch(data, tmp_path, monkeypatch):
    reads = []
    read_step = logger_module._optimizer_rate.read_step
    float_rate = logger_module._optimizer_rate.float_rate

    def counted(function):
        def read(*args, **kwargs):
            reads.append(function.__name__)
            return function(*args, **kwargs)
        return read

    monkeypatch.setattr(logger_module._optimizer_rate, "read_step", counted(read_step))
    monkeypatch.setattr(logger_module._optimizer_rate, "float_rate", counted(float_rate))
    model = _grouped_model()
    model.fit(*data, batch_size=8, epochs=EPOCHS, verbose=0,
              callbacks=[LearningRateLogger(str(tmp_path))])
    # Per epoch: each of the 3 groups' step at its start and end, and the
    # float group's rate once; nothing per batch (5 per epoch).
    assert reads.count("read_step") == EPOCHS * 3 * 2
    assert reads.count("float_rate") == EPOCHS


def test_scheduled_momentum_and_weight_decay_per_group(data, tmp_path):
    rate = S.OneCycle(0.1, total_steps=EPOCHS * BATCHES)
    momentum = rate.momentum_schedule()
    weight_decay = S.CosineAnnealing(0.01, EPOCHS * BATCHES)
    model = transformer_model(depth=1)
    optimizer = layer_decay(model, keras_lr.optimizers.SGD(
        rate, momentum=momentum, weight_decay=weight_decay), 0.5, layer_patterns(1))
    model.compile(optimizer, loss="mse")
    history = model.fit(*data, batch_size=8, epochs=EPOCHS, verbose=0,
                        callbacks=[LearningRateLogger(str(tmp_path))])
    expected_steps = np.arange(EPOCHS * BATCHES)
    shares = {"default": 1.0, "embeddings/.*": 0.25, "block_0_.*": 0.5}
    assert list(groups(optimizer)) == list(shares)
    for name, share in shares.items():
        for tag, values in (
            ("learning_rate", share * rate.numpy(expected_steps)),
            ("momentum", momentum.numpy(expected_steps)),
            ("weight_decay", weight_decay.numpy(expected_steps)),
        ):
            steps, logged = read_scalars(str(tmp_path), tag=f"{tag}/{name}")
            np.testing.assert_array_equal(steps, expected_steps)
            np.testing.assert_allclose(logged, values, rtol=1e-6)
            np.testing.assert_allclose(
                history.history[f"{tag}/{name}"], values[BATCHES - 1 :: BATCHES],
                rtol=1e-6,
            )


@pytest.mark.backend_neutral
@pytest.mark.parametrize("with_plateau", [False, True])
def test_a_trigger_mid_epoch_is_logged_from_the_next_update(data, tmp_path, with_plateau):
    """`trigger()` after the second batch of epoch 1 cools down from the next
    update: the logged rate of every step is the rate that update used,
    with the cooldown alone (the optimizer's outer schedule) or beneath a
    plateau's scale."""
    model = tiny_model(S.Constant(0.1))
    cooldown = CooldownOnTrigger(decay_steps=4, shape="linear", stop_training=False)
    callbacks = [cooldown, TriggerAt(cooldown, epoch=1, batch=1),
                 LearningRateLogger(str(tmp_path))]
    if with_plateau:
        callbacks.insert(0, ReduceLROnPlateau("loss", patience=100))
    model.fit(*data, batch_size=8, epochs=3, verbose=0, callbacks=callbacks)
    assert cooldown.start_step == 5 + 2
    used = rates_used(model, 15)
    np.testing.assert_allclose(
        used, S.Cooldown(S.Constant(0.1), 7, 4, "linear").numpy(np.arange(15)),
        rtol=1e-6, atol=1e-9)
    steps, values = read_scalars(str(tmp_path))
    np.testing.assert_array_equal(steps, np.arange(15))
    np.testing.assert_allclose(values, used, rtol=1e-6, atol=1e-9)


def _every_event(directory):
    """Every `Event` of the one event file under `directory`, as TensorBoard
    loads it, with its raw bytes."""
    from tensorboard.backend.event_processing import event_file_loader

    (name,) = os.listdir(directory)
    path = os.path.join(directory, name)
    with open(path, "rb") as file:
        raw = file.read()
    return raw, list(event_file_loader.EventFileLoader(path).Load())


@pytest.mark.needs_tensorflow
def test_tensorboards_writer_writes_the_bytes_of_tensorflows(tmp_path, monkeypatch):
    """Where TensorFlow is absent the event file is written by the
    `tensorboard` package's `RecordWriter`: the same bytes as TensorFlow's
    C++ writer, restart marker and HParams summary included, which
    TensorBoard reads back identically."""
    import tensorflow as tf
    from tensorboard.plugins.hparams import api as hp
    from tensorboard.summary.writer.record_writer import RecordWriter

    monkeypatch.setattr(logger_module.time, "time", lambda: 1700000000.25)
    steps = np.arange(5, dtype=np.int64)
    rates = 0.1 * 0.5 ** steps
    session = hp.hparams_pb({"schedule": "cosine", "peak": 0.1}, trial_id="cosine/seed-0")
    written = {}
    for tensorflow in (None, False):
        directory = str(tmp_path / f"tensorflow-{tensorflow}" / "train")
        file = logger_module._EventFile(directory, tensorflow=tensorflow)
        expected = tf.io.TFRecordWriter if tensorflow is None else RecordWriter
        assert type(file._file) is expected
        file.write_restart(0)
        file.write_scalars("learning_rate", steps, rates)
        file.write_summary(session, step=0)
        file.close()
        written[tensorflow] = _every_event(directory)
    (ours, ours_events), (theirs, theirs_events) = written[False], written[None]
    assert ours == theirs
    assert ours_events == theirs_events and len(ours_events) == 8
    assert ours_events[0].file_version == "brain.Event:2"
    assert ours_events[1].session_log.status == ours_events[1].session_log.START
    assert ours_events[-1].summary.value[0].tag == "_hparams_/session_start_info"
    for tensorflow in (None, False):
        read_steps, values = read_scalars(str(tmp_path / f"tensorflow-{tensorflow}"))
        np.testing.assert_array_equal(read_steps, steps)
        np.testing.assert_allclose(values, rates.astype(np.float32), rtol=0)


@pytest.mark.without_tensorflow
def test_a_jax_fit_without_tensorflow_logs_every_step(data, tmp_path):
    """`make test`'s JAX pass runs in an environment without TensorFlow:
    there the logger writes with TensorBoard's own writer, and TensorBoard's
    reader reads the rate of every step."""
    import importlib.util
    import sys

    assert importlib.util.find_spec("tensorflow") is None, (
        "this test runs where TensorFlow is not installed (.venv-notf, the "
        "JAX pass of `make test`)")
    assert keras.backend.backend() == "jax"
    schedule = S.Warmup(S.CosineAnnealing(0.1, 12), 3)
    model = tiny_model(schedule)
    model.fit(*data, batch_size=8, epochs=EPOCHS, verbose=0,
              callbacks=[LearningRateLogger(str(tmp_path))])
    assert "tensorflow" not in sys.modules
    steps, values = read_scalars(str(tmp_path))
    np.testing.assert_array_equal(steps, np.arange(EPOCHS * BATCHES))
    np.testing.assert_allclose(values, schedule.numpy(steps), rtol=1e-6)
