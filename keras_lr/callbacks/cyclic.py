"""`CyclicLR`: the Keras 2 CLR callback's interface on the keras_lr schedule."""

import keras

from keras_lr import _validation
from keras_lr.callbacks.scheduler import LearningRateScheduler
from keras_lr.schedules.cyclical import CyclicalLearningRate


@keras.saving.register_keras_serializable(package="keras_lr")
class CyclicLR(LearningRateScheduler):
    """Cyclical learning rate as a callback, for code written for Keras 2.

    The callback form of `keras_lr.schedules.CyclicalLearningRate`, with the
    argument names and the `history` of the widely used Keras 2 CLR
    callback (bckenstler/CLR), which no longer runs on Keras 3: migrating is
    an import change. Before every batch it sets the optimizer's float rate
    to

    ```python
    CyclicalLearningRate(base_lr, max_lr, step_size, mode=mode, gamma=gamma)(step)
    ```

    evaluated on the host, where `step` is the optimizer's global step, so
    the cycle continues where it was after `BackupAndRestore` or
    `load_model` (the Keras 2 callback kept a private counter).

    Prefer passing `CyclicalLearningRate` to the optimizer: it computes the
    same rates inside the compiled train step, at no cost, where this
    callback writes the rate from the host every batch.

    Differences from the Keras 2 callback: `scale_fn` / `scale_mode` are
    not supported (a `.keras` file cannot store a Python function safely;
    `mode` names the three scalings), `history` records the rate and the
    step of each batch but not the batch logs (reading them would sync the
    device every batch), and `gamma` must stay 1.0 unless
    `mode="exp_range"`.

    Args:
        base_lr: the low end of each cycle, and the rate at step 0.
        max_lr: the high end of the first cycle.
        step_size: steps per half cycle (2 to 10 times the steps per epoch,
            says the paper).
        mode: `"triangular"`, `"triangular2"` or `"exp_range"`.
        gamma: the per-step factor of `"exp_range"`.

    Attributes:
        history: `{"lr": [...], "iterations": [...]}`, the rate set before
            each batch and the global step it was set for.

    Example:

    ```python
    model.compile(keras.optimizers.SGD(0.001, momentum=0.9), loss="mse")
    clr = keras_lr.callbacks.CyclicLR(base_lr=0.001, max_lr=0.006, step_size=2000)
    model.fit(x, y, epochs=10, callbacks=[clr])
    ```
    """

    def __init__(
        self,
        base_lr=0.001,
        max_lr=0.006,
        step_size=2000,
        mode="triangular",
        gamma=1.0,
    ):
        # Checked under the Keras 2 names, so an error names what was passed;
        # the schedule checks the rest.
        _validation.check_not_above(
            "base_lr",
            _validation.check_learning_rate("base_lr", base_lr),
            "max_lr",
            _validation.check_learning_rate("max_lr", max_lr),
        )
        _validation.check_positive_int("step_size", step_size)
        super().__init__(
            CyclicalLearningRate(
                base_lr, max_lr, step_size=step_size, mode=mode, gamma=gamma
            ),
            unit="step",
        )
        self.base_lr = self.schedule.initial_learning_rate
        self.max_lr = self.schedule.maximal_learning_rate
        self.step_size = self.schedule.step_size
        self.mode = self.schedule.mode
        self.gamma = self.schedule.gamma
        self.history = {"lr": [], "iterations": []}

    def get_config(self):
        return {
            "base_lr": self.base_lr,
            "max_lr": self.max_lr,
            "step_size": self.step_size,
            "mode": self.mode,
            "gamma": self.gamma,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def _rate_set(self, step, rate):
        self.history["lr"].append(rate)
        self.history["iterations"].append(step)
