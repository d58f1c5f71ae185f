"""tf.autograph.experimental."""
from tensorweave.autograph.api import Feature, set_loop_options
from tensorweave.autograph.conversion import do_not_convert
