"""Writes the files in this folder with the code of the release that wrote
them: run it from a checkout of that release (not collected by pytest).

    KERAS_BACKEND=tensorflow PYTHONPATH=<that checkout> python \
        tests/callbacks/old_release/make_files.py <this folder>

A plateau on a schedule, reducing after epochs 1 and 2 (and 4), beneath it a
cooldown from epoch 2: the `.keras` file after 3 epochs, the
`BackupAndRestore` folder of a run that crashed at the start of epoch 3, and
`expected.json`, the weight after each epoch of the run that did not crash
(`w <- w + lr(step)`: the sum of the rates used).
"""

import json
import os
import shutil
import sys

import keras
import numpy as np

import keras_lr
from keras_lr import schedules as S

STEPS = 4
X = np.ones((2 * STEPS, 1), dtype="float32")
Y = np.full((2 * STEPS, 1), 1e3, dtype="float32")
SCORES = [5.0, 6.0, 7.0, 4.0, 8.0, 9.0]


class Feed(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        logs["score"] = SCORES[epoch]


class Crash(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 3:
            raise RuntimeError("simulated crash")


def model():
    model = keras.Sequential([
        keras.Input((1,)),
        keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros"),
    ])
    model.compile(keras.optimizers.SGD(S.Constant(0.1)), loss="mae")
    return model


def callbacks():
    return [
        Feed(),
        keras_lr.callbacks.ReduceLROnPlateau("score", factor=0.5, patience=1, mode="min"),
        keras_lr.callbacks.CooldownOnTrigger(
            decay_steps=3 * STEPS, shape="linear", start_epoch=2, stop_training=False
        ),
    ]


def fit(model, extra, epochs):
    model.fit(X, Y, batch_size=2, epochs=epochs, shuffle=False, verbose=0,
              callbacks=callbacks() + extra)


def main(folder):
    weights = []

    class Record(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            weights.append(float(self.model.get_weights()[0][0, 0]))

    fit(model(), [Record()], epochs=5)
    saved = model()
    fit(saved, [], epochs=3)
    saved.save(os.path.join(folder, "plateau_cooldown.keras"))
    backup = os.path.join(folder, "backup")
    shutil.rmtree(backup, ignore_errors=True)
    try:
        fit(model(), [keras.callbacks.BackupAndRestore(backup), Crash()], epochs=5)
    except RuntimeError:
        pass
    with open(os.path.join(folder, "expected.json"), "w") as file:
        json.dump({"keras_lr": keras_lr.__version__, "keras": keras.__version__,
                   "weight_after_epoch": weights}, file, indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
