"""The `keras-lr` command line."""

import argparse
import inspect
import os
import sys


def _gallery_schedules():
    from keras_lr import schedules

    total = 1000
    return {
        "Constant": schedules.Constant(0.05),
        "PiecewiseConstant": schedules.PiecewiseConstant(
            [250, 500, 750], [0.1, 0.05, 0.01, 0.005]
        ),
        "PiecewiseLinear": schedules.PiecewiseLinear(
            [0, 100, 600, 1000], [0.0, 0.1, 0.02, 0.0]
        ),
        "StepDecay": schedules.StepDecay(0.1, step_size=300, gamma=0.5),
        "MultiStepDecay": schedules.MultiStepDecay(0.1, [400, 800], gamma=0.3),
        "ExponentialDecay": schedules.ExponentialDecay(
            0.1, decay_rate=0.5, decay_steps=250, min_learning_rate=0.01
        ),
        "InverseTimeDecay": schedules.InverseTimeDecay(
            0.1, decay_rate=1.0, decay_steps=100
        ),
        "PolynomialDecay": schedules.PolynomialDecay(0.1, total, power=2.0),
        "CosineAnnealing": schedules.CosineAnnealing(0.1, total, 0.001),
        "CosineRestarts": schedules.CosineRestarts(
            0.1, first_decay_steps=150, t_mul=2.0, m_mul=0.8
        ),
    }


def gallery(out, steps=1000):
    """Write one PNG with a panel per schedule; returns its path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from keras_lr.plot import plot_schedule

    named = _gallery_schedules()
    columns = 3
    rows = -(-len(named) // columns)
    figure, axes = plt.subplots(
        rows, columns, figsize=(4.2 * columns, 2.8 * rows), squeeze=False
    )
    for ax, (name, schedule) in zip(axes.flat, named.items()):
        plot_schedule(schedule, steps, ax=ax)
        ax.set_title(name, fontsize=10)
    for ax in list(axes.flat)[len(named):]:
        ax.axis("off")
    figure.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    figure.savefig(out, dpi=110)
    plt.close(figure)
    return out


def _list():
    from keras_lr import schedules

    for cls in schedules.ALL_SCHEDULES:
        parameters = inspect.signature(cls.__init__).parameters
        arguments = ", ".join(p for p in parameters if p != "self")
        summary = (cls.__doc__ or "").strip().splitlines()[0]
        print(f"{schedules.snake_case(cls.__name__):24s}({arguments})")
        print(f"{'':24s} {summary}")


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="keras-lr",
        description="Learning rate schedules and callbacks for Keras 3.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="every schedule and its parameters")
    gallery_parser = commands.add_parser(
        "gallery", help="a PNG with one panel per schedule"
    )
    gallery_parser.add_argument(
        "-o", "--out", default=os.path.join("runs", "figures", "gallery.png")
    )
    demo_parser = commands.add_parser("demo", help="the main demo")
    demo_parser.add_argument(
        "-o", "--out", default=os.path.join("runs", "figures", "gallery.png")
    )
    args = parser.parse_args(argv)
    if args.command == "list":
        _list()
    elif args.command in ("gallery", "demo"):
        path = gallery(args.out)
        print(f"Wrote the schedule gallery to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
