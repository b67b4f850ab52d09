"""Train one small MNIST model per learning rate schedule; compare them in TensorBoard.

Each schedule is a `keras.optimizers.schedules.LearningRateSchedule`: pass it
to the optimizer as its learning rate, and Keras evaluates it inside the
compiled train step at every update. `LearningRateLogger` writes the rate of
every update to TensorBoard (Keras's `TensorBoard` callback logs it once per
epoch only), into the same run directory as Keras's own metrics.

    python examples/mnist_schedules.py              # 5 epochs per schedule
    python examples/mnist_schedules.py --quick      # 1 epoch on 4,000 images
    tensorboard --logdir runs/examples/mnist_schedules

For the full statistical comparison of every schedule (seeds, summaries,
HParams), run `keras-lr demo`.
"""

import argparse
import math
import os
import sys

import keras

import keras_lr
from keras_lr import schedules
from keras_lr.demo import load_mnist

BATCH_SIZE = 64


def make_schedules(total_steps):
    """The schedules to compare, by run name, for a run of `total_steps` updates."""
    return {
        # The baseline every schedule has to beat.
        "constant": schedules.Constant(0.1),
        # Half a cosine from the peak to zero over the whole run.
        "cosine": schedules.CosineAnnealing(0.1, decay_steps=total_steps),
        # Smith's one-cycle: warm up to a high peak (from 0.2 / 25), anneal far
        # below the start. Its momentum schedule goes with it (see below).
        "one_cycle": schedules.OneCycle(0.2, total_steps),
        # Warmup-stable-decay: hold the peak, decay over the last 20 %.
        "wsd": schedules.WarmupStableDecay(
            0.1, total_steps, warmup_steps=total_steps // 10,
            decay_steps=total_steps // 5,
        ),
        # A straight line to zero (Keras's PolynomialDecay ends at 1e-4 by
        # default; 0 makes it the "linear decay to zero" of recent papers).
        "linear_to_zero": schedules.PolynomialDecay(
            0.1, total_steps, end_learning_rate=0.0
        ),
    }


def build_model():
    """The classic MNIST MLP; logits out, so the loss gets `from_logits=True`."""
    return keras.Sequential([
        keras.Input((28, 28)),
        keras.layers.Flatten(),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dense(10),
    ])


def make_optimizer(schedule):
    if isinstance(schedule, schedules.OneCycle):
        # One-cycle lowers the momentum while the rate rises and raises it
        # again as the rate falls (PyTorch's OneCycleLR does so by default).
        # Keras's SGD takes a float momentum only; keras_lr's SGD is the
        # same optimizer, also taking a schedule there.
        return keras_lr.optimizers.SGD(
            schedule, momentum=schedule.momentum_schedule()
        )
    return keras.optimizers.SGD(schedule, momentum=0.9)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="1 epoch on at most 4,000 training images")
    parser.add_argument("--epochs", type=int, default=5,
                        help="epochs per schedule (default: %(default)s)")
    parser.add_argument("--data", choices=("auto", "keras", "subset"),
                        default="auto",
                        help="MNIST from Keras, the offline 5,000-image "
                             "subset, or Keras's when it can be downloaded")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=os.path.join("runs", "examples",
                                                      "mnist_schedules"),
                        help="TensorBoard log directory (default: %(default)s)")
    args = parser.parse_args(argv)
    epochs = 1 if args.quick else args.epochs

    (x_train, y_train), (x_val, y_val), description = load_mnist(
        args.data, seed=args.seed, quick=args.quick
    )
    print(f"{description}; {epochs} epoch(s) per schedule, batch {BATCH_SIZE}")
    # A schedule counts optimizer updates, not epochs: size it to the run.
    total_steps = epochs * math.ceil(len(x_train) / BATCH_SIZE)

    accuracies = {}
    for name, schedule in make_schedules(total_steps).items():
        # The same initial weights and batch order for every schedule, so
        # that the schedule is the only difference between two runs.
        keras.utils.set_random_seed(args.seed)
        model = build_model()
        model.compile(
            optimizer=make_optimizer(schedule),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
        # One directory per run: TensorBoard overlays the runs' curves.
        run_dir = os.path.join(args.out, name)
        history = model.fit(
            x_train, y_train, batch_size=BATCH_SIZE, epochs=epochs,
            validation_data=(x_val, y_val), verbose=0,
            callbacks=[
                keras_lr.callbacks.LearningRateLogger(run_dir),
                keras.callbacks.TensorBoard(run_dir),
            ],
        )
        accuracies[name] = history.history["val_accuracy"][-1]
        print(f"{name:15s} final val accuracy {accuracies[name]:.4f}")

    best = max(accuracies, key=accuracies.get)
    # One seed: the gaps between schedules may be seed noise; `keras-lr
    # demo` trains several seeds and says which differences are not.
    print(f"Highest with this seed: {best}. Every step's rate beside the "
          "metrics:")
    print(f"tensorboard --logdir {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
