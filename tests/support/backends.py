"""What differs between the backends the suite runs on."""

import keras

# The optimizer's iteration counter: int64 on TensorFlow, int32 on JAX
# (without x64) and torch.
STEP_DTYPE = "int64" if keras.backend.backend() == "tensorflow" else "int32"


def fewer_elsewhere(params, kept=1):
    """All of `params` on TensorFlow, the first `kept` on JAX and torch.

    For tests of a callback's own logic, each case a fit or a process: the
    logic is the same on every backend, so the other backends repeat a
    representative case instead of all of them.
    """
    params = list(params)
    return params if keras.backend.backend() == "tensorflow" else params[:kept]
