"""Per-train-step cost of a scheduled momentum, beta_1 and weight decay.

    python bench/bench_optimizers.py [--rounds 21] [--steps 200]

The same small MNIST-sized model as `bench_schedules.py` (Flatten -> Dense
128 relu -> Dense 10, batch 64, random data), with a one-cycle learning
rate in every configuration, is trained for one epoch per configuration,
each paired with its reference (Keras's optimizer of the same name with
float hyperparameters), back to back in alternating order, `--rounds` times
in one process. The figure is the median of the per-round ratios minus 1
(the goal: within 2 %).

- `keras_lr.optimizers.SGD` / `Adam` / `AdamW` with floats (the same update
  as Keras's: the cost of the class alone);
- the same with the momentum (`beta_1`) of `OneCycle.momentum_schedule()`
  and a cosine weight decay, evaluated in the compiled step;
- `LearningRateLogger` writing the rate, the momentum and the weight decay
  of every step, against the scheduled optimizer without it.

Prints a Markdown table with the machine and date, for the README.
"""

import argparse
import datetime
import statistics
import tempfile

import keras
import numpy as np

from bench_schedules import _EpochTimer
from bench_schedules import _machine
from keras_lr import callbacks as C
from keras_lr import optimizers as O
from keras_lr import schedules as S

STEPS_PER_RUN = 10_000
RATE = S.OneCycle(0.1, total_steps=STEPS_PER_RUN)
MOMENTUM = RATE.momentum_schedule()
DECAY = S.CosineAnnealing(1e-4, STEPS_PER_RUN)


def _optimizers():
    """name -> (reference name, optimizer factory, callbacks factory)."""
    adam_rate = S.OneCycle(1e-3, total_steps=STEPS_PER_RUN)
    named = {}
    for name, momentum_name, rate in (
        ("SGD", "momentum", RATE),
        ("Adam", "beta_1", adam_rate),
        ("AdamW", "beta_1", adam_rate),
    ):
        keras_class, ours = getattr(keras.optimizers, name), getattr(O, name)
        floats = {momentum_name: 0.9, "weight_decay": 1e-4}
        scheduled = {momentum_name: MOMENTUM, "weight_decay": DECAY}
        reference = f"keras.optimizers.{name}, floats"
        named[reference] = (
            None, lambda c=keras_class, r=rate, f=floats: c(r, **f), list
        )
        named[f"keras_lr.optimizers.{name}, floats"] = (
            reference, lambda c=ours, r=rate, f=floats: c(r, **f), list
        )
        named[f"keras_lr.optimizers.{name}, scheduled {momentum_name} and weight_decay"] = (
            reference, lambda c=ours, r=rate, s=scheduled: c(r, **s), list
        )
    return named


def configurations(log_dir):
    named = _optimizers()
    scheduled = "keras_lr.optimizers.SGD, scheduled momentum and weight_decay"
    named["LearningRateLogger (rate, momentum, weight_decay), scheduled SGD"] = (
        scheduled, named[scheduled][1],
        lambda: [C.LearningRateLogger(log_dir)],
    )
    return named


def _model(optimizer):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((28, 28)),
        keras.layers.Flatten(),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dense(10),
    ])
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return model


class _Runner:
    def __init__(self, optimizer, callbacks, x, y):
        self.model = _model(optimizer)
        self.timer = _EpochTimer()
        self.callbacks = callbacks + [self.timer]
        self.x, self.y = x, y
        self.epoch()  # trace and compile outside the measurement

    def epoch(self):
        self.model.fit(
            self.x, self.y, batch_size=64, epochs=1, shuffle=False, verbose=0,
            callbacks=self.callbacks,
        )
        return self.timer.seconds


def measure(rounds, steps):
    rng = np.random.default_rng(0)
    x = rng.random((64 * steps, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, 64 * steps)
    with tempfile.TemporaryDirectory() as log_dir:
        named = configurations(log_dir)
        runners = {
            name: _Runner(make_optimizer(), make_callbacks(), x, y)
            for name, (_, make_optimizer, make_callbacks) in named.items()
        }
        times = {name: [] for name in named}
        ratios = {name: [] for name, (ref, _, _) in named.items() if ref}
        for round_ in range(rounds):
            for name, reference in ((n, r) for n, (r, _, _) in named.items() if r):
                pair = [name, reference] if round_ % 2 else [reference, name]
                seconds = {n: runners[n].epoch() for n in pair}
                for n in pair:
                    times[n].append(seconds[n] / steps)
                ratios[name].append(seconds[name] / seconds[reference])
    return named, times, ratios


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args(argv)
    named, times, ratios = measure(args.rounds, args.steps)
    print(f"Machine: {_machine()}; {datetime.date.today().isoformat()}")
    print(f"{args.rounds} paired rounds of {args.steps} steps (batch 64).")
    print()
    print("| configuration | per step | cost vs reference | reference |")
    print("|---|---|---|---|")
    for name, (reference, _, _) in named.items():
        per_step = f"{1e3 * statistics.median(times[name]):.3f} ms"
        if reference is None:
            print(f"| {name} | {per_step} | – | – |")
        else:
            cost = 100 * (statistics.median(ratios[name]) - 1.0)
            print(f"| {name} | {per_step} | {cost:+.1f} % | {reference} |")


if __name__ == "__main__":
    main()
