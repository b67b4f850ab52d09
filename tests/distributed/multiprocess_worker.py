"""One process of the two-process data-parallel run in `test_multiprocess.py`.

    python tests/distributed/multiprocess_worker.py PORT PROCESS_ID LOG_DIR RESULT_JSON

JAX backend, `jax.distributed` over gloo CPU collectives on 127.0.0.1, and
Keras's `DataParallel` distribution: the multi-host path keras_lr supports.
Two trainings: a plain SGD under `ReduceLROnPlateau` and a monitored
`CooldownOnTrigger`, then a `MultiOptimizer` (a scheduled, a float and an
unreduced group) under a per-group `ReduceLROnPlateau`; each process writes
the decisions it took and the rates it used.
"""

import json
import os
import sys

os.environ["KERAS_BACKEND"] = "jax"

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
        },
        result,
    )
