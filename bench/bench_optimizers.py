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

Prints a Markdown table with the machine and date, for docs/pages/benchmarks.md.
"""

import argparse
import tempfile

import keras

from bench_schedules import _model
from bench_schedules import _random_data
from bench_schedules import _Runner
from bench_schedules import paired_rounds
from bench_schedules import print_paired_table
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


def measure(rounds, steps):
    x, y = _random_data(steps)
    with tempfile.TemporaryDirectory() as log_dir:
        named = configurations(log_dir)
        runners = {
            name: _Runner(_model(optimizer=make_optimizer()), x, y, make_callbacks())
            for name, (_, make_optimizer, make_callbacks) in named.items()
        }
        references = {name: reference for name, (reference, _, _) in named.items()}
        times, ratios = paired_rounds(references, runners, rounds, steps)
    return references, times, ratios


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args(argv)
    print_paired_table(*measure(args.rounds, args.steps), args.rounds, args.steps)


if __name__ == "__main__":
    main()
