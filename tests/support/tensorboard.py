"""TensorBoard's own reader: the tests read the event files back with it
rather than trusting keras_lr's writer."""

import os

import numpy as np


def read_scalars(log_dir, tag="learning_rate"):
    """`(steps, values)` of `tag` under `<log_dir>/train`, read by TensorBoard."""
    from tensorboard.backend.event_processing.event_accumulator import (
        EventAccumulator,
    )

    accumulator = EventAccumulator(os.path.join(log_dir, "train"))
    accumulator.Reload()
    events = accumulator.Scalars(tag)
    return (
        np.array([e.step for e in events]),
        np.array([e.value for e in events], dtype=np.float64),
    )
