"""The package as a whole: its public API, the docstring examples, the private
Keras names it relies on, and the release (sdist, wheel)."""
