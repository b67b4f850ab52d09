"""The scenarios of `test_mirrored.py`, in one process that splits its CPU
into two logical devices and trains under `tf.distribute.MirroredStrategy`.

    python tests/distributed/mirrored_worker.py OUT_DIR

Writes `OUT_DIR/result.json` (what each scenario measured) and the
TensorBoard logs under `OUT_DIR/<scenario>/`; the test reads both. The split
must happen before TensorFlow initializes its devices, hence a process of
its own.
"""

import json
import os
import sys
from pathlib import Path

os.environ["KERAS_BACKEND"] = "tensorflow"
# Run as a script: the repository root, for `tests.support`.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import tensorflow as tf  # noqa: E402

(cpu,) = tf.config.list_physical_devices("CPU")
tf.config.set_logical_device_configuration(
    cpu, [tf.config.LogicalDeviceConfiguration()] * 2
)

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_lr  # noqa: E402
from keras_lr import schedules as S  # noqa: E402
from tests.support.callbacks import Worse  # noqa: E402
from tests.support.models import TracingSGD  # noqa: E402
from tests.support.models import two_layer_model  # noqa: E402

out_dir = sys.argv[1]
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
rng = np.random.RandomState(0)
x = rng.rand(40, 3).astype("float32")  # 5 global batches of 8, 4 per replica
y = x.sum(axis=1, keepdims=True)
EPOCHS = 3


def numpy(value):
    return keras.ops.convert_to_numpy(value)


def make_model(make_optimizer):
    with strategy.scope():
        return two_layer_model(make_optimizer())


def state(model):
    return [numpy(v).tolist() for v in model.variables + model.optimizer.variables]


# (rate, callbacks before the logger, callbacks after it)
SCENARIOS = {
    "schedule": (S.Warmup(S.CosineAnnealing(0.1, decay_steps=12), 3), [], []),
    "plateau_on_schedule": (
        S.CosineAnnealing(0.1, decay_steps=20),
        [Worse, lambda: keras_lr.callbacks.ReduceLROnPlateau(
            "score", factor=0.5, patience=1, mode="min")], []),
    "plateau_on_float": (
        0.1, [Worse], [lambda: keras_lr.callbacks.ReduceLROnPlateau(
            "score", factor=0.5, patience=1, mode="min")]),
    "scheduler_per_step": (
        0.1, [lambda: keras_lr.callbacks.LearningRateScheduler(
            lambda step: 0.01 * (step + 1), unit="step")], []),
    "scheduler_per_epoch": (
        0.1, [], [lambda: keras_lr.callbacks.LearningRateScheduler(
            lambda epoch, lr: lr * 0.5)]),
    "cyclic": (
        0.1, [lambda: keras_lr.callbacks.CyclicLR(0.01, 0.1, step_size=3)], []),
}

result = {
    "replicas": strategy.num_replicas_in_sync,
    "devices": list(strategy.extended.worker_devices),
}
for name, (rate, before, after) in SCENARIOS.items():
    model = make_model(lambda: TracingSGD(rate))
    log_dir = os.path.join(out_dir, name)
    history = model.fit(
        x, y, batch_size=8, epochs=EPOCHS, shuffle=False, verbose=0,
        callbacks=[make() for make in before]
        + [keras_lr.callbacks.LearningRateLogger(log_dir)]
        + [make() for make in after],
    )
    result[name] = {
        "iterations": int(numpy(model.optimizer.iterations)),
        "trace": numpy(model.optimizer.trace).astype("float64").tolist(),
        "learning_rate": history.history["learning_rate"],
        "files": sorted(
            os.path.relpath(os.path.join(root, f), log_dir)
            for root, _, files in os.walk(log_dir) for f in files
        ),
    }

# Per-group rates: a MultiOptimizer (the output layer at half the rate),
# every group reduced by the plateau and logged under its own tag.
with strategy.scope():
    grouped = two_layer_model(TracingSGD(0.1))
    head = grouped.layers[-1].kernel.path.rsplit("/", 1)[0] + "/.*"
    grouped.compile(
        keras_lr.optimizers.scale_rates(
            grouped, TracingSGD(S.CosineAnnealing(0.1, decay_steps=20)), {head: 0.5}),
        loss="mse",
    )
log_dir = os.path.join(out_dir, "groups")
history = grouped.fit(
    x, y, batch_size=8, epochs=EPOCHS, shuffle=False, verbose=0,
    callbacks=[Worse(), keras_lr.callbacks.ReduceLROnPlateau(
        "score", factor=0.5, patience=1, mode="min"),
        keras_lr.callbacks.LearningRateLogger(log_dir)],
)
result["groups"] = {
    "head": head,
    "groups": {
        name: {
            "iterations": int(numpy(sub.iterations)),
            "trace": numpy(sub.trace).astype("float64").tolist(),
            "learning_rate": history.history[f"learning_rate/{name}"],
        }
        for name, sub in keras_lr.optimizers.groups(grouped.optimizer).items()
    },
}

# Keras's gradient accumulation does not run under the strategy: its update
# is a `cond` around the gradients' all-reduce (a `merge_call`), which
# TensorFlow refuses. docs/pages/limits.md states this limit; this records it.
model = make_model(lambda: TracingSGD(0.1, gradient_accumulation_steps=2))
try:
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    result["accumulation_error"] = None
except RuntimeError as caught:
    result["accumulation_error"] = str(caught)


# The range test on fresh models (the optimizer not built yet), then a fit
# that must equal the fit of a model that never ran the test.
def sgd():
    return keras.optimizers.SGD(0.05, momentum=0.9)


without = make_model(sgd)
without.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)

tested = make_model(sgd)
before = [numpy(v).tolist() for v in tested.variables]
found = keras_lr.find_learning_rate(tested, x, y, batch_size=8, num_steps=12,
                                    start_lr=1e-4, end_lr=1.0, shuffle=False,
                                    verbose=0)
after_test = [numpy(v).tolist() for v in tested.variables]
tested.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
result["finder"] = {
    "learning_rates": found.learning_rates.tolist(),
    "losses": found.losses.tolist(),
    "restored": before == after_test,
    "mirrored": all(
        isinstance(v.value, tf.distribute.DistributedValues)
        for v in tested.optimizer.variables
    ),
    "state_after_fit": state(tested),
    "state_without_test": state(without),
}

# Inside the scope of another strategy: refused before anything changes.
refused = make_model(sgd)
try:
    with tf.distribute.OneDeviceStrategy("/cpu:0").scope():
        keras_lr.find_learning_rate(refused, x, y, batch_size=8, num_steps=5,
                                    verbose=0)
    error = None
except ValueError as caught:
    error = str(caught)
optimizer_built = refused.optimizer.built
refused.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
result["refused"] = {
    "error": error,
    "optimizer_built": optimizer_built,
    "state_after_fit": state(refused),
}

with open(os.path.join(out_dir, "result.json"), "w") as handle:
    json.dump(result, handle)
