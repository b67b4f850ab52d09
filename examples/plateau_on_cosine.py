"""Reduce-on-plateau on top of a cosine schedule, which Keras alone cannot do.

Keras's `ReduceLROnPlateau` assigns a new float to the optimizer's rate, so it
raises `TypeError` when the rate is a `LearningRateSchedule`. keras_lr's
`ReduceLROnPlateau` (same arguments, same verbose line) multiplies the whole
schedule instead: after each reduction the cosine goes on with its shape, at
`factor` times its height.

    python examples/plateau_on_cosine.py             # 10 epochs
    python examples/plateau_on_cosine.py --quick     # 6 epochs on 4,000 images
    tensorboard --logdir runs/examples/plateau_on_cosine
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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="6 epochs on at most 4,000 training images")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--data", choices=("auto", "keras", "subset"),
                        default="auto",
                        help="MNIST from Keras, the offline 5,000-image "
                             "subset, or Keras's when it can be downloaded")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=os.path.join("runs", "examples",
                                                      "plateau_on_cosine"),
                        help="TensorBoard log directory (default: %(default)s)")
    args = parser.parse_args(argv)
    epochs = 6 if args.quick else args.epochs

    (x_train, y_train), (x_val, y_val), description = load_mnist(
        args.data, seed=args.seed, quick=args.quick
    )
    print(description)
    steps_per_epoch = math.ceil(len(x_train) / BATCH_SIZE)
    cosine = schedules.CosineAnnealing(0.3, decay_steps=epochs * steps_per_epoch)

    keras.utils.set_random_seed(args.seed)
    model = keras.Sequential([
        keras.Input((28, 28)),
        keras.layers.Flatten(),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dense(10),
    ])
    model.compile(
        optimizer=keras.optimizers.SGD(cosine, momentum=0.9),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    plateau = keras_lr.callbacks.ReduceLROnPlateau(
        monitor="val_loss",
        factor=0.5,
        # A short patience and a margin that counts small gains as no gain,
        # so that a short run shows reductions; a real run would wait longer.
        patience=1,
        min_delta=0.02,
        # Prints "Epoch 3: ReduceLROnPlateau reducing learning rate to ...",
        # the rate of the next update.
        verbose=1,
    )
    history = model.fit(
        x_train, y_train, batch_size=BATCH_SIZE, epochs=epochs,
        validation_data=(x_val, y_val), verbose=2,
        callbacks=[
            plateau,
            # Every update's rate, the reductions included, in TensorBoard.
            keras_lr.callbacks.LearningRateLogger(args.out),
            keras.callbacks.TensorBoard(args.out),
        ],
    )

    # `logs["learning_rate"]` (so `History`) holds the rate of each epoch's
    # last update. Divided by the plain cosine at that step, it gives the
    # plateau's scale: 1 until the first reduction, then halved at each.
    print("epoch  val_loss  learning rate  cosine alone  scale")
    for epoch in range(epochs):
        last_step = (epoch + 1) * steps_per_epoch - 1
        rate = history.history["learning_rate"][epoch]
        alone = float(cosine.numpy(last_step))
        print(f"{epoch + 1:5d}  {history.history['val_loss'][epoch]:8.4f}  "
              f"{rate:13.6g}  {alone:12.6g}  {rate / alone:5.3g}")
    print(f"final val accuracy {history.history['val_accuracy'][-1]:.4f}")
    print(f"tensorboard --logdir {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
