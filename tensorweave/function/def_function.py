"""tf.function: a Python function traced into graphs, one per input signature, run compiled."""
from __future__ import annotations

import functools
import inspect
import logging
import weakref
from typing import Callable, Optional

from tensorweave.framework.context import state
from tensorweave.framework.convert import convert_to_tensor
from tensorweave.framework.tensor import Tensor
from tensorweave.framework.tensor_spec import TensorSpec
from tensorweave.framework.variables import Variable
from tensorweave.function import graph as graph_ir
from tensorweave.function import signature
from tensorweave.function.concrete_function import ConcreteFunction
from tensorweave.util import nest

_logger = logging.getLogger("tensorflow")

_VARIABLE_ERROR = ("tf.function only supports singleton tf.Variables created on the first call. "
                   "Make sure the tf.Variable is only created once or created outside tf.function. "
                   "See https://www.tensorflow.org/guide/function#creating_tfvariables for more "
                   "information.")


def _autograph(python_function: Callable) -> Callable:
    try:
        from tensorweave.autograph import conversion
    except ImportError:  # AutoGraph not built yet: trace the function as it is
        return python_function
    return conversion.convert(python_function)


_SPECIALIZE = object()  # a trace key whose calls are traced per concrete shape


def _unknown_dims(specs: dict) -> bool:
    return any(isinstance(s, TensorSpec) and (s.shape.rank is None or None in s.shape.as_list())
               for s in nest.flatten(list(specs.values())))


def _same_structures(traced: dict, arguments: dict) -> bool:
    if list(traced) != list(arguments):
        return False
    try:
        for name, value in arguments.items():
            nest.assert_same_structure(traced[name], value)
    except (ValueError, TypeError):
        return False
    return True


def _unknown_count(spec: TensorSpec) -> int:
    return 1000 if spec.shape.rank is None else spec.shape.as_list().count(None)


def _accepts(traced, value) -> bool:
    """Whether a trace made with leaf `traced` serves an argument leaf `value`."""
    if isinstance(traced, TensorSpec):
        if not (signature.is_tensor_argument(value) or isinstance(value, TensorSpec)):
            return False
        spec = signature.spec_of(value)
        return spec.dtype == traced.dtype and _shape_accepts(traced.shape, spec.shape)
    return signature.leaf_key(traced) == signature.leaf_key(value)


def _shape_accepts(traced, shape) -> bool:
    """Whether every shape `shape` admits is one `traced` admits: each traced dim unknown or
    equal (a spec's unknown dim is served only by an unknown traced dim)."""
    if traced.rank is None:
        return True
    if shape.rank != traced.rank:
        return False
    return all(t is None or t == d for t, d in zip(traced.as_list(), shape.as_list()))


def _concrete(arguments: dict) -> bool:
    return not any(isinstance(v, TensorSpec) for v in nest.flatten(list(arguments.values())))


class Function:
    """A polymorphic TF function: traces `python_function` per input signature and runs the
    compiled graphs (what `tf.function` returns)."""

    def __init__(self, python_function: Callable, input_signature=None, autograph: bool = True,
                 jit_compile: Optional[bool] = None, reduce_retracing: bool = False,
                 name: Optional[str] = None):
        if not callable(python_function):
            raise TypeError(f"The `func` argument must be callable, got {python_function!r}")
        self._python_function = python_function
        self._autograph = autograph
        self._jit_compile = jit_compile
        self._reduce_retracing = reduce_retracing
        self._name = name or getattr(python_function, "__name__", "function")
        self._signature = inspect.signature(python_function)
        params = list(self._signature.parameters.values())
        self._fast_positional = len(params) if all(
            p.kind is p.POSITIONAL_OR_KEYWORD for p in params) else -1
        self._input_signature = None if input_signature is None else self._check_signature(
            input_signature)
        self._traced = None  # the function traced (converted by AutoGraph), made on first trace
        self._cache: dict = {}  # trace key -> ConcreteFunction
        self._concretes: list = []  # every trace, for calls its signature also accepts
        self._relaxed: list = []  # (specs with unknown dims, ConcreteFunction) when retracing less
        self._tracing_count = 0
        self._variables_created = False  # after a first trace that created variables
        self._traced_once = False
        self._instances = weakref.WeakKeyDictionary()
        functools.update_wrapper(self, python_function)

    def _check_signature(self, input_signature) -> tuple:
        if not isinstance(input_signature, (list, tuple)):
            raise TypeError(f"input_signature must be either a tuple or a list, got "
                            f"{type(input_signature)}.")
        for spec in nest.flatten(input_signature):
            if not isinstance(spec, TensorSpec):
                raise TypeError(f"input_signature must be a possibly nested sequence of "
                                f"TensorSpec objects, got invalid args {spec!r} with type "
                                f"{type(spec)!r}.")
        return tuple(input_signature)

    # -- what TensorFlow shows ---------------------------------------------------------------
    @property
    def python_function(self) -> Callable:
        return self._python_function

    @property
    def input_signature(self):
        return self._input_signature

    @property
    def function_spec(self):
        return self._signature

    def experimental_get_tracing_count(self) -> int:
        return self._tracing_count

    def __repr__(self):
        return f"<tensorweave.function.Function object at {id(self):#x}>"

    # -- methods: one Function per instance ----------------------------------------------------
    def __get__(self, instance, owner):
        if instance is None:
            return self
        try:
            bound = self._instances.get(instance)
        except TypeError:  # an unhashable instance: keep the bound function on the instance
            return self._bind(instance)
        if bound is None:
            bound = self._instances[instance] = self._bind(instance)
        return bound

    def _bind(self, instance) -> "Function":
        method = self._python_function.__get__(instance, type(instance))
        return Function(method, self._input_signature, self._autograph, self._jit_compile,
                        self._reduce_retracing, self._name)

    # -- binding a call to a trace -------------------------------------------------------------
    def _canonical(self, args: tuple, kwargs: dict) -> dict:
        """Parameter name -> argument value, defaults filled in."""
        if not kwargs and len(args) == self._fast_positional:
            return dict(zip(self._signature.parameters, args))
        try:
            bound = self._signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"Binding inputs to tf.function failed due to `{exc}`. Received args: "
                            f"{args} and kwargs: {kwargs} for signature: {self._signature}.") \
                from None
        bound.apply_defaults()
        return dict(bound.arguments)

    def _with_signature(self, arguments: dict, args: tuple, kwargs: dict) -> dict:
        """Arguments checked against `input_signature` (positional parameters, in order)."""
        names = list(self._signature.parameters)
        specs = dict(zip(names, self._input_signature))
        checked = dict(arguments)
        for name, spec in specs.items():
            if name not in arguments:
                continue
            value = arguments[name]
            try:
                nest.assert_same_structure(spec, value, check_types=False)
                leaves = [v if isinstance(v, TensorSpec) else signature.convert_argument(v, s)
                          for s, v in zip(nest.flatten(spec), nest.flatten(value))]
            except (ValueError, TypeError) as exc:
                raise self._binding_error(str(exc), args, kwargs) from None
            for s, t in zip(nest.flatten(spec), leaves):
                if t.dtype != s.dtype or not s.shape.is_compatible_with(t.shape):
                    raise self._binding_error(
                        f"Can not cast {TensorSpec(t.shape, t.dtype)!r} to {s!r}", args, kwargs)
            checked[name] = nest.pack_sequence_as(value, leaves)
        return checked

    def _binding_error(self, reason: str, args, kwargs) -> TypeError:
        params = ", ".join(f"{n}: {s!r}" for n, s in zip(self._signature.parameters,
                                                          self._input_signature))
        return TypeError(f"Binding inputs to tf.function failed due to `{reason}`. Received args: "
                         f"{args} and kwargs: {kwargs} for signature: ({params}).")

    # -- calling ---------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        arguments = self._canonical(args, kwargs)
        if self._input_signature is not None:
            arguments = self._with_signature(arguments, args, kwargs)
        concrete = self._concrete_for(arguments)
        tensors = []
        for value in arguments.values():
            for leaf in nest.flatten(value):
                if signature.is_tensor_argument(leaf):
                    tensors.append(leaf if type(leaf) is Tensor else
                                   signature.convert_argument(leaf))
        return concrete._call_flat(tensors)

    def _concrete_for(self, arguments: dict) -> ConcreteFunction:
        if self._input_signature is None:
            key = tuple([signature.leaf_key(v) for v in arguments.values()])
        else:  # one trace for everything the signature accepts
            key = tuple([signature.leaf_key(self._spec_structure(n, v))
                         for n, v in arguments.items()])
        concrete = self._cache.get(key)
        if concrete is None:
            concrete = self._general_trace_for(arguments)
            if concrete is not None:
                self._cache[key] = concrete
        if concrete is None:
            specs = {name: self._spec_structure(name, value) for name, value in arguments.items()}
            if self._reduce_retracing and self._input_signature is None:
                specs = self._relax(specs)
            concrete = self._cache[key] = self._trace_or_specialize(specs, arguments)
        if concrete is _SPECIALIZE:
            exact = ("exact",) + tuple([signature.leaf_key(v) for v in arguments.values()])
            concrete = self._cache.get(exact)
            if concrete is None:
                concrete = self._cache[exact] = self._trace(
                    {n: signature.structure_specs(v) for n, v in arguments.items()}, arguments)
        return concrete

    def _general_trace_for(self, arguments: dict):
        """An existing trace whose signature accepts these arguments (the most specific one)."""
        if self._input_signature is not None:
            return None
        flat = nest.flatten(list(arguments.values()))
        best, best_unknown = None, None
        for concrete in self._concretes:
            if not _same_structures(concrete._bound_values, arguments):
                continue
            traced = nest.flatten([concrete._bound_values[n] for n in arguments])
            if len(traced) != len(flat) or not all(
                    _accepts(spec, value) for spec, value in zip(traced, flat)):
                continue
            unknown = sum(_unknown_count(s) for s in traced if isinstance(s, TensorSpec))
            if best is None or unknown < best_unknown:
                best, best_unknown = concrete, unknown
        return best

    def _trace_or_specialize(self, specs: dict, arguments: dict):
        """A trace of `specs`; when they leave dims unknown and the function needs them while
        tracing (a shape made from `tf.shape(x)[0]`, say), the marker to trace per concrete
        shape instead."""
        relaxed_key = tuple(signature.leaf_key(v) for v in specs.values())
        found = self._cache.get(relaxed_key)
        if found is not None:
            return found
        first = not self._traced_once
        try:
            concrete = self._trace(specs, arguments)
        except Exception:
            if not _unknown_dims(specs) or not _concrete(arguments):
                raise
            self._traced_once = not first  # the next trace may still create variables
            return _SPECIALIZE
        self._cache[relaxed_key] = concrete
        return concrete

    def _spec_structure(self, name: str, value):
        if self._input_signature is not None:
            names = list(self._signature.parameters)
            if name in names and names.index(name) < len(self._input_signature):
                return self._input_signature[names.index(name)]
        return signature.structure_specs(value)

    def _relax(self, specs: dict) -> dict:
        """With reduce_retracing: after a trace of other shapes of the same structure, trace
        once with the differing dims unknown."""
        flat = nest.flatten(list(specs.values()))
        for previous in self._relaxed:
            old = nest.flatten(list(previous.values()))
            if len(old) == len(flat) and all(
                    (isinstance(a, TensorSpec) and isinstance(b, TensorSpec) and a.dtype == b.dtype)
                    or
                    (not isinstance(a, TensorSpec) and signature.leaf_key(a) == signature.leaf_key(b))
                    for a, b in zip(old, flat)):
                merged = [signature.relaxed(a, b) if isinstance(a, TensorSpec) else a
                          for a, b in zip(old, flat)]
                relaxed = nest.pack_sequence_as(list(specs.values()), merged)
                result = dict(zip(specs, relaxed))
                self._relaxed.remove(previous)
                self._relaxed.append(result)
                return result
        self._relaxed.append(specs)
        return specs

    def get_concrete_function(self, *args, **kwargs) -> ConcreteFunction:
        """The ConcreteFunction for these arguments (tensors or TensorSpecs), tracing if needed."""
        if self._input_signature is not None and not args and not kwargs:
            names = list(self._signature.parameters)
            arguments = dict(zip(names, self._input_signature))
        else:
            arguments = self._canonical(args, kwargs)
            if self._input_signature is not None:
                arguments = self._with_signature(arguments, args, kwargs)
        return self._concrete_for(arguments)

    # -- tracing ---------------------------------------------------------------------------
    def _traced_function(self) -> Callable:
        if self._traced is None:
            self._traced = _autograph(self._python_function) if self._autograph \
                else self._python_function
        return self._traced

    def _trace(self, specs: dict, arguments: Optional[dict] = None) -> ConcreteFunction:
        first = not self._traced_once
        concrete = self._trace_once(specs, allow_variables=first, arguments=arguments)
        if first and self._variables_created:
            # As TensorFlow does: a first trace that created variables is traced again, now
            # without creating any, and that graph is the one kept.
            concrete = self._trace_once(specs, allow_variables=False)
        return concrete

    def _trace_once(self, specs: dict, allow_variables: bool,
                    arguments: Optional[dict] = None) -> ConcreteFunction:
        self._tracing_count += 1
        self._traced_once = True
        graph = graph_ir.FuncGraph(self._name)

        def created():
            if not allow_variables:
                raise ValueError(_VARIABLE_ERROR)
            self._variables_created = True

        graph.on_variable_created = created
        call_args = {}
        previous_tapes = state.tapes
        state.tapes = []  # the trace builds a graph: outer tapes see the call, not its ops
        try:
            with graph.as_default():
                for name, spec in specs.items():
                    call_args[name] = self._placeholders(graph, name, spec)
                    if arguments is not None and _concrete(arguments):
                        # a variable's initial value may use the first call's arguments
                        for p, v in zip(nest.flatten(call_args[name]),
                                        nest.flatten(arguments[name])):
                            if isinstance(p, graph_ir.SymbolicTensor):
                                graph.placeholder_values[id(p)] = signature.convert_argument(v)
                result = self._invoke(call_args)
                outputs = self._graph_outputs(graph, result)
        finally:
            state.tapes = previous_tapes
        graph.structured_outputs = outputs
        graph.outputs = [t for t in nest.flatten(outputs, expand_composites=True)
                         if isinstance(t, Tensor)]
        graph.structured_input_signature = self._structured_signature(specs)
        concrete = ConcreteFunction(graph, self._signature, specs, bool(self._jit_compile))
        self._concretes.append(concrete)
        return concrete

    def _invoke(self, call_args: dict):
        positional, keywords = [], {}
        for param in self._signature.parameters.values():
            if param.name not in call_args:
                continue
            value = call_args[param.name]
            if param.kind is param.VAR_POSITIONAL:
                positional.extend(value)
            elif param.kind is param.VAR_KEYWORD:
                keywords.update(value)
            elif param.kind is param.KEYWORD_ONLY:
                keywords[param.name] = value
            else:
                positional.append(value)
        return self._traced_function()(*positional, **keywords)

    @staticmethod
    def _placeholders(graph: graph_ir.FuncGraph, name: str, spec_structure):
        leaves = nest.flatten(spec_structure)
        made = []
        for i, leaf in enumerate(leaves):
            if isinstance(leaf, TensorSpec):
                made.append(graph.placeholder(leaf, leaf.name or (name if len(leaves) == 1
                                                                  else f"{name}_{i}")))
            else:
                made.append(leaf)
        return nest.pack_sequence_as(spec_structure, made)

    @staticmethod
    def _graph_outputs(graph: graph_ir.FuncGraph, result):
        leaves = nest.flatten(result, expand_composites=True)
        owned = []
        for leaf in leaves:
            if isinstance(leaf, Variable):
                leaf = leaf._read()
            elif leaf is not None and not isinstance(leaf, Tensor):
                try:  # TensorFlow returns Python numbers, strings, arrays as tensors
                    leaf = convert_to_tensor(leaf)
                except (TypeError, ValueError):
                    raise TypeError(f"To be compatible with tf.function, Python functions must "
                                    f"return zero or more Tensors or ExtensionTypes or None "
                                    f"values; in compilation of {graph.name}, found return value "
                                    f"of type {type(leaf).__name__}, which is not a Tensor or "
                                    f"ExtensionType.") from None
            if isinstance(leaf, Tensor):
                leaf = graph.own(leaf)
            owned.append(leaf)
        return nest.pack_sequence_as(result, owned, expand_composites=True)

    def _structured_signature(self, specs: dict) -> tuple:
        positional, keywords = [], {}
        for param in self._signature.parameters.values():
            if param.name not in specs:
                continue
            value = nest.map_structure(
                lambda s: TensorSpec(s.shape, s.dtype, s.name or param.name)
                if isinstance(s, TensorSpec) else s, specs[param.name])
            if param.kind is param.KEYWORD_ONLY or param.kind is param.VAR_KEYWORD:
                keywords[param.name] = value
            else:
                positional.append(value)
        return tuple(positional), keywords


def function(func=None, input_signature=None, autograph=True, jit_compile=None,
             reduce_retracing=False, experimental_implements=None,
             experimental_autograph_options=None, experimental_attributes=None,
             experimental_relax_shapes=None, experimental_compile=None,
             experimental_follow_type_hints=None):
    """Compiles a function into a callable TensorFlow graph (as a decorator or a call)."""
    if experimental_relax_shapes is not None:
        reduce_retracing = reduce_retracing or experimental_relax_shapes
    if experimental_compile is not None and jit_compile is None:
        jit_compile = experimental_compile

    def decorate(python_function):
        if isinstance(python_function, Function):
            python_function = python_function.python_function
        return Function(python_function, input_signature, autograph, jit_compile,
                        reduce_retracing)

    return decorate if func is None else decorate(func)
