"""keras.optimizers.Optimizer: Keras 3's optimizer base.

An optimizer is built once for a list of trainable variables (it then creates its slot
variables: momentums, velocities...), and `apply(grads, variables)` does one training step:
drop None gradients, unscale (loss_scale_factor), clip (clipnorm / clipvalue / global_clipnorm),
accumulate (gradient_accumulation_steps), decay the weights (weight_decay), update each variable,
keep the moving averages (use_ema), apply the variables' constraints, and count the step.

Speed: a built-in algorithm writes its update of one variable once, as a NumPy kernel
(`kernel(variables, gradient, *step_scalars, **options)` replacing `_value` of the weight and its
slots with new arrays), and `apply` runs it through `variables.apply_kernel`: one call per
variable eagerly, one graph node per variable inside a tf.function. The per-step scalars (the
learning rate, bias corrections from `iterations`) are computed once per apply and dtype with
tensorweave ops and passed to every kernel. A user's subclass overriding `update_step` (with
tensorweave ops and `assign`) works too.
"""
from __future__ import annotations

import re
import warnings

import numpy as np

from tensorweave.checkpoint import deferred as checkpoint_deferred
from tensorweave.framework.context import init_scope
from tensorweave.framework.convert import convert_to_tensor
from tensorweave.framework.indexed_slices import IndexedSlices
from tensorweave.framework.tensor import Tensor
from tensorweave.framework.variables import Variable as _TFVariable, apply_kernel
from tensorweave.keras.engine import backend_config
from tensorweave.keras.engine.naming import to_snake_case, unique_name
from tensorweave.keras.engine.variable import Variable, path_scope
from tensorweave.keras.optimizers.schedules import learning_rate_schedule
from tensorweave.keras.saving import serialization
from tensorweave.ops import array_ops, control_flow_ops, linalg_ops, math_ops, reduction_ops


# -- helpers of the NumPy kernels --------------------------------------------------------------
# A kernel computes with in-place operators (`t *= c`) on arrays it allocated itself: they work
# on the 0-d results NumPy gives as scalars too (the name is then rebound). It never writes into
# a variable's current array or an input, since a tensor read earlier must keep its value.
def store(variable, value) -> None:
    """Makes `value` (an array the kernel computed, or a NumPy scalar) the variable's value."""
    variable._value = value if type(value) is np.ndarray else np.asarray(value)


def difference(a, t):
    """a - t, written into `t` (a temporary of the kernel) when it is an array of a's shape."""
    if type(t) is np.ndarray and t.shape == np.shape(a):
        return np.subtract(a, t, out=t)
    return a - t


def moving_average(average, value, decay):
    """average + (value - average) * (1 - decay), as a new array: the moment estimates of the
    Adam family (Keras's `m.assign_add((g - m) * (1 - beta_1))`)."""
    new = np.subtract(value, average)
    new *= 1 - decay
    new += average
    return new


def inplace(ufunc, t, *others):
    """ufunc(t, *others), written into `t` (a temporary of the kernel) when it is an array."""
    if type(t) is np.ndarray:
        return ufunc(t, *others, out=t)
    return ufunc(t, *others)


def _decayed_kernel(variables, learning_rate, *arrays, algorithm, weight_decay, **options):
    """Decoupled weight decay, then the algorithm's kernel:  w <- w - w * weight_decay * lr."""
    variable = variables[0]
    w = variable._value
    decay = np.multiply(w, weight_decay)
    decay *= learning_rate
    store(variable, difference(w, decay))
    algorithm(variables, *arrays, **options)


def _ema_kernel(variables, value, momentum, one_minus_momentum):
    """The moving average of a weight:  average <- momentum * average + (1 - momentum) * w
    (momentum is 0 on the first step, so the average starts at the weight)."""
    average = variables[0]
    new = np.multiply(average._value, momentum)
    new += np.multiply(value, one_minus_momentum)
    store(average, new)


def constant(value, dtype):
    """A hyperparameter (a Python number, or a tensor) as a scalar tensor of `dtype`."""
    if isinstance(value, (int, float)):
        return convert_to_tensor(value, dtype=dtype)
    return math_ops.cast(value, dtype)


def _side_effect_cond(pred, true_fn, false_fn) -> None:
    """tf.cond of two branches run for their variable updates only (results dropped)."""
    def branch(fn):
        def run():
            fn()
        return run
    control_flow_ops.cond(pred, branch(true_fn), branch(false_fn))


def _is_variable(value) -> bool:
    return isinstance(value, _TFVariable)


class Optimizer:
    """The base of optimizers. A subclass creates its slots in `build(var_list)` (calling
    `super().build`), and either sets `_kernel` (a NumPy kernel, see the module docstring) with
    `_slot_lists`, `_step_scalars` and `_kernel_options`, or overrides `update_step(gradient,
    variable, learning_rate)`; `get_config` adds its arguments."""

    _keras_module = "keras.optimizers"
    _kernel = None  # staticmethod(kernel(variables, gradient, *step_scalars, **options))

    def __init__(self, learning_rate, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        self._lock = False
        if kwargs.pop("decay", None) is not None:
            warnings.warn("Argument `decay` is no longer supported and will be ignored.",
                          stacklevel=2)
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}")
        if name is None:
            name = unique_name(to_snake_case(self.__class__.__name__))
        self.name = name
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.global_clipnorm = global_clipnorm
        self.clipvalue = clipvalue
        self.use_ema = use_ema
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        if gradient_accumulation_steps and not gradient_accumulation_steps >= 2:
            raise ValueError(f"`gradient_accumulation_steps` must be an integer >= 2. Received: "
                             f"gradient_accumulation_steps={gradient_accumulation_steps}")
        if use_ema:
            if ema_momentum > 1 or ema_momentum < 0:
                raise ValueError(f"`ema_momentum` must be in the range [0, 1]. Received: "
                                 f"ema_momentum={ema_momentum}")
            if ema_overwrite_frequency and (not isinstance(ema_overwrite_frequency, int)
                                            or ema_overwrite_frequency < 1):
                raise ValueError(f"`ema_overwrite_frequency` must be an integer >= 1 or None. "
                                 f"Received: ema_overwrite_frequency={ema_overwrite_frequency}")
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        if sum(a is not None for a in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(f"Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be "
                             f"set. Received: clipnorm={clipnorm}, clipvalue={clipvalue}, "
                             f"global_clipnorm={global_clipnorm}")
        self.built = False
        self._tracked_ids = set()
        self._variables = []
        self._trainable_variables = []
        self._trainable_variables_indices = {}
        self._iterations = self._new_variable(0, None, "int64", "iteration",
                                              aggregation="only_first_replica")
        self._track_variable(self._iterations)
        if isinstance(learning_rate, learning_rate_schedule.LearningRateSchedule) or \
                callable(learning_rate):
            self._learning_rate = learning_rate
        else:
            if not isinstance(learning_rate, float):
                raise ValueError(
                    f"Argument `learning_rate` should be float, or an instance of "
                    f"LearningRateSchedule, or a callable (that takes in the current iteration "
                    f"value and returns the corresponding learning rate value). Received "
                    f"instead: learning_rate={learning_rate}")
            self._learning_rate = self._new_variable(learning_rate, None, backend_config.floatx(),
                                                     "learning_rate",
                                                     aggregation="only_first_replica")
            self._track_variable(self._learning_rate)

    # -- attribute tracking --------------------------------------------------------------------
    def _check_super_called(self) -> None:
        if "_lock" not in self.__dict__:
            raise RuntimeError(f"In optimizer '{self.__class__.__name__}', you forgot to call "
                               f"`super().__init__()` as the first statement in the `__init__()` "
                               f"method. Go add it!")

    def __setattr__(self, name, value):
        if name != "_lock":
            self._check_super_called()
        if "_variables" in self.__dict__:  # variables set as attributes are the optimizer's
            for item in (value if isinstance(value, (list, tuple)) else (value,)):
                if _is_variable(item):
                    self._track_variable(item)
        object.__setattr__(self, name, value)

    def _track_variable(self, variable) -> None:
        if variable._id not in self._tracked_ids:
            self._tracked_ids.add(variable._id)
            self._variables.append(variable)
            checkpoint_deferred.optimizer_variable_created(self, variable)  # restored slots

    def _untrack_variable(self, variable) -> None:
        self._tracked_ids.discard(variable._id)
        self._variables = [v for v in self._variables if v is not variable]

    # -- variables -----------------------------------------------------------------------------
    def _new_variable(self, initializer, shape, dtype, name, aggregation="none"):
        """A non-trainable keras.Variable with the path `<optimizer name>/<name>`."""
        saved = path_scope.names
        path_scope.names = [self.name]
        try:
            with init_scope():
                return Variable(initializer, shape=shape, dtype=dtype, trainable=False,
                                aggregation=aggregation, name=name)
        finally:
            path_scope.names = saved

    @property
    def iterations(self):
        """The number of steps applied (of updates made, with gradient accumulation)."""
        if self.gradient_accumulation_steps:
            return math_ops.floordiv(self._iterations, self.gradient_accumulation_steps)
        return self._iterations

    @property
    def variables(self) -> list:
        return self._variables[:]

    def _var_key(self, variable):
        return variable._id

    def _get_variable_index(self, variable) -> int:
        return self._trainable_variables_indices[self._var_key(variable)]

    def build(self, variables):
        """Creates the optimizer's variables for `variables` (subclasses add their slots)."""
        if self.use_ema:
            self._model_variables_moving_average = self.add_optimizer_variables(variables,
                                                                                "average")
        if self.gradient_accumulation_steps:
            self._accumulated_gradients = []
        for i, variable in enumerate(variables):
            self._trainable_variables_indices[self._var_key(variable)] = i
            if self.gradient_accumulation_steps:
                self._accumulated_gradients.append(self.add_variable_from_reference(
                    variable, name="gradient_accumulator"))
        # the model's variables are not the optimizer's own: set without tracking
        object.__setattr__(self, "_trainable_variables", list(variables))
        self.built = True

    def add_variable(self, shape, initializer="zeros", dtype=None, aggregation="none",
                     layout=None, name=None):
        """A new non-trainable variable of the optimizer."""
        from tensorweave.keras import initializers
        self._check_super_called()
        variable = self._new_variable(initializers.get(initializer), tuple(shape), dtype, name,
                                      aggregation)
        self._track_variable(variable)
        return variable

    def add_variable_from_reference(self, reference_variable, name=None, initializer="zeros"):
        """A variable of the shape and dtype of `reference_variable`, named after it:
        `<path with / as _>_<name>` (`dense_kernel_momentum`)."""
        name = name or "var"
        if hasattr(reference_variable, "path"):
            name = f"{reference_variable.path.replace('/', '_')}_{name}"
        else:
            name = f"{str(reference_variable.name).replace('/', '_').replace(':', '_')}_{name}"
        return self.add_variable(shape=tuple(reference_variable.shape.as_list()),
                                 initializer=initializer, dtype=reference_variable.dtype,
                                 name=name)

    def add_optimizer_variables(self, trainable_variables, name, initializer="zeros"):
        """One variable per trainable variable (None for one overwritten with its gradient),
        for a name, or for each of a list of names (then a tuple of lists, created interleaved:
        all the slots of the first variable, then the second's...)."""
        from tensorweave.keras import initializers
        names, inits = name, initializer
        if isinstance(name, str):
            names, inits = [name], [initializer]
        elif isinstance(initializer, (str, initializers.Initializer)):
            inits = [initializer] * len(names)
        if len(names) != len(inits):
            raise ValueError(f"The number of provided names must match the number of provided "
                             f"initializers.  Received name='{name}', "
                             f"initializer='{initializer}'")
        created = tuple([] for _ in names)
        for variable in trainable_variables:
            overwrite = self._overwrite_variable_with_gradient(variable)
            for i, (slot_name, init) in enumerate(zip(names, inits)):
                created[i].append(None if overwrite else self.add_variable_from_reference(
                    variable, name=slot_name, initializer=init))
        return created[0] if isinstance(name, str) else created

    def _check_variables_are_known(self, variables) -> None:
        for v in variables:
            if self._var_key(v) not in self._trainable_variables_indices:
                raise ValueError(f"Unknown variable: {v}. This optimizer can only be called for "
                                 f"the variables it was originally built with. When working with "
                                 f"a new set of variables, you should recreate a new optimizer "
                                 f"instance.")

    @staticmethod
    def _overwrite_variable_with_gradient(variable) -> bool:
        return getattr(variable, "overwrite_with_gradient", False)

    def assign(self, variable, value):
        variable.assign(value)

    def assign_add(self, variable, value):
        variable.assign_add(value)

    def assign_sub(self, variable, value):
        variable.assign_sub(value)

    # -- the learning rate ---------------------------------------------------------------------
    @property
    def learning_rate(self):
        """The learning rate variable, or the schedule's value at `iterations`, or the
        callable's value."""
        return self._get_current_learning_rate()

    @learning_rate.setter
    def learning_rate(self, learning_rate):
        previous = self._learning_rate if _is_variable(self._learning_rate) else None
        if isinstance(learning_rate, learning_rate_schedule.LearningRateSchedule) or \
                callable(learning_rate):
            self._learning_rate = learning_rate
        else:
            if isinstance(self._learning_rate, learning_rate_schedule.LearningRateSchedule):
                raise TypeError("This optimizer was created with a `LearningRateSchedule` object "
                                "as its `learning_rate` constructor argument, hence its learning "
                                "rate is not settable. If you need the learning rate to be "
                                "settable, you should instantiate the optimizer with a float "
                                "`learning_rate` argument.")
            self._learning_rate.assign(learning_rate)
        if previous is not None and not _is_variable(self._learning_rate):
            self._untrack_variable(previous)

    def _get_current_learning_rate(self):
        if isinstance(self._learning_rate, learning_rate_schedule.LearningRateSchedule):
            return self._learning_rate(self._iterations)
        if _is_variable(self._learning_rate):
            return self._learning_rate
        if callable(self._learning_rate):
            return self._learning_rate()
        return self._learning_rate

    # -- one step ------------------------------------------------------------------------------
    def apply_gradients(self, grads_and_vars):
        """`apply` on (gradient, variable) pairs; returns `iterations` (the variable)."""
        grads, trainable_variables = zip(*grads_and_vars)
        self.apply(grads, trainable_variables)
        return self._iterations

    def apply(self, grads, trainable_variables=None):
        """Updates `trainable_variables` (or those the optimizer was built with) with `grads`."""
        grads = list(grads)
        if len(grads) == 0:
            return
        if trainable_variables is None:
            if not self.built:
                raise ValueError("When passing `grads` without `variables`, the optimizer must "
                                 "already be built on a list of variables. Call "
                                 "`optimizer.build(trainable_variables)` first. ")
            if len(grads) != len(self._trainable_variables_indices):
                raise ValueError(f"When passing `grads` as a list of gradient tensors, the "
                                 f"gradients must match `optimizer.variables` one-to-on. "
                                 f"Received a list of {len(grads)} gradients, but the optimizer "
                                 f"is tracking {len(self._trainable_variables)} trainable "
                                 f"variables.")
            trainable_variables = self._trainable_variables
        else:
            trainable_variables = list(trainable_variables)
            if not self.built:
                self.build(trainable_variables)
                self.built = True
            self._check_variables_are_known(trainable_variables)
        grads, trainable_variables = self._filter_empty_gradients(grads, trainable_variables)
        grads, trainable_variables = self._overwrite_variables_directly_with_gradients(
            grads, trainable_variables)
        if grads:
            grads = [self._dense(g, v) for g, v in zip(grads, trainable_variables)]
            scale = self.loss_scale_factor
            if scale is not None:
                grads = [math_ops.divide(g, math_ops.cast(scale, g.dtype)) for g in grads]
            self._backend_apply_gradients(grads, trainable_variables)
            for variable in trainable_variables:
                if variable.constraint is not None:
                    variable.assign(variable.constraint(variable))
        self._iterations.assign_add(1)

    @staticmethod
    def _dense(gradient, variable):
        """The gradient as a dense tensor (an IndexedSlices is scattered, duplicates summed)."""
        if isinstance(gradient, IndexedSlices):
            return array_ops.scatter_nd(array_ops.expand_dims(gradient.indices, -1),
                                        gradient.values, variable.shape.as_list())
        return gradient if isinstance(gradient, Tensor) else convert_to_tensor(gradient)

    def _filter_empty_gradients(self, grads, variables):
        kept = [(g, v) for g, v in zip(grads, variables) if g is not None]
        if not kept:
            raise ValueError("No gradients provided for any variable.")
        if len(kept) < len(grads):
            missing = [getattr(v, "path", None) or v.name
                       for g, v in zip(grads, variables) if g is None]
            warnings.warn(f"Gradients do not exist for variables {missing} when minimizing the "
                          f"loss. If using `model.compile()`, did you forget to provide a "
                          f"`loss` argument?", stacklevel=3)
            return [g for g, _ in kept], [v for _, v in kept]
        return list(grads), list(variables)

    def _overwrite_variables_directly_with_gradients(self, grads, variables):
        """Variables with `overwrite_with_gradient` take their gradient as their new value
        (the largest one seen, with gradient accumulation); they leave the lists."""
        if not any(self._overwrite_variable_with_gradient(v) for v in variables):
            return grads, variables
        kept_grads, kept_vars = [], []
        for g, v in zip(grads, variables):
            if not self._overwrite_variable_with_gradient(v):
                kept_grads.append(g)
                kept_vars.append(v)
                continue
            g = self._dense(g, v)
            if not self.gradient_accumulation_steps:
                v.assign(g)
                continue
            accumulator = self._accumulated_gradients[self._get_variable_index(v)]
            update = self._is_update_step()
            largest = math_ops.maximum(g, accumulator)
            v.assign(array_ops.where(update, largest, v))
            accumulator.assign(array_ops.where(update, array_ops.zeros_like(g), largest))
        return kept_grads, kept_vars

    def _is_update_step(self):
        """Whether this step applies the accumulated gradients (gradient accumulation)."""
        return math_ops.equal(math_ops.floormod(
            math_ops.add(self._iterations, 1), self.gradient_accumulation_steps), 0)

    def _backend_apply_gradients(self, grads, trainable_variables):
        if self.gradient_accumulation_steps:
            steps = self.gradient_accumulation_steps
            accumulators = [self._accumulated_gradients[self._get_variable_index(v)]
                            for v in trainable_variables]

            def update():
                averaged = [math_ops.divide(math_ops.add(g, a), math_ops.cast(steps, g.dtype))
                            for g, a in zip(grads, accumulators)]
                self._update(averaged, trainable_variables)
                for a in self._accumulated_gradients:
                    if a is not None:
                        a.assign(array_ops.zeros(a.shape.as_list(), dtype=a.dtype))

            def accumulate():
                for g, a in zip(grads, accumulators):
                    a.assign(math_ops.add(a, g))

            _side_effect_cond(self._is_update_step(), update, accumulate)
        else:
            self._update(grads, trainable_variables)
        if self.use_ema:
            self._update_model_variables_moving_average(self._trainable_variables)
            if self.ema_overwrite_frequency:
                overwrite = math_ops.equal(math_ops.floormod(
                    math_ops.add(self.iterations, 1), self.ema_overwrite_frequency), 0)
                _side_effect_cond(
                    overwrite, lambda: self._overwrite_model_variables_with_average_value(
                        self._trainable_variables), lambda: None)

    def _update(self, grads, trainable_variables):
        """Clipping, weight decay and the update step of every variable."""
        grads = self._clip_gradients(grads)
        if not self._uses_kernel():
            self._apply_weight_decay(trainable_variables)
        self._backend_update_step(grads, trainable_variables, self.learning_rate)

    def _backend_update_step(self, grads, trainable_variables, learning_rate):
        if self._uses_kernel():
            self._apply_kernels(grads, trainable_variables, learning_rate)
        else:
            for grad, variable in zip(grads, trainable_variables):
                self.update_step(grad, variable, learning_rate)

    def update_step(self, gradient, variable, learning_rate):
        """Updates `variable` (and its slots) from `gradient`; a built-in algorithm runs its
        kernel, a subclass without one overrides this."""
        if not self._uses_kernel():
            raise NotImplementedError
        self._apply_kernels([gradient], [variable], learning_rate, weight_decay=False)

    # -- the kernels ---------------------------------------------------------------------------
    def _uses_kernel(self) -> bool:
        """A built-in algorithm whose update_step a subclass has not replaced."""
        return self._kernel is not None and type(self).update_step is Optimizer.update_step

    @property
    def _slot_lists(self) -> list:
        """The lists of slots the kernel takes after the weight, in its order."""
        return []

    def _step_scalars(self, learning_rate, dtype) -> tuple:
        """The per-step scalars the kernel takes after the gradient (in `dtype`)."""
        return (learning_rate,)

    def _kernel_options(self) -> dict:
        """The kernel's keyword arguments (its hyperparameters)."""
        return {}

    def _apply_kernels(self, grads, trainable_variables, learning_rate, weight_decay=True):
        learning_rate = convert_to_tensor(learning_rate)
        options = self._kernel_options()
        slot_lists = self._slot_lists
        decay = self.weight_decay if weight_decay else None
        per_dtype: dict = {}
        for gradient, variable in zip(grads, trainable_variables):
            dtype = variable.dtype
            found = per_dtype.get(dtype)
            if found is None:
                lr = learning_rate if learning_rate.dtype == dtype else \
                    math_ops.cast(learning_rate, dtype)
                found = per_dtype[dtype] = (lr, tuple(self._step_scalars(lr, dtype)))
            lr, scalars = found
            gradient = convert_to_tensor(gradient)
            if gradient.dtype != dtype:
                gradient = math_ops.cast(gradient, dtype)
            index = self._get_variable_index(variable)
            variables = (variable,) + tuple(slots[index] for slots in slot_lists)
            if decay is not None and self._use_weight_decay(variable):
                apply_kernel(_decayed_kernel, variables, (lr, gradient) + scalars,
                             algorithm=self._kernel, weight_decay=decay, **options)
            else:
                apply_kernel(self._kernel, variables, (gradient,) + scalars, **options)

    # -- clipping, weight decay, moving averages ----------------------------------------------
    def _clip_gradients(self, grads):
        if self.clipnorm and self.clipnorm > 0:
            return [linalg_ops.clip_by_norm(g, self.clipnorm) for g in grads]
        if self.global_clipnorm and self.global_clipnorm > 0:
            return clip_by_global_norm(grads, self.global_clipnorm)
        if self.clipvalue and self.clipvalue > 0:
            v = self.clipvalue
            return [math_ops.clip_by_value(g, -v, v) for g in grads]
        return grads

    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Exempts the variables of `var_list`, and those whose name contains one of
        `var_names`, from weight decay."""
        self._exclude_from_weight_decay = {self._var_key(v) for v in var_list or ()}
        self._exclude_from_weight_decay_pattern = (
            re.compile("|".join(set(var_names))) if var_names else None)
        self._exclude_from_weight_decay_cache = {}

    def _use_weight_decay(self, variable) -> bool:
        cache = self.__dict__.setdefault("_exclude_from_weight_decay_cache", {})
        key = self._var_key(variable)
        found = cache.get(key)
        if found is None:
            pattern = getattr(self, "_exclude_from_weight_decay_pattern", None)
            found = not (key in getattr(self, "_exclude_from_weight_decay", set()) or (
                pattern is not None and re.search(pattern, variable.name) is not None))
            cache[key] = found
        return found

    def _apply_weight_decay(self, variables):
        """w <- w - w * weight_decay * lr (for an algorithm without a kernel)."""
        if self.weight_decay is None:
            return
        for variable in variables:
            if self._use_weight_decay(variable):
                lr = math_ops.cast(self.learning_rate, variable.dtype)
                wd = math_ops.cast(self.weight_decay, variable.dtype)
                variable.assign_sub(math_ops.multiply(math_ops.multiply(variable, wd), lr))

    def _update_model_variables_moving_average(self, trainable_variables):
        """average <- m * average + (1 - m) * w, m = ema_momentum (0 on the first step)."""
        per_dtype: dict = {}
        for variable, average in zip(trainable_variables, self._model_variables_moving_average):
            if average is None:
                continue
            dtype = variable.dtype
            found = per_dtype.get(dtype)
            if found is None:
                first = math_ops.cast(math_ops.not_equal(self.iterations, 0), dtype)
                momentum = math_ops.multiply(first, math_ops.cast(self.ema_momentum, dtype))
                found = per_dtype[dtype] = (momentum, math_ops.subtract(
                    convert_to_tensor(1, dtype=dtype), momentum))
            apply_kernel(_ema_kernel, (average,), (convert_to_tensor(variable),) + found)

    def _overwrite_model_variables_with_average_value(self, trainable_variables):
        if len(trainable_variables) != len(self._model_variables_moving_average):
            raise ValueError(f"The length of model variables ({len(trainable_variables)}) to "
                             f"override does not match the length of model variables stored in "
                             f"the optimizer ({len(self._model_variables_moving_average)}). "
                             f"Please check if the optimizer was called on your model.")
        for variable, average in zip(trainable_variables, self._model_variables_moving_average):
            if average is not None:
                variable.assign(average)

    def finalize_variable_values(self, var_list):
        """Sets the variables to their moving averages (with use_ema) at the end of training."""
        if self.use_ema:
            self._overwrite_model_variables_with_average_value(var_list)

    # -- losses and gradients ------------------------------------------------------------------
    def scale_loss(self, loss):
        """The loss times loss_scale_factor (gradients are divided by it again in apply)."""
        if self.loss_scale_factor is not None:
            return loss * self.loss_scale_factor
        return loss

    def minimize(self, loss, var_list, tape=None):
        """One step on the gradients of `loss` with respect to `var_list` (TensorFlow 2's
        optimizer API): `loss` is a tensor computed under `tape`, or a zero-argument callable;
        `var_list` may be a callable returning the list."""
        from tensorweave.autodiff.tape import GradientTape
        if not callable(loss) and tape is None:
            raise ValueError(f"`tape` is required when a `Tensor` loss is passed. Received: "
                             f"loss={loss}, tape={tape}.")
        if tape is None:
            tape = GradientTape()
        if callable(loss):
            with tape:
                if not callable(var_list):
                    tape.watch(var_list)
                loss = loss()
                if callable(var_list):
                    var_list = var_list()
        elif callable(var_list):
            var_list = var_list()
        var_list = list(var_list)
        grads = tape.gradient(loss, var_list)
        self.apply_gradients(zip(grads, var_list))

    def stateless_apply(self, optimizer_variables, grads, trainable_variables):
        raise ValueError("stateless_apply is not supported with the TensorFlow backend (as it is "
                         "incompatible with tf.distribute).")

    # -- state ---------------------------------------------------------------------------------
    def set_weights(self, weights):
        if not self.built:
            raise ValueError("You are calling `set_weights()` on an optimizer that has not yet "
                             "been built. Please call `optimizer.build(trainable_variables)` to "
                             "create the optimizer weights before calling `set_weights()`.")
        for variable, weight in zip(self._variables, weights):
            if tuple(variable.shape.as_list()) != tuple(np.shape(weight)):
                raise ValueError(f"Optimizer variable {self._var_key(variable)} has shape "
                                 f"{tuple(variable.shape.as_list())} not compatible with "
                                 f"provided weight shape {tuple(np.shape(weight))}.")
            variable.assign(weight)

    def save_own_variables(self, store):
        for i, variable in enumerate(self.variables):
            store[str(i)] = variable.numpy()

    def load_own_variables(self, store):
        if len(store.keys()) != len(self.variables):
            message = (f"Skipping variable loading for optimizer '{self.name}', because it has "
                       f"{len(self.variables)} variables whereas the saved optimizer has "
                       f"{len(store.keys())} variables. ")
            if len(self.variables) == 0:
                message += "This is likely because the optimizer has not been called/built yet."
            warnings.warn(message, stacklevel=2)
            return
        for i, variable in enumerate(self.variables):
            variable.assign(store[str(i)])

    # -- config --------------------------------------------------------------------------------
    def get_config(self) -> dict:
        lr = self._learning_rate
        if isinstance(lr, learning_rate_schedule.LearningRateSchedule):
            learning_rate = learning_rate_schedule.serialize(lr)
        elif _is_variable(lr):
            learning_rate = float(lr.numpy())
        elif isinstance(lr, Tensor):
            learning_rate = float(lr)
        elif callable(lr):
            learning_rate = serialization.serialize_keras_object(lr)
        else:
            learning_rate = 0.5
        return {"name": self.name, "learning_rate": learning_rate,
                "weight_decay": self.weight_decay, "clipnorm": self.clipnorm,
                "global_clipnorm": self.global_clipnorm, "clipvalue": self.clipvalue,
                "use_ema": self.use_ema, "ema_momentum": self.ema_momentum,
                "ema_overwrite_frequency": self.ema_overwrite_frequency,
                "loss_scale_factor": self.loss_scale_factor,
                "gradient_accumulation_steps": self.gradient_accumulation_steps}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)  # the caller's dict keeps its serialized schedule
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = serialization.deserialize_keras_object(
                config["learning_rate"], custom_objects=custom_objects)
        return cls(**config)


def global_norm(values):
    """sqrt of the sum of squares of all the tensors of `values` (None entries skipped)."""
    squares = [reduction_ops.reduce_sum(math_ops.square(v)) for v in values if v is not None]
    return math_ops.sqrt(reduction_ops.reduce_sum(array_ops.stack(squares)))


def clip_by_global_norm(values, clip_norm):
    """Every tensor scaled by clip_norm / max(global norm, clip_norm) (NaN if the norm is not
    finite)."""
    norm = global_norm(values)
    one = convert_to_tensor(1.0, dtype=norm.dtype)
    clip = math_ops.cast(clip_norm, norm.dtype)
    scale = math_ops.multiply(clip, math_ops.minimum(math_ops.divide(one, norm),
                                                     math_ops.divide(one, clip)))
    scale = math_ops.add(scale, math_ops.subtract(norm, norm))
    return [None if v is None else math_ops.multiply(v, scale) for v in values]
