"""Migrating from keras_lr_finder (surmenok/keras_lr_finder, `LRFinder`):
the table of docs/pages/migrating/keras-lr-finder.md, line by line, against that package's published
algorithm (its `lr_finder.py`), written out here."""

import keras
import matplotlib
import numpy as np
import pytest

import keras_lr
from keras_lr.finder import RangeTestResult
from tests.support.models import dense_model

matplotlib.use("Agg")

pytestmark = pytest.mark.backend_neutral


def _model():
    return dense_model(keras.optimizers.SGD(0.01), seed=0)


def _data(n=64):
    x = np.random.RandomState(0).rand(n, 3).astype("float32")
    return x, x.sum(axis=1, keepdims=True)


def lr_finder_rates(start_lr, end_lr, samples, batch_size, epochs):
    """keras_lr_finder's `find`: the rate of each batch, multiplied by
    `(end_lr / start_lr) ** (1 / (epochs * samples / batch_size))` after it."""
    batches = epochs * samples / batch_size
    multiplier = (end_lr / start_lr) ** (1 / batches)
    return start_lr * multiplier ** np.arange(int(np.ceil(batches)))


def lr_finder_derivatives(losses, sma):
    """keras_lr_finder's `get_derivatives`."""
    return [0] * sma + [(losses[i] - losses[i - sma]) / sma
                        for i in range(sma, len(losses))]


def test_find_maps_to_num_steps_batches_plus_one():
    # lr_finder.find(x, y, start_lr=1e-4, end_lr=1e-2, batch_size=8, epochs=2)
    x, y = _data()
    result = keras_lr.find_learning_rate(
        _model(), x, y, start_lr=1e-4, end_lr=1e-2, batch_size=8,
        num_steps=2 * 64 // 8 + 1, verbose=0)
    theirs = lr_finder_rates(1e-4, 1e-2, 64, 8, epochs=2)
    # The same rates, plus a last step at end_lr itself, which
    # keras_lr_finder stops one multiplication short of.
    np.testing.assert_allclose(result.learning_rates[:-1], theirs, rtol=1e-12)
    assert result.learning_rates[-1] == pytest.approx(1e-2, rel=1e-12)
    assert theirs[-1] < 1e-2


def test_no_extra_fit_arguments():
    # keras_lr_finder passed `**kw_fit` on to `fit`; the range test draws
    # its own batches and takes no other `fit` argument.
    x, y = _data()
    with pytest.raises(TypeError, match="validation_split"):
        keras_lr.find_learning_rate(_model(), x, y, validation_split=0.2)


def test_no_five_batch_grace_before_stopping():
    # keras_lr_finder ignores divergence during its first 6 batches; here a
    # sweep that diverges at once stops at once.
    x, y = _data()
    result = keras_lr.find_learning_rate(
        _model(), x, y, start_lr=50.0, end_lr=1e4, batch_size=8, num_steps=50,
        verbose=0)
    assert len(result.losses) < 6


def test_get_best_lr_as_one_line_and_suggestion_is_another_rule():
    rates = np.geomspace(1e-5, 1.0, 60)
    t = np.log10(rates) + 5
    losses = 2.0 - 1.5 / (1 + np.exp(-(t - 2.5) * 2)) + np.exp(t - 4.4)
    result = RangeTestResult(rates, losses, losses)
    sma, skip_begin, skip_end = 5, 10, 5
    # keras_lr_finder's get_best_lr(sma=5, n_skip_beginning=10, n_skip_end=5):
    derivatives = lr_finder_derivatives(list(losses), sma)
    theirs = rates[skip_begin:-skip_end][np.argmin(derivatives[skip_begin:-skip_end])]
    # The migration table's line, on the result's arrays:
    d = np.r_[np.zeros(sma), (result.losses[sma:] - result.losses[:-sma]) / sma]
    ours = result.learning_rates[skip_begin:-skip_end][
        np.argmin(d[skip_begin:-skip_end])]
    assert ours == theirs
    # `suggestion()` reads the slope against log(lr) before the minimum.
    assert result.suggestion() != theirs


def test_plot_draws_the_smoothed_loss_on_a_log_axis():
    rates = np.geomspace(1e-4, 1.0, 30)
    losses = np.linspace(2.0, 1.0, 30)
    ax = RangeTestResult(rates, losses, losses * 1.1).plot()
    line = ax.get_lines()[0]
    np.testing.assert_allclose(line.get_xdata(), rates)
    np.testing.assert_allclose(line.get_ydata(), losses * 1.1)
    assert ax.get_xscale() == "log"
    matplotlib.pyplot.close(ax.figure)
