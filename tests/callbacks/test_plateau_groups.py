"""ReduceLROnPlateau on a MultiOptimizer (keras_lr.optimizers.scale_rates):
each group reduced by the factor from its own rate, with its own floor, on
float and schedule rates, one compile, and every group's reduction kept by
BackupAndRestore and by a .keras file."""

import keras
import numpy as np
import pytest

from keras_lr import _keras_private
from keras_lr import schedules as S
from keras_lr.callbacks import ReducedSchedule
from keras_lr.callbacks import ReduceLROnPlateau
from keras_lr.optimizers import ScaledSchedule
from keras_lr.optimizers import groups
from keras_lr.optimizers import layer_decay
from keras_lr.optimizers import scale_rates
from tests.callbacks.test_plateau import BATCHES
from tests.callbacks.test_plateau import EPOCHS
from tests.callbacks.test_plateau import SCALES
from tests.callbacks.test_plateau import SCORES
from tests.callbacks.test_plateau import _expected_rates
from tests.callbacks.test_plateau import _keras_float_chain
from tests.support.backends import count_compiles
from tests.support.backends import fewer_elsewhere
from tests.support.callbacks import Crash
from tests.support.callbacks import Feed
from tests.support.callbacks import Script
from tests.support.callbacks import ScriptedScore
from tests.support.models import TracingSGD
from tests.support.models import as_float32
from tests.support.models import layer_patterns
from tests.support.models import transformer_model

pytestmark = pytest.mark.backend_neutral

DEPTH = 1
HEAD = "head/.*"
STEPS = EPOCHS * BATCHES


def _model(rate, score, multipliers=None):
    """`transformer_model` under `scale_rates` of `TracingSGD(rate)`: the
    head at half the rate (its own traced sub-optimizer), the rest at it."""
    model = transformer_model(DEPTH)
    optimizer = scale_rates(model, TracingSGD(rate), multipliers or {HEAD: 0.5})
    model.compile(optimizer, loss="mse", metrics=[score] if score else None)
    return model


def _fit(model, score, callbacks, epochs=EPOCHS, data=None):
    return model.fit(*data, batch_size=8, epochs=epochs, verbose=0,
                     callbacks=[Script(score)] + callbacks)


def _traces(model, steps=STEPS):
    return {
        name: keras.ops.convert_to_numpy(sub.trace)[:steps].astype(np.float64)
        for name, sub in groups(model.optimizer).items()
    }


def _float_trace(rate, scales, floor=0.0):
    """Keras's float32 chain of reductions of one group, floored."""
    values = np.asarray(_keras_float_chain(rate, scales))
    if floor:
        # max(lr * factor, floor): the floor, stored as float32, once reached.
        values = np.maximum(values, float(np.float32(floor)))
    return values


SCHEDULE = S.CosineAnnealing(0.1, decay_steps=40)


def test_every_group_is_reduced_by_the_factor_from_its_own_rate(data):
    score = ScriptedScore(SCORES)
    model = _model(SCHEDULE, score)
    model.optimizer.build(model.trainable_variables)
    compiles = count_compiles(model)
    plateau = ReduceLROnPlateau("score", factor=0.1, patience=2, mode="min")
    _fit(model, score, [plateau], data=data)
    traces = _traces(model)
    np.testing.assert_allclose(
        traces["default"], _expected_rates(SCHEDULE, SCALES), rtol=1e-6)
    np.testing.assert_allclose(
        traces[HEAD], _expected_rates(ScaledSchedule(SCHEDULE, 0.5), SCALES), rtol=1e-6)
    for sub in groups(model.optimizer).values():
        assert isinstance(_keras_private.rate_as_held(sub), ReducedSchedule)
        assert _keras_private.rate_as_held(sub).scale == pytest.approx(0.01)
    assert (plateau.best, plateau.wait, plateau.cooldown_counter) == (1.0, 1, 0)
    # The reductions assigned variables: the step compiled once.
    assert len(compiles) == 1


def test_float_groups_each_get_keras_s_reduction_and_their_own_floor(data):
    score = ScriptedScore(SCORES)
    model = _model(0.1, score)
    model.optimizer.build(model.trainable_variables)
    compiles = count_compiles(model)
    plateau = ReduceLROnPlateau("score", factor=0.1, patience=2, mode="min",
                                min_lr={HEAD: 0.004})
    _fit(model, score, [plateau], data=data)
    traces = _traces(model)
    np.testing.assert_array_equal(traces["default"], _float_trace(0.1, SCALES))
    # The head: 0.05, 0.005, then its floor 0.004 (not 0.0005).
    np.testing.assert_array_equal(traces[HEAD], _float_trace(0.05, SCALES, 0.004))
    np.testing.assert_array_equal(traces[HEAD][-BATCHES:], np.float32(0.004))
    assert len(compiles) == 1


def test_groups_limits_the_reduction_to_the_named_groups(data):
    score = ScriptedScore(SCORES)
    model = _model(SCHEDULE, score)
    plateau = ReduceLROnPlateau("score", factor=0.1, patience=2, mode="min",
                                groups=[HEAD])
    _fit(model, score, [plateau], data=data)
    traces = _traces(model)
    np.testing.assert_allclose(
        traces["default"], _expected_rates(SCHEDULE, np.ones(EPOCHS)), rtol=1e-6)
    np.testing.assert_allclose(
        traces[HEAD], _expected_rates(ScaledSchedule(SCHEDULE, 0.5), SCALES), rtol=1e-6)
    assert not isinstance(_keras_private.rate_as_held(groups(model.optimizer)["default"]),
                          ReducedSchedule)


def test_a_group_at_its_floor_stays_while_the_others_go_on(data):
    # The head starts at its floor: the reductions go on for the default
    # group only, and a group at its floor never blocks them.
    score = ScriptedScore(SCORES)
    model = _model(0.1, score)
    plateau = ReduceLROnPlateau("score", factor=0.1, patience=2, mode="min",
                                min_lr={HEAD: 0.05})
    _fit(model, score, [plateau], data=data)
    traces = _traces(model)
    np.testing.assert_array_equal(traces["default"], _float_trace(0.1, SCALES))
    np.testing.assert_array_equal(traces[HEAD], np.float32(0.05))


def test_verbose_line_names_each_group_s_new_rate(data, capsys):
    score = ScriptedScore(SCORES[:4])
    model = _model(0.1, score)
    _fit(model, score, [ReduceLROnPlateau("score", patience=2, mode="min", verbose=1)],
         epochs=4, data=data)
    default, head = float(np.float32(0.1)) * 0.1, float(np.float32(0.05)) * 0.1
    assert (
        f"Epoch 3: ReduceLROnPlateau reducing learning rate to {default} "
        f"(default), {head} ({HEAD})." in capsys.readouterr().out
    )


def test_layer_decay_groups_each_keep_their_share_after_a_reduction(data):
    score = ScriptedScore(SCORES)
    model = transformer_model(DEPTH)
    optimizer = layer_decay(model, TracingSGD(SCHEDULE), 0.5, layer_patterns(DEPTH))
    model.compile(optimizer, loss="mse", metrics=[score])
    _fit(model, score, [ReduceLROnPlateau("score", patience=2, mode="min")], data=data)
    traces = _traces(model)
    n = len(layer_patterns(DEPTH))
    shares = {"default": 1.0}
    shares.update({p: 0.5 ** (n - i) for i, p in enumerate(layer_patterns(DEPTH))})
    assert set(traces) == set(shares)
    for name, share in shares.items():
        np.testing.assert_allclose(
            traces[name], _expected_rates(ScaledSchedule(SCHEDULE, share), SCALES),
            rtol=1e-6)


def _run_with_backup(rate, backup_dir, backup_first, extra, data):
    score = ScriptedScore(SCORES)
    model = _model(rate, score)
    plateau = ReduceLROnPlateau("score", factor=0.1, patience=2, mode="min",
                                min_lr={HEAD: 0.004})
    backup = keras.callbacks.BackupAndRestore(backup_dir)
    pair = [backup, plateau] if backup_first else [plateau, backup]
    _fit(model, score, pair + extra, data=data)
    return model, plateau


def _expected_traces(rate):
    if isinstance(rate, float):
        return {"default": _float_trace(0.1, SCALES),
                HEAD: _float_trace(0.05, SCALES, 0.004)}
    # ReducedSchedule's floor: max(rate * scale, min(floor, rate)), rounded
    # once to float32 by the trace.
    base = S.evaluate(ScaledSchedule(SCHEDULE, 0.5), np.arange(STEPS))
    head = np.maximum(base * np.repeat(SCALES, BATCHES), np.minimum(0.004, base))
    return {"default": _expected_rates(SCHEDULE, SCALES), HEAD: as_float32(head)}


@pytest.mark.parametrize("rate", [SCHEDULE, 0.1], ids=["schedule", "float"])
@pytest.mark.parametrize(
    "backup_first",
    fewer_elsewhere([pytest.param(True, id="backup_first"),
                     pytest.param(False, id="plateau_first")]),
)
# Epoch 2 ends with a reduction, epoch 3 in the middle of the patience.
@pytest.mark.parametrize("crash_epoch", fewer_elsewhere([2, 3]))
def test_backup_and_restore_resumes_every_group_s_reduction(
    rate, backup_first, crash_epoch, data, tmp_path
):
    backup_dir = str(tmp_path / "backup")
    with pytest.raises(RuntimeError, match="simulated crash"):
        _run_with_backup(rate, backup_dir, backup_first, [Crash(crash_epoch)], data)
    resumed, plateau = _run_with_backup(rate, backup_dir, backup_first, [], data)
    traces, expected = _traces(resumed), _expected_traces(rate)
    for name in ("default", HEAD):
        np.testing.assert_allclose(traces[name], expected[name], rtol=1e-6)
    assert (plateau.best, plateau.wait, plateau.cooldown_counter) == (1.0, 1, 0)


def test_a_keras_file_keeps_every_group_s_scale_and_the_bookkeeping(data, tmp_path):
    model = _model(SCHEDULE, None)
    model.fit(*data, batch_size=8, epochs=4, verbose=0, callbacks=[
        Feed(SCORES), ReduceLROnPlateau("score", patience=2, mode="min")])
    path = str(tmp_path / "model.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    named = groups(loaded.optimizer)
    assert list(named) == ["default", HEAD]
    for sub in named.values():
        rate = _keras_private.rate_as_held(sub)
        assert isinstance(rate, ReducedSchedule)
        assert rate.scale == pytest.approx(0.1)
        assert rate.plateau_state == {"best": 1.0, "wait": 1, "cooldown_counter": 0}


def test_unknown_group_names_are_refused_at_train_begin(data):
    score = ScriptedScore(SCORES)
    model = _model(0.1, score)
    with pytest.raises(ValueError, match=r"Argument `groups` must name groups .*"
                       r"\['default', 'head/\.\*'\].*Received: groups=\['head'\]"):
        _fit(model, score, [ReduceLROnPlateau("score", groups=["head"])], epochs=1,
             data=data)
    with pytest.raises(ValueError, match=r"Argument `min_lr` must name groups .*"
                       r"Received: min_lr=\{'top': 0.01\}"):
        _fit(model, score, [ReduceLROnPlateau("score", min_lr={"top": 0.01})],
             epochs=1, data=data)


def test_a_plain_optimizer_is_the_one_group_default(data):
    score = ScriptedScore(SCORES[:4])
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(TracingSGD(0.1), loss="mse", metrics=[score])
    plateau = ReduceLROnPlateau("score", patience=2, mode="min", groups=["default"],
                                min_lr={"default": 0.05})
    _fit(model, score, [plateau], epochs=4, data=data)
    trace = keras.ops.convert_to_numpy(model.optimizer.trace)[:4 * BATCHES]
    np.testing.assert_array_equal(trace, _float_trace(0.1, SCALES[:4], 0.05))
    with pytest.raises(ValueError, match=r"groups \['default'\]"):
        _fit(model, score, [ReduceLROnPlateau("score", groups=["head"])], epochs=1,
             data=data)


@pytest.mark.parametrize(
    "kwargs, error, pattern",
    [
        ({"groups": "head"}, TypeError, "Argument `groups` must be None"),
        ({"groups": []}, TypeError, "Argument `groups` must be None"),
        ({"groups": [1]}, TypeError, "Argument `groups` must be None"),
        ({"min_lr": {1: 0.1}}, TypeError, "Argument `min_lr` must be a number or a dict"),
        ({"min_lr": {"head": -1.0}}, ValueError, r"min_lr\['head'\]"),
    ],
)
def test_group_argument_errors(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        ReduceLROnPlateau(**kwargs)


def test_config_round_trip_carries_groups_and_floors():
    plateau = ReduceLROnPlateau("score", min_lr={HEAD: 0.01}, groups=[HEAD])
    config = plateau.get_config()
    assert config["groups"] == [HEAD] and config["min_lr"] == {HEAD: 0.01}
    again = ReduceLROnPlateau(**config)
    assert again.get_config() == config
