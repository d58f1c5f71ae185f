"""tf.train checkpoints against TensorFlow itself: the same program run with `tensorflow` and
with `tensorweave` gives the same prefixes, state files, latest checkpoints, manager deletions,
keys (list_variables), loaded values, status assertions and error kinds. The files differ (our
format is our own); what a program sees does not.

Runs only where TensorFlow is importable beside tensorweave (see test_against_tensorflow.py).
"""
import os
import re

import numpy as np
import pytest

import tensorweave as tw

pytestmark = pytest.mark.tfref
try:
    import tensorflow as tf
except ImportError:
    tf = None


def _run(scenario, tmp_path):
    """The scenario's result with TensorFlow and with tensorweave, in separate directories."""
    results = []
    for name, module in (("tf", tf), ("tw", tw)):
        directory = tmp_path / name
        directory.mkdir()
        results.append(scenario(module, str(directory)))
    return results


def _state(directory):
    """The state file, timestamps replaced by their field names."""
    text = open(os.path.join(directory, "checkpoint")).read()
    return re.sub(r"(timestamps?): [0-9.e+]+", r"\1: T", text)


def _on_disk(directory):
    return sorted(f for f in os.listdir(directory) if f.endswith(".index"))


def _outcome(check):
    try:
        check()
        return "ok"
    except AssertionError as error:
        return "AssertionError: " + str(error).split(":")[0].split(" in checkpoint")[0][:40]


def test_save_prefixes_state_file_and_latest(tmp_path):
    def scenario(m, d):
        v = m.Variable([1.0, 2.0])
        ckpt = m.train.Checkpoint(v=v)
        out = [os.path.relpath(ckpt.save(os.path.join(d, "c")), d)]
        out.append(os.path.relpath(ckpt.save(os.path.join(d, "sub", "c")), d))
        out.append(_state(d))
        out.append(_state(os.path.join(d, "sub")))
        out.append(os.path.relpath(m.train.latest_checkpoint(d), d))
        out.append(int(ckpt.save_counter.numpy()))
        out.append(os.path.relpath(ckpt.write(os.path.join(d, "w")), d))
        out.append(_state(d))  # write() leaves the state file alone
        out.append(m.train.latest_checkpoint(os.path.join(d, "missing")))
        state = m.train.get_checkpoint_state(d)
        out.append([os.path.relpath(p, d) for p in state.all_model_checkpoint_paths])
        return out

    ours, theirs = _run(scenario, tmp_path)[::-1]
    assert ours == theirs


def test_manager_numbering_and_deletion_order(tmp_path):
    def scenario(m, d):
        ckpt = m.train.Checkpoint(v=m.Variable(0.0))
        manager = m.train.CheckpointManager(ckpt, d, max_to_keep=2)
        out = [manager.latest_checkpoint, manager.checkpoints]
        for number in (None, None, 10, None, 10):
            out.append(os.path.basename(manager.save(checkpoint_number=number)))
            out.append([os.path.basename(p) for p in manager.checkpoints])
            out.append(_on_disk(d))
        out.append(_state(d))
        out.append(os.path.basename(m.train.latest_checkpoint(d)))
        again = m.train.CheckpointManager(ckpt, d, max_to_keep=3, checkpoint_name="ckpt")
        out.append([os.path.basename(p) for p in again.checkpoints])
        out.append(os.path.basename(again.save()))
        out.append(_on_disk(d))
        everything = m.train.CheckpointManager(ckpt, os.path.join(d, "all"), max_to_keep=None)
        out.append([os.path.basename(everything.save()) for _ in range(3)])
        out.append(_state(os.path.join(d, "all")))
        return out

    ours, theirs = _run(scenario, tmp_path)[::-1]
    assert ours == theirs


def test_manager_interval_and_restore_or_initialize(tmp_path):
    def scenario(m, d):
        step = m.Variable(0, dtype=m.int64)
        ckpt = m.train.Checkpoint(step=step)
        manager = m.train.CheckpointManager(ckpt, d, max_to_keep=None, step_counter=step,
                                            checkpoint_interval=2)
        out = []
        for i in range(6):
            step.assign(i)
            saved = manager.save()
            out.append(None if saved is None else os.path.basename(saved))
        out.append(os.path.basename(manager.save(check_interval=False) or "none"))
        calls = []
        empty = m.train.CheckpointManager(m.train.Checkpoint(s=m.Variable(1)), os.path.join(d, "e"),
                                          max_to_keep=1, init_fn=lambda: calls.append(1))
        out.append((empty.restore_or_initialize(), calls))
        fresh = m.train.Checkpoint(step=m.Variable(0, dtype=m.int64))
        restored = m.train.CheckpointManager(fresh, d, max_to_keep=None).restore_or_initialize()
        out.append((os.path.basename(restored), int(fresh.step.numpy()),
                    int(fresh.save_counter.numpy())))
        return out

    ours, theirs = _run(scenario, tmp_path)[::-1]
    assert ours == theirs


def test_keys_values_and_reader(tmp_path):
    def scenario(m, d):
        ckpt = m.train.Checkpoint(a=m.Variable(np.arange(6, dtype=np.float32).reshape(2, 3)),
                                  lst=[m.Variable(1.0), (m.Variable(2, dtype=m.int64),)],
                                  dct={"k": m.Variable(3.0, dtype=m.float64)},
                                  s=m.Variable(b"text"))
        ckpt.later = m.Variable([True, False])
        prefix = ckpt.save(os.path.join(d, "k"))
        out = [m.train.list_variables(prefix)]
        reader = m.train.load_checkpoint(prefix)
        out.append(sorted(reader.get_variable_to_shape_map().items()))
        out.append(sorted((k, v.name) for k, v in reader.get_variable_to_dtype_map().items()))
        for key, _ in out[0][1:]:
            value = reader.get_tensor(key)
            out.append((key, type(value).__name__, np.asarray(value).tolist()))
        out.append(m.train.load_variable(d, "lst/0/.ATTRIBUTES/VARIABLE_VALUE"))
        out.append(reader.has_tensor("a/.ATTRIBUTES/VARIABLE_VALUE"))
        out.append(reader.has_tensor("a"))
        return out

    ours, theirs = _run(scenario, tmp_path)[::-1]
    assert ours == theirs


def test_status_assertions(tmp_path):
    def scenario(m, d):
        prefix = m.train.Checkpoint(a=m.Variable([1.0, 2.0]), b=m.Variable(3.0)).save(
            os.path.join(d, "s"))
        out = []
        cases = {
            "full": lambda: m.train.Checkpoint(a=m.Variable([0.0, 0.0]), b=m.Variable(0.0)),
            "partial": lambda: m.train.Checkpoint(a=m.Variable([0.0, 0.0])),
            "extra": lambda: m.train.Checkpoint(a=m.Variable([0.0, 0.0]), c=m.Variable(1.0)),
            "unrelated": lambda: m.train.Checkpoint(z=m.Variable(1.0)),
        }
        for name, make in cases.items():
            for method in ("restore", "read"):
                ckpt = make()
                status = getattr(ckpt, method)(prefix)
                out.append((name, method, _outcome(status.assert_consumed),
                            _outcome(status.assert_existing_objects_matched),
                            _outcome(status.assert_nontrivial_match),
                            status.expect_partial() is status))
                if name != "unrelated":
                    out.append(ckpt.a.numpy().tolist())
        status = m.train.Checkpoint(a=m.Variable(1.0)).restore(None)
        out.append((_outcome(status.assert_consumed), _outcome(status.assert_nontrivial_match),
                    status.expect_partial() is status))
        written = m.train.Checkpoint(a=m.Variable(1.0)).write(os.path.join(d, "w"))
        status = m.train.Checkpoint(a=m.Variable(0.0)).restore(written)
        out.append(_outcome(status.assert_consumed))  # the save_counter made by restore()
        return out

    ours, theirs = _run(scenario, tmp_path)[::-1]
    assert ours == theirs


def test_error_kinds(tmp_path):
    def scenario(m, d):
        def kind(fn):
            try:
                fn()
                return "ok"
            except Exception as error:  # noqa: BLE001 - the kind is what is compared
                return type(error).__name__

        prefix = m.train.Checkpoint(a=m.Variable(np.ones((2, 3), np.float32))).write(
            os.path.join(d, "e"))
        return [
            kind(lambda: m.train.Checkpoint(a=m.Variable(1.0)).restore(os.path.join(d, "no"))),
            kind(lambda: m.train.Checkpoint(a=m.Variable(1.0)).read(os.path.join(d, "no"))),
            kind(lambda: m.train.Checkpoint(a=m.Variable(1.0)).restore(d)),
            kind(lambda: m.train.Checkpoint(a=m.Variable(np.ones((3, 2), np.float32))).read(
                prefix)),
            kind(lambda: m.train.Checkpoint(a=m.Variable(np.ones((2, 3), np.int32))).read(
                prefix)),
            kind(lambda: m.train.Checkpoint(step=3)),
            kind(lambda: m.train.load_variable(prefix, "zz")),
            kind(lambda: m.train.list_variables(os.path.join(d, "no"))),
            kind(lambda: m.train.CheckpointManager(m.train.Checkpoint(), d, max_to_keep=0)),
        ]

    ours, theirs = _run(scenario, tmp_path)[::-1]
    assert ours == theirs
