"""keras_lr: learning rate schedules and callbacks for Keras 3."""

from keras_lr import callbacks
from keras_lr import comparison
from keras_lr import optimizers
from keras_lr import schedules
from keras_lr.comparison import compare
from keras_lr.finder import find_learning_rate
from keras_lr.plot import plot_schedule

__version__ = "0.1.0"

__all__ = [
    "callbacks",
    "compare",
    "comparison",
    "find_learning_rate",
    "optimizers",
    "plot_schedule",
    "schedules",
]
