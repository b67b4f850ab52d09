"""Scripted callbacks: what a fit-level test puts beside keras_lr's
callbacks to feed a score, or to crash, at a chosen epoch.

Epoch hooks only: a batch hook makes Keras synchronise the device every
batch on the JAX backend.
"""

import keras


class Feed(keras.callbacks.Callback):
    """Puts `values[epoch]` into the logs as `key` ("score"), for a chosen
    sequence."""

    def __init__(self, values, key="score"):
        super().__init__()
        self.values, self.key = values, key

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = self.values[epoch]


class Worse(keras.callbacks.Callback):
    """Makes `score` worse every epoch, so the plateau callback reduces."""

    def on_epoch_end(self, epoch, logs=None):
        logs["score"] = float(epoch)


class ScriptedScore(keras.metrics.Metric):
    """A compiled metric `score` whose value in epoch `e` is `values[e]`.

    A backup written before the plateau callback has seen the epoch's logs
    can only find a real metric, not a value another callback put in the
    logs; `Script` sets it at each epoch's start.
    """

    def __init__(self, values):
        super().__init__(name="score")
        self.values = list(values)
        self.current = self.add_variable((), initializer="zeros", name="current")

    def update_state(self, y_true, y_pred, sample_weight=None):
        pass

    def result(self):
        return keras.ops.convert_to_tensor(self.current)

    def reset_state(self):
        pass


class Script(keras.callbacks.Callback):
    """Sets a `ScriptedScore` to its value for the epoch, as the epoch starts."""

    def __init__(self, metric):
        super().__init__()
        self.metric = metric

    def on_epoch_begin(self, epoch, logs=None):
        self.metric.current.assign(self.metric.values[epoch])


class Crash(keras.callbacks.Callback):
    """Raises `RuntimeError("simulated crash")` at the end of epoch `epoch`,
    or at its start with `at_start=True`."""

    def __init__(self, epoch, at_start=False):
        super().__init__()
        self.epoch, self.at_start = epoch, at_start

    def on_epoch_begin(self, epoch, logs=None):
        if self.at_start and epoch == self.epoch:
            raise RuntimeError("simulated crash")

    def on_epoch_end(self, epoch, logs=None):
        if not self.at_start and epoch == self.epoch:
            raise RuntimeError("simulated crash")


class TriggerAt(keras.callbacks.Callback):
    """Calls `cooldown.trigger()` after batch `batch` of epoch `epoch`."""

    def __init__(self, cooldown, epoch, batch):
        super().__init__()
        self.cooldown, self.at = cooldown, (epoch, batch)
        self.epoch = None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            self.cooldown.trigger()
