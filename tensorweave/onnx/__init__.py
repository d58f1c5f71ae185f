"""tensorweave.onnx: a Keras model or a function exported as an ONNX file (`pip install onnx`)."""
from tensorweave.onnx.exporter import export
