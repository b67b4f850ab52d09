"""The callbacks of keras_lr.callbacks, one file per callback, and the rate
under gradient accumulation."""
