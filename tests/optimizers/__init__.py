"""keras_lr.optimizers: scheduled momentum, beta_1 and weight decay."""
