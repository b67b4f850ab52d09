"""One process of the two-process data-parallel run in `test_multiprocess.py`.

    python tests/distributed/multiprocess_worker.py PORT PROCESS_ID LOG_DIR RESULT_JSON

JAX backend, `jax.distributed` over gloo CPU collectives on 127.0.0.1, and
Keras's `DataParallel` distribution: the multi-host path keras_lr supports.
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

# Each process feeds its own half of the data, as on separate hosts.
rng = np.random.RandomState(int(process_id))
x = rng.rand(32, 3).astype("float32")
y = x.sum(axis=1, keepdims=True)
history = model.fit(
    x,
    y,
    batch_size=8,
    epochs=3,
    shuffle=False,
    verbose=0,
    callbacks=[
        keras_lr.callbacks.LearningRateLogger(log_dir),
        # factor and patience that make it reduce during the run
        keras_lr.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=0, min_delta=10.0),
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
        },
        result,
    )
