"""keras_lr's test suite: a folder per subject (see README.md in this folder)."""
