"""ReduceLROnPlateau on any rate: exact reduced rates, Keras's rules (a float
stays a float), and state that survives BackupAndRestore and load_model.
PyTorch's rules: tests/parity/test_torch_plateau.py; Keras's own tests and
the mix with other rate setters: tests/parity/test_keras_callback_suites.py."""

import inspect
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
from tests.support.backends import fewer_elsewhere
from tests.support.callbacks import Crash
from tests.support.callbacks import Feed
from tests.support.callbacks import Script
from tests.support.callbacks import ScriptedScore
from tests.support.models import as_float32
from tests.support.models import rates_used
from tests.support.models import tiny_model
from tests.support.paths import ROOT

pytestmark = pytest.mark.backend_neutral

EPOCHS, BATCHES = 6, 5


def _expected_rates(schedule, scales):
    """The rate of each step when epoch `e` runs at `schedule * scales[e]`:
    the schedule's rate (float64 for keras_lr's, Keras's own float32 for a
    Keras schedule), times the scale, rounded once to float32."""
    steps = np.arange(len(scales) * BATCHES)
    base = S.evaluate(schedule, steps)
    return as_float32(base * np.repeat(scales, BATCHES))


# The score never improves after epoch 0: with patience=2 the rate drops
# after epochs 2 and 4.
SCORES = [1.0, 1.1, 1.2, 1.3, 1.4, 1.5]
SCALES = [1, 1, 1, 0.1, 0.1, 0.01]


def _keras_float_chain(rate, scales):
    """Keras's reductions of a float: each new rate is the float32 value in
    the optimizer's variable times the factor, stored as float32 again."""
    values, previous = [], None
    for scale in scales:
        if previous is None:
            current = np.float32(rate)
        elif scale != previous:
            current = np.float32(float(current) * (scale / previous))
        values.append(float(current))
        previous = scale
    return np.repeat(values, BATCHES)


@pytest.mark.parametrize(
    "rate",
    [
        S.CosineAnnealing(0.1, decay_steps=40),
        keras.optimizers.schedules.CosineDecay(0.1, 40, warmup_target=None),
    ],
    ids=["keras_lr_cosine", "keras_cosine_decay"],
)
def test_rate_after_reduction_is_factor_times_schedule(rate, data):
    model = tiny_model(rate)
    plateau = ReduceLROnPlateau("score", factor=0.1, patience=2, mode="min")
    history = model.fit(*data, batch_size=8, epochs=EPOCHS, verbose=0,
                        callbacks=[Feed(SCORES), plateau])
    used = rates_used(model, EPOCHS * BATCHES)
    expected = _expected_rates(rate, SCALES)
    if keras.backend.backend() == "tensorflow" and isinstance(rate, S.Schedule):
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


def test_a_float_rate_stays_a_float_reduced_as_keras_does(data):
    model = tiny_model(0.05)
    variable = model.optimizer._learning_rate
    plateau = ReduceLROnPlateau("score", factor=0.1, patience=2, mode="min")
    history = model.fit(*data, batch_size=8, epochs=EPOCHS, verbose=0,
                        callbacks=[Feed(SCORES), plateau])
    used = rates_used(model, EPOCHS * BATCHES)
    np.testing.assert_array_equal(used, _keras_float_chain(0.05, SCALES))
    # The optimizer's own variable, assigned: no schedule, nothing untracked.
    assert model.optimizer._learning_rate is variable
    assert any(v is variable for v in model.optimizer.variables)
    assert history.history["learning_rate"] == [
        float(np.float32(r)) for r in used[BATCHES - 1 :: BATCHES]]
    model.optimizer.learning_rate = 0.001  # what a schedule would refuse
    assert float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)) == (
        pytest.approx(0.001))


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
    # At the floor Keras's rule makes no reduction, so no cooldown starts and
    # the wait keeps growing.
    assert plateau.wait == 3 and plateau.cooldown_counter == 0


def test_no_reduction_of_a_schedule_at_min_lr(data):
    model = tiny_model(S.Constant(0.05))
    plateau = ReduceLROnPlateau("score", factor=0.5, patience=1, mode="min",
                                min_lr=0.02)
    model.fit(*data, batch_size=8, epochs=EPOCHS, verbose=0,
              callbacks=[Feed(SCORES), plateau])
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


def _our_rates(scores, initial=0.1, **kwargs):
    model = tiny_model(initial)
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


def test_comparisons_in_float32_as_keras_s():
    # 1 - 1e-9 is below 1.0 in float64 but equal to it in float32, where
    # Keras compares: no improvement, so two such epochs reduce.
    scores = [1.0, 1.0 - 1e-9, 1.0 - 2e-9, 1.0 - 3e-9]
    kwargs = dict(factor=0.5, patience=2, mode="min", min_delta=0.0)
    assert _our_rates(scores, **kwargs) == _keras_rates(scores, **kwargs)
    np.testing.assert_allclose(_our_rates(scores, **kwargs), [0.1, 0.1, 0.1, 0.05],
                               rtol=1e-6)


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
    # Keras's wording, once.
    assert messages == [
        "Learning rate reduction is conditioned on metric `val_accuracy` which "
        "is not available. Available metrics are: loss,learning_rate."]
    assert rates_used(model, 15).tolist() == [float(np.float32(0.1))] * 15


@pytest.mark.parametrize("ours", [ReduceLROnPlateau, keras.callbacks.ReduceLROnPlateau])
def test_verbose_line_is_keras_s(ours, data, capsys):
    model = tiny_model(0.1)
    model.fit(*data, batch_size=8, epochs=3, verbose=0, callbacks=[
        Feed([1.0, 2.0, 3.0]), ours("score", patience=1, mode="min", verbose=1)])
    # Keras prints the float32 rate times the factor, as a Python float.
    assert capsys.readouterr().out == (
        "\nEpoch 2: ReduceLROnPlateau reducing learning rate to "
        f"{float(np.float32(0.1)) * 0.1}.\n"
        "\nEpoch 3: ReduceLROnPlateau reducing learning rate to "
        f"{float(np.float32(float(np.float32(0.1)) * 0.1)) * 0.1}.\n")


def test_verbose_line_on_a_schedule_gives_the_reduced_rate(data, capsys):
    model = tiny_model(S.CosineAnnealing(0.1, decay_steps=40))
    model.fit(*data, batch_size=8, epochs=2, verbose=0, callbacks=[
        Feed([1.0, 2.0]), ReduceLROnPlateau("score", patience=1, mode="min",
                                            verbose=1)])
    new = float(S.CosineAnnealing(0.1, decay_steps=40).numpy(10)) * 0.1
    assert capsys.readouterr().out == (
        f"\nEpoch 2: ReduceLROnPlateau reducing learning rate to {new}.\n")


def test_verbose_line_follows_keras_interactive_logging(data, capsys, caplog):
    import logging

    keras.config.disable_interactive_logging()
    try:
        with caplog.at_level(logging.INFO):
            tiny_model(0.1).fit(*data, batch_size=8, epochs=2, verbose=0, callbacks=[
                Feed([1.0, 2.0]), ReduceLROnPlateau("score", patience=1, mode="min",
                                                    verbose=1)])
    finally:
        keras.config.enable_interactive_logging()
    assert "ReduceLROnPlateau" not in capsys.readouterr().out
    assert any("ReduceLROnPlateau reducing learning rate to 0.01" in r.getMessage()
               for r in caplog.records)


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


def _expected_trace(rate):
    if isinstance(rate, float):
        return _keras_float_chain(rate, SCALES)
    return _expected_rates(rate, SCALES)


RATES = [S.CosineAnnealing(0.1, decay_steps=40), 0.1]


def _run_with_backup(rate, backup_dir, backup_first, extra, data):
    plateau = ReduceLROnPlateau("score", factor=0.1, patience=2, mode="min")
    backup = keras.callbacks.BackupAndRestore(backup_dir)
    pair = [backup, plateau] if backup_first else [plateau, backup]
    score = ScriptedScore(SCORES)
    model = tiny_model(rate, metrics=[score])
    model.fit(*data, batch_size=8, epochs=EPOCHS, verbose=0,
              callbacks=[Script(score)] + pair + extra)
    return model, plateau


@pytest.mark.parametrize("rate", RATES, ids=["schedule", "float"])
@pytest.mark.parametrize(
    "backup_first", [True, False], ids=["backup_first", "plateau_first"]
)
# Epoch 2 ends with a reduction, epoch 3 in the middle of the patience.
@pytest.mark.parametrize("crash_epoch", fewer_elsewhere([2, 3]))
def test_backup_and_restore_resumes_the_same_rate_trace(
    rate, backup_first, crash_epoch, data, tmp_path
):
    backup_dir = str(tmp_path / "backup")
    with pytest.raises(RuntimeError, match="simulated crash"):
        _run_with_backup(rate, backup_dir, backup_first, [Crash(crash_epoch)], data)
    resumed, plateau = _run_with_backup(rate, backup_dir, backup_first, [], data)
    np.testing.assert_allclose(
        rates_used(resumed, EPOCHS * BATCHES), _expected_trace(rate), rtol=1e-6)
    assert (plateau.best, plateau.wait, plateau.cooldown_counter) == (1.0, 1, 0)


_CRASH = textwrap.dedent("""
    import os, sys
    import keras, numpy as np
    from tests.callbacks.test_plateau import RATES, _run_with_backup

    class Die(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 2:
                os._exit(3)  # no exception, no cleanup: the process is gone

    rate = RATES[int(sys.argv[2])]
    x = np.random.RandomState(0).rand(40, 3).astype("float32")  # as `data`
    _run_with_backup(rate, sys.argv[1], sys.argv[3] == "backup_first", [Die()],
                     (x, x.sum(axis=1, keepdims=True)))
""")


@pytest.mark.parametrize(
    "rate_index, order",
    fewer_elsewhere([
        pytest.param(1, "backup_first", id="float_backup_first"),
        pytest.param(0, "plateau_first", id="schedule_plateau_first"),
    ]),
)
def test_resume_after_the_training_process_died(rate_index, order, data, tmp_path):
    backup_dir = str(tmp_path / "backup")
    result = subprocess.run(
        [sys.executable, "-c", _CRASH, backup_dir, str(rate_index), order],
        capture_output=True, text=True, cwd=ROOT,
        env={**os.environ, "KERAS_BACKEND": keras.backend.backend()},
    )
    assert result.returncode == 3, result.stderr[-3000:]
    rate = RATES[rate_index]
    resumed, plateau = _run_with_backup(
        rate, backup_dir, order == "backup_first", [], data)
    np.testing.assert_allclose(
        rates_used(resumed, EPOCHS * BATCHES), _expected_trace(rate), rtol=1e-6)
    assert (plateau.best, plateau.wait, plateau.cooldown_counter) == (1.0, 1, 0)


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
    from tests.support.models import rates_used
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
        cwd=ROOT,
        env={**os.environ, "KERAS_BACKEND": keras.backend.backend()},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    head, trace = result.stdout.strip().splitlines()[-2:]
    assert head == ("ReducedSchedule 0.1 {'best': 1.0, 'wait': 1, "
                    "'cooldown_counter': 0}")
    np.testing.assert_allclose(
        eval(trace), _expected_rates(cosine, SCALES), rtol=1e-6)


def _fit_scores(model, scores, plateau, initial_epoch=0, data=None):
    x = np.random.RandomState(0).rand(40, 3).astype("float32")
    model.fit(x, x.sum(axis=1, keepdims=True), batch_size=8, verbose=0,
              initial_epoch=initial_epoch, epochs=initial_epoch + len(scores),
              callbacks=[Feed(dict(enumerate(scores, initial_epoch))), plateau])


@pytest.mark.parametrize("rate", [0.1, S.Constant(0.1)], ids=["float", "constant"])
def test_keras_file_keeps_a_float_s_rate_and_a_schedule_s_bookkeeping(rate, tmp_path):
    model = tiny_model(rate)
    _fit_scores(model, SCORES[:4], ReduceLROnPlateau("score", patience=2, mode="min"))
    path = str(tmp_path / "model.keras")
    model.save(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = keras.models.load_model(path)
    assert not [w for w in caught if "optimizer" in str(w.message)]
    plateau = ReduceLROnPlateau("score", patience=2, mode="min")
    _fit_scores(loaded, [1.4, 1.5], plateau, initial_epoch=4)
    used = rates_used(loaded, EPOCHS * BATCHES)[::BATCHES]
    if isinstance(rate, float):
        # The reduced rate is the optimizer's own variable, saved with it;
        # the bookkeeping is not in the file and starts afresh (Keras's
        # callback would start afresh too): 1.4 becomes the best, no
        # reduction.
        assert isinstance(loaded.optimizer._learning_rate, keras.Variable)
        np.testing.assert_allclose(used, [0.1, 0.1, 0.1, 0.01, 0.01, 0.01], rtol=1e-6)
        assert (plateau.best, plateau.wait) == (1.4, 1)
    else:
        # In the ReducedSchedule's config: best 1.0 and wait 1 go on, and
        # epoch 4 is the second without improvement.
        np.testing.assert_allclose(used, [0.1, 0.1, 0.1, 0.01, 0.01, 0.001], rtol=1e-6)
        assert (plateau.best, plateau.wait) == (1.0, 1)


def test_same_positional_arguments_and_defaults_as_keras():
    ours = inspect.signature(ReduceLROnPlateau).parameters
    theirs = inspect.signature(keras.callbacks.ReduceLROnPlateau).parameters
    names = [n for n, p in theirs.items() if p.kind is p.POSITIONAL_OR_KEYWORD]
    assert list(ours)[: len(names)] == names
    assert all(ours[n].default == theirs[n].default for n in names)
    assert list(ours)[len(names):] == ["threshold_mode", "eps", "groups"]


def test_bookkeeping_reads_and_writes_as_keras_s_attributes(data):
    model = tiny_model(0.1)
    plateau = ReduceLROnPlateau("score", patience=1, mode="min", cooldown=2)
    assert (plateau.best, plateau.wait, plateau.cooldown_counter) == (None, 0, 0)
    model.fit(*data, batch_size=8, epochs=2, verbose=0,
              callbacks=[Feed([1.0, 2.0]), plateau])
    assert (plateau.best, plateau.wait, plateau.cooldown_counter) == (1.0, 0, 2)
    assert plateau.in_cooldown()
    plateau.best, plateau.wait, plateau.cooldown_counter = 0.5, 3, 0
    # The optimizer's bookkeeping: a new callback on it sees the same.
    other = ReduceLROnPlateau("score")
    other.set_model(model)
    assert (other.best, other.wait, other.cooldown_counter) == (0.5, 3, 0)


def test_eps_skips_reductions_smaller_than_it():
    scores = [1.0] + [2.0] * 6
    rates = _our_rates(scores, factor=0.1, patience=1, mode="min", eps=1e-8,
                       initial=1e-6)
    # 1e-6 -> 1e-7 -> 1e-8 (each drop > 1e-8); 1e-8 -> 1e-9 drops 9e-9: no.
    np.testing.assert_allclose(
        rates, [1e-6, 1e-6, 1e-7, 1e-8, 1e-8, 1e-8, 1e-8], rtol=1e-6)
    # Without eps (Keras), it goes on.
    assert _our_rates(scores, factor=0.1, patience=1, mode="min",
                      initial=1e-6)[-1] == pytest.approx(1e-11, rel=1e-5)


def test_differences_from_keras_arguments():
    # Keras's swallows unknown keyword arguments (Keras 2's `epsilon`
    # included) and accepts factor 0, a negative min_delta (as its absolute
    # value) and an unknown mode (falling back to "auto"); here each fails.
    keras.callbacks.ReduceLROnPlateau(epsilon=1e-3, factor=0.0, min_delta=-1.0)
    with pytest.raises(TypeError, match="epsilon"):
        ReduceLROnPlateau(epsilon=1e-3)
    with pytest.raises(ValueError, match="Argument `factor` must be"):
        ReduceLROnPlateau(factor=0.0)
    with pytest.raises(ValueError, match="Argument `min_delta` must be"):
        ReduceLROnPlateau(min_delta=-1.0)
    with pytest.warns(UserWarning, match="unknown"):
        keras.callbacks.ReduceLROnPlateau(mode="minimum")
    with pytest.raises(ValueError, match="Argument `mode` must be"):
        ReduceLROnPlateau(mode="minimum")


def test_a_nan_never_becomes_best_where_keras_keeps_it():
    scores = [float("nan"), 1.0, 0.9, 0.8, 0.7, 0.6]
    kwargs = dict(factor=0.5, patience=2, mode="min")
    # Keras takes the first NaN as best and then sees no improvement.
    np.testing.assert_allclose(_keras_rates(scores, **kwargs),
                               [0.1, 0.1, 0.1, 0.05, 0.05, 0.025], rtol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_allclose(_our_rates(scores, **kwargs), [0.1] * 6, rtol=1e-6)


def test_auto_mode_reads_any_loss_key_as_min_where_keras_raises():
    scores = [1.0, 2.0, 3.0]

    def run(plateau):
        model = tiny_model(0.1)
        x = np.random.RandomState(0).rand(8, 3).astype("float32")
        model.fit(x, x.sum(axis=1, keepdims=True), batch_size=8, epochs=3, verbose=0,
                  callbacks=[Feed(scores, key="val_output_loss"),
                             plateau("val_output_loss", patience=1)])
        return rates_used(model, 3)

    with pytest.raises(ValueError, match="maximized or minimized"):
        run(keras.callbacks.ReduceLROnPlateau)
    np.testing.assert_allclose(run(ReduceLROnPlateau), [0.1, 0.1, 0.01], rtol=1e-6)


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
