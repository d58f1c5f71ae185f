"""A Python lambda as Keras 3 writes it into a config: its code object marshalled and base64
encoded (the bytes Keras writes under the same Python version), its defaults and closure values.
Loading one runs code from a file: callers check safe mode first."""
from __future__ import annotations

import base64
import builtins
import marshal
import sys
import types


def dump_function(fn) -> tuple:
    """(code, defaults, closure) of `fn`."""
    code = base64.encodebytes(marshal.dumps(fn.__code__)).decode("ascii")
    closure = None if fn.__closure__ is None else tuple(c.cell_contents for c in fn.__closure__)
    return code, fn.__defaults__, closure


def load_function(value, extra_globals=None):
    """The function `dump_function` wrote, given as that tuple (a list in JSON) or as the
    `{"code", "defaults", "closure"}` dict of a Lambda layer's config. Its global names resolve
    in the `__main__` module, where a user's script defines them, and in `extra_globals` (the
    loader's `custom_objects`, as in Keras)."""
    if isinstance(value, dict):
        code, defaults, closure = value["code"], value.get("defaults"), value.get("closure")
    else:
        code, defaults, closure = (list(value) + [None, None])[:3]
    code = marshal.loads(base64.decodebytes(code.encode("ascii")))
    defaults = tuple(defaults) if defaults is not None else None
    if closure is not None:
        closure = tuple(types.CellType(v) for v in closure)
    main = sys.modules.get("__main__")
    scope = dict(vars(main)) if main is not None else {}
    scope.update(extra_globals or {})
    scope.setdefault("__builtins__", builtins)
    return types.FunctionType(code, scope, code.co_name, defaults, closure)
