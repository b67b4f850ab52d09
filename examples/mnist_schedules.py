"""Train the same MNIST model once per learning rate schedule and compare.

Flatten -> Dense(128, relu) -> Dense(10), SGD with momentum 0.9, batch 64
(`--model cnn` for a small CNN), from the same initial weights and batch
order in every run. Each run is a TensorBoard run in `<out>/<schedule>/`
with the per-step learning rate and HParams; the comparison ends with a
table, `summary.csv`, `summary.md` and `comparison.png`.

    python examples/mnist_schedules.py --quick
    python examples/mnist_schedules.py --schedules cosine one_cycle --epochs 30
    tensorboard --logdir runs/mnist

The same as `keras-lr demo`; the engine is `keras_lr.demo` (the model, the
runs and their defaults are in `keras_lr.demo.build_model` and `make_run`).
"""

import sys

from keras_lr import demo
from keras_lr.cli import ArgumentParser


def main(argv=None):
    parser = ArgumentParser(
        prog="mnist_schedules.py", description=__doc__.splitlines()[0]
    )
    demo.add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        demo.run_from_arguments(args)
    except demo.DataUnavailable as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
