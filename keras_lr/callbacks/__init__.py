"""keras_lr callbacks: per-step logging, plateau on any schedule, host-driven rates."""

from keras_lr.callbacks.cyclic import CyclicLR
from keras_lr.callbacks.logger import LearningRateLogger
from keras_lr.callbacks.plateau import ReducedSchedule
from keras_lr.callbacks.plateau import ReduceLROnPlateau
from keras_lr.callbacks.scheduler import LearningRateScheduler

__all__ = [
    "CyclicLR",
    "LearningRateLogger",
    "LearningRateScheduler",
    "ReduceLROnPlateau",
    "ReducedSchedule",
]
