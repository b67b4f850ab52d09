"""The learning rate range test (Smith 2017), with exact restoration."""

import contextlib
import math
import os

import keras
import numpy as np

from keras_lr import _keras_private
from keras_lr import _validation
from keras_lr.callbacks import _optimizer_rate
from keras_lr.schedules.base import evaluate
from keras_lr.schedules.piecewise import Constant
from keras_lr.schedules.wrappers import Epochs
from keras_lr.schedules.wrappers import Warmup


class RangeTestResult:
    """What `find_learning_rate` measured.

    Attributes:
        learning_rates: the rate of each step taken, a NumPy array.
        losses: the training loss of each step's batch (with gradient
            accumulation, the mean loss of the step's batches).
        smoothed_losses: the bias-corrected exponential moving average of
            `losses` (`smoothing` is its factor).
    """

    def __init__(self, learning_rates, losses, smoothed_losses):
        self.learning_rates = np.asarray(learning_rates, dtype=np.float64)
        self.losses = np.asarray(losses, dtype=np.float64)
        self.smoothed_losses = np.asarray(smoothed_losses, dtype=np.float64)

    def __repr__(self):
        # A repr must not raise: a test that diverged at once has no
        # suggestion, and says so.
        try:
            suggestion = f"{self.suggestion():.3g}"
        except ValueError:
            suggestion = None
        return (
            f"RangeTestResult(steps={len(self.learning_rates)}, "
            f"suggestion={suggestion})"
        )

    def suggestion(self, method="steepest"):
        """A learning rate to train with, read from the smoothed loss curve.

        Args:
            method: one of
                - `"steepest"`: where the smoothed loss falls fastest against
                  `log(lr)` (keras_lr_finder's and fastai's `steep`), looked
                  for before the loss minimum;
                - `"minimum"`: a tenth of the rate at the smoothed loss's
                  minimum (fastai's `minimum`);
                - `"valley"`: about halfway along the longest stretch over
                  which the smoothed loss keeps falling (the middle of its
                  middle third, fastai's `valley`).

        Returns:
            A float.
        """
        _validation.check_choice(
            "method", method, ("steepest", "minimum", "valley")
        )
        rates, losses = self.learning_rates, self.smoothed_losses
        finite = np.isfinite(losses)
        if finite.sum() < 3:
            raise ValueError(
                "The range test recorded fewer than 3 finite losses, too few "
                "for a suggestion: raise `num_steps` or lower `start_lr`."
            )
        rates, losses = rates[finite], losses[finite]
        lowest = int(np.argmin(losses))
        if method == "minimum":
            return float(rates[lowest] / 10.0)
        if method == "valley":
            start, end = _longest_descent(losses)
            third = (end - start) / 3
            return float(rates[start + int(third) + int(third / 2)])
        # Up to the minimum, leaving out the first tenth, where the moving
        # average has seen few batches.
        stop = max(lowest + 1, 3)
        begin = min(len(losses) // 10, stop - 3)
        slope = np.gradient(losses[begin:stop], np.log(rates[begin:stop]))
        return float(rates[begin + int(np.argmin(slope))])

    def plot(self, ax=None, method="steepest"):
        """The smoothed loss against the rate (log x), suggestion marked.

        The y axis shows the region that matters: from a little below the
        smoothed loss's minimum to a little above the highest smoothed loss
        before it (about the starting loss). The divergence at the end of
        the sweep, often many times higher, runs off the top of the axes
        instead of squashing the descent into a flat line.

        Args:
            ax: a matplotlib axes; a new figure's axes when None.
            method: the `suggestion` method whose rate is marked, as a
                point on the curve (named in the legend).

        Returns:
            The matplotlib `Axes`.

        Example:

        ```python
        result = keras_lr.find_learning_rate(model, x_train, y_train)
        result.plot().figure.savefig("lr_find.png")
        ```
        """
        if ax is None:
            import matplotlib.pyplot as plt

            _, ax = plt.subplots()
        ax.plot(self.learning_rates, self.smoothed_losses, label="smoothed loss")
        suggestion = self.suggestion(method)
        finite = np.isfinite(self.smoothed_losses)
        rates = self.learning_rates[finite]
        losses = self.smoothed_losses[finite]
        # The loss at the suggestion, read off the curve as drawn (straight
        # segments on the log axis); "minimum" lies between two samples.
        at = float(np.interp(np.log(suggestion), np.log(rates), losses))
        ax.plot([suggestion], [at], "o", color="red", markersize=7,
                label=f"suggestion ({method}) {suggestion:.2g}")
        lowest = int(np.argmin(losses))
        top = float(np.max(losses[: lowest + 1]))
        bottom = float(losses[lowest])
        if top > bottom:
            margin = 0.1 * (top - bottom)
            ax.set_ylim(bottom - margin, top + margin)
        ax.set_xscale("log")
        ax.set_xlabel("learning rate")
        ax.set_ylabel("loss (smoothed)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
        return ax


def _longest_descent(losses):
    """`(start, end)` of the longest decreasing subsequence of `losses`."""
    length = np.ones(len(losses), dtype=int)
    origin = np.arange(len(losses))
    for i in range(1, len(losses)):
        earlier = np.nonzero(losses[:i] > losses[i])[0]
        if earlier.size:
            best = earlier[np.argmax(length[earlier])]
            if length[best] + 1 > length[i]:
                length[i] = length[best] + 1
                origin[i] = origin[best]
    end = int(np.argmax(length))
    return int(origin[end]), end


class _Recorder(keras.callbacks.Callback):
    """Per-update losses from Keras's running mean; stops on divergence.

    An update is one batch, or `accumulation_steps` batches under gradient
    accumulation; its loss is the mean of its batches' losses.
    """

    def __init__(self, num_steps, smoothing, divergence_threshold,
                 accumulation_steps=1):
        super().__init__()
        self.num_steps = num_steps
        self.smoothing = smoothing
        self.divergence_threshold = divergence_threshold
        self.accumulation_steps = accumulation_steps
        self.losses = []
        self.smoothed = []
        self._average = 0.0
        self._best = math.inf
        self._update = []

    def on_epoch_begin(self, epoch, logs=None):
        self._batches = 0
        self._mean = 0.0

    def on_train_batch_end(self, batch, logs=None):
        # Keras logs the mean loss of the epoch so far; the batch's own loss
        # is what that mean gained.
        mean = float(logs["loss"])
        self._batches += 1
        loss = self._batches * mean - (self._batches - 1) * self._mean
        self._mean = mean
        self._update.append(loss)
        if len(self._update) < self.accumulation_steps:
            return
        loss = float(np.mean(self._update))
        self._update = []
        self.losses.append(loss)
        beta = self.smoothing
        self._average = beta * self._average + (1.0 - beta) * loss
        smoothed = self._average / (1.0 - beta ** len(self.losses))
        self.smoothed.append(smoothed)
        if not math.isfinite(smoothed) or len(self.losses) >= self.num_steps:
            self.model.stop_training = True
        elif smoothed > self.divergence_threshold * self._best:
            self.model.stop_training = True
        self._best = min(self._best, smoothed)


def find_learning_rate(
    model,
    x,
    y=None,
    *,
    batch_size=32,
    start_lr=1e-7,
    end_lr=10.0,
    num_steps=100,
    mode="exponential",
    smoothing=0.98,
    divergence_threshold=4.0,
    shuffle=True,
    seed=None,
    verbose="auto",
):
    """The learning rate range test (Smith 2017, "Cyclical Learning Rates").

    Trains the compiled `model` for up to `num_steps` steps while its rate
    sweeps from `start_lr` to `end_lr`, records the loss of every step and
    its smoothed curve, and stops early once the smoothed loss exceeds
    `divergence_threshold` times its best. Then it restores the model's
    variables, the optimizer's variables (step count and slots included),
    its learning rate and its compiled train function exactly (on JAX the
    next `fit` compiles it again): a `fit` after the test is identical to
    one without it. A scheduled momentum, `beta_1` or weight decay
    (`keras_lr.optimizers`) holds, during the test, the value a fresh
    optimizer's first update would use, and is restored afterwards.

    ```python
    t = step / (num_steps - 1)
    lr(step) = start_lr * (end_lr / start_lr) ** t   # mode="exponential"
    lr(step) = start_lr + (end_lr - start_lr) * t    # mode="linear"
    smoothed[k] = average[k] / (1 - smoothing ** (k + 1)),
    average[k] = smoothing * average[k - 1] + (1 - smoothing) * loss[k]
    ```

    The sweep runs inside the compiled train step (as a schedule), so it
    works whatever the optimizer's own rate is. Keras's progress bar shows
    the run. Unlike keras_lr_finder, the recorded loss is each batch's own
    (Keras 3 logs the epoch's running mean; the batch loss is recovered
    from it).

    With `gradient_accumulation_steps=n`, a step of the sweep is a real
    update: the test runs `num_steps * n` batches, update `k` uses rate `k`,
    and its loss is the mean loss of its `n` batches, so the curve is the
    one of the accumulated (effective) batch size. Under a TensorFlow
    distribution strategy (`MirroredStrategy`), a model compiled inside
    `strategy.scope()` is tested as `fit` would train it (the optimizer's
    variables are created in that scope); calling it inside the scope of
    another strategy is refused before anything changes.

    Memory: array inputs are drawn one batch at a time (in passes over the
    data, each in a fresh order with `shuffle`), so the test holds the data,
    a batch and a rate and two losses per step, whatever `num_steps` is.
    Sizes it could not hold are refused up front: `num_steps` above
    1,000,000, or a batch larger than the machine's memory. Empty or
    mismatched `x` and `y` get a `ValueError` naming them.

    Args:
        model: a built, compiled Keras model.
        x: NumPy arrays (or a dict or list of them) or a `tf.data.Dataset`
            of batches (then `y` and `batch_size` are not used, and the
            dataset is repeated as needed).
        y: the targets for array inputs.
        batch_size: the batch size for array inputs.
        start_lr: the first rate, > 0.
        end_lr: the last rate, > `start_lr`.
        num_steps: the number of steps (batches, or real updates under
            gradient accumulation), from 3 to 1,000,000.
        mode: `"exponential"` or `"linear"`.
        smoothing: the moving average factor, in [0, 1).
        divergence_threshold: stop once the smoothed loss exceeds this many
            times its best, > 1.
        shuffle: draw array batches in a random order (from a private
            generator, so the global random state is not touched).
        seed: the seed of that generator (a non-negative integer), for a
            repeatable test.
        verbose: Keras's `verbose` for `fit`.

    Returns:
        A `RangeTestResult`.

    Example:

    ```python
    result = keras_lr.find_learning_rate(model, x_train, y_train)
    result.plot()
    model.optimizer.learning_rate = result.suggestion()
    ```
    """
    start_lr = _validation.check_number(
        "start_lr", start_lr, minimum=0.0, open_min=True
    )
    end_lr = _validation.check_number("end_lr", end_lr, minimum=0.0, open_min=True)
    if end_lr <= start_lr:
        raise ValueError(
            "Argument `end_lr` must be greater than `start_lr` "
            f"({start_lr!r}). Received: end_lr={end_lr!r}"
        )
    num_steps = _validation.check_positive_int("num_steps", num_steps)
    if num_steps < 3:
        raise ValueError(
            "Argument `num_steps` must be an integer >= 3. "
            f"Received: num_steps={num_steps!r}"
        )
    mode = _validation.check_choice("mode", mode, ("exponential", "linear"))
    smoothing = _validation.check_number(
        "smoothing", smoothing, minimum=0.0, maximum=1.0
    )
    if smoothing == 1.0:
        raise ValueError(
            "Argument `smoothing` must be a finite number in [0, 1). "
            f"Received: smoothing={smoothing!r}"
        )
    divergence_threshold = _validation.check_number(
        "divergence_threshold", divergence_threshold, minimum=1.0, open_min=True
    )
    batch_size = _validation.check_positive_int("batch_size", batch_size)
    shuffle = _validation.check_bool("shuffle", shuffle)
    if seed is not None:
        seed = _validation.check_non_negative_int("seed", seed)
    if not (verbose == "auto" and isinstance(verbose, str)) and not (
        isinstance(verbose, (int, np.integer)) and verbose in (0, 1, 2)
    ):
        raise ValueError(
            'Argument `verbose` must be "auto", 0, 1 or 2. '
            f"Received: verbose={verbose!r}"
        )
    if num_steps > MAX_NUM_STEPS:
        raise ValueError(
            f"Argument `num_steps` must be at most {MAX_NUM_STEPS} (the test "
            "keeps a rate and two losses for every step). "
            f"Received: num_steps={num_steps!r}"
        )
    if _is_tf_dataset(x):
        if y is not None:
            raise ValueError(
                "Argument `y` must be None when `x` is a tf.data.Dataset, "
                f"whose elements hold the targets. Received: y={y!r}"
            )
        data = x
    else:
        data = _ArrayData(x, y, batch_size, shuffle, seed)
    if getattr(model, "optimizer", None) is None or not model.compiled:
        raise ValueError("The model must be compiled before the range test.")
    if not model.built:
        raise ValueError(
            "The model must be built before the range test, so that its "
            "initial weights can be restored afterwards: give it an `Input` "
            "or call it on a batch first."
        )
    optimizer = getattr(model.optimizer, "inner_optimizer", model.optimizer)
    scope = _strategy_scope(model)
    if not model.optimizer.built:
        # As `fit` builds it: inside the model's distribution strategy, so
        # that its variables are mirrored like the model's.
        with scope:
            model.optimizer.build(model.trainable_variables)
    accumulation = _optimizer_rate.accumulation_steps(optimizer)

    saved_model = [keras.ops.convert_to_numpy(v) for v in model.variables]
    saved_optimizer = [keras.ops.convert_to_numpy(v) for v in model.optimizer.variables]
    saved_rate = _keras_private.rate_as_held(optimizer)
    saved_function = model.train_function
    if keras.backend.backend() == "jax":
        # While a jitted `train_step` of this model is alive, JAX reuses its
        # trace for the next one, old learning rate included: the sweep
        # would train at the model's own rate. So the old one goes, and the
        # next `fit` compiles it again.
        saved_function = None
    saved_history = getattr(model, "history", None)
    saved_steps_per_execution = model.steps_per_execution
    # A scheduled momentum, beta_1 or weight decay (keras_lr.optimizers)
    # would move during the sweep; it holds the value of a fresh
    # optimizer's first update instead, as PyTorch's param group holds the
    # momentum a cyclical scheduler set at its start.
    saved_schedules = dict(getattr(optimizer, "hyperparameter_schedules", None) or {})
    held = {
        name: float(evaluate(schedule, _optimizer_rate.schedule_steps(optimizer, [0]))[0])
        for name, schedule in saved_schedules.items()
    }

    # The sweep is a warmup from `start_lr` to a constant `end_lr`.
    sweep = Warmup(
        Constant(end_lr), num_steps - 1, initial_learning_rate=start_lr, shape=mode
    )
    # Keras calls the schedule with the batch count: update k, applied at
    # batch k * n + n - 1, gets sweep(k).
    per_batch = Epochs(sweep, accumulation) if accumulation > 1 else sweep
    recorder = _Recorder(num_steps, smoothing, divergence_threshold, accumulation)
    try:
        _keras_private.batch_counter(optimizer).assign(0)
        # The sweep's first update starts from no accumulated gradient, not
        # from a half-made update left by an earlier fit.
        for accumulator in _keras_private.accumulated_gradients(optimizer):
            accumulator.assign(keras.ops.zeros(accumulator.shape, accumulator.dtype))
        _keras_private.hold_rate(optimizer, per_batch)
        for name, value in held.items():
            setattr(optimizer, name, value)
        model.train_function = None
        # One loss per batch needs one batch per execution.
        model.steps_per_execution = 1
        _fit(model, data, num_steps * accumulation, recorder, verbose)
    finally:
        _keras_private.hold_rate(optimizer, saved_rate)
        for name, schedule in saved_schedules.items():
            setattr(optimizer, name, schedule)
        model.train_function = saved_function
        model.history = saved_history
        model.steps_per_execution = saved_steps_per_execution
        model.stop_training = False
        for variable, value in zip(model.variables, saved_model):
            variable.assign(value)
        for variable, value in zip(model.optimizer.variables, saved_optimizer):
            variable.assign(value)
    rates = sweep.numpy(np.arange(len(recorder.losses)))
    return RangeTestResult(rates, recorder.losses, recorder.smoothed)


def _fit(model, data, num_batches, recorder, verbose):
    if _is_tf_dataset(data):
        model.fit(
            data.repeat(), epochs=1, steps_per_epoch=num_batches, shuffle=False,
            callbacks=[recorder], verbose=verbose,
        )
        return
    # `shuffle=False`: Keras would otherwise shuffle the order of the batches.
    model.fit(_Batches(data, num_batches), epochs=1, shuffle=False,
              callbacks=[recorder], verbose=verbose)


#: The most steps a range test takes: it keeps a rate and two losses per step.
MAX_NUM_STEPS = 1_000_000


class _ArrayData:
    """Arrays given to the test, checked, with how to draw batches of them."""

    def __init__(self, x, y, batch_size, shuffle, seed):
        self.x = _input_arrays("x", x)
        self.y = None if y is None else _input_arrays("y", y)
        self.size = _common_length(self.x, self.y)
        _check_batch_memory(self.x, self.y, batch_size)
        self.batch_size = batch_size
        self.shuffle = shuffle
        # Drawn once, so that a pass drawn again is the same pass (with
        # `seed=None` too).
        self.seed = np.random.SeedSequence(seed)


class _Batches(keras.utils.PyDataset):
    """The test's batches from arrays, each drawn when Keras asks for it.

    The samples are taken in passes over the data, each pass in the order of
    a fresh `rng.permutation(len(x))` (or in order without `shuffle`), from
    one `numpy.random.default_rng(seed)`; batch `i` holds the samples at
    positions `i * batch_size` to `(i + 1) * batch_size` of that sequence of
    passes (a batch can span two passes). Only the passes the current batch
    needs are kept, so memory is the data plus a batch, whatever `num_steps`
    is. Floats are cast to `keras.config.floatx()`, as Keras casts arrays
    given to `fit`.
    """

    def __init__(self, data, num_batches):
        super().__init__()
        self._data = data
        self._num_batches = num_batches
        self._x, self._y, self._size = data.x, data.y, data.size
        self._batch_size = data.batch_size
        self._restart()

    def _restart(self):
        self._rng = np.random.default_rng(self._data.seed)
        self._passes = {}
        self._drawn = 0

    def _pass(self, number):
        if number < self._drawn and number not in self._passes:
            self._restart()  # only when Keras goes back (a peek at batch 0)
        while self._drawn <= number:
            order = self._rng.permutation(self._size) if self._data.shuffle else None
            # A batch asks for its passes in order: those before `number`
            # are drawn (the generator must pass them) but not kept.
            if self._drawn == number:
                self._passes[number] = order
            self._drawn += 1
        return self._passes[number]

    @property
    def num_batches(self):
        return self._num_batches

    def __getitem__(self, index):
        start = index * self._batch_size
        stop = start + self._batch_size
        first, last = start // self._size, (stop - 1) // self._size
        for number in [n for n in self._passes if n < first]:
            del self._passes[number]
        pieces = []
        for number in range(first, last + 1):
            low = max(start - number * self._size, 0)
            high = min(stop - number * self._size, self._size)
            order = self._pass(number)
            pieces.append(np.arange(low, high) if order is None else order[low:high])
        rows = np.concatenate(pieces)
        take = lambda array: _as_floatx(array[rows])  # noqa: E731
        x = keras.tree.map_structure(take, self._x)
        if self._y is None:
            return (x,)
        return x, keras.tree.map_structure(take, self._y)


def _input_arrays(name, value):
    """`value` (an array, or a dict, list or tuple of them) as NumPy arrays,
    or a Keras-style error naming `name`."""
    if value is None:
        raise TypeError(
            f"Argument `{name}` must be an array, a dict, list or tuple of "
            "arrays, or (for `x`) a tf.data.Dataset. "
            f"Received: {name}=None"
        )

    def convert(leaf):
        try:
            array = np.asarray(leaf)
        except Exception as error:
            raise TypeError(
                f"Argument `{name}` must hold arrays. Received: {name} holding "
                f"{type(leaf).__name__} ({error})"
            ) from None
        if array.ndim == 0:
            raise ValueError(
                f"Argument `{name}` must hold arrays with a first axis of "
                f"samples. Received: {name} holding an array of shape ()"
            )
        return array

    return keras.tree.map_structure(convert, value)


def _common_length(x, y):
    lengths = {
        name: sorted({len(leaf) for leaf in keras.tree.flatten(value)})
        for name, value in (("x", x), ("y", y)) if value is not None
    }
    for name, found in lengths.items():
        if len(found) > 1:
            raise ValueError(
                f"Argument `{name}` must hold arrays of one number of samples. "
                f"Received: {name} holding arrays of {found} samples"
            )
    size = lengths["x"][0]
    if "y" in lengths and lengths["y"][0] != size:
        raise ValueError(
            "Arguments `x` and `y` must hold the same number of samples. "
            f"Received: x with {size}, y with {lengths['y'][0]}"
        )
    if size == 0:
        raise ValueError(
            "Argument `x` must hold at least one sample. Received: x with 0 samples"
        )
    return size


def _check_batch_memory(x, y, batch_size):
    """Refuse a batch larger than this machine's memory, before any work."""
    leaves = keras.tree.flatten(x) + ([] if y is None else keras.tree.flatten(y))
    # Each sample's values, and its index in the batch.
    per_sample = 8 + sum(
        leaf.dtype.itemsize * int(np.prod(leaf.shape[1:])) for leaf in leaves
    )
    needed = batch_size * per_sample
    available = _physical_memory()
    if available is not None and needed > available:
        raise ValueError(
            "Argument `batch_size` must give batches that fit in memory: a "
            f"batch of {batch_size} samples takes {needed / 2**30:.3g} GiB, this "
            f"machine has {available / 2**30:.3g} GiB. "
            f"Received: batch_size={batch_size!r}"
        )


def _physical_memory():
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not a POSIX system
        return None


def _as_floatx(array):
    if np.issubdtype(array.dtype, np.floating) and array.dtype != np.dtype(
        keras.config.floatx()
    ):
        return array.astype(keras.config.floatx())
    return array


def _strategy_scope(model):
    """The scope of the TensorFlow distribution strategy the model lives in."""
    strategy = getattr(model, "distribute_strategy", None)  # TensorFlow only
    if strategy is None:
        return contextlib.nullcontext()
    import tensorflow as tf

    if tf.distribute.has_strategy() and tf.distribute.get_strategy() is not strategy:
        raise ValueError(
            "find_learning_rate must run under the distribution strategy "
            "the model was created in, or outside any strategy scope. "
            f"Received: a call inside the scope of {tf.distribute.get_strategy()!r}, "
            f"for a model created under {strategy!r}."
        )
    return strategy.scope()


def _is_tf_dataset(x):
    try:
        import tensorflow as tf
    except ImportError:
        return False
    return isinstance(x, tf.data.Dataset)
