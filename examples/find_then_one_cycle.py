"""Find a learning rate with a range test, then train one-cycle at it.

`keras_lr.find_learning_rate` sweeps the rate upward over a hundred
batches and records the loss (Smith 2017); afterwards it puts the model and
its optimizer back exactly as they were, so the same model trains next.
`OneCycle` then warms up to the suggested rate and anneals far below it,
with the momentum going the other way (Smith 2018, PyTorch's `OneCycleLR`).

    python examples/find_then_one_cycle.py            # 5 epochs
    python examples/find_then_one_cycle.py --quick    # 2 epochs on 4,000 images
    tensorboard --logdir runs/examples/find_then_one_cycle
"""

import argparse
import math
import os
import sys

import keras
import numpy as np
from matplotlib.figure import Figure

import keras_lr
from keras_lr import schedules
from keras_lr.demo import load_mnist

BATCH_SIZE = 64


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="2 epochs on at most 4,000 training images")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--data", choices=("auto", "keras", "subset"),
                        default="auto",
                        help="MNIST from Keras, the offline 5,000-image "
                             "subset, or Keras's when it can be downloaded")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=os.path.join("runs", "examples",
                                                      "find_then_one_cycle"),
                        help="directory for the TensorBoard logs and the "
                             "range test's plot (default: %(default)s)")
    args = parser.parse_args(argv)
    epochs = 2 if args.quick else args.epochs

    (x_train, y_train), (x_val, y_val), description = load_mnist(
        args.data, seed=args.seed, quick=args.quick
    )
    print(description)
    keras.utils.set_random_seed(args.seed)
    model = keras.Sequential([
        keras.Input((28, 28)),
        keras.layers.Flatten(),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dense(10),
    ])
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    # 1. The range test, with the kind of optimizer we will train with: SGD
    # with momentum (one-cycle moves it between 0.85 and 0.95). Its rate
    # does not matter: the test sweeps its own.
    model.compile(optimizer=keras.optimizers.SGD(momentum=0.9), loss=loss)
    result = keras_lr.find_learning_rate(
        model, x_train, y_train, batch_size=BATCH_SIZE,
        start_lr=1e-5, end_lr=10.0, num_steps=100, seed=args.seed, verbose=0,
    )
    suggestion = result.suggestion()
    print(f"Range test: {len(result.learning_rates)} steps; suggested learning "
          f"rate {suggestion:.4g} (where the smoothed loss falls fastest)")
    os.makedirs(args.out, exist_ok=True)
    # matplotlib's Figure directly: no window, no global pyplot state.
    figure = Figure(figsize=(7, 4.5))
    result.plot(ax=figure.subplots())
    figure.tight_layout()
    figure.savefig(os.path.join(args.out, "lr_find.png"), dpi=100)
    # The numbers behind the plot, to plot again or compare suggestions.
    np.savetxt(
        os.path.join(args.out, "lr_find.csv"),
        np.column_stack([result.learning_rates, result.losses,
                         result.smoothed_losses]),
        delimiter=",", header="learning_rate,loss,smoothed_loss", comments="",
    )

    # 2. One-cycle at the suggestion. A schedule counts updates: size it to
    # the whole run.
    total_steps = epochs * math.ceil(len(x_train) / BATCH_SIZE)
    rate = schedules.OneCycle(suggestion, total_steps)
    # Keras's SGD takes a float momentum only; keras_lr's SGD is the same
    # optimizer, also taking a schedule: 0.95 -> 0.85 -> 0.95 against the rate.
    optimizer = keras_lr.optimizers.SGD(rate, momentum=rate.momentum_schedule())
    # The range test restored the initial weights; a new optimizer starts at
    # step 0.
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])
    history = model.fit(
        x_train, y_train, batch_size=BATCH_SIZE, epochs=epochs,
        validation_data=(x_val, y_val), verbose=2,
        callbacks=[
            # Logs the rate and the momentum of every update.
            keras_lr.callbacks.LearningRateLogger(args.out),
            keras.callbacks.TensorBoard(args.out),
        ],
    )
    print(f"OneCycle({suggestion:.4g}, total_steps={total_steps}): final val "
          f"accuracy {history.history['val_accuracy'][-1]:.4f}")
    print(f"Wrote {os.path.join(args.out, 'lr_find.png')}")
    print(f"tensorboard --logdir {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
