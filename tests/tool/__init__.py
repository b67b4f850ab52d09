"""The keras-lr command, the demo, the plots and the example scripts."""
