"""Shared training machinery: the checkpoint's memory across fits and resumes."""

import keras

from keras_au import train


def _checkpoint(callbacks):
    return next(c for c in callbacks if isinstance(c, keras.callbacks.ModelCheckpoint))


def test_checkpoint_starts_from_the_best_value_in_history(tmp_path):
    assert _checkpoint(train.make_callbacks(tmp_path, "val_loss", 8, 2)).best is None
    (tmp_path / train.HISTORY_FILE).write_text("epoch,val_loss,val_macro_f1\n0,0.3,0.5\n1,0.2,0.4\n")
    assert _checkpoint(train.make_callbacks(tmp_path, "val_loss", 8, 2)).best == 0.2
    assert _checkpoint(train.make_callbacks(tmp_path, "val_macro_f1", 8, 2)).best == 0.5


def test_each_fit_can_have_its_own_backup(tmp_path):
    callbacks = train.make_callbacks(tmp_path, "val_loss", 8, 2, backup_name="phase2")
    backup = next(c for c in callbacks if isinstance(c, keras.callbacks.BackupAndRestore))
    assert backup.backup_dir.rstrip("/").endswith("backup/phase2")
