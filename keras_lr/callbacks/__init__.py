"""keras_lr callbacks: per-step logging, plateau on any schedule, host-driven
rates, a cooldown on demand, schedule-free evaluation."""

from keras_lr.callbacks.cooldown import CooldownOnTrigger
from keras_lr.callbacks.cyclic import CyclicLR
from keras_lr.callbacks.logger import LearningRateLogger
from keras_lr.callbacks.plateau import ReducedSchedule
from keras_lr.callbacks.plateau import ReduceLROnPlateau
from keras_lr.callbacks.schedule_free import ScheduleFreeEval
from keras_lr.callbacks.scheduler import LearningRateScheduler

__all__ = [
    "CooldownOnTrigger",
    "CyclicLR",
    "LearningRateLogger",
    "LearningRateScheduler",
    "ReduceLROnPlateau",
    "ReducedSchedule",
    "ScheduleFreeEval",
]
