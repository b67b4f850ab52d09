"""The model and the runs of the comparison: one schedule and optimizer each."""

import dataclasses
import json
import math

import keras
import numpy as np

from keras_lr import optimizers
from keras_lr import schedules
from keras_lr.callbacks import ReduceLROnPlateau
from keras_lr.callbacks import ScheduleFreeEval

#: The peak rate of every SGD run, so that the SGD runs differ in shape only.
PEAK = 0.1
ADAMW_PEAK = 1e-3
#: Keras's default for `ScheduleFreeAdamW` (the paper's for small models).
SCHEDULE_FREE_PEAK = 0.0025
#: The run every other run is compared with.
BASELINE = "constant"

#: Every run of the comparison, in order, with what it shows.
RUNS = {
    "constant": "0.1 throughout: the baseline",
    "piecewise": "0.1, 0.05, 0.01, 0.005 from 25, 50, 75 % of the run",
    "step": "0.1, times 0.2 every third of the run",
    "exponential": "0.1 decaying smoothly to 0.001",
    "cosine": "half a cosine from 0.1 to 0",
    "linear": "linear decay from 0.1 to 0 (Bergsma et al. 2025)",
    "restarts": "cosine with warm restarts: 3 cycles, each twice as long",
    "cyclical": "triangular cycles between 0.01 and 0.1",
    "one_cycle": "one cycle: up to 0.1 over 30 %, then down to ~0, momentum cycled",
    "wsd": "warmup 10 %, stable at 0.1, linear decay over the last 20 %",
    "wsd_sqrt": "warmup 10 %, stable at 0.1, 1-sqrt decay over the last 20 % "
    "(Hägele et al. 2024)",
    "cosine_plateau": "cosine from 0.1, halved when val_loss stalls",
    "warmup_cosine_adamw": "AdamW: warmup to 0.001 over 10 %, then cosine",
    "schedule_free_adamw": "ScheduleFreeAdamW at 0.0025, warmup 10 %, "
    "evaluated on its averaged weights",
}


def build_model(kind="mlp"):
    """The classic MNIST MLP (Dense 128 -> 10), or a small CNN; logits out."""
    layers = keras.layers
    if kind == "mlp":
        body = [layers.Flatten(), layers.Dense(128, activation="relu")]
    elif kind == "cnn":
        body = [
            layers.Reshape((28, 28, 1)),
            layers.Conv2D(16, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.Flatten(),
        ]
    else:
        raise ValueError(
            f'Argument `kind` must be one of "mlp", "cnn". Received: kind={kind!r}'
        )
    return keras.Sequential([keras.Input((28, 28)), *body, layers.Dense(10)])


@dataclasses.dataclass
class Run:
    """One run of the comparison: a schedule, its optimizer, its callbacks."""

    name: str
    learning_rate: keras.optimizers.schedules.LearningRateSchedule
    optimizer: str = "SGD"
    callbacks: tuple = ()
    #: SGD's momentum: 0.9, or a schedule (one_cycle's, as PyTorch cycles it).
    momentum: object = 0.9

    def build_optimizer(self):
        if self.optimizer == "AdamW":
            return keras.optimizers.AdamW(learning_rate=self.learning_rate)
        if self.optimizer == "ScheduleFreeAdamW":
            # The warmup is the schedule's (keras_lr's `Warmup`) rather
            # than the optimizer's `warmup_steps`, so that the logged rate
            # is the rate each update used.
            return keras.optimizers.ScheduleFreeAdamW(learning_rate=self.learning_rate)
        if not isinstance(self.momentum, float):
            return optimizers.SGD(
                learning_rate=self.learning_rate, momentum=self.momentum
            )
        return keras.optimizers.SGD(learning_rate=self.learning_rate, momentum=0.9)

    def rates(self, steps):
        """The rate of each of `steps` (host values), as the optimizer applies it."""
        return schedules.evaluate(self.learning_rate, np.asarray(steps))

    def peak_learning_rate(self, total_steps):
        """The largest rate of the run's `total_steps` updates."""
        return float(np.max(self.rates(np.arange(total_steps))))

    def schedule_config(self):
        """`(class name, config as one line of JSON)` of the schedule."""
        config = keras.saving.serialize_keras_object(self.learning_rate)
        return type(self.learning_rate).__name__, json.dumps(config["config"])


def make_run(name, steps_per_epoch, epochs):
    """The run `name` of `RUNS`, its parameters set from the run length.

    Each call builds new callbacks: a run's `ReduceLROnPlateau` keeps its
    bookkeeping, so every seed gets its own.
    """
    total = steps_per_epoch * epochs
    warmup = max(1, total // 10)
    cooldown = max(1, total // 5)
    if name == "constant":
        return Run(name, schedules.Constant(PEAK))
    if name == "piecewise":
        boundaries = sorted({max(1, round(total * f)) for f in (0.25, 0.5, 0.75)})
        values = [PEAK, 0.05, 0.01, 0.005][: len(boundaries) + 1]
        return Run(name, schedules.PiecewiseConstant(boundaries, values))
    if name == "step":
        step_size = max(1, math.ceil(total / 3))
        return Run(name, schedules.StepDecay(PEAK, step_size, gamma=0.2))
    if name == "exponential":
        return Run(name, schedules.ExponentialDecay(PEAK, total, 0.01))
    if name == "cosine":
        return Run(name, schedules.CosineAnnealing(PEAK, total))
    if name == "linear":
        return Run(
            name,
            schedules.PolynomialDecay(PEAK, total, end_learning_rate=0.0, power=1.0),
        )
    if name == "restarts":
        # Cycles of 1, 2 and 4 units end exactly with the run.
        return Run(
            name, schedules.CosineRestarts(PEAK, max(1, total // 7), t_mul=2.0)
        )
    if name == "cyclical":
        # Smith's advice: a half cycle of 2 to 10 epochs; two cycles if the
        # run is long enough.
        step_size = min(max(total // 4, 2 * steps_per_epoch), 10 * steps_per_epoch)
        return Run(
            name, schedules.CyclicalLearningRate(PEAK / 10, PEAK, step_size)
        )
    if name == "one_cycle":
        rate = schedules.OneCycle(PEAK, total_steps=total)
        return Run(name, rate, momentum=rate.momentum_schedule())
    if name in ("wsd", "wsd_sqrt"):
        return Run(
            name,
            schedules.WarmupStableDecay(
                PEAK, total, warmup_steps=warmup, decay_steps=cooldown,
                decay_shape="linear" if name == "wsd" else "1-sqrt",
            ),
        )
    if name == "cosine_plateau":
        plateau = ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2)
        return Run(
            name, schedules.CosineAnnealing(PEAK, total), callbacks=(plateau,)
        )
    if name == "warmup_cosine_adamw":
        cosine = schedules.CosineAnnealing(ADAMW_PEAK, max(1, total - warmup))
        return Run(name, schedules.Warmup(cosine, warmup), optimizer="AdamW")
    if name == "schedule_free_adamw":
        return Run(
            name, schedules.Warmup(schedules.Constant(SCHEDULE_FREE_PEAK), warmup),
            optimizer="ScheduleFreeAdamW", callbacks=(ScheduleFreeEval(),),
        )
    raise ValueError(
        f"Argument `name` must be one of {', '.join(RUNS)}. Received: name={name!r}"
    )
