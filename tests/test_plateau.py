"""ReduceLROnPlateau on any rate: exact reduced rates, Keras's and PyTorch's
rules, and state that survives BackupAndRestore and load_model."""

import math
import os
import subprocess
import sys
import textwrap
import warnings

import keras
import numpy as np
import pytest

from keras_lr import schedules as S
from keras_lr.callbacks import ReducedSchedule
from keras_lr.callbacks import ReduceLROnPlateau
from tests.conftest import rates_used
from tests.conftest import tiny_model

pytestmark = pytest.mark.backend_neutral

EPOCHS, BATCHES = 6, 5


class Feed(keras.callbacks.Callback):
    """Puts `values[epoch]` into the logs as `score`, for a chosen sequence."""

    def __init__(self, values):
        super().__init__()
        self.values = values

    def on_epoch_end(self, epoch, logs=None):
        logs["score"] = self.values[epoch]


class ScriptedScore(keras.metrics.Metric):
    """A compiled metric `score` whose value in epoch `e` is `values[e]`.

    A backup written before the plateau callback has seen the epoch's logs
    can only find a real metric, not a value another callback put in the
    logs; `Script` sets it at each epoch's start.
    """

    def __init__(self, values):
        super().__init__(name="score")
        self.values = list(values)
        self.current = self.add_variable((), initializer="zeros", name="current")

    def update_state(self, y_true, y_pred, sample_weight=None):
        pass

    def result(self):
        return keras.ops.convert_to_tensor(self.current)

    def reset_state(self):
        pass


class Script(keras.callbacks.Callback):
    def __init__(self, metric):
        super().__init__()
        self.metric = metric

    def on_epoch_begin(self, epoch, logs=None):
        self.metric.current.assign(self.metric.values[epoch])


class Crash(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            raise RuntimeError("simulated crash")


def _float32(values):
    return np.asarray(values, dtype=np.float32).astype(np.float64)


def _expected_rates(schedule, scales):
    """The rate of each step when epoch `e` runs at `schedule * scales[e]`:
    the schedule's rate (float64 for keras_lr's, Keras's own float32 for a
    Keras schedule), times the scale, rounded once to float32."""
    steps = np.arange(len(scales) * BATCHES)
    base = S.evaluate(schedule, steps)
    return _float32(base * np.repeat(scales, BATCHES))


# The score never improves after epoch 0: with patience=2 the rate drops
# after epochs 2 and 4.
SCORES = [1.0, 1.1, 1.2, 1.3, 1.4, 1.5]
SCALES = [1, 1, 1, 0.1, 0.1, 0.01]


@pytest.mark.parametrize(
    "rate",
    [
        S.CosineAnnealing(0.1, decay_steps=40),
        keras.optimizers.schedules.CosineDecay(0.1, 40, warmup_target=None),
        0.05,
    ],
    ids=["keras_lr_cosine", "keras_cosine_decay", "float"],
)
def test_rate_after_reduction_is_factor_times_schedule(rate, data):
    model = tiny_model(rate)
    plateau = ReduceLROnPlateau("score", factor=0.1, patience=2, mode="min")
    history = model.fit(*data, batch_size=8, epochs=EPOCHS, verbose=0,
                        callbacks=[Feed(SCORES), plateau])
    used = rates_used(model, EPOCHS * BATCHES)
    expected = _expected_rates(rate, SCALES)
    if keras.backend.backend() == "tensorflow" and not isinstance(
        rate, keras.optimizers.schedules.CosineDecay
    ):
        # float64 in the graph, rounded to float32: exact. (Keras's own
        # schedules compute in float32, and a vector of steps on the host
        # may differ from the graph's scalar by an ulp.)
        np.testing.assert_array_equal(used, expected)
    else:
        np.testing.assert_allclose(used, expected, rtol=1e-6)
    assert isinstance(model.optimizer._learning_rate, ReducedSchedule)
    # History gets the rate of each epoch's last update, before a reduction.
    np.testing.assert_allclose(
        history.history["learning_rate"], used[BATCHES - 1 :: BATCHES], rtol=1e-6
    )


def test_min_lr_bounds_reductions_but_never_lifts_the_schedule():
    cosine = S.CosineAnnealing(0.1, decay_steps=100)
    reduced = ReducedSchedule(cosine, scale=0.01, min_learning_rate=0.03)
    steps = np.arange(101)
    base = cosine.numpy(steps)
    np.testing.assert_allclose(
        reduced.numpy(steps), np.maximum(base * 0.01, np.minimum(0.03, base))
    )
    assert reduced.numpy(0) == pytest.approx(0.03)  # floored
    assert reduced.numpy(90) == pytest.approx(base[90])  # below the floor: kept
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(reduced(steps)), reduced.numpy(steps), rtol=1e-6
    )


def test_no_reduction_once_the_rate_is_at_min_lr(data):
    model = tiny_model(0.05)
    plateau = ReduceLROnPlateau("score", factor=0.5, patience=1, mode="min",
                                min_lr=0.02)
    model.fit(*data, batch_size=8, epochs=EPOCHS, verbose=0,
              callbacks=[Feed(SCORES), plateau])
    # 0.05 -> 0.025 -> max(0.0125, 0.02) = 0.02, then no more reductions.
    used = rates_used(model, EPOCHS * BATCHES)[::BATCHES]
    np.testing.assert_allclose(used, [0.05, 0.05, 0.025, 0.02, 0.02, 0.02], rtol=1e-6)
    assert model.optimizer._learning_rate.scale == 0.25


def _keras_rates(scores, **kwargs):
    """Per-epoch rates of Keras's own ReduceLROnPlateau on a float rate."""
    rates = []

    class Record(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            rates.append(float(keras.ops.convert_to_numpy(
                self.model.optimizer.learning_rate)))

    model = tiny_model(0.1)
    model.fit(np.zeros((8, 3)), np.zeros((8, 1)), batch_size=8,
              epochs=len(scores), verbose=0,
              callbacks=[Feed(scores), keras.callbacks.ReduceLROnPlateau(
                  "score", **kwargs), Record()])
    return rates


def _our_rates(scores, **kwargs):
    model = tiny_model(0.1)
    model.fit(np.zeros((8, 3)), np.zeros((8, 1)), batch_size=8,
              epochs=len(scores), verbose=0,
              callbacks=[Feed(scores), ReduceLROnPlateau("score", **kwargs)])
    return rates_used(model, len(scores)).tolist()


def test_same_decisions_as_keras_reduce_lr_on_plateau():
    rng = np.random.RandomState(3)
    scores = list(np.cumsum(rng.normal(0, 1, 16)))
    kwargs = dict(factor=0.5, patience=2, cooldown=1, min_delta=0.3, mode="max",
                  min_lr=0.01)
    # Keras's callback sets the rate at an epoch end for the next epoch; the
    # trace has the rate each epoch's update used.
    np.testing.assert_allclose(
        _our_rates(scores, **kwargs), _keras_rates(scores, **kwargs), rtol=1e-6
    )


def _pytorch_reduce_epochs(scores, patience, threshold):
    """Epochs after which PyTorch's ReduceLROnPlateau (mode="min",
    threshold_mode="rel", cooldown=0) reduces, from its documented rule:
    a value is better when `a < best * (1 - threshold)`; after more than
    `patience` bad epochs in a row it reduces and starts counting again."""
    best, bad, reductions = math.inf, 0, []
    for epoch, value in enumerate(scores):
        if value < best * (1 - threshold):
            best, bad = value, 0
        else:
            bad += 1
        if bad > patience:
            reductions.append(epoch)
            bad = 0
    return reductions


def test_rel_threshold_matches_pytorch_with_patience_plus_one():
    rng = np.random.RandomState(7)
    scores = list(1.0 + np.abs(np.cumsum(rng.normal(0, 0.05, 16))))
    rates = _our_rates(scores, factor=0.5, patience=3, threshold_mode="rel",
                       min_delta=0.01, mode="min")
    reductions = [e for e in range(len(scores) - 1) if rates[e + 1] < rates[e]]
    assert reductions == _pytorch_reduce_epochs(scores, patience=2, threshold=0.01)
    assert reductions  # the sequence does plateau


def test_nan_counts_as_no_improvement_with_one_warning():
    scores = [1.0, float("nan"), float("nan"), 0.5, float("inf")]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rates = _our_rates(scores, factor=0.5, patience=2, mode="min")
    np.testing.assert_allclose(rates, [0.1, 0.1, 0.1, 0.05, 0.05], rtol=1e-6)
    messages = [str(w.message) for w in caught if "ReduceLROnPlateau" in str(w.message)]
    assert len(messages) == 1 and "no improvement" in messages[0]


def test_missing_metric_warns_once_naming_the_available_keys(data):
    model = tiny_model(0.1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(*data, batch_size=8, epochs=3, verbose=0,
                  callbacks=[ReduceLROnPlateau("val_accuracy", patience=0)])
    messages = [str(w.message) for w in caught if "val_accuracy" in str(w.message)]
    assert len(messages) == 1 and "loss" in messages[0]
    assert model.optimizer._learning_rate.scale == 1.0


def test_verbose_prints_old_and_new_rate(data, capsys):
    model = tiny_model(0.1)
    model.fit(*data, batch_size=8, epochs=2, verbose=0, callbacks=[
        Feed([1.0, 2.0]), ReduceLROnPlateau("score", patience=1, mode="min",
                                            verbose=1)])
    assert ("Epoch 2: ReduceLROnPlateau reducing learning rate from 0.1 to 0.01."
            in capsys.readouterr().out)


def test_auto_mode_follows_the_metric_direction(data):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse", metrics=[keras.metrics.R2Score(name="r2")])
    plateau = ReduceLROnPlateau("r2", patience=1)
    model.fit(*data, batch_size=8, epochs=1, verbose=0, callbacks=[plateau])
    assert plateau._get_direction() == "max"
    model.fit(*data, batch_size=8, epochs=1, verbose=0,
              callbacks=[ReduceLROnPlateau("val_loss")], validation_split=0.25)


def test_second_fit_keeps_one_wrapper_and_the_bookkeeping(data):
    cosine = S.CosineAnnealing(0.1, decay_steps=40)
    model = tiny_model(cosine)
    plateau = ReduceLROnPlateau("score", factor=0.1, patience=2, mode="min")
    model.fit(*data, batch_size=8, epochs=3, verbose=0,
              callbacks=[Feed(SCORES[:3]), plateau])
    wrapper = model.optimizer._learning_rate
    assert wrapper.plateau_state == {"best": 1.0, "wait": 0, "cooldown_counter": 0}
    assert wrapper.scale == 0.1
    model.fit(*data, batch_size=8, initial_epoch=3, epochs=EPOCHS, verbose=0,
              callbacks=[Feed(SCORES), ReduceLROnPlateau("score", factor=0.1,
                                                          patience=2, mode="min")])
    assert model.optimizer._learning_rate is wrapper
    assert wrapper.schedule == cosine
    np.testing.assert_allclose(
        rates_used(model, EPOCHS * BATCHES), _expected_rates(cosine, SCALES),
        rtol=1e-6,
    )


@pytest.mark.parametrize(
    "backup_first", [True, False], ids=["backup_first", "plateau_first"]
)
def test_backup_and_restore_resumes_the_same_rate_trace(backup_first, data, tmp_path):
    cosine = S.CosineAnnealing(0.1, decay_steps=40)

    def run(epochs_callbacks):
        plateau = ReduceLROnPlateau("score", factor=0.1, patience=2, mode="min")
        backup = keras.callbacks.BackupAndRestore(str(tmp_path / "backup"))
        pair = [backup, plateau] if backup_first else [plateau, backup]
        score = ScriptedScore(SCORES)
        model = tiny_model(cosine, metrics=[score])
        model.fit(*data, batch_size=8, epochs=EPOCHS, verbose=0,
                  callbacks=[Script(score)] + pair + epochs_callbacks)
        return model

    with pytest.raises(RuntimeError, match="simulated crash"):
        run([Crash(3)])  # after the first reduction, mid-patience
    resumed = run([])
    np.testing.assert_allclose(
        rates_used(resumed, EPOCHS * BATCHES), _expected_rates(cosine, SCALES),
        rtol=1e-6,
    )
    assert resumed.optimizer._learning_rate.plateau_state == {
        "best": 1.0, "wait": 1, "cooldown_counter": 0}


def test_config_round_trip_carries_scale_and_bookkeeping():
    wrapper = ReducedSchedule(
        S.CosineAnnealing(0.1, 100), scale=0.01, min_learning_rate=0.001,
        plateau_state={"best": 0.25, "wait": 3, "cooldown_counter": 1},
    )
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(wrapper)
    )
    assert restored == wrapper
    np.testing.assert_array_equal(restored.numpy(np.arange(100)),
                                  wrapper.numpy(np.arange(100)))


_CONTINUE = textwrap.dedent("""
    import sys
    import keras, numpy as np
    import keras_lr  # registers the keras_lr classes
    from tests.conftest import rates_used
    model = keras.models.load_model(sys.argv[1], safe_mode=True)
    wrapper = model.optimizer._learning_rate
    print(type(wrapper).__name__, wrapper.scale, wrapper.plateau_state)
    x = np.random.RandomState(0).rand(40, 3).astype("float32")
    # best 1.0 and wait 1 carry over, so a value that does not improve
    # reduces again after the first epoch here (patience=2).
    class Feed(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["score"] = 1.4
    model.fit(x, x.sum(1, keepdims=True), batch_size=8, initial_epoch=4,
              epochs=6, verbose=0, callbacks=[Feed(), __import__(
                  "keras_lr").callbacks.ReduceLROnPlateau(
                      "score", factor=0.1, patience=2, mode="min")])
    print(repr(rates_used(model, 30).tolist()))
""")


def test_load_model_in_a_new_process_continues_reduced(data, tmp_path):
    cosine = S.CosineAnnealing(0.1, decay_steps=40)
    model = tiny_model(cosine)
    model.fit(*data, batch_size=8, epochs=4, verbose=0, callbacks=[
        Feed(SCORES), ReduceLROnPlateau("score", factor=0.1, patience=2, mode="min")])
    path = str(tmp_path / "model.keras")
    model.save(path)
    result = subprocess.run(
        [sys.executable, "-c", _CONTINUE, path], capture_output=True, text=True,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
        env={**os.environ, "KERAS_BACKEND": keras.backend.backend()},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    head, trace = result.stdout.strip().splitlines()[-2:]
    assert head == ("ReducedSchedule 0.1 {'best': 1.0, 'wait': 1, "
                    "'cooldown_counter': 0}")
    np.testing.assert_allclose(
        eval(trace), _expected_rates(cosine, SCALES), rtol=1e-6)


def test_argument_errors():
    with pytest.raises(ValueError, match="Argument `factor` must be"):
        ReduceLROnPlateau(factor=1.0)
    with pytest.raises(ValueError, match="Argument `threshold_mode` must be"):
        ReduceLROnPlateau(threshold_mode="relative")
    with pytest.raises(ValueError, match="Argument `patience` must be"):
        ReduceLROnPlateau(patience=-1)
    with pytest.raises(ValueError, match="Argument `min_lr` must be"):
        ReduceLROnPlateau(min_lr=float("nan"))
    with pytest.raises(TypeError, match="Argument `schedule` must be"):
        ReducedSchedule(0.1)
    with pytest.raises(ValueError, match="Argument `plateau_state` must be"):
        ReducedSchedule(S.Constant(0.1), plateau_state={"best": 1.0})


def test_docstring_example():
    import doctest

    from keras_lr.callbacks import plateau

    result = doctest.testmod(plateau)
    assert result.attempted > 0 and result.failed == 0
