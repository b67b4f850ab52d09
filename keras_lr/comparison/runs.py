"""The runs of a comparison: a schedule, an optimizer and callbacks each.

`RUNS` are keras_lr's named runs, written for any model; `Run` is a run
of the user's own.
"""

import copy
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


_OPTIMIZERS = ("SGD", "AdamW", "ScheduleFreeAdamW")


@dataclasses.dataclass
class Run:
    """A run of your own for `keras_lr.compare`: a schedule, an optimizer, callbacks.

    Args:
        name: the run's name in the tables, the figure and the directory.
        learning_rate: a float, a `LearningRateSchedule`, or a function of
            the run's total number of updates that returns one (a schedule
            written for the run's length).
        optimizer: `"SGD"` (momentum `momentum`), `"AdamW"`,
            `"ScheduleFreeAdamW"`, or a function of the learning rate that
            returns a Keras optimizer.
        callbacks: Keras callbacks for this run only (`ReduceLROnPlateau`,
            say), copied for each training so that none carries state from
            another; or a function returning a fresh list.
        momentum: SGD's momentum, a float or a schedule.

    For worker processes, give functions defined at the top of a module (a
    lambda or a function of a notebook trains in the calling process).
    With `peaks`, the rate is multiplied by each factor of the grid.
    """

    name: str
    learning_rate: object
    optimizer: object = "SGD"
    callbacks: object = ()
    momentum: object = 0.9

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name.strip() or any(
            character in self.name for character in "/\\:"
        ):
            raise ValueError(
                "Argument `name` must be a non-empty name without /, \\ or :. "
                f"Received: name={self.name!r}"
            )
        if isinstance(self.optimizer, str) and self.optimizer not in _OPTIMIZERS:
            raise ValueError(
                f"Argument `optimizer` must be one of {', '.join(_OPTIMIZERS)} or "
                f"a function returning an optimizer. Received: optimizer={self.optimizer!r}"
            )
        if not (isinstance(self.optimizer, str) or callable(self.optimizer)):
            raise TypeError(
                "Argument `optimizer` must be a name or a function of the "
                f"learning rate. Received: optimizer={self.optimizer!r}"
            )
        rate = self.learning_rate
        if isinstance(rate, bool) or not (
            isinstance(rate, (int, float, keras.optimizers.schedules.LearningRateSchedule))
            or callable(rate)
        ):
            raise TypeError(
                "Argument `learning_rate` must be a float, a schedule or a "
                "function of the total steps. Received: "
                f"learning_rate={rate!r}"
            )

    def bind(self, total_steps, scale=1.0):
        """This run for `total_steps` updates, its rate times `scale`, with
        fresh callbacks: the run one training uses."""
        rate = self.learning_rate
        if callable(rate) and not isinstance(
            rate, keras.optimizers.schedules.LearningRateSchedule
        ):
            rate = rate(total_steps)
        if isinstance(rate, (int, float)):
            rate = schedules.Constant(float(rate))
        if scale != 1.0:
            rate = Scaled(rate, scale)
        callbacks = self.callbacks
        callbacks = list(callbacks()) if callable(callbacks) else copy.deepcopy(
            list(callbacks)
        )
        return dataclasses.replace(
            self, learning_rate=rate, callbacks=tuple(callbacks)
        )

    def build_optimizer(self):
        if callable(self.optimizer):
            return self.optimizer(self.learning_rate)
        if self.optimizer == "AdamW":
            return keras.optimizers.AdamW(learning_rate=self.learning_rate)
        if self.optimizer == "ScheduleFreeAdamW":
            # The warmup is the schedule's (keras_lr's `Warmup`) rather
            # than the optimizer's `warmup_steps`, so that the logged rate
            # is the rate each update used.
            return keras.optimizers.ScheduleFreeAdamW(learning_rate=self.learning_rate)
        if not isinstance(self.momentum, (int, float)):
            return optimizers.SGD(
                learning_rate=self.learning_rate, momentum=self.momentum
            )
        return keras.optimizers.SGD(
            learning_rate=self.learning_rate, momentum=float(self.momentum)
        )

    @property
    def optimizer_name(self):
        """The optimizer's name for the tables: its own, or the function's."""
        if isinstance(self.optimizer, str):
            return self.optimizer
        return getattr(self.optimizer, "__name__", type(self.optimizer).__name__)

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


class Scaled(keras.optimizers.schedules.LearningRateSchedule):
    """`scale * schedule(step)`: a run's rate at one peak of the `peaks` grid."""

    def __init__(self, schedule, scale):
        self.schedule = schedule
        self.scale = float(scale)

    def __call__(self, step):
        return self.scale * self.schedule(step)

    def numpy(self, steps):
        return self.scale * schedules.evaluate(self.schedule, steps)

    def get_config(self):
        return {
            "schedule": keras.saving.serialize_keras_object(self.schedule),
            "scale": self.scale,
        }


def make_run(name, steps_per_epoch, epochs, scale=1.0):
    """The run `name` of `RUNS`, its parameters set from the run length.

    Each call builds new callbacks: a run's `ReduceLROnPlateau` keeps its
    bookkeeping, so every seed gets its own. `scale` multiplies every rate
    of the run (its peak and its floor alike).
    """
    total = steps_per_epoch * epochs
    warmup = max(1, total // 10)
    cooldown = max(1, total // 5)
    peak = PEAK * scale
    if name == "constant":
        return Run(name, schedules.Constant(peak))
    if name == "piecewise":
        boundaries = sorted({max(1, round(total * f)) for f in (0.25, 0.5, 0.75)})
        values = [peak * f for f in (1, 0.5, 0.1, 0.05)][: len(boundaries) + 1]
        return Run(name, schedules.PiecewiseConstant(boundaries, values))
    if name == "step":
        step_size = max(1, math.ceil(total / 3))
        return Run(name, schedules.StepDecay(peak, step_size, gamma=0.2))
    if name == "exponential":
        return Run(name, schedules.ExponentialDecay(peak, total, 0.01))
    if name == "cosine":
        return Run(name, schedules.CosineAnnealing(peak, total))
    if name == "linear":
        return Run(
            name,
            schedules.PolynomialDecay(peak, total, end_learning_rate=0.0, power=1.0),
        )
    if name == "restarts":
        # Cycles of 1, 2 and 4 units end exactly with the run.
        return Run(
            name, schedules.CosineRestarts(peak, max(1, total // 7), t_mul=2.0)
        )
    if name == "cyclical":
        # Smith's advice: a half cycle of 2 to 10 epochs; two cycles if the
        # run is long enough.
        step_size = min(max(total // 4, 2 * steps_per_epoch), 10 * steps_per_epoch)
        return Run(
            name, schedules.CyclicalLearningRate(peak / 10, peak, step_size)
        )
    if name == "one_cycle":
        rate = schedules.OneCycle(peak, total_steps=total)
        return Run(name, rate, momentum=rate.momentum_schedule())
    if name in ("wsd", "wsd_sqrt"):
        return Run(
            name,
            schedules.WarmupStableDecay(
                peak, total, warmup_steps=warmup, decay_steps=cooldown,
                decay_shape="linear" if name == "wsd" else "1-sqrt",
            ),
        )
    if name == "cosine_plateau":
        plateau = ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2)
        return Run(
            name, schedules.CosineAnnealing(peak, total), callbacks=(plateau,)
        )
    if name == "warmup_cosine_adamw":
        cosine = schedules.CosineAnnealing(ADAMW_PEAK * scale, max(1, total - warmup))
        return Run(name, schedules.Warmup(cosine, warmup), optimizer="AdamW")
    if name == "schedule_free_adamw":
        return Run(
            name,
            schedules.Warmup(schedules.Constant(SCHEDULE_FREE_PEAK * scale), warmup),
            optimizer="ScheduleFreeAdamW", callbacks=(ScheduleFreeEval(),),
        )
    raise ValueError(
        f"Argument `name` must be one of {', '.join(RUNS)}. Received: name={name!r}"
    )


def bind(run, steps_per_epoch, epochs, scale=1.0):
    """The run one training uses: `run` a name of `RUNS` or a `Run`."""
    if isinstance(run, str):
        return make_run(run, steps_per_epoch, epochs, scale)
    return run.bind(steps_per_epoch * epochs, scale)
