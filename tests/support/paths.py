"""Where the repository is: the working directory of the tests'
subprocesses (so that `import tests...` and `import keras_lr` find this
tree) and the root of the files the tests read."""

import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
