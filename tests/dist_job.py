"""A few training steps under one strategy, for tests/test_distribute.py (run as a subprocess).

    python tests/dist_job.py STRATEGY TFDS_DIR OUT.npz [--cpus N] [--batch B] [--steps S]

``{index}`` in OUT.npz becomes the worker's index under ``multi_worker``.

Builds the compact AUNet without dropout (so runs are comparable), trains it
through ``keras_au.loop.fit`` on the synthetic pretrain set prepared in
TFDS_DIR (without augmentation), and saves its weights and the loss history.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("strategy")
    parser.add_argument("tfds_dir")
    parser.add_argument("out")
    parser.add_argument("--cpus", type=int, default=1)
    parser.add_argument("--batch", type=int, default=8, help="per replica")
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args(argv)

    import tensorflow as tf

    if args.cpus > 1:
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * args.cpus)
    import keras

    from keras_au import aus, data, distribute, loop, train
    from keras_au.model import AUNet

    execution = distribute.setup(args.strategy, "fp32", False, args.batch, "none")
    keras.utils.set_random_seed(0)
    builder = data.synthetic_builder("pretrain", args.tfds_dir, wait=not execution.is_chief,
                                     num_train=64, num_validation=16, num_test=16)
    batch = execution.global_batch

    def train_fn(context=None):
        return data.make_dataset(builder, "train", batch, training=True, augment_params=None,
                                 shuffle_buffer=1, input_context=context)

    val_ds = data.make_dataset(builder, "validation", batch, training=False)
    with execution.strategy.scope():
        model = AUNet(aus.OPENFACE_AUS, block_filters=((8,), (8,), (8,), (8,)), dense_units=(16,),
                      conv_dropout=0.0, dense_dropout=0.0)
        train.compile_model(model, 1e-3)
    history = loop.fit(model, train_fn, val_ds, execution, epochs=args.epochs,
                       steps_per_epoch=args.steps, callbacks=[], verbose=0)
    weights = {f"w{i}": np.asarray(w) for i, w in enumerate(model.get_weights())}
    out = args.out.format(index=execution.task_id)  # one file per worker
    np.savez(out, loss=np.array(history.history["loss"]),
             val_loss=np.array(history.history["val_loss"]), replicas=execution.replicas,
             **weights)
    return 0


if __name__ == "__main__":
    sys.exit(main())
