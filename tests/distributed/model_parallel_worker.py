"""The `ModelParallel` run of `test_model_parallel.py`, in a process of its own.

    python tests/distributed/model_parallel_worker.py RESULT_DIR

JAX backend on one CPU split into two devices
(`--xla_force_host_platform_device_count=2`, set before JAX is imported),
Keras's `ModelParallel` with a `LayoutMap` that shards the hidden layer's
kernel and bias, the norm's scale and the head's kernel across them. Two
models train under `ReduceLROnPlateau` and `LearningRateLogger`: one on
`keras_lr.optimizers.SGD` with a scheduled momentum and weight decay (and
a `CooldownOnTrigger`), one
on a `MultiOptimizer` of keras_lr optimizers (per-group schedules, a
scheduled `beta_1` and momentum, a `min_lr` per group); then every keras_lr
optimizer is built on a third. Writes `result.json`: each variable's
sharding beside those of the optimizer slots built for it, the History,
the optimizers' step counters; the logger writes under RESULT_DIR.
"""

import json
import os
import sys

os.environ["KERAS_BACKEND"] = "jax"
os.environ["XLA_FLAGS"] = " ".join(
    [os.environ.get("XLA_FLAGS", ""), "--xla_force_host_platform_device_count=2"]
).strip()

import jax  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_lr  # noqa: E402
from keras_lr import schedules as S  # noqa: E402

EPOCHS, BATCH = 3, 8
RATE = S.Warmup(S.CosineAnnealing(0.1, decay_steps=12), warmup_steps=3)
MOMENTUM = S.PiecewiseConstant([4], [0.9, 0.5])
BETA_1 = S.PiecewiseConstant([6], [0.9, 0.8])

root = sys.argv[1]
devices = keras.distribution.list_devices()
mesh = keras.distribution.DeviceMesh((1, 2), ("batch", "model"), devices)
layout_map = keras.distribution.LayoutMap(mesh)
layout_map["body/kernel"] = (None, "model")
layout_map["body/bias"] = ("model",)
layout_map["head/kernel"] = ("model", None)
# Meant for the norm's weight, this key also fits `keras_lr_scale`, the
# plateau's scale: keras_lr gives its own variables a layout of their own.
layout_map[".*scale"] = ("model",)
keras.distribution.set_distribution(
    keras.distribution.ModelParallel(layout_map=layout_map, batch_dim_name="batch")
)
keras.utils.set_random_seed(0)


def build():
    inputs = keras.Input((3,))
    hidden = keras.layers.Dense(4, name="body")(inputs)
    hidden = keras.layers.RMSNormalization(name="norm")(hidden)
    return keras.Model(inputs, keras.layers.Dense(1, name="head")(hidden))


def spec(variable):
    sharding = variable.value.sharding
    return [str(sharding.spec), sorted(str(d) for d in sharding.device_set)]


def shardings(model, optimizers):
    """`{variable path: {"variable": its sharding, "slots": {slot: its
    sharding}}}`, the slots found by the name Keras gives a variable's slot
    (`<path>_<slot>`), in every optimizer; and `"keras_lr"`: the sharding of
    each variable keras_lr's callbacks added (a plateau's scale and floor)."""
    table = {}
    for variable in model.trainable_variables:
        prefix = variable.path.replace("/", "_") + "_"
        slots = {
            f"{optimizer.name}:{slot.name}": spec(slot)
            for optimizer in optimizers for slot in optimizer.variables
            if slot.name.startswith(prefix)
        }
        table[variable.path] = {"variable": spec(variable), "slots": slots}
    own = {
        f"{optimizer.name}:{v.name}": spec(v)
        for optimizer in optimizers for v in optimizer.variables
        if v.name.startswith("keras_lr_")
    }
    return table, own


rng = np.random.RandomState(0)
x = rng.rand(32, 3).astype("float32")
y = x.sum(axis=1, keepdims=True)
results = {"devices": [str(d) for d in jax.devices()]}


def train(name, optimizer, callbacks):
    model = build()
    optimizer = optimizer(model)
    model.compile(optimizer, loss="mse")
    history = model.fit(
        x, y, batch_size=BATCH, epochs=EPOCHS, shuffle=False, verbose=0,
        callbacks=[keras_lr.callbacks.LearningRateLogger(os.path.join(root, name))]
        + callbacks,
    )
    subs = list(keras_lr.optimizers.groups(optimizer).values())
    results[name] = {
        "iterations": int(optimizer.iterations),
        "history": {k: list(map(float, v)) for k, v in history.history.items()},
        "shardings": shardings(model, subs)[0],
        "keras_lr_variables": shardings(model, subs)[1],
        "kernel": np.asarray(model.get_layer("body").kernel).tolist(),
    }


# min_delta=10: epoch 0 sets `best`, every later epoch is a plateau, so
# (patience 0) every group is reduced after epochs 1 and 2, and (patience 1)
# the cooldown starts after epoch 1.
train(
    "sgd",
    lambda model: keras_lr.optimizers.SGD(
        RATE, momentum=MOMENTUM, weight_decay=S.Constant(1e-3)
    ),
    [
        keras_lr.callbacks.ReduceLROnPlateau(
            monitor="loss", factor=0.5, patience=0, min_delta=10.0
        ),
        keras_lr.callbacks.CooldownOnTrigger(
            decay_steps=4, shape="linear", monitor="loss", patience=1,
            min_delta=10.0, stop_training=False,
        ),
    ],
)
train(
    "groups",
    lambda model: keras.optimizers.MultiOptimizer(keras.optimizers.OptimizerMap(
        keras_lr.optimizers.Adam(RATE, beta_1=BETA_1),
        {"body/.*": keras_lr.optimizers.SGD(
            keras_lr.optimizers.ScaledSchedule(RATE, 0.5), momentum=MOMENTUM
        )},
    )),
    [keras_lr.callbacks.ReduceLROnPlateau(
        monitor="loss", factor=0.5, patience=0, min_delta=10.0,
        min_lr={"default": 0.0, "body/.*": 0.02},
    )],
)
# Every keras_lr optimizer, its momentum-like hyperparameter and weight
# decay scheduled, built as `fit` builds it (no training: the slots are
# made at `build`).
model = build()
results["built"] = {}
for cls in keras_lr.optimizers.ALL_OPTIMIZERS:
    momentum = "momentum" if cls is keras_lr.optimizers.SGD else "beta_1"
    optimizer = cls(RATE, **{momentum: MOMENTUM, "weight_decay": S.Constant(1e-3)})
    optimizer.build(model.trainable_variables)
    results["built"][cls.__name__] = shardings(model, [optimizer])[0]

with open(os.path.join(root, "result.json"), "w") as result:
    json.dump(results, result)
