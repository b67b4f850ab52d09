"""find_learning_rate, and migrating from keras_lr_finder."""
