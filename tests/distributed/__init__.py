"""Training across devices and processes: MirroredStrategy and the JAX
distribution API, each in worker processes."""
