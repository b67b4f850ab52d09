"""Per-group rates: an optimizer's groups, `ScaledSchedule`, the group table,
`scale_rates` and `layer_decay` (against timm's multipliers, and trained with
`fit` on a transformer-shaped model), and a `.keras` round trip."""

import keras
import numpy as np
import pytest

import keras_lr
from keras_lr import schedules as S
from keras_lr.optimizers import ScaledSchedule
from keras_lr.optimizers import group
from keras_lr.optimizers import group_table
from keras_lr.optimizers import groups
from keras_lr.optimizers import layer_decay
from keras_lr.optimizers import scale_rates
from tests.parity.reference import timm_vit_layer_scales
from tests.support.backends import graph_rates
from tests.support.models import TracingSGD
from tests.support.models import layer_patterns
from tests.support.models import transformer_model

pytestmark = pytest.mark.backend_neutral

DEPTH = 2


def _trace(optimizer, steps):
    return keras.ops.convert_to_numpy(optimizer.trace)[:steps].astype(np.float64)


# ScaledSchedule


def test_scaled_schedule_is_the_schedule_times_the_multiplier():
    base = S.Warmup(S.CosineAnnealing(0.1, decay_steps=50), warmup_steps=5)
    scaled = ScaledSchedule(base, 0.3)
    steps = np.arange(60)
    np.testing.assert_array_equal(scaled.numpy(steps), base.numpy(steps) * 0.3)
    np.testing.assert_allclose(graph_rates(scaled, steps), scaled.numpy(steps), rtol=1e-6)
    # A Keras built-in inside, evaluated through keras.ops on the host.
    keras_decay = keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)
    np.testing.assert_allclose(
        ScaledSchedule(keras_decay, 0.25).numpy([0, 10, 20]),
        [0.025, 0.0125, 0.00625], rtol=1e-6,
    )


def test_scaled_schedule_config_round_trip():
    scaled = ScaledSchedule(S.CosineAnnealing(0.1, decay_steps=50), 0.75)
    config = keras.saving.serialize_keras_object(scaled)
    again = keras.saving.deserialize_keras_object(config)
    assert again == scaled
    assert again.get_config() == scaled.get_config()
    np.testing.assert_array_equal(again.numpy(np.arange(60)), scaled.numpy(np.arange(60)))
    assert repr(scaled) == (
        "ScaledSchedule(schedule=CosineAnnealing(initial_learning_rate=0.1, "
        "decay_steps=50, min_learning_rate=0.0, exponent=1.0), multiplier=0.75)"
    )


@pytest.mark.parametrize(
    "arguments, argument, error",
    [
        (dict(schedule=S.Constant(0.1), multiplier=-0.5), "multiplier", ValueError),
        (dict(schedule=S.Constant(0.1), multiplier=float("inf")), "multiplier", ValueError),
        (dict(schedule=S.Constant(0.1), multiplier="half"), "multiplier", TypeError),
        (dict(schedule=0.1, multiplier=0.5), "schedule", TypeError),
    ],
)
def test_scaled_schedule_bad_arguments(arguments, argument, error):
    with pytest.raises(error, match=f"Argument `{argument}`.*Received"):
        ScaledSchedule(**arguments)


# The groups of an optimizer


def _multi(default, mapping):
    return keras.optimizers.MultiOptimizer(
        keras.optimizers.OptimizerMap(default, mapping)
    )


def test_a_plain_optimizer_is_one_group():
    sgd = keras.optimizers.SGD(0.1)
    assert groups(sgd) == {"default": sgd}
    assert groups(keras.optimizers.LossScaleOptimizer(sgd)) == {"default": sgd}


def test_an_optimizer_map_s_groups_are_default_then_its_keys():
    default, a, b = (keras.optimizers.SGD(r) for r in (0.1, 0.2, 0.3))
    # `a` under two keys is one group, named by the first.
    optimizer = _multi(default, {"block_1_.*": a, "embeddings/.*": b, "norm/.*": a})
    named = groups(optimizer)
    assert list(named) == ["default", "block_1_.*", "embeddings/.*"]
    assert [named[k] for k in named] == [default, a, b]
    assert group(optimizer, "embeddings/.*") is b
    with pytest.raises(ValueError, match=r"Argument `name` must be a group of the "
                       r"optimizer, one of \['default', 'block_1_\.\*', "
                       r"'embeddings/\.\*'\]\. Received: name='head'"):
        group(optimizer, "head")


def test_a_key_named_default_is_refused():
    optimizer = _multi(keras.optimizers.SGD(0.1), {"default": keras.optimizers.SGD(0.2)})
    with pytest.raises(ValueError, match=r"Argument `optimizer` must not map the key "
                       r"'default'.*Received: .*\['default'\]"):
        groups(optimizer)


def test_a_callable_map_s_groups_are_its_sub_optimizers_by_name():
    embeddings = keras.optimizers.SGD(0.01, name="slow")
    rest = keras.optimizers.SGD(0.1, name="slow")  # the same name twice

    def route(variable):
        return embeddings if variable.path.startswith("embeddings/") else rest

    model = transformer_model(DEPTH)
    optimizer = keras.optimizers.MultiOptimizer(route)
    assert groups(optimizer) == {}  # unknown until built
    # The table builds it, as `fit` would.
    table = group_table(model, optimizer)
    assert list(groups(optimizer)) == ["slow", "slow_2"]
    assert {row.group for row in table if row.path.startswith("embeddings/")} == {"slow"}
    assert {row.group for row in table if row.path.startswith("head/")} == {"slow_2"}
    # Float rates: the ratio of the two float32 variables.
    assert {row.multiplier for row in table if row.group == "slow_2"} == {
        float(np.float32(0.1)) / float(np.float32(0.01))
    }


# The group table


def test_group_table_lists_every_variable_with_its_group_and_multiplier(capsys):
    model = transformer_model(DEPTH)
    optimizer = layer_decay(model, keras.optimizers.SGD(0.1), 0.5, layer_patterns(DEPTH))
    table = group_table(model, optimizer, verbose=1)
    assert [row.path for row in table] == [v.path for v in model.trainable_variables]
    by_path = {row.path: (row.group, row.multiplier) for row in table}
    assert by_path["embeddings/kernel"] == ("embeddings/.*", 0.125)
    assert by_path["block_0_attention/query/kernel"] == ("block_0_.*", 0.25)
    assert by_path["block_1_mlp/bias"] == ("block_1_.*", 0.5)
    assert by_path["norm/gamma"] == ("default", 1.0)
    assert by_path["head/kernel"] == ("default", 1.0)
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].split() == ["variable", "group", "multiplier"]
    assert printed[1].split() == ["embeddings/kernel", "embeddings/.*", "0.125"]
    assert len(printed) == len(table) + 1
    # Nothing printed by default.
    group_table(model, optimizer)
    assert capsys.readouterr().out == ""


def test_group_table_of_a_hand_made_multi_optimizer_and_of_a_plain_one():
    model = transformer_model(DEPTH)
    hand_made = _multi(
        keras.optimizers.SGD(S.CosineAnnealing(0.2, 100)),
        {"embeddings/.*": keras.optimizers.SGD(0.05)},
    )
    rows = {row.path: row for row in group_table(model, hand_made)}
    # At step 0 the default rate is 0.2: a float group of 0.05 is a quarter.
    assert rows["embeddings/bias"].multiplier == pytest.approx(0.25, rel=1e-6)
    assert rows["head/bias"].group == "default"
    model.compile(keras.optimizers.SGD(0.1), loss="mse")
    assert {(row.group, row.multiplier) for row in group_table(model)} == {("default", 1.0)}


def test_group_table_refuses_a_key_that_matches_no_variable():
    model = transformer_model(DEPTH)
    optimizer = _multi(
        keras.optimizers.SGD(0.1), {"encoder/.*": keras.optimizers.SGD(0.01)}
    )
    with pytest.raises(ValueError, match=r"Argument `optimizer` must hold patterns "
                       r"that each match a trainable variable.*Received: "
                       r"'encoder/\.\*', which matches none"):
        group_table(model, optimizer)


def test_group_table_refuses_a_variable_two_keys_match():
    model = transformer_model(DEPTH)
    optimizer = _multi(keras.optimizers.SGD(0.1), {
        "block_0_.*": keras.optimizers.SGD(0.01),
        "block_0_mlp/.*": keras.optimizers.SGD(0.02),
    })
    with pytest.raises(ValueError, match=r"Argument `optimizer` must route each "
                       r"variable to one group.*'block_0_mlp/kernel'.*Received: "
                       r"\['block_0_\.\*', 'block_0_mlp/\.\*'\]"):
        group_table(model, optimizer)


# layer_decay against timm


@pytest.mark.parametrize("depth", [1, 4, 12])
@pytest.mark.parametrize("decay", [0.65, 0.75, 1.0])
def test_layer_decay_multipliers_are_timm_s(depth, decay):
    model = transformer_model(depth)
    # A schedule: each group's is a ScaledSchedule of it, so the table's
    # multipliers are exact (a float rate's are ratios of float32 values).
    optimizer = layer_decay(model, keras.optimizers.AdamW(S.Constant(1e-3)), decay,
                            layer_patterns(depth))
    scales = timm_vit_layer_scales(depth, decay)
    for row in group_table(model, optimizer):
        layer = row.path.split("/")[0]
        if layer == "embeddings":
            expected = scales[0]
        elif layer.startswith("block_"):
            expected = scales[int(layer.split("_")[1]) + 1]
        else:  # the final norm and the head
            expected = scales[-1]
        assert row.multiplier == expected, row.path


def test_a_float_rate_gives_float_groups_at_their_share():
    model = transformer_model(DEPTH)
    optimizer = layer_decay(model, keras.optimizers.SGD(0.1), 0.5, layer_patterns(DEPTH))
    named = groups(optimizer)
    assert named["default"].learning_rate.dtype == "float32"
    for name, share in (("embeddings/.*", 0.125), ("block_0_.*", 0.25), ("block_1_.*", 0.5)):
        rate = float(keras.ops.convert_to_numpy(named[name].learning_rate))
        assert rate == float(np.float32(0.1 * share))


def test_scale_rates_takes_explicit_pairs_and_dicts():
    model = transformer_model(DEPTH)
    for multipliers in ({"embeddings/.*": 0.1, "norm/.*": 0.0},
                        [("embeddings/.*", 0.1), ("norm/.*", 0.0)]):
        optimizer = scale_rates(model, keras.optimizers.SGD(S.Constant(0.1)), multipliers)
        assert list(groups(optimizer)) == ["default", "embeddings/.*", "norm/.*"]
        rows = {row.path: row.multiplier for row in group_table(model, optimizer)}
        assert rows["embeddings/kernel"] == 0.1
        assert rows["norm/beta"] == 0.0
        assert rows["head/kernel"] == 1.0


# layer_decay trained with fit: the exact rate each group used

BASES = {
    "float": lambda: 0.1,
    "keras_lr_warmup_cosine": lambda: S.Warmup(S.CosineAnnealing(0.1, 20), 3),
    "keras_exponential": lambda: keras.optimizers.schedules.ExponentialDecay(0.1, 4, 0.5),
}


@pytest.mark.parametrize("base", list(BASES))
def test_each_group_trains_at_its_share_of_the_rate(base, data):
    decay, epochs, steps = 0.5, 2, 10
    model = transformer_model(DEPTH)
    rate = BASES[base]()
    optimizer = layer_decay(model, TracingSGD(rate), decay, layer_patterns(DEPTH))
    model.compile(optimizer, loss="mse")
    before = [keras.ops.convert_to_numpy(v).copy() for v in model.trainable_variables]
    model.fit(*data, batch_size=8, epochs=epochs, verbose=0)
    head_rates = S.evaluate(rate, np.arange(steps))
    n = len(layer_patterns(DEPTH))
    expected = {"default": 1.0}
    expected.update({p: decay ** (n - i) for i, p in enumerate(layer_patterns(DEPTH))})
    for name, sub in groups(optimizer).items():
        assert int(keras.ops.convert_to_numpy(sub.iterations)) == steps
        wanted = np.float32(head_rates * expected[name]).astype(np.float64)
        if base == "float":
            # The float rate of each group is its own variable, float32.
            np.testing.assert_array_equal(_trace(sub, steps), wanted)
        else:
            np.testing.assert_allclose(_trace(sub, steps), wanted, rtol=1e-6)
    # Every variable trained, the bottom ones too.
    after = [keras.ops.convert_to_numpy(v) for v in model.trainable_variables]
    assert all(np.any(a != b) for a, b in zip(after, before))


def test_a_zero_multiplier_freezes_its_group(data):
    model = transformer_model(DEPTH)
    model.compile(scale_rates(model, keras.optimizers.SGD(0.1), {"embeddings/.*": 0.0}),
                  loss="mse")
    frozen = keras.ops.convert_to_numpy(model.get_layer("embeddings").kernel).copy()
    model.fit(*data, batch_size=8, epochs=1, verbose=0)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(model.get_layer("embeddings").kernel), frozen)


def test_keras_lr_optimizers_with_scheduled_momentum_are_copied_per_group(data):
    rate = S.OneCycle(0.1, total_steps=10)
    base = keras_lr.optimizers.SGD(
        rate, momentum=rate.momentum_schedule(), weight_decay=S.CosineAnnealing(0.01, 10)
    )
    model = transformer_model(DEPTH)
    optimizer = layer_decay(model, base, 0.5, layer_patterns(DEPTH))
    for sub in groups(optimizer).values():
        assert isinstance(sub, keras_lr.optimizers.SGD)
        assert sub.hyperparameter_schedules == base.hyperparameter_schedules
    model.compile(optimizer, loss="mse")
    model.fit(*data, batch_size=8, epochs=1, verbose=0)
    assert int(keras.ops.convert_to_numpy(optimizer.iterations)) == 5


def test_a_keras_file_keeps_the_groups_and_their_scaled_schedules(data, tmp_path):
    path = str(tmp_path / "model.keras")
    schedule = S.Warmup(S.CosineAnnealing(0.1, 20), 3)
    models = []
    for _ in range(2):
        model = transformer_model(DEPTH)
        model.compile(layer_decay(model, keras.optimizers.SGD(schedule), 0.5,
                                  layer_patterns(DEPTH)), loss="mse")
        model.fit(*data, batch_size=8, epochs=1, verbose=0, shuffle=False)
        models.append(model)
    models[0].save(path)
    loaded = keras.saving.load_model(path)
    saved_groups, loaded_groups = groups(models[0].optimizer), groups(loaded.optimizer)
    assert list(loaded_groups) == list(saved_groups)
    for name in saved_groups:
        held = loaded_groups[name]._learning_rate
        assert held == saved_groups[name]._learning_rate
        assert int(keras.ops.convert_to_numpy(loaded_groups[name].iterations)) == 5
    assert isinstance(loaded_groups["embeddings/.*"]._learning_rate, ScaledSchedule)
    # Training goes on as it would have: the same weights as the unsaved twin.
    for model in (loaded, models[1]):
        model.fit(*data, batch_size=8, epochs=1, verbose=0, shuffle=False)
    for a, b in zip(loaded.trainable_variables, models[1].trainable_variables):
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b), rtol=1e-6, atol=1e-7
        )


# Bad input


@pytest.mark.parametrize(
    "arguments, pattern, error",
    [
        (dict(decay=0.0), r"Argument `decay` must be a finite number in \(0, 1\]. "
         r"Received: decay=0.0", ValueError),
        (dict(decay=1.5), r"Argument `decay` .*Received: decay=1.5", ValueError),
        (dict(decay="0.75"), r"Argument `decay` .*Received: decay='0.75'", TypeError),
        (dict(layers=["embeddings/.*", "encoder_0/.*"]),
         r"Argument `layers` must hold patterns that each match a trainable "
         r"variable.*Received: 'encoder_0/\.\*', which matches none", ValueError),
        (dict(layers=["embeddings/.*", "block_0_.*", "block_0_mlp/.*"]),
         r"Argument `layers` must route each variable to one group", ValueError),
        (dict(layers=["block_0_.*", "block_0_.*"]),
         r"Argument `layers` must name each pattern once", ValueError),
        (dict(layers=[]), r"Argument `layers` must hold at least one pattern", ValueError),
        (dict(layers="embeddings/.*"), r"Argument `layers` must be a list", TypeError),
        (dict(layers=["block_0_("]), r"Argument `layers` must hold valid regular", ValueError),
        (dict(layers=[3]), r"Argument `layers` must hold string patterns", TypeError),
        (dict(verbose=2), r"Argument `verbose` must be 0 or 1", ValueError),
    ],
)
def test_layer_decay_bad_arguments(arguments, pattern, error):
    model = transformer_model(DEPTH)
    kwargs = dict(decay=0.75, layers=layer_patterns(DEPTH))
    kwargs.update(arguments)
    with pytest.raises(error, match=pattern):
        layer_decay(model, keras.optimizers.SGD(0.1), **kwargs)


def test_layer_decay_refuses_a_built_or_wrapped_optimizer():
    model = transformer_model(DEPTH)
    built = keras.optimizers.SGD(0.1)
    built.build(model.trainable_variables)
    with pytest.raises(ValueError, match=r"Argument `optimizer` must not be built"):
        layer_decay(model, built, 0.75, layer_patterns(DEPTH))
    multi = _multi(keras.optimizers.SGD(0.1), {})
    with pytest.raises(TypeError, match=r"Argument `optimizer` must be a Keras "
                       r"optimizer \(not a MultiOptimizer"):
        layer_decay(model, multi, 0.75, layer_patterns(DEPTH))


def test_scale_rates_bad_multipliers():
    model = transformer_model(DEPTH)
    with pytest.raises(ValueError, match=r"Argument `multipliers\['head/\.\*'\]` must "
                       r"be a finite number >= 0. Received: .*-1"):
        scale_rates(model, keras.optimizers.SGD(0.1), {"head/.*": -1})
    with pytest.raises(TypeError, match=r"Argument `multipliers` must be a dict"):
        scale_rates(model, keras.optimizers.SGD(0.1), [("head/.*",)])
