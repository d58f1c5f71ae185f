"""tf.train.CheckpointManager: numbering, deletion beyond max_to_keep (oldest first), the state
file, a new manager picking up a directory, intervals, keep_checkpoint_every_n_hours,
restore_or_initialize, and an interrupted save."""
import os
import re

import numpy as np
import pytest

import tensorweave as tf
from tensorweave.checkpoint import format as fmt
from tensorweave.checkpoint import manager as manager_module


def _prefixes(directory):
    """The checkpoints on disk (by their index files), sorted by number."""
    names = [f[:-len(".index")] for f in os.listdir(directory) if f.endswith(".index")]
    return sorted(names, key=lambda n: int(n.rsplit("-", 1)[1]))


def _state_lines(directory):
    return (directory / "checkpoint").read_text().splitlines()


def test_keeps_the_newest_max_to_keep(tmp_path):
    v = tf.Variable(0.0)
    ckpt = tf.train.Checkpoint(v=v)
    manager = tf.train.CheckpointManager(ckpt, str(tmp_path), max_to_keep=2)
    assert manager.latest_checkpoint is None and manager.checkpoints == []
    assert manager.directory == str(tmp_path) and manager.checkpoint is ckpt
    saved = []
    for i in range(4):
        v.assign(float(i))
        saved.append(manager.save())
    assert saved == [str(tmp_path / f"ckpt-{i}") for i in (1, 2, 3, 4)]
    assert manager.checkpoints == saved[2:]
    assert manager.latest_checkpoint == saved[3]
    assert _prefixes(tmp_path) == ["ckpt-3", "ckpt-4"]
    assert sorted(os.listdir(tmp_path)) == ["checkpoint", "ckpt-3.data-00000-of-00001",
                                            "ckpt-3.index", "ckpt-4.data-00000-of-00001",
                                            "ckpt-4.index"]
    lines = _state_lines(tmp_path)
    assert lines[:3] == ['model_checkpoint_path: "ckpt-4"', 'all_model_checkpoint_paths: "ckpt-3"',
                         'all_model_checkpoint_paths: "ckpt-4"']
    assert [line.split(":")[0] for line in lines[3:]] == [
        "all_model_checkpoint_timestamps", "all_model_checkpoint_timestamps",
        "last_preserved_timestamp"]
    assert tf.train.latest_checkpoint(str(tmp_path)) == saved[3]
    assert tf.train.load_variable(saved[2], "v/.ATTRIBUTES/VARIABLE_VALUE") == 2.0
    assert tf.train.load_variable(saved[3], "v/.ATTRIBUTES/VARIABLE_VALUE") == 3.0


def test_checkpoint_number_name_and_keeping_everything(tmp_path):
    ckpt = tf.train.Checkpoint(v=tf.Variable(1.0))
    manager = tf.train.CheckpointManager(ckpt, str(tmp_path), max_to_keep=None,
                                         checkpoint_name="model")
    assert manager.save() == str(tmp_path / "model-1")
    assert manager.save(checkpoint_number=10) == str(tmp_path / "model-10")
    assert int(ckpt.save_counter.numpy()) == 2  # incremented even with a number given
    step = tf.Variable(7, dtype=tf.int64)
    assert manager.save(checkpoint_number=step) == str(tmp_path / "model-7")
    assert manager.save() == str(tmp_path / "model-4")
    assert _prefixes(tmp_path) == ["model-1", "model-4", "model-7", "model-10"]
    assert manager.checkpoints == [str(tmp_path / f"model-{n}") for n in (1, 10, 7, 4)]
    # saving a number again moves it to the newest place
    assert manager.save(checkpoint_number=1) == str(tmp_path / "model-1")
    assert manager.checkpoints[-1] == str(tmp_path / "model-1")
    assert tf.train.latest_checkpoint(str(tmp_path)) == str(tmp_path / "model-1")


def test_a_new_manager_picks_up_the_directory(tmp_path):
    ckpt = tf.train.Checkpoint(v=tf.Variable(1.0))
    first = tf.train.CheckpointManager(ckpt, str(tmp_path), max_to_keep=3)
    paths = [first.save() for _ in range(3)]
    second = tf.train.CheckpointManager(ckpt, str(tmp_path), max_to_keep=2)
    assert second.checkpoints == paths and second.latest_checkpoint == paths[-1]
    newest = second.save()
    assert newest == str(tmp_path / "ckpt-4")
    assert second.checkpoints == [paths[2], newest]
    assert _prefixes(tmp_path) == ["ckpt-3", "ckpt-4"]
    # a fresh program: restore the latest, go on numbering from the restored counter
    other = tf.train.Checkpoint(v=tf.Variable(0.0))
    third = tf.train.CheckpointManager(other, str(tmp_path), max_to_keep=2)
    assert third.restore_or_initialize() == newest
    assert other.v.numpy() == 1.0 and int(other.save_counter.numpy()) == 4
    assert third.save() == str(tmp_path / "ckpt-5")


def test_restore_or_initialize_without_a_checkpoint(tmp_path):
    calls = []
    v = tf.Variable(0.0)
    manager = tf.train.CheckpointManager(tf.train.Checkpoint(v=v), str(tmp_path / "new"),
                                         max_to_keep=1, init_fn=lambda: calls.append(1))
    assert manager.restore_or_initialize() is None and calls == [1]
    assert tf.train.CheckpointManager(tf.train.Checkpoint(v=v), str(tmp_path / "new2"),
                                      max_to_keep=1).restore_or_initialize() is None


def test_checkpoint_interval(tmp_path):
    step = tf.Variable(0, dtype=tf.int64)
    manager = tf.train.CheckpointManager(tf.train.Checkpoint(step=step), str(tmp_path),
                                         max_to_keep=None, step_counter=step,
                                         checkpoint_interval=3)
    assert manager.checkpoint_interval == 3
    written = []
    for i in range(8):
        step.assign(i)
        written.append(manager.save() is not None)
    assert written == [True, False, False, True, False, False, True, False]
    assert manager.save() is None  # the same step again
    step.assign(7)
    assert manager.save(check_interval=False) is not None
    assert manager.save(check_interval=False) is None  # already saved at step 7


def test_keep_checkpoint_every_n_hours(tmp_path, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(manager_module.time, "time", lambda: clock[0])
    ckpt = tf.train.Checkpoint(v=tf.Variable(1.0))
    manager = tf.train.CheckpointManager(ckpt, str(tmp_path), max_to_keep=1,
                                         keep_checkpoint_every_n_hours=1)
    paths = []
    for minutes in (0, 30, 70, 110, 120):
        clock[0] = 1000.0 + 60 * minutes
        paths.append(manager.save())
    # leaving the active set, a checkpoint is preserved when it is an hour newer than the last
    # preserved time (at first: the manager's creation time less one second): ckpt-1 and ckpt-2
    # are not, ckpt-3 (70 min) is, ckpt-4 (40 min after ckpt-3) is not; ckpt-5 is active
    assert _prefixes(tmp_path) == ["ckpt-3", "ckpt-5"]
    assert manager.checkpoints == [paths[4]]
    assert _state_lines(tmp_path)[-1] == f"last_preserved_timestamp: {1000.0 + 60 * 70!r}"


def test_arguments_are_checked(tmp_path):
    ckpt = tf.train.Checkpoint(v=tf.Variable(1.0))
    with pytest.raises(ValueError, match="positive integer or `None` for `max_to_keep`, got 0"):
        tf.train.CheckpointManager(ckpt, str(tmp_path), max_to_keep=0)
    with pytest.raises(ValueError, match="`step_counter` should be passed"):
        tf.train.CheckpointManager(ckpt, str(tmp_path), max_to_keep=1, checkpoint_interval=2)


def test_an_interrupted_save_changes_nothing(tmp_path, monkeypatch):
    v = tf.Variable(np.arange(5.0))
    ckpt = tf.train.Checkpoint(v=v, w=tf.Variable(np.ones(3)))
    manager = tf.train.CheckpointManager(ckpt, str(tmp_path), max_to_keep=1)
    first = manager.save()
    state = (tmp_path / "checkpoint").read_bytes()
    files = sorted(os.listdir(tmp_path))
    real = fmt._write_tensor
    calls = []

    def failing(stream, data):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        real(stream, data)

    monkeypatch.setattr(fmt, "_write_tensor", failing)
    v.assign(np.zeros(5))
    with pytest.raises(KeyboardInterrupt):
        manager.save()
    assert sorted(os.listdir(tmp_path)) == files  # ckpt-1 not deleted, nothing half-written
    assert (tmp_path / "checkpoint").read_bytes() == state
    assert manager.checkpoints == [first] and manager.latest_checkpoint == first
    assert tf.train.latest_checkpoint(str(tmp_path)) == first
    assert int(ckpt.save_counter.numpy()) == 1
    np.testing.assert_array_equal(
        tf.train.load_variable(first, "v/.ATTRIBUTES/VARIABLE_VALUE"), np.arange(5.0))
    monkeypatch.setattr(fmt, "_write_tensor", real)
    assert manager.save() == str(tmp_path / "ckpt-2")
    assert _prefixes(tmp_path) == ["ckpt-2"]


def test_state_file_round_trip(tmp_path):
    ckpt = tf.train.Checkpoint(v=tf.Variable(1.0))
    manager = tf.train.CheckpointManager(ckpt, str(tmp_path), max_to_keep=3)
    manager.save()
    manager.save()
    state = tf.train.get_checkpoint_state(str(tmp_path))
    assert state.model_checkpoint_path == str(tmp_path / "ckpt-2")
    assert state.all_model_checkpoint_paths == [str(tmp_path / "ckpt-1"),
                                                str(tmp_path / "ckpt-2")]
    assert len(state.all_model_checkpoint_timestamps) == 2
    text = str(state)
    assert re.search(r'^model_checkpoint_path: ".*ckpt-2"$', text, re.M)
