"""tf.autograph: converting Python control flow over tensors into graph control flow."""
from tensorweave.autograph.api import to_code, to_graph
from tensorweave.autograph.conversion import set_verbosity, trace
from tensorweave.autograph import experimental
