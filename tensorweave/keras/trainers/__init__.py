"""The Keras trainer: compile, fit, evaluate, predict (mixed into Model)."""
