"""Gradient descent on a convex bowl with four learning rate schedules.

f(x, y) = 0.5 * (x**2 + 2 * y**2), from (2.5, 2.5), 80 steps. The rates come
from keras_lr schedules evaluated on the host with `numpy()`, the same
values the optimizer would use at each step.

    python examples/convex_bowl.py --out runs/figures --show
"""

import argparse
import os
import sys

import matplotlib
import numpy as np

from keras_lr import plot
from keras_lr import schedules

STEPS = 80
START = (2.5, 2.5)


def loss(x, y):
    return 0.5 * (x**2 + 2 * y**2)


def gradient(point):
    x, y = point
    return np.array([x, 2 * y])


def descend(rates, start=START):
    """The path of gradient descent with `rates[i]` at update `i`."""
    path = [np.array(start, dtype=np.float64)]
    for rate in rates:
        path.append(path[-1] - rate * gradient(path[-1]))
    return np.array(path)


def compared_schedules():
    """The four schedules of the comparison, by label."""
    return {
        "constant 0.08": schedules.Constant(0.08),
        "step decay": schedules.StepDecay(0.8, step_size=20, gamma=0.5),
        "exponential": schedules.ExponentialDecay(0.8, decay_steps=1, decay_rate=0.95),
        "cyclical": schedules.CyclicalLearningRate(0.05, 0.9, step_size=10),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join("runs", "figures"),
                        help="directory for the PNG (default: %(default)s)")
    parser.add_argument("--show", action="store_true",
                        help="also show the figure in a window")
    args = parser.parse_args(argv)
    if not args.show:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = np.arange(STEPS)
    descents = {}
    print(f"start loss {loss(*START):.4f}")
    for label, schedule in compared_schedules().items():
        rates = schedule.numpy(steps)
        path = descend(rates)
        descents[label] = (rates, path)
        print(f"{label:14s} final loss {loss(*path[-1]):.3e}")

    figure = plot.plot_descent(descents, loss)
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "convex_bowl.png")
    figure.savefig(path, dpi=100)
    print(f"Wrote {path}")
    if args.show:
        plt.show()
    plt.close("all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
