"""The `keras-lr` command line.

    keras-lr list                                   every schedule
    keras-lr plot cosine_annealing initial_learning_rate=0.1 decay_steps=1000
    keras-lr plot schedule.json --steps 5000 -o lr.png
    keras-lr demo [--quick] [--schedules ...]       the MNIST comparison
    keras-lr find                                   the LR range test on MNIST
    keras-lr gallery                                one panel per schedule

Bad names or values get one line naming the problem and exit status 2.
"""

import argparse
import inspect
import json
import os
import sys

import keras
import numpy as np

from keras_lr import demo
from keras_lr import schedules
from keras_lr.finder import find_learning_rate
from keras_lr.plot import plot_schedule


class ArgumentParser(argparse.ArgumentParser):
    """`argparse`, with each error on one line (`--help` has the usage)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


class UsageError(Exception):
    """A bad name or value found after parsing: exit status 2."""


def _gallery_schedules():
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
        "CyclicalLearningRate": schedules.CyclicalLearningRate(
            0.01, 0.1, step_size=125, mode="triangular2"
        ),
        "OneCycle": schedules.OneCycle(0.1, total_steps=total),
        "WarmupStableDecay": schedules.WarmupStableDecay(
            0.1, total, warmup_steps=100, decay_steps=200, decay_shape="1-sqrt"
        ),
        "Warmup(CosineAnnealing)": schedules.Warmup(
            schedules.CosineAnnealing(0.1, total - 100), warmup_steps=100
        ),
        "Sequential(Constant, CosineAnnealing)": schedules.Sequential(
            [schedules.Constant(0.1), schedules.CosineAnnealing(0.1, 600)],
            boundaries=[400],
        ),
        "Epochs(StepDecay), 100 steps/epoch": schedules.Epochs(
            schedules.StepDecay(0.1, step_size=3, gamma=0.5), steps_per_epoch=100
        ),
    }


def gallery(out, steps=1000):
    """Write one PNG with a panel per schedule; returns its path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    named = _gallery_schedules()
    columns = 4
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


def _list(args):
    for cls in schedules.ALL_SCHEDULES:
        parameters = inspect.signature(cls.__init__).parameters
        arguments = ", ".join(p for p in parameters if p != "self")
        summary = (cls.__doc__ or "").strip().splitlines()[0]
        print(f"{schedules.snake_case(cls.__name__):24s}({arguments})")
        print(f"{'':24s} {summary}")
    return 0


def _parse_value(text):
    """`0.1` -> 0.1, `[50, 100]` -> a list, `true` -> True; else the text."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _schedule_from_arguments(name, assignments):
    """The schedule a name and `key=value` pairs, or a JSON config file, give."""
    if os.path.isfile(name):
        if assignments:
            raise ValueError(
                "key=value arguments only go with a schedule name, "
                f"not with the config file {name!r}"
            )
        with open(name) as file:
            try:
                config = json.load(file)
            except json.JSONDecodeError as error:
                raise ValueError(f"{name!r} is not valid JSON: {error}") from None
        return schedules.get(config)
    kwargs = {}
    for assignment in assignments:
        key, sep, value = assignment.partition("=")
        if not sep or not key:
            raise ValueError(
                f"expected key=value after the schedule name, got {assignment!r}"
            )
        kwargs[key] = _parse_value(value)
    return schedules.get(name, **kwargs)


def _plot(args):
    try:
        schedule = _schedule_from_arguments(args.schedule, args.arguments)
    except (ValueError, TypeError) as error:
        raise UsageError(error) from None
    steps = np.arange(args.steps)
    rates = schedules.evaluate(schedule, steps)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ax = plot_schedule(schedule, steps, log_scale=args.log)
    ax.set_title(repr(schedule), fontsize=8, wrap=True)
    ax.figure.tight_layout()
    ax.figure.savefig(args.out, dpi=110)
    plt.close(ax.figure)
    print(repr(schedule))
    shown = sorted({0, args.steps // 4, args.steps // 2, 3 * args.steps // 4,
                    args.steps - 1})
    for step in shown:
        print(f"  step {step:>8d}: {rates[step]:.6g}")
    print(f"Wrote {args.out}")
    return 0


def _demo(args):
    demo.run_from_arguments(args)
    return 0


def _find(args):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if args.start_lr >= args.end_lr:
        raise UsageError(
            f"--start-lr ({args.start_lr:g}) must be below --end-lr "
            f"({args.end_lr:g})"
        )
    if args.num_steps < 3:
        raise UsageError(f"--num-steps must be at least 3, got {args.num_steps}")
    (x, y), _, description = demo.load_mnist(args.data, args.seed, quick=True)
    print(f"{description}; {args.model}, SGD momentum 0.9, batch {args.batch_size}")
    keras.utils.set_random_seed(args.seed)
    model = demo.build_model(args.model)
    model.compile(
        optimizer=keras.optimizers.SGD(momentum=0.9),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    result = find_learning_rate(
        model, x, y, batch_size=args.batch_size, num_steps=args.num_steps,
        start_lr=args.start_lr, end_lr=args.end_lr, seed=args.seed,
    )
    suggestion = result.suggestion()
    ax = result.plot()
    ax.set_title(f"LR range test: MNIST, {args.model}, SGD momentum 0.9")
    ax.figure.savefig(args.out, dpi=110)
    plt.close(ax.figure)
    print(
        f"Suggested learning rate: {suggestion:.3g} (where the smoothed loss "
        "falls fastest)"
    )
    print(f"Wrote {args.out}")
    return 0


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def _writable_file(path):
    demo.writable_directory(os.path.dirname(os.path.abspath(path)))
    return path


def _gallery(args):
    print(f"Wrote the schedule gallery to {gallery(args.out)}")
    return 0


def build_parser():
    parser = ArgumentParser(
        prog="keras-lr",
        description="Learning rate schedules and callbacks for Keras 3.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser(
        "list", help="every schedule with its parameters",
        description="Every keras_lr schedule with its parameters.",
    ).set_defaults(handler=_list)

    plot = commands.add_parser(
        "plot", help="plot a schedule and print a few of its rates",
        description="Plot a schedule given by name and key=value arguments "
        "(values are JSON: 0.1, [50, 100], true, or plain text), or by a JSON "
        "config file from keras.saving.serialize_keras_object.",
    )
    plot.add_argument("schedule", help="a schedule name (see `keras-lr list`) "
                      "or a JSON config file")
    plot.add_argument("arguments", nargs="*", metavar="key=value",
                      help="the schedule's constructor arguments")
    plot.add_argument("--steps", type=demo.positive_int, default=1000,
                      help="steps to plot from 0 (default: %(default)s)")
    plot.add_argument("-o", "--out", type=_writable_file, default="lr.png",
                      help="the PNG to write (default: %(default)s)")
    plot.add_argument("--log", action="store_true",
                      help="a logarithmic learning rate axis")
    plot.set_defaults(handler=_plot)

    demo_parser = commands.add_parser(
        "demo", help="the MNIST comparison of every schedule",
        description="Train the same MNIST model once per learning rate "
        "schedule: one TensorBoard run per schedule (per-step learning rate, "
        "HParams), then a summary table, summary.csv, summary.md and "
        "comparison.png.",
    )
    demo.add_arguments(demo_parser)
    demo_parser.set_defaults(handler=_demo)

    find = commands.add_parser(
        "find", help="the learning rate range test on MNIST",
        description="Smith's LR range test on the MNIST model: writes the "
        "loss against the learning rate and prints a suggestion.",
    )
    find.add_argument("--data", choices=("auto", "keras", "subset"),
                      default="auto", help="(default: %(default)s)")
    find.add_argument("--model", choices=("mlp", "cnn"), default="mlp",
                      help="(default: %(default)s)")
    find.add_argument("--batch-size", type=demo.positive_int, default=64,
                      help="(default: %(default)s)")
    find.add_argument("--num-steps", type=demo.positive_int, default=100,
                      help="(default: %(default)s)")
    find.add_argument("--start-lr", type=_positive_float, default=1e-7,
                      help="(default: %(default)s)")
    find.add_argument("--end-lr", type=_positive_float, default=10.0,
                      help="(default: %(default)s)")
    find.add_argument("--seed", type=int, default=0, help="(default: %(default)s)")
    find.add_argument("-o", "--out", type=_writable_file, default="lr_find.png",
                      help="the PNG to write (default: %(default)s)")
    find.set_defaults(handler=_find)

    gallery_parser = commands.add_parser(
        "gallery", help="a PNG with one panel per schedule",
        description="A PNG with one panel per schedule.",
    )
    gallery_parser.add_argument(
        "-o", "--out", type=_writable_file,
        default=os.path.join("runs", "figures", "gallery.png"),
        help="(default: %(default)s)",
    )
    gallery_parser.set_defaults(handler=_gallery)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except UsageError as error:
        message = " ".join(str(error).split())
        parser.exit(2, f"keras-lr {args.command}: error: {message}\n")
    except demo.DataUnavailable as error:
        parser.exit(1, f"keras-lr {args.command}: error: {error}\n")


if __name__ == "__main__":
    sys.exit(main())
