"""One process of the two-process run in `test_multiprocess.py`.

    python tests/distributed/multiprocess_worker.py PORT PROCESS_ID LOG_DIR RESULT_JSON

JAX backend, `jax.distributed` over gloo CPU collectives on 127.0.0.1, each
process's CPU split into two devices (`--xla_force_host_platform_device_count=2`,
set before JAX is imported): four devices in all, the multi-host path
keras_lr supports. Under Keras's `DataParallel`: a plain SGD under
`ReduceLROnPlateau` and a monitored `CooldownOnTrigger`, then a
`MultiOptimizer` (a scheduled, a float and an unreduced group) under a
per-group `ReduceLROnPlateau`. Under `ModelParallel` (a `LayoutMap`
sharding weights across each process's two devices, the batch across the
processes): `keras_lr.optimizers.SGD` with a scheduled momentum and weight
decay, and a `MultiOptimizer` of keras_lr optimizers, then every keras_lr
optimizer built. Each process writes the decisions it took, the rates it
used and the sharding of every variable and slot.
"""

import json
import os
import sys

os.environ["KERAS_BACKEND"] = "jax"
os.environ["XLA_FLAGS"] = " ".join(
    [os.environ.get("XLA_FLAGS", ""), "--xla_force_host_platform_device_count=2"]
).strip()

import jax  # noqa: E402

port, process_id, log_dir, result_path = sys.argv[1:]
jax.config.update("jax_cpu_collectives_implementation", "gloo")
jax.distributed.initialize(
    coordinator_address=f"127.0.0.1:{port}",
    num_processes=2,
    process_id=int(process_id),
    initialization_timeout=60,
)

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_lr  # noqa: E402
from keras_lr import schedules as S  # noqa: E402

distribution = keras.distribution.DataParallel()
distribution.auto_shard_dataset = False  # each process feeds its own shard
keras.distribution.set_distribution(distribution)
keras.utils.set_random_seed(0)

schedule = keras_lr.schedules.Warmup(
    keras_lr.schedules.CosineAnnealing(0.1, decay_steps=12), warmup_steps=3
)
model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
model.compile(keras.optimizers.SGD(schedule), loss="mse")


class Decisions(keras.callbacks.Callback):
    """Listed after the callbacks it reads: each epoch's end, what they
    decided in this process."""

    def __init__(self, **readers):
        super().__init__()
        self.readers = readers
        self.seen = {name: [] for name in readers}

    def on_epoch_end(self, epoch, logs=None):
        for name, read in self.readers.items():
            self.seen[name].append(read())


# Each process feeds its own half of the data, as on separate hosts.
rng = np.random.RandomState(int(process_id))
x = rng.rand(32, 3).astype("float32")
y = x.sum(axis=1, keepdims=True)
# min_delta=10: epoch 0 sets `best`, every later epoch is a plateau for
# both: (patience 0) the rate halves after epoch 1, for epoch 2, and
# (patience 1) the cooldown is triggered at the end of epoch 1 too.
plateau = keras_lr.callbacks.ReduceLROnPlateau(
    monitor="loss", factor=0.5, patience=0, min_delta=10.0
)
cooldown = keras_lr.callbacks.CooldownOnTrigger(
    decay_steps=4, shape="linear", monitor="loss", patience=1, min_delta=10.0,
    stop_training=False,
)
decisions = Decisions(
    scale=lambda: plateau.schedule.scale,
    cooldown_start=lambda: cooldown.start_step,
)
history = model.fit(
    x,
    y,
    batch_size=8,
    epochs=3,
    shuffle=False,
    verbose=0,
    callbacks=[keras_lr.callbacks.LearningRateLogger(log_dir), plateau, cooldown, decisions],
)

# Per-group rates: the default group on a schedule, `body/kernel` on a
# float floored by `min_lr`, `body/bias` left out of `groups`.
group_schedule = keras_lr.schedules.Warmup(
    keras_lr.schedules.CosineAnnealing(0.1, decay_steps=40), warmup_steps=3
)
inputs = keras.Input((3,))
hidden = keras.layers.Dense(4, name="body")(inputs)
grouped = keras.Model(inputs, keras.layers.Dense(1, name="head")(hidden))
grouped.compile(
    keras.optimizers.MultiOptimizer(keras.optimizers.OptimizerMap(
        keras.optimizers.SGD(group_schedule),
        {
            "body/kernel": keras.optimizers.SGD(0.05),
            "body/bias": keras.optimizers.SGD(
                keras_lr.optimizers.ScaledSchedule(group_schedule, 0.5)
            ),
        },
    )),
    loss="mse",
)
# patience 0, cooldown 2: reductions after epochs 1 and 3.
group_plateau = keras_lr.callbacks.ReduceLROnPlateau(
    monitor="loss", factor=0.5, patience=0, min_delta=10.0, cooldown=2,
    min_lr={"body/kernel": 0.03}, groups=["default", "body/kernel"],
)
group_decisions = Decisions(
    wait=lambda: group_plateau.wait,
    cooldown_counter=lambda: group_plateau.cooldown_counter,
    rates=lambda: {
        name: float(keras.ops.convert_to_numpy(sub.learning_rate))
        for name, sub in keras_lr.optimizers.groups(grouped.optimizer).items()
    },
)
group_history = grouped.fit(
    x, y, batch_size=8, epochs=5, shuffle=False, verbose=0,
    callbacks=[
        keras_lr.callbacks.LearningRateLogger(f"{log_dir}_groups"),
        group_plateau,
        group_decisions,
    ],
)

# ModelParallel: the batch across the processes, the weights across each
# process's two devices (the mesh's rows are the processes).
MOMENTUM = S.PiecewiseConstant([4], [0.9, 0.5])
BETA_1 = S.PiecewiseConstant([6], [0.9, 0.8])
mesh = keras.distribution.DeviceMesh(
    (2, 2), ("batch", "model"), keras.distribution.list_devices()
)
layout_map = keras.distribution.LayoutMap(mesh)
layout_map["body/kernel"] = (None, "model")
layout_map["body/bias"] = ("model",)
layout_map["head/kernel"] = ("model", None)
# Meant for the norm's weight, this key also fits `keras_lr_scale`, the
# plateau's scale: keras_lr gives its own variables a layout of their own.
layout_map[".*scale"] = ("model",)
keras.distribution.set_distribution(keras.distribution.ModelParallel(
    layout_map=layout_map, batch_dim_name="batch", auto_shard_dataset=False
))


def sharded_model():
    inputs = keras.Input((3,))
    hidden = keras.layers.Dense(4, name="body")(inputs)
    hidden = keras.layers.RMSNormalization(name="norm")(hidden)
    return keras.Model(inputs, keras.layers.Dense(1, name="head")(hidden))


def layout(variable):
    """The variable's sharding: its spec, its mesh's devices, and which part
    of it each of this process's devices holds."""
    sharding = variable.value.sharding
    return {
        "spec": str(sharding.spec),
        "devices": sorted(str(d) for d in sharding.device_set),
        "shards": sorted(
            [str(shard.device), str(shard.index)]
            for shard in variable.value.addressable_shards
        ),
    }


def layouts(model, optimizers):
    """`{variable path: {"variable": its layout, "slots": {slot: its
    layout}}}`, the slots found by the name Keras gives a variable's slot
    (`<path>_<slot>`), in every optimizer; and the layout of each variable
    keras_lr's callbacks added (a plateau's scale and floor, ...)."""
    table = {}
    for variable in model.trainable_variables:
        prefix = variable.path.replace("/", "_") + "_"
        slots = {
            f"{optimizer.name}:{slot.name}": layout(slot)
            for optimizer in optimizers for slot in optimizer.variables
            if slot.name.startswith(prefix)
        }
        table[variable.path] = {"variable": layout(variable), "slots": slots}
    own = {
        f"{optimizer.name}:{v.name}": layout(v)
        for optimizer in optimizers for v in optimizer.variables
        if v.name.startswith("keras_lr_")
    }
    return table, own


model_parallel = {"devices": [str(d) for d in jax.devices()]}


def train_sharded(name, optimizer, callbacks):
    keras.utils.set_random_seed(0)
    model = sharded_model()
    model.compile(optimizer, loss="mse")
    history = model.fit(
        x, y, batch_size=8, epochs=3, shuffle=False, verbose=0,
        callbacks=[keras_lr.callbacks.LearningRateLogger(f"{log_dir}_{name}")]
        + callbacks,
    )
    table, own = layouts(model, list(keras_lr.optimizers.groups(optimizer).values()))
    model_parallel[name] = {
        "iterations": int(optimizer.iterations),
        "history": history.history,
        "layouts": table,
        "keras_lr_variables": own,
    }


# min_delta=10: epoch 0 sets `best`, every later epoch is a plateau, so
# (patience 0) every group is reduced after epochs 1 and 2, and (patience 1)
# the cooldown starts after epoch 1.
train_sharded(
    "sgd",
    keras_lr.optimizers.SGD(schedule, momentum=MOMENTUM, weight_decay=S.Constant(1e-3)),
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
train_sharded(
    "sharded_groups",
    keras.optimizers.MultiOptimizer(keras.optimizers.OptimizerMap(
        keras_lr.optimizers.Adam(schedule, beta_1=BETA_1),
        {"body/.*": keras_lr.optimizers.SGD(
            keras_lr.optimizers.ScaledSchedule(schedule, 0.5), momentum=MOMENTUM
        )},
    )),
    [keras_lr.callbacks.ReduceLROnPlateau(
        monitor="loss", factor=0.5, patience=0, min_delta=10.0,
        min_lr={"default": 0.0, "body/.*": 0.02},
    )],
)
# Every keras_lr optimizer, its momentum-like hyperparameter and weight
# decay scheduled, built as `fit` builds it (the slots are made at `build`).
built_on = sharded_model()
model_parallel["built"] = {}
for cls in keras_lr.optimizers.ALL_OPTIMIZERS:
    momentum = "momentum" if cls is keras_lr.optimizers.SGD else "beta_1"
    optimizer = cls(schedule, **{momentum: MOMENTUM, "weight_decay": S.Constant(1e-3)})
    optimizer.build(built_on.trainable_variables)
    model_parallel["built"][cls.__name__] = layouts(built_on, [optimizer])[0]

with open(result_path, "w") as result:
    json.dump(
        {
            "process_index": jax.process_index(),
            "process_count": jax.process_count(),
            "iterations": int(model.optimizer.iterations),
            "learning_rate": history.history["learning_rate"],
            "loss": history.history["loss"],
            "kernel": np.asarray(model.layers[0].kernel).tolist(),
            "decisions": decisions.seen,
            "groups": {
                "iterations": int(grouped.optimizer.iterations),
                "history": group_history.history,
                "decisions": group_decisions.seen,
                "kernel": np.asarray(grouped.get_layer("body").kernel).tolist(),
            },
            "model_parallel": model_parallel,
        },
        result,
    )
