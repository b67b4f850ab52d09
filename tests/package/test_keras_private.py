"""The private Keras names in keras_lr/_keras_private.py still do what
keras_lr relies on. A failure here means Keras moved or changed them: update
that one module (and nothing else imports `keras.src`)."""

import logging
import pathlib
import re
import warnings

import keras
import numpy as np
import pytest

from keras_lr import _keras_private
from tests.support.models import dense_model

pytestmark = pytest.mark.backend_neutral


class Counter(_keras_private.OptimizerState):
    def __init__(self, value):
        self.value = value

    def save_own_variables(self, store):
        store["value"] = np.array(self.value)

    def load_own_variables(self, store):
        if "value" in store.keys():
            self.value = int(np.asarray(store["value"]))


def _model():
    model = dense_model(keras.optimizers.SGD(0.1))
    model.optimizer.build(model.trainable_variables)
    return model


def test_state_on_the_optimizer_travels_in_weights_files(tmp_path):
    path = str(tmp_path / "model.weights.h5")
    saved = _model()
    saved.optimizer._keras_test_counter = Counter(7)
    saved.optimizer.iterations.assign(3)
    saved.save_weights(path)
    loaded = _model()
    loaded.optimizer._keras_test_counter = Counter(0)
    loaded.load_weights(path)
    assert loaded.optimizer._keras_test_counter.value == 7
    # The optimizer's own variables load as before, before the extra state.
    assert int(keras.ops.convert_to_numpy(loaded.optimizer.iterations)) == 3
    # A model without it loads the same file without complaint.
    plain = _model()
    plain.load_weights(path)
    assert int(keras.ops.convert_to_numpy(plain.optimizer.iterations)) == 3


def test_state_loads_after_the_optimizer_s_variables(tmp_path):
    seen = []

    class Probe(_keras_private.OptimizerState):
        def __init__(self, optimizer):
            self.optimizer_step = lambda: int(
                keras.ops.convert_to_numpy(optimizer.iterations))

        def save_own_variables(self, store):
            store["x"] = np.array(0)

        def load_own_variables(self, store):
            seen.append(self.optimizer_step())

    path = str(tmp_path / "model.weights.h5")
    saved = _model()
    saved.optimizer.iterations.assign(5)
    saved.optimizer._keras_test_probe = Probe(saved.optimizer)
    saved.save_weights(path)
    loaded = _model()
    loaded.optimizer._keras_test_probe = Probe(loaded.optimizer)
    loaded.load_weights(path)
    assert seen == [5]


def test_print_msg_follows_interactive_logging(capsys, caplog):
    _keras_private.print_msg("\nEpoch 1: a line")
    assert capsys.readouterr().out == "\nEpoch 1: a line\n"
    keras.config.disable_interactive_logging()
    try:
        with caplog.at_level(logging.INFO):
            _keras_private.print_msg("\nEpoch 2: a line")
    finally:
        keras.config.enable_interactive_logging()
    assert capsys.readouterr().out == ""
    assert [r.getMessage() for r in caplog.records] == ["\nEpoch 2: a line"]


def test_keras_s_own_callbacks_print_through_it():
    # keras_lr prints as Keras's callbacks do only while they use it.
    import keras.src.callbacks.learning_rate_scheduler as scheduler
    import keras.src.callbacks.reduce_lr_on_plateau as plateau

    for module in (scheduler, plateau):
        assert module.io_utils.print_msg is _keras_private.print_msg


def test_no_other_module_imports_keras_src():
    package = pathlib.Path(_keras_private.__file__).parent
    offenders = [
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if path.name != "_keras_private.py"
        and re.search(r"^\s*(from|import) keras\.src", path.read_text(), re.M)
    ]
    assert offenders == []


def test_backend_optimizer_class_is_what_keras_builds():
    """keras_lr.optimizers run the update of the class Keras really builds
    (on torch a hidden subclass with a `torch._foreach_*` update)."""
    for keras_class in (keras.optimizers.SGD, keras.optimizers.Adam,
                        keras.optimizers.Lamb):
        twin = _keras_private.backend_optimizer_class(keras_class)
        assert type(keras_class(0.1)) is twin
        assert issubclass(twin, keras_class)
        if keras.backend.backend() == "torch" and keras_class is not keras.optimizers.Lamb:
            assert twin is not keras_class
            assert "_parallel_update_step" in vars(twin)
        else:
            assert twin is keras_class


def test_rate_as_held_is_the_variable_or_the_schedule():
    floating = keras.optimizers.SGD(0.25)
    held = _keras_private.rate_as_held(floating)
    assert isinstance(held, keras.Variable)
    assert float(keras.ops.convert_to_numpy(held)) == 0.25
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)
    assert _keras_private.rate_as_held(keras.optimizers.SGD(schedule)) is schedule


def test_hold_rate_keeps_the_optimizer_s_variable_list():
    model = _model()
    optimizer = model.optimizer
    variables = [v.path for v in optimizer.variables]
    saved = _keras_private.rate_as_held(optimizer)
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)
    _keras_private.hold_rate(optimizer, schedule)
    assert _keras_private.rate_as_held(optimizer) is schedule
    assert float(keras.ops.convert_to_numpy(optimizer.learning_rate)) == pytest.approx(0.1)
    _keras_private.hold_rate(optimizer, saved)
    assert [v.path for v in optimizer.variables] == variables
    assert _keras_private.rate_as_held(optimizer) is saved


class _VariableRate(keras.optimizers.schedules.LearningRateSchedule):
    def __init__(self, variable):
        self.variable = variable

    def __call__(self, step):
        return keras.ops.cast(self.variable, "float32")


def test_an_unsaved_variable_is_read_live_and_left_out_of_weights_files(tmp_path):
    """Read by the compiled step after a host assignment, with no new
    compile (JAX threads it with the optimizer's variables), and absent from
    the optimizer's entries: files written without it load, and files
    written with it have the entries Keras's optimizer expects."""
    import h5py

    from tests.support.models import summed_rates

    def build(variable, unsaved):
        model = keras.Sequential([
            keras.Input((1,)),
            keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros"),
        ])
        optimizer = keras.optimizers.SGD(_VariableRate(variable), momentum=0.5)
        if unsaved:
            _keras_private.add_unsaved_variable(optimizer, variable)
        model.compile(optimizer, loss="mae")
        optimizer.build(model.trainable_variables)
        return model, optimizer

    path = str(tmp_path / "model.weights.h5")
    plain, _ = build(keras.Variable(1.0, trainable=False), unsaved=False)
    plain.save_weights(path)
    with h5py.File(path) as file:
        entries = sorted(file["optimizer"]["vars"])

    variable = keras.Variable(0.5, dtype="float32", trainable=False)
    model, optimizer = build(variable, unsaved=True)
    model.load_weights(path)  # written without it
    traces = []
    step = model.train_step
    model.train_step = lambda *args: traces.append(1) or step(*args)
    x, y = np.ones((2, 1), "float32"), np.full((2, 1), 1e3, "float32")
    model.fit(x, y, batch_size=1, epochs=1, verbose=0)
    variable.assign(0.25)
    model.fit(x, y, batch_size=1, epochs=1, verbose=0)
    # SGD with momentum 0.5 and a gradient of -1: the weight is the sum of
    # the velocities, v <- 0.5 v + lr.
    velocities, v = [], 0.0
    for rate in (0.5, 0.5, 0.25, 0.25):
        v = 0.5 * v + rate
        velocities.append(v)
    assert summed_rates(model) == pytest.approx(sum(velocities))
    assert any(v is variable for v in optimizer.variables)
    if keras.backend.backend() != "torch":  # torch runs the step eagerly
        assert len(traces) == 1

    model.save_weights(path)
    with h5py.File(path) as file:
        assert sorted(file["optimizer"]["vars"]) == entries
    assert any(v is variable for v in optimizer.variables)
    plain.load_weights(path)  # Keras's optimizer counts its own entries
    model.load_weights(path)
    assert float(keras.ops.convert_to_numpy(variable)) == 0.25


def test_batch_counter_counts_batches_under_accumulation():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.1, gradient_accumulation_steps=2), loss="mse")
    x = np.ones((8, 3), "float32")
    model.fit(x, x[:, :1], batch_size=2, epochs=1, verbose=0)
    optimizer = model.optimizer
    counter = _keras_private.batch_counter(optimizer)
    assert int(keras.ops.convert_to_numpy(counter)) == 4
    assert int(keras.ops.convert_to_numpy(optimizer.iterations)) == 2
    accumulators = _keras_private.accumulated_gradients(optimizer)
    assert [tuple(a.shape) for a in accumulators] == [
        tuple(v.shape) for v in model.trainable_variables
    ]
    assert _keras_private.accumulated_gradients(keras.optimizers.SGD(0.1)) == []


def test_momentum_slots_pair_each_variable_with_its_slot():
    """ScheduleFreeAdamW's z, as ScheduleFreeEval reads it."""
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    optimizer = keras.optimizers.ScheduleFreeAdamW()
    optimizer.build(model.trainable_variables)
    variables, slots = _keras_private.momentum_slots(optimizer)
    assert [v.path for v in variables] == [v.path for v in model.trainable_variables]
    assert [tuple(s.shape) for s in slots] == [tuple(v.shape) for v in variables]


def test_metric_direction_is_what_keras_metrics_declare():
    assert _keras_private.metric_direction(keras.metrics.BinaryAccuracy()) == "up"
    assert _keras_private.metric_direction(keras.metrics.MeanSquaredError()) == "down"
    assert _keras_private.metric_direction(keras.metrics.Mean()) is None


def test_weights_file_name_names_the_backup_file(tmp_path):
    names = []

    class Probe(_keras_private.OptimizerState):
        def save_own_variables(self, store):
            store["x"] = np.array(0)

        def load_own_variables(self, store):
            names.append(_keras_private.weights_file_name(store))

    path = str(tmp_path / "model.weights.h5")
    saved = _model()
    saved.optimizer._keras_test_probe = Probe()
    saved.save_weights(path)
    loaded = _model()
    loaded.optimizer._keras_test_probe = Probe()
    loaded.load_weights(path)
    assert names == [path]


def test_no_module_reads_a_private_keras_attribute():
    """The private attributes named in _keras_private.py are read nowhere else."""
    package = pathlib.Path(_keras_private.__file__).parent
    private = re.compile(
        r"\.(_learning_rate|_iterations|_accumulated_gradients|_momentums"
        r"|_trainable_variables|_optimizer_map|_var_to_optimizer_idx|_track_variable|_variables|h5_file)\b"
        r"|\"_direction\"|\"_learning_rate\""
    )
    offenders = [
        f"{path.relative_to(package)}:{number}"
        for path in package.rglob("*.py")
        if path.name != "_keras_private.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if private.search(line)
    ]
    assert offenders == []


def _multi_optimized_model():
    embeddings, head = keras.optimizers.SGD(0.01), keras.optimizers.SGD(0.1)
    keras.utils.set_random_seed(0)
    # Functional: a Sequential model's paths start with its own name.
    inputs = keras.Input((3,))
    hidden = keras.layers.Dense(2, name="embeddings")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(1, name="head")(hidden))
    model.compile(keras.optimizers.MultiOptimizer(
        keras.optimizers.OptimizerMap(head, {"embeddings/.*": embeddings})
    ), loss="mse")
    return model, embeddings, head


def test_multi_optimizer_map_is_the_map_it_was_built_with():
    model, embeddings, head = _multi_optimized_model()
    mapping = _keras_private.multi_optimizer_map(model.optimizer)
    assert isinstance(mapping, keras.optimizers.OptimizerMap)
    assert list(mapping) == ["embeddings/.*"]
    assert mapping["embeddings/.*"] is embeddings
    assert mapping.default_optimizer is head


def test_multi_optimizer_of_is_the_sub_optimizer_build_chose():
    model, embeddings, head = _multi_optimized_model()
    model.optimizer.build(model.trainable_variables)
    chosen = {
        v.path: _keras_private.multi_optimizer_of(model.optimizer, v)
        for v in model.trainable_variables
    }
    assert chosen == {
        "embeddings/kernel": embeddings, "embeddings/bias": embeddings,
        "head/kernel": head, "head/bias": head,
    }


def test_an_unsaved_variable_of_a_group_is_left_out_of_the_multi_optimizer_s_entries(
    tmp_path,
):
    """`MultiOptimizer.variables` lists its groups' variables, and writes
    them all into its own entries: a group's unsaved variable must be left
    out there too (`wrapper` lists the MultiOptimizer), or every file
    written before would be skipped at load."""
    import h5py

    def build(added):
        model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
        head = keras.optimizers.SGD(0.1, momentum=0.5)
        multi = keras.optimizers.MultiOptimizer(keras.optimizers.OptimizerMap(
            keras.optimizers.SGD(0.1, momentum=0.5), {".*bias": head}))
        model.compile(multi, loss="mae")
        multi.build(model.trainable_variables)
        if added:
            variable = keras.Variable(0.5, trainable=False)
            _keras_private.add_unsaved_variable(head, variable, [multi])
            assert any(v is variable for v in multi.variables)
        return model

    def entries(path):
        names = []
        with h5py.File(path) as file:
            file["optimizer"].visit(names.append)
        return sorted(names)

    written_before, written_after = (str(tmp_path / f"{n}.weights.h5") for n in "ab")
    build(False).save_weights(written_before)
    model = build(True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Keras warns when it skips a file
        model.load_weights(written_before)
    model.save_weights(written_after)
    assert entries(written_after) == entries(written_before)


def test_fit_builds_its_train_function_before_any_callback_and_steps_through_apply():
    """What `run_at_fit_start` and `run_before_apply` rely on: `fit` calls
    `make_train_function` before `on_train_begin`, and every train step
    updates the weights through `optimizer.apply` (a `LossScaleOptimizer`
    through its inner optimizer's), inside the compiled step: a hook that
    assigns a variable there runs once per batch."""
    events = []

    class Begin(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            events.append("on_train_begin")

    for wrap in (False, True):
        events.clear()
        optimizer = keras.optimizers.SGD(0.1)
        if wrap:
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        model.compile(optimizer, loss="mse")
        inner = optimizer.inner_optimizer if wrap else optimizer
        applies = keras.Variable(0, dtype="int32", trainable=False)
        _keras_private.add_unsaved_variable(inner, applies)

        def count():
            applies.assign(applies.value + 1)

        _keras_private.run_before_apply(inner, count)
        _keras_private.run_at_fit_start(model, lambda: events.append("fit start"))
        x = np.ones((8, 3), "float32")
        model.fit(x, x[:, :1], batch_size=2, epochs=2, verbose=0, callbacks=[Begin()])
        assert events == ["fit start", "on_train_begin"]
        assert int(keras.ops.convert_to_numpy(applies)) == 8
