"""Restoring: the saved object graph matched to the live objects, edge name by edge name, from
the root; what exists now is checked (dtypes, shapes, readable bytes) and only then assigned,
what does not exist yet waits (see deferred.py); and the status object `restore` returns."""
from __future__ import annotations

import weakref
from collections import deque

from tensorweave.checkpoint import deferred, graph
from tensorweave.framework.context import init_scope
from tensorweave.framework.errors import InvalidArgumentError
from tensorweave.framework.variables import Variable

# TensorFlow's names of the dtypes in its RestoreV2 messages
_C_NAMES = {"float32": "float", "float64": "double", "float16": "half"}


def _c_name(dtype) -> str:
    return _C_NAMES.get(dtype.name, dtype.name)


class _Ref:
    """A weak reference where the object allows one (plain lists and dicts do not)."""

    __slots__ = ("_weak", "_strong")

    def __init__(self, obj):
        try:
            self._weak, self._strong = weakref.ref(obj), None
        except TypeError:
            self._weak, self._strong = None, obj

    def __call__(self):
        return self._strong if self._weak is None else self._weak()


_NONE = object()


class _Plan:
    """The matches, assignments and waiting parents of one restoring step, not yet applied."""

    def __init__(self):
        self.matched: dict = {}  # node -> object
        self.node_of: dict = {}  # id(object) -> node
        self.assign: list = []  # (node, variable)
        self.pending: dict = {}  # node -> object with unmatched saved children


class Restoration:
    """One `read`/`restore` of a checkpoint file into the objects below `root`."""

    def __init__(self, file, root, skip_slots: bool = False):
        self.file = file
        self.nodes = file.object_graph
        self.root = _Ref(root)
        self.matched: dict = {}  # node -> _Ref
        self.node_of: dict = {}  # id(object) -> node
        self.restored: set = set()  # variable nodes whose value was assigned
        self.failed: set = set()  # variable nodes whose value could not be assigned
        self.pending: dict = {}  # node -> _Ref of a matched object waiting for dependencies
        self.value_nodes = [n for n, record in enumerate(self.nodes) if "key" in record]
        self.slot_entries = []  # (optimizer node, original node, slot name, slot node, named)
        if not skip_slots:
            for n, record in enumerate(self.nodes):
                for original, name, slot, named in record.get("slots", ()):
                    self.slot_entries.append((n, original, name, slot, bool(named)))
        self._named_slot_nodes = {e[3] for e in self.slot_entries if e[4]}
        self._paths = None

    # -- lookups -----------------------------------------------------------------------------
    def obj(self, node):
        ref = self.matched.get(node)
        return _NONE if ref is None else _alive(ref)

    def node(self, obj):
        node = self.node_of.get(id(obj))
        if node is not None and self.obj(node) is obj:
            return node
        return None

    def start(self) -> None:
        """Matches the root and everything that exists below it; assigns the values."""
        root = self.root()
        plan = self._plan([(0, root)])
        self._apply(plan, deferred_step=False)
        deferred.register(self)

    # -- planning ----------------------------------------------------------------------------
    def _plan(self, pairs) -> _Plan:
        plan = _Plan()
        queue = deque(pairs)

        def current(node):
            found = plan.matched.get(node, _NONE)
            return self.obj(node) if found is _NONE else found

        while True:
            while queue:
                node, obj = queue.popleft()
                if node in self.failed or current(node) is not _NONE:
                    continue
                if id(obj) in plan.node_of or self.node(obj) is not None:
                    continue  # already bound to another saved object
                plan.matched[node] = obj
                plan.node_of[id(obj)] = node
                record = self.nodes[node]
                if "key" in record:
                    plan.assign.append((node, obj))
                    continue
                live = None
                missing = False
                for name, child in record.get("children", ()):
                    if current(child) is not _NONE:
                        continue
                    if live is None:
                        live = dict(graph.children(obj))
                    if name in live:
                        queue.append((child, live[name]))
                    else:
                        missing = True
                if missing:
                    plan.pending[node] = obj
            for optimizer_node, original, name, slot_node, _ in self.slot_entries:
                if slot_node in self.failed or current(slot_node) is not _NONE:
                    continue
                optimizer, reference = current(optimizer_node), current(original)
                if optimizer is _NONE or reference is _NONE or not graph.is_optimizer(optimizer):
                    continue
                for live_reference, live_name, slot, _ in graph.optimizer_slots(optimizer):
                    if live_reference is reference and live_name == name:
                        queue.append((slot_node, slot))
                        break
            if not queue:
                return plan

    def _check(self, plan: _Plan) -> list:
        """The values of the plan's assignments, after checking every one (raises first)."""
        values = []
        for node, variable in plan.assign:
            key = self.nodes[node]["key"]
            if not isinstance(variable, Variable):
                raise ValueError(f"The checkpoint holds a variable at {key}, but the object it "
                                 f"matches is a {type(variable).__name__}: {variable!r}")
            dtype, shape = self.file.dtype(key), self.file.shape(key)
            if dtype != variable.dtype:
                raise InvalidArgumentError(
                    None, None, f"tensor_name = {key}; expected dtype {_c_name(variable.dtype)} "
                    f"does not equal original dtype {_c_name(dtype)} [Op:RestoreV2]")
            if not variable.shape.is_compatible_with(shape):
                live = tuple(variable.shape.as_list()) if variable.shape.rank is not None \
                    else variable.shape
                raise ValueError(f"Received incompatible tensor with shape {shape} when "
                                 f"attempting to restore variable with shape {live} and name "
                                 f"{variable.name}. (checkpoint key: {key})")
            values.append(self.file.value(key))
        return values

    def _apply(self, plan: _Plan, deferred_step: bool) -> None:
        try:
            values = self._check(plan)
        except Exception:
            if deferred_step:  # these values will not be tried again
                self.failed.update(node for node, _ in plan.assign)
            raise
        with init_scope():
            for (node, variable), value in zip(plan.assign, values):
                variable.assign(value)
        for node, obj in plan.matched.items():
            self.matched[node] = _Ref(obj)
            self.node_of[id(obj)] = node
        self.restored.update(node for node, _ in plan.assign)
        for node, obj in plan.pending.items():
            self.pending[node] = _Ref(obj)
        self._prune()

    def _prune(self) -> None:
        for node, ref in list(self.pending.items()):
            obj = _alive(ref)
            if obj is _NONE or all(self.obj(child) is not _NONE or child in self.failed
                                   for _, child in self.nodes[node].get("children", ())):
                del self.pending[node]

    # -- deferred ----------------------------------------------------------------------------
    def done(self) -> bool:
        if self.pending:
            return False
        for optimizer_node, original, _, slot_node, _ in self.slot_entries:
            if slot_node not in self.failed and self.obj(slot_node) is _NONE and \
                    self.obj(optimizer_node) is not _NONE:
                return False
        return True

    def on_new_objects(self, owner, variable=None) -> None:
        """Something was created: match what now exists below the waiting objects."""
        self._prune()
        pairs = []
        for node, ref in list(self.pending.items()):
            obj = _alive(ref)
            live = None
            for name, child in self.nodes[node].get("children", ()):
                if self.obj(child) is not _NONE or child in self.failed:
                    continue
                if live is None:
                    try:
                        live = dict(graph.children(obj))
                    except ValueError:  # not restorable now (a dict with non-string keys)
                        live = {}
                if name in live:
                    pairs.append((child, live[name]))
        if variable is not None:
            optimizer_node = self.node(owner)
            if optimizer_node is not None:
                pair = self._optimizer_pair(optimizer_node, owner, variable)
                if pair is not None:
                    pairs.append(pair)
        plan = self._plan(pairs)
        if plan.matched:
            self._apply(plan, deferred_step=True)

    def _optimizer_pair(self, optimizer_node, optimizer, variable):
        """The saved slot (by name) or optimizer variable (by position) a new optimizer
        variable restores from."""
        if self.node(variable) is not None:
            return None
        name = graph.variable_short_name(variable)
        for entry_node, original, slot_name, slot_node, named in self.slot_entries:
            if entry_node != optimizer_node or not named or slot_node in self.failed or \
                    self.obj(slot_node) is not _NONE:
                continue
            reference = self.obj(original)
            if reference is not _NONE and isinstance(reference, Variable) and \
                    name == f"{graph.reference_prefix(reference)}_{slot_name}":
                return slot_node, variable
        saved = self.nodes[optimizer_node].get("variables") or []
        own = optimizer.__dict__.get("_variables", [])
        index = next((i for i in range(len(own) - 1, -1, -1) if own[i] is variable), None)
        if index is None or index >= len(saved) or saved[index] is None:
            return None
        node = saved[index]
        key = self.nodes[node].get("key")
        if key is None or node in self.failed or node in self._named_slot_nodes or \
                self.obj(node) is not _NONE:
            return None
        if self.file.dtype(key) != variable.dtype or \
                not variable.shape.is_compatible_with(self.file.shape(key)):
            return None
        return node, variable

    # -- descriptions --------------------------------------------------------------------------
    def path(self, node) -> str:
        if self._paths is None:
            paths = {0: []}
            queue = deque([0])
            while queue:
                n = queue.popleft()
                for name, child in self.nodes[n].get("children", ()):
                    if child not in paths:
                        paths[child] = paths[n] + [name]
                        queue.append(child)
            self._paths = paths
        found = self._paths.get(node)
        return graph.dotted(found) if found is not None else self.nodes[node].get("key", "?")


def _alive(ref):
    obj = ref()
    if obj is None and ref._weak is not None:
        return _NONE
    return obj


class CheckpointLoadStatus:
    """What `Checkpoint.restore` / `read` returns: assertions about how the checkpoint matched
    the Python objects (values not matched yet are restored when their objects are created)."""

    def __init__(self, restoration: Restoration, root):
        self._restoration = restoration
        self._root = root
        self._expect_partial = False

    def assert_consumed(self):
        """Every value of the checkpoint was restored, and every object matched."""
        self.assert_existing_objects_matched()
        r = self._restoration
        missing = [n for n in r.value_nodes if n not in r.restored]
        if missing:
            node = missing[0]
            raise AssertionError(
                f"Unresolved object in checkpoint {r.path(node)}: checkpoint_key "
                f"\"{r.nodes[node]['key']}\" has not been assigned to a Python object "
                f"({len(missing)} unresolved value(s) in all). A value is assigned when the "
                "object that takes it exists (a layer's weights once it is built, an "
                "optimizer's slots after its first step).")
        return self

    def assert_existing_objects_matched(self):
        """Every object reachable from the checkpoint now has a value from the file."""
        r = self._restoration
        objects = graph.live_objects(self._root)[0][1:]
        unmatched = [o for o in objects if not isinstance(o, (list, tuple, dict))
                     and r.node(o) is None]
        if unmatched:
            shown = unmatched[:10]
            raise AssertionError(
                f"Found {len(unmatched)} Python objects that were not bound to checkpointed "
                f"values, likely due to changes in the Python program. Showing {len(shown)} of "
                f"{len(unmatched)} unmatched objects: {shown}")
        return self

    def assert_nontrivial_match(self):
        """Something besides the root matched a checkpointed object."""
        r = self._restoration
        if not any(node != 0 and r.obj(node) is not _NONE for node in r.matched):
            objects = graph.live_objects(self._root)[0][1:]
            unmatched = [o for o in objects if not isinstance(o, (list, tuple, dict))]
            raise AssertionError(
                "Nothing except the root object matched a checkpointed value. Typically this "
                "means that the checkpoint does not match the Python program. The following "
                f"objects have no matching checkpointed value: {unmatched}")
        return self

    def expect_partial(self):
        """Silences warnings about an incomplete restore (tensorweave gives none)."""
        self._expect_partial = True
        return self

    def run_restore_ops(self, session=None):
        """Nothing to run: values are assigned eagerly."""
        return None

    def initialize_or_restore(self, session=None):
        return None


class InitializationOnlyStatus:
    """What `restore(None)` returns: nothing was restored."""

    _MESSAGE = "No checkpoint specified (save_path=None); nothing is being restored."

    def assert_consumed(self):
        raise AssertionError(self._MESSAGE)

    def assert_existing_objects_matched(self):
        raise AssertionError(self._MESSAGE)

    def assert_nontrivial_match(self):
        raise AssertionError(self._MESSAGE)

    def expect_partial(self):
        return self

    def run_restore_ops(self, session=None):
        return None

    def initialize_or_restore(self, session=None):
        return None
