"""A job killed with SIGKILL and resumed by `BackupAndRestore`: TensorBoard
shows each applied step's rate exactly once, whatever the callback order
and `save_freq`.

One subprocess runs the three trials up to their crash points and then
kills itself with SIGKILL (a trial's crash point before that raises out of
`fit`, so no later hook of that fit runs; the SIGKILL then ends the process
with all three event files still open). The resumes run here. TensorFlow
only (the suite's other backends run the backend-neutral tests).
"""

import os
import signal
import subprocess
import sys

import keras
import numpy as np

from keras_lr import schedules as S
from keras_lr.callbacks import LearningRateLogger
from tests.support.models import dense_model
from tests.support.paths import ROOT
from tests.support.tensorboard import read_scalars

EPOCHS, BATCHES, BATCH = 3, 4, 4

# name: (callbacks in order, save_freq, where the crash is). "logger" is
# LearningRateLogger, "backup" BackupAndRestore, "crash" the crash.
TRIALS = {
    # Killed after the logger wrote epoch 1 and before its backup: the
    # resume redoes epoch 1's steps.
    "logger_first": (("logger", "crash", "backup"), "epoch", ("epoch", 1)),
    # Killed after epoch 1's backup, before the logger's epoch end: the
    # resume starts after epoch 1's steps.
    "backup_first": (("backup", "crash", "logger"), "epoch", ("epoch", 1)),
    # Backups every 3 batches, killed mid-epoch 1 after the backup at
    # update 6: updates 4 and 5 are in no later epoch end.
    "mid_epoch": (("logger", "backup", "crash"), 3, ("batch", 1, 3)),
}


def _schedule():
    return S.CosineAnnealing(0.1, decay_steps=EPOCHS * BATCHES * 2)


def _data():
    rng = np.random.default_rng(0)
    x = rng.random((BATCHES * BATCH, 3)).astype("float32")
    return x, x.sum(axis=1, keepdims=True)


def _model():
    return dense_model(keras.optimizers.SGD(_schedule()))


class _Crash(Exception):
    pass


class _Crasher(keras.callbacks.Callback):
    def __init__(self, where, kill):
        super().__init__()
        self.where, self.kill = where, kill
        self.epoch = 0

    def _crash(self):
        if self.kill:
            os.kill(os.getpid(), signal.SIGKILL)
        raise _Crash()

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if self.where == ("epoch", epoch):
            self._crash()

    def on_train_batch_end(self, batch, logs=None):
        if self.where == ("batch", self.epoch, batch):
            self._crash()


def _callbacks(directory, trial, crash=None):
    order, save_freq, _ = TRIALS[trial]
    made = {
        "logger": LearningRateLogger(os.path.join(directory, trial, "logs")),
        "backup": keras.callbacks.BackupAndRestore(
            os.path.join(directory, trial, "backup"), save_freq=save_freq
        ),
        "crash": crash,
    }
    return [made[name] for name in order if made[name] is not None]


def _run(directory, trial, crash=None):
    model = _model()
    x, y = _data()
    model.fit(x, y, batch_size=BATCH, epochs=EPOCHS, shuffle=False, verbose=0,
              callbacks=_callbacks(directory, trial, crash))
    return model


def _crash_all(directory):
    """The subprocess: each trial up to its crash; the last one by SIGKILL."""
    names = list(TRIALS)
    for name in names:
        crasher = _Crasher(TRIALS[name][2], kill=name == names[-1])
        try:
            _run(directory, name, crasher)
        except _Crash:
            pass
    raise AssertionError("the last trial should have killed this process")


def test_each_applied_step_logged_once_after_kill_and_resume(tmp_path):
    code = (
        f"import sys; sys.path.insert(0, {ROOT!r}); "
        "from tests.robustness.test_faults_resume import _crash_all; "
        f"_crash_all({str(tmp_path)!r})"
    )
    environment = dict(os.environ, KERAS_BACKEND="tensorflow",
                       TF_CPP_MIN_LOG_LEVEL="3")
    killed = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environment,
        capture_output=True, text=True, timeout=240,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    schedule = _schedule()
    for trial in TRIALS:
        # Each trial left a backup behind: the resume starts from it.
        assert os.listdir(os.path.join(tmp_path, trial, "backup")), trial
        model = _run(str(tmp_path), trial)
        updates = int(model.optimizer.iterations.numpy())
        steps, values = read_scalars(os.path.join(tmp_path, trial, "logs"))
        np.testing.assert_array_equal(steps, np.arange(updates), err_msg=trial)
        np.testing.assert_allclose(
            values, schedule.numpy(steps), rtol=1e-6, err_msg=trial
        )
    # The mid-epoch backup came after update 6, and Keras resumes at the
    # start of its epoch: updates 6 .. 6 + 2 * 4 - 1 after it.
    assert updates == 6 + 2 * BATCHES
