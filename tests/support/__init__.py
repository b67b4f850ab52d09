"""What the test files share, each module named for what it holds.

- `models`: the tiny models, `TracingSGD` (the optimizer that records the
  rate each update used) and the readers of its trace;
- `backends`: what differs between backends (the step's dtype, which
  cases run on every backend);
- `tensorboard`: TensorBoard's own reader of the event files;
- `paths`: where the repository is, for subprocesses and files.

Import from the module, e.g. `from tests.support.models import tiny_model`;
`tests/conftest.py` holds only fixtures.
"""
