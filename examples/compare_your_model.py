"""Which learning rate schedule suits *your* model? `keras_lr.compare` on a small one.

The model and data are this script's own (three noisy spirals, a two-layer
MLP), not MNIST: put your `build_model` and your data in their place. Every
run trains with several seeds; within a seed every run starts from the same
initial weights and sees the same batches, so each run is compared with the
constant baseline seed by seed (mean difference and 95 % t interval).

    python examples/compare_your_model.py            # 3 seeds, 20 epochs
    python examples/compare_your_model.py --quick    # 1 seed, 2 epochs: a smoke test
    tensorboard --logdir runs/examples/compare_your_model/latest
"""

import argparse
import os

import keras
import numpy as np

import keras_lr
from keras_lr import schedules
from keras_lr.callbacks import ReduceLROnPlateau
from keras_lr.comparison import Run


def spirals(samples=1500, seed=0):
    """Three interleaved spirals in the plane, with noise: `(x, y)`."""
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 3, samples)
    radius = rng.uniform(0.1, 1.0, samples)
    angle = 3.5 * radius + label * 2 * np.pi / 3 + rng.normal(0, 0.25, samples)
    x = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    return x.astype("float32"), label.astype("int64")


def build_model():
    """A new, uncompiled model: `compare` compiles it once per run."""
    return keras.Sequential([
        keras.Input((2,)),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(3),
    ])


def warmup_cosine(total_steps):
    """A run of our own: a schedule written for the run's length."""
    warmup = max(1, total_steps // 10)
    return schedules.Warmup(schedules.CosineAnnealing(0.1, total_steps - warmup), warmup)


def plateau():
    """Fresh callbacks for each training: the plateau keeps its own count."""
    return [ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2)]


RUNS = [
    "cosine",     # keras_lr's named runs (those of `keras-lr demo`)
    "one_cycle",
    Run("warmup_cosine", warmup_cosine),
    Run("constant_plateau", 0.1, callbacks=plateau),
]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 seed, 2 epochs: a smoke test")
    parser.add_argument("--seeds", type=int, default=None)
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--out", default=os.path.join("runs", "examples",
                                                      "compare_your_model"))
    args = parser.parse_args(argv)
    seeds = args.seeds or (1 if args.quick else 3)
    epochs = args.epochs or (2 if args.quick else 20)
    x, y = spirals(400 if args.quick else 1500)

    result = keras_lr.compare(
        build_model, (x, y), RUNS, seeds=seeds, epochs=epochs, out=args.out,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        batch_size=32, validation_split=0.25,
    )
    # The same numbers as summary.csv, as plain dicts.
    for row in result.summary:
        print(f"{row['schedule']:18s} final val accuracy "
              f"{row['final_val_accuracy_mean']:.4f}  verdict "
              f"{row['val_accuracy_verdict']}")
    print(f"figure: {result.figure}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
