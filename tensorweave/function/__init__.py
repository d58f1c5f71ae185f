"""tf.function: graph IR, tracing, graph passes and the compiled executor."""
