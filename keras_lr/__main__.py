"""`python -m keras_lr`: the `keras-lr` command.

The one module of keras_lr that imports the command line's front
(`keras_lr_cli`, beside the package); the rest of keras_lr never does.
By the time this runs, `python -m` has imported keras_lr, and so Keras.
"""

import sys

from keras_lr_cli import main

if __name__ == "__main__":
    sys.exit(main())
