"""Gradient descent on a convex bowl with four learning rate schedules.

f(x, y) = 0.5 * (x**2 + 2 * y**2), from (2.5, 2.5), 80 steps, with the seed
notebook's schedules, all peaking at 0.08:

- constant 0.08,
- step decay: 0.08, halved every 20 steps (`StepDecay(0.08, 20, gamma=0.5)`),
- exponential: 0.08 * e^(-0.05 t) (`ExponentialDecay(0.08, 1, e^-0.05)`),
- cyclical: triangles between 0.01 and 0.08, 15 steps up, 15 down.

At the same peak the constant rate wins: every schedule spends most steps
below it. `--fair` gives each schedule its own best peak instead: it scales
each schedule (keeping its shape) over a log grid of peaks and keeps the peak
with the lowest final loss, the constant rate included. The curvature is 1
along x and 2 along y, so a rate above 2 / 2 = 1 makes y grow
(|1 - 2 lr| > 1); the sweep does not stop there: a schedule may start above
1 if it comes down in time, and the script says how many steps it spent there.

The rates are the schedules' `numpy()`, the values an optimizer would use.

    python examples/convex_bowl.py --out docs/pages/figures          # convex_bowl.png
    python examples/convex_bowl.py --out docs/pages/figures --fair   # convex_bowl_fair.png
"""

import argparse
import math
import os
import sys

import matplotlib
import numpy as np

from keras_lr import plot
from keras_lr import schedules

STEPS = 80
START = (2.5, 2.5)
SEED_PEAK = 0.08
#: The peaks of the fair sweep: 100 per decade, from 0.01 to 10.
PEAKS = np.geomspace(0.01, 10.0, 301)


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


def compared_schedules(peak=SEED_PEAK):
    """The four schedules, each scaled to reach `peak`, by name.

    At the default peak these are the seed notebook's schedules.
    """
    return {
        "constant": schedules.Constant(peak),
        "step decay": schedules.StepDecay(peak, step_size=20, gamma=0.5),
        # Keras's argument order: initial rate, decay_steps, decay_rate.
        "exponential": schedules.ExponentialDecay(peak, 1, math.exp(-0.05)),
        # The seed's 0.01-0.08 cycle: the low end an eighth of the peak.
        "cyclical": schedules.CyclicalLearningRate(peak / 8, peak, step_size=15),
    }


def final_loss(schedule):
    return loss(*descend(schedule.numpy(np.arange(STEPS)))[-1])


def best_peaks():
    """`{name: (peak, final loss)}`: each schedule's best peak in `PEAKS`."""
    finals = {name: [] for name in compared_schedules()}
    for peak in PEAKS:
        for name, schedule in compared_schedules(peak).items():
            finals[name].append(final_loss(schedule))
    # A diverged run overflows to inf or nan; nanargmin skips nan only.
    return {
        name: (float(PEAKS[np.nanargmin(values)]), float(np.nanmin(values)))
        for name, values in finals.items()
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join("runs", "figures"),
                        help="directory for the PNG (default: %(default)s)")
    parser.add_argument("--fair", action="store_true",
                        help="each schedule at its own best peak (a sweep), "
                             "written as convex_bowl_fair.png")
    parser.add_argument("--show", action="store_true",
                        help="also show the figure in a window")
    args = parser.parse_args(argv)
    if not args.show:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = np.arange(STEPS)
    if args.fair:
        print(f"Sweep: {len(PEAKS)} peaks from {PEAKS[0]:g} to {PEAKS[-1]:g} "
              "(log grid), each schedule keeps its shape")
        peaks = {name: peak for name, (peak, _) in best_peaks().items()}
    else:
        peaks = dict.fromkeys(compared_schedules(), SEED_PEAK)
    print(f"start loss {loss(*START):.4f}")
    descents = {}
    for name, peak in peaks.items():
        schedule = compared_schedules(peak)[name]
        rates = schedule.numpy(steps)
        path = descend(rates)
        descents[f"{name}, peak {peak:.3g}"] = (rates, path)
        # At a rate >= 1, |1 - 2 rate| >= 1: y does not shrink that step.
        print(f"{name:12s} peak {peak:.4g}  final loss {loss(*path[-1]):.3e}  "
              f"steps at rate >= 1: {int(np.sum(rates >= 1.0))}")

    figure = plot.plot_descent(descents, loss)
    figure.suptitle(
        "Each schedule at its best peak (sweep)" if args.fair
        else f"The seed notebook's schedules, all peaking at {SEED_PEAK}"
    )
    figure.tight_layout()
    os.makedirs(args.out, exist_ok=True)
    name = "convex_bowl_fair.png" if args.fair else "convex_bowl.png"
    path = os.path.join(args.out, name)
    figure.savefig(path, dpi=100)
    print(f"Wrote {path}")
    if args.show:
        plt.show()
    plt.close("all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
