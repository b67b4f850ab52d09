"""Per-train-step cost of the keras_lr callbacks, next to Keras's TensorBoard.

    python bench/bench_callbacks.py [--rounds 21] [--steps 200]

The same small MNIST-sized model as `bench_schedules.py` (Flatten -> Dense
128 relu -> Dense 10, SGD momentum 0.9, batch 64, random data) is trained
for one epoch per configuration, each configuration paired with its
reference, back to back in alternating order, `--rounds` times in one
process. The figure is the median of the per-round ratios minus 1. The
epoch timer starts in the first callback's `on_epoch_begin` and stops in
the last one's `on_epoch_end`, once the epoch's last step is done (JAX
runs them asynchronously), so a callback's epoch work (the planning of
`CyclicLR`'s epoch, the logger's bulk write, TensorBoard's epoch summaries)
is inside the timing.

- `LearningRateLogger(update_freq="step")` and Keras's
  `TensorBoard(update_freq=1)` against no callback (float rate), and the
  logger on an in-graph `CyclicalLearningRate` against that schedule alone;
- `CyclicLR` and `LearningRateScheduler(unit="step")` (each epoch's rates
  planned on the host at its start, applied inside the compiled step)
  against the same `CyclicalLearningRate` passed to the optimizer (the goal:
  at most 1.02x);
- a `MultiOptimizer` of two groups (the head at 10x the body's
  `CyclicalLearningRate`, `keras_lr.optimizers.scale_rates`) with the
  logger writing both groups' rates, against the same optimizer without it
  (the goal: at most 1.02x);
- on a small CNN (Conv2D 16 3x3 relu -> max pool -> Dense 10), an epoch
  ending in a `ReduceLROnPlateau` reduction of its schedule against one
  without (the same callback, on a score that improves every epoch): what a
  reduction costs the epoch after it, recompiles included.

`--only TEXT [TEXT ...]` measures the configurations whose name contains
one of the TEXTs, quotes ignored (`--only CyclicLR unit=step`), and their
references.

Prints a Markdown table with the machine and date, for docs/pages/benchmarks.md.
"""

import argparse
import os
import statistics
import tempfile
import time


from bench_schedules import _model
from bench_schedules import _random_data
from bench_schedules import _Runner
from bench_schedules import paired_rounds
from bench_schedules import print_paired_table
import keras
import keras_lr.optimizers
from keras_lr import callbacks as C
from keras_lr import schedules as S


class _WholeEpochTimer(keras.callbacks.Callback):
    """An epoch's time from before the first callback's `on_epoch_begin`
    (`starter`, listed first) to after the last one's `on_epoch_end`."""

    def __init__(self):
        super().__init__()
        timer = self

        class Starter(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                timer.start = time.perf_counter()

        self.starter = Starter()

    def on_epoch_end(self, epoch, logs=None):
        # On JAX the steps run asynchronously: wait for the epoch's last one.
        keras.ops.convert_to_numpy(self.model.optimizer.iterations)
        self.seconds = time.perf_counter() - self.start


def _runner(model, x, y, callbacks):
    runner = _Runner(model, x, y, callbacks)  # its first epoch compiles
    runner.timer = _WholeEpochTimer()
    runner.callbacks = [runner.timer.starter, *callbacks, runner.timer]
    return runner


_HOST_SECONDS = {}
#: The hooks run once per `fit`, outside the epoch timer; the others run
#: per epoch or per batch.
_PER_FIT_HOOKS = ("on_train_begin", "on_train_end")


def _host_timed(name, callback):
    """`callback`, adding up the host time spent in its hooks under
    `(name, per_fit)`: its own cost, measured directly (the paired ratios
    carry the noise of a shared machine)."""
    for hook in ("on_train_begin", "on_epoch_begin", "on_train_batch_begin",
                 "on_epoch_end", "on_train_end"):
        method = getattr(callback, hook)
        key = (name, hook in _PER_FIT_HOOKS)

        def timed(*args, _method=method, _key=key, **kwargs):
            start = time.perf_counter()
            try:
                return _method(*args, **kwargs)
            finally:
                _HOST_SECONDS[_key] = (
                    _HOST_SECONDS.get(_key, 0.0) + time.perf_counter() - start
                )

        setattr(callback, hook, timed)
    return callback


def _logger(name, path):
    return _host_timed(name, C.LearningRateLogger(path(name), update_freq="step"))


def _cyclical():
    return S.CyclicalLearningRate(0.001, 0.1, step_size=400)


def _two_groups(learning_rate):
    """The MNIST-sized model with its output layer at 10x the rate."""
    model = _model(learning_rate)
    head = f"{model.name}/{model.layers[-1].name}/.*"
    model.compile(
        optimizer=keras_lr.optimizers.scale_rates(
            model, keras.optimizers.SGD(learning_rate, momentum=0.9), {head: 10.0}
        ),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return model


def _cnn(learning_rate):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((28, 28)),
        keras.layers.Reshape((28, 28, 1)),
        keras.layers.Conv2D(16, 3, activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Flatten(),
        keras.layers.Dense(10),
    ])
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=learning_rate, momentum=0.9),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return model


class _Score(keras.callbacks.Callback):
    """`score` in the epoch's logs: the same every epoch (so a plateau with
    `patience=0` reduces at every epoch's end), or better every epoch."""

    def __init__(self, improving):
        super().__init__()
        self.improving, self.value = improving, 1.0

    def on_epoch_end(self, epoch, logs=None):
        if self.improving:
            self.value /= 2
        logs["score"] = self.value


def _plateau(improving):
    # factor 0.999: thousands of reductions stay far from the floor.
    return lambda: [
        _Score(improving),
        C.ReduceLROnPlateau("score", factor=0.999, patience=0, mode="min"),
    ]


def configurations(log_dir):
    """name -> (reference name, learning rate, callbacks factory[, model
    factory, the MNIST-sized model by default])."""
    path = lambda name: os.path.join(log_dir, name)  # noqa: E731
    return {
        "no callback (float rate)": (None, 0.05, list),
        "LearningRateLogger(update_freq=\"step\"), float rate": (
            "no callback (float rate)", 0.05,
            lambda: [_logger("logger, float rate", path)]),
        "keras.callbacks.TensorBoard(update_freq=1), float rate": (
            "no callback (float rate)", 0.05,
            lambda: [keras.callbacks.TensorBoard(path("tensorboard"), update_freq=1)]),
        "CyclicalLearningRate in the optimizer": (None, _cyclical(), list),
        "LearningRateLogger(update_freq=\"step\"), CyclicalLearningRate": (
            "CyclicalLearningRate in the optimizer", _cyclical(),
            lambda: [_logger("logger, CyclicalLearningRate", path)]),
        "CyclicLR callback": (
            "CyclicalLearningRate in the optimizer", 0.05,
            lambda: [_host_timed("CyclicLR", C.CyclicLR(0.001, 0.1, step_size=400))]),
        "LearningRateScheduler(CyclicalLearningRate, unit=\"step\")": (
            "CyclicalLearningRate in the optimizer", 0.05,
            lambda: [_host_timed("LearningRateScheduler", C.LearningRateScheduler(
                _cyclical(), unit="step"))]),
        "MultiOptimizer of two CyclicalLearningRate groups": (
            None, _cyclical(), list, _two_groups),
        "LearningRateLogger(update_freq=\"step\"), MultiOptimizer": (
            "MultiOptimizer of two CyclicalLearningRate groups", _cyclical(),
            lambda: [_logger("logger, MultiOptimizer", path)], _two_groups),
        "CNN, ReduceLROnPlateau not reducing": (
            None, _cyclical(), _plateau(improving=True), _cnn),
        "CNN, ReduceLROnPlateau reducing at every epoch's end": (
            "CNN, ReduceLROnPlateau not reducing", _cyclical(),
            _plateau(improving=False), _cnn),
    }


def measure(rounds, steps, only=None):
    x, y = _random_data(steps)
    with tempfile.TemporaryDirectory() as log_dir:
        named = configurations(log_dir)
        if only:
            plain = lambda text: text.replace('"', "")  # noqa: E731
            kept = {n for n in named if any(plain(t) in plain(n) for t in only)}
            kept |= {named[n][0] for n in kept if named[n][0]}
            named = {n: c for n, c in named.items() if n in kept}
        runners = {
            name: _runner((spec[3] if len(spec) > 3 else _model)(spec[1]), x, y,
                          spec[2]())
            for name, spec in named.items()
        }
        _HOST_SECONDS.clear()
        references = {name: spec[0] for name, spec in named.items()}
        times, ratios = paired_rounds(references, runners, rounds, steps)
    return references, times, ratios


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--only", nargs="+", default=None)
    args = parser.parse_args(argv)
    references, times, ratios = measure(args.rounds, args.steps, args.only)
    print_paired_table(references, times, ratios, args.rounds, args.steps)
    step = times.get("no callback (float rate)")
    fits = args.rounds + 1  # + the compiling epoch
    for name in dict.fromkeys(name for name, _ in _HOST_SECONDS):
        per_step = _HOST_SECONDS.get((name, False), 0.0) / (fits * args.steps)
        share = (f" ({100 * per_step / statistics.median(step):.1f} % of a step "
                 "without callbacks)" if step else "")
        per_fit = _HOST_SECONDS.get((name, True), 0.0) / fits
        print(f"\n{name}'s own host time: {1e6 * per_step:.1f} us per step in "
              f"its epoch and batch hooks{share}, and {1e3 * per_fit:.2f} ms per "
              "`fit` (outside the epoch timer).")

if __name__ == "__main__":
    main()
