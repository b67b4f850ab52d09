"""Per-train-step cost of the keras_lr callbacks, next to Keras's TensorBoard.

    python bench/bench_callbacks.py [--rounds 21] [--steps 200]

The same small MNIST-sized model as `bench_schedules.py` (Flatten -> Dense
128 relu -> Dense 10, SGD momentum 0.9, batch 64, random data) is trained
for one epoch per configuration, each configuration paired with its
reference, back to back in alternating order, `--rounds` times in one
process. The figure is the median of the per-round ratios minus 1. The
epoch timer is the last callback, so a callback's epoch-end work (the
logger's bulk write, TensorBoard's epoch summaries) is inside the timing.

- `LearningRateLogger(update_freq="step")` and Keras's
  `TensorBoard(update_freq=1)` against no callback (float rate), and the
  logger on an in-graph `CyclicalLearningRate` against that schedule alone;
- `CyclicLR` and `LearningRateScheduler(unit="step")` (host writes every
  batch) against the same `CyclicalLearningRate` passed to the optimizer.

Prints a Markdown table with the machine and date, for the README.
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
from keras_lr import callbacks as C
from keras_lr import schedules as S


class _TimedLogger(C.LearningRateLogger):
    """The logger, adding up the host time spent in its own hooks.

    On a shared machine the paired ratios carry a few percent of noise; the
    time inside the hooks is the logger's own cost, measured directly.
    """

    seconds = 0.0

    def on_train_batch_begin(self, batch, logs=None):
        start = time.perf_counter()
        super().on_train_batch_begin(batch, logs)
        _TimedLogger.seconds += time.perf_counter() - start

    def on_epoch_end(self, epoch, logs=None):
        start = time.perf_counter()
        super().on_epoch_end(epoch, logs)
        _TimedLogger.seconds += time.perf_counter() - start


def _cyclical():
    return S.CyclicalLearningRate(0.001, 0.1, step_size=400)


def configurations(log_dir):
    """name -> (reference name, learning rate, callbacks factory)."""
    path = lambda name: os.path.join(log_dir, name)  # noqa: E731
    return {
        "no callback (float rate)": (None, 0.05, list),
        "LearningRateLogger(update_freq=\"step\"), float rate": (
            "no callback (float rate)", 0.05,
            lambda: [_TimedLogger(path("logger_float"))]),
        "keras.callbacks.TensorBoard(update_freq=1), float rate": (
            "no callback (float rate)", 0.05,
            lambda: [keras.callbacks.TensorBoard(path("tensorboard"), update_freq=1)]),
        "CyclicalLearningRate in the optimizer": (None, _cyclical(), list),
        "LearningRateLogger(update_freq=\"step\"), CyclicalLearningRate": (
            "CyclicalLearningRate in the optimizer", _cyclical(),
            lambda: [_TimedLogger(path("logger_cyclical"))]),
        "CyclicLR callback": (
            "CyclicalLearningRate in the optimizer", 0.05,
            lambda: [C.CyclicLR(0.001, 0.1, step_size=400)]),
        "LearningRateScheduler(CyclicalLearningRate, unit=\"step\")": (
            "CyclicalLearningRate in the optimizer", 0.05,
            lambda: [C.LearningRateScheduler(_cyclical(), unit="step")]),
    }


def measure(rounds, steps):
    x, y = _random_data(steps)
    with tempfile.TemporaryDirectory() as log_dir:
        named = configurations(log_dir)
        runners = {
            name: _Runner(_model(rate), x, y, make())
            for name, (_, rate, make) in named.items()
        }
        _TimedLogger.seconds = 0.0
        references = {name: reference for name, (reference, _, _) in named.items()}
        times, ratios = paired_rounds(references, runners, rounds, steps)
    logger_steps = 2 * rounds * steps
    return references, times, ratios, _TimedLogger.seconds / logger_steps


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args(argv)
    references, times, ratios, logger_seconds = measure(args.rounds, args.steps)
    print_paired_table(references, times, ratios, args.rounds, args.steps)
    baseline = statistics.median(times["no callback (float rate)"])
    print()
    print(
        f"LearningRateLogger's own host time: {1e6 * logger_seconds:.1f} us per "
        f"step ({100 * logger_seconds / baseline:.1f} % of a step without "
        "callbacks), update_freq=\"step\"."
    )


if __name__ == "__main__":
    main()
