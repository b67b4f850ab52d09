"""The piecewise constant schedule of the seed, drawn three ways.

0-49: 0.1, 50-99: 0.05, 100-149: 0.01, 150 on: 0.005, as

- a 2-D step plot of the rate against the step,
- the rate as height over a 2-D parameter plane (a conceptual picture:
  training crosses the plane from the rim to the minimum at the centre),
- the rate over training steps as a 3-D surface (epoch by batch).

    python examples/piecewise_lr.py --out runs/figures --show
"""

import argparse
import os
import sys

import matplotlib

from keras_lr import plot
from keras_lr.schedules import PiecewiseConstant

STEPS = 200
STEPS_PER_EPOCH = 16


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join("runs", "figures"),
                        help="directory for the PNGs (default: %(default)s)")
    parser.add_argument("--show", action="store_true",
                        help="also show the figures in a window")
    args = parser.parse_args(argv)
    if not args.show:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    schedule = PiecewiseConstant([50, 100, 150], [0.1, 0.05, 0.01, 0.005])
    figures = {
        "piecewise_lr.png": plot.plot_step_schedule(schedule, STEPS),
        "piecewise_lr_parameters_3d.png": plot.plot_rate_over_parameters(
            schedule, STEPS
        ),
        "piecewise_lr_surface_3d.png": plot.plot_rate_surface(
            schedule, STEPS, STEPS_PER_EPOCH
        ),
    }
    os.makedirs(args.out, exist_ok=True)
    for name, figure in figures.items():
        path = os.path.join(args.out, name)
        figure.savefig(path, dpi=100)
        print(f"Wrote {path}")
    if args.show:
        plt.show()
    plt.close("all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
