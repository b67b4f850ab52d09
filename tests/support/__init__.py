"""What the test files share, each module named for what it holds.

- `models`: the tiny models (`tiny_model`, `dense_model`,
  `accumulating_model`, `two_layer_model`, `summing_model`), `fit` on the
  `data` fixture, `TracingSGD` (the optimizer that records the rate each
  update used) and the readers of what the updates used (`rates_used`,
  `rates_of_updates`, `summed_rates`, `as_float32`);
- `callbacks`: the scripted callbacks the fit-level tests put beside
  keras_lr's (`Feed` a score, `Worse`, `ScriptedScore` and its `Script`,
  `Crash` at an epoch);
- `backends`: what differs between backends (`STEP_DTYPE`, `as_train_step`,
  `graph_rates`, `fewer_elsewhere`);
- `tensorboard`: `read_scalars`, TensorBoard's own reader of event files;
- `command`: the `keras-lr` command, in this process (`run_main`) or in a
  fresh one (`run_command`);
- `paths`: `ROOT`, the repository, for subprocesses and files.

Import from the module, e.g. `from tests.support.models import tiny_model`;
`tests/conftest.py` holds only fixtures.
"""
