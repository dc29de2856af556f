"""The multi-worker training loop, run in-process under the default strategy."""

from __future__ import annotations

import csv

import keras
import numpy as np
import pytest

from keras_au import aus, data, distribute, loop, train
from keras_au.model import AUNet


@pytest.fixture(scope="module")
def builder(tmp_path_factory):
    return data.synthetic_builder("pretrain", tmp_path_factory.mktemp("tfds"), num_train=48,
                                  num_validation=16, num_test=8)


def _model_and_data(builder, execution):
    keras.utils.set_random_seed(3)
    with execution.strategy.scope():
        model = AUNet(aus.OPENFACE_AUS, block_filters=((4,), (4,), (4,), (4,)), dense_units=(8,),
                      conv_dropout=0.0, dense_dropout=0.0)
        train.compile_model(model, 1e-3)

    def train_fn(context=None):
        return data.make_dataset(builder, "train", execution.global_batch, training=True,
                                 augment_params=None, shuffle_buffer=1, input_context=context)

    return model, train_fn, data.make_dataset(builder, "validation", 8, training=False)


def test_custom_loop_trains_like_fit(builder):
    execution = distribute.setup("default", "fp32", False, 8, "none")
    runs = {}
    for name, fit in (("fit", loop.fit), ("custom", loop.custom_fit)):
        model, train_fn, val_ds = _model_and_data(builder, execution)
        history = fit(model, train_fn, val_ds, execution, epochs=3, steps_per_epoch=4,
                      callbacks=[], verbose=0)
        runs[name] = (history.history, model.get_weights())
    (fit_logs, fit_weights), (custom_logs, custom_weights) = runs["fit"], runs["custom"]
    for key in ("loss", "macro_f1", "val_loss", "val_macro_f1", "val_auc"):
        np.testing.assert_allclose(custom_logs[key], fit_logs[key], rtol=1e-4, atol=1e-6,
                                   err_msg=key)
    for a, b in zip(custom_weights, fit_weights, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)
    assert fit_logs["loss"][-1] < fit_logs["loss"][0]


class _Crash(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 1:
            raise KeyboardInterrupt("simulated worker loss")


def test_custom_loop_resumes_from_its_backup(builder, tmp_path):
    execution = distribute.setup("default", "fp32", False, 8, "none")
    model, train_fn, val_ds = _model_and_data(builder, execution)
    callbacks = train.make_callbacks(tmp_path, "val_loss", 8, 4)
    with pytest.raises(KeyboardInterrupt):
        loop.custom_fit(model, train_fn, val_ds, execution, epochs=4, steps_per_epoch=4,
                        callbacks=[*callbacks, _Crash()], verbose=0)
    assert (tmp_path / "backup").is_dir()
    model, train_fn, val_ds = _model_and_data(builder, execution)  # a fresh process, as it were
    loop.custom_fit(model, train_fn, val_ds, execution, epochs=4, steps_per_epoch=4,
                    callbacks=train.make_callbacks(tmp_path, "val_loss", 8, 4), verbose=0)
    with (tmp_path / "history.csv").open() as f:
        epochs = [int(r["epoch"]) for r in csv.DictReader(f)]
    assert epochs == [0, 1, 2, 3]  # epoch 1's row was written before the crash; 2 and 3 resumed
    assert not (tmp_path / "backup").exists() and (tmp_path / train.BEST_MODEL).exists()
