"""Fine-tune a ResNet on a folder of class folders and stop early when the eval accuracy stalls
(MoXing's API manual, ``mox.run`` example 2: ``EarlyStoppingHook`` with ``inter_mode=EVAL``).

``data_url`` holds ``train/`` and ``eval/`` class folders; without it, a small dataset of the
demo's shapes is generated first. ``checkpoint_url`` warm-starts from a TF-Slim checkpoint of
the same network, leaving out the logits layer (its number of classes differs)::

    python examples/resnet_finetune_early_stopping.py --train_url=/tmp/ft
    python examples/resnet_finetune_early_stopping.py --data_url=/data/flowers/ \\
        --checkpoint_url=/models/resnet_v1_50.ckpt --model_name=resnet_v1_50 --image_size=224
"""

from __future__ import annotations

import math
import os

import tensorflow.compat.v1 as tf

import mox_core as mox
from mox_core.demo import write_shapes_dataset

flags = tf.flags
flags.DEFINE_string("data_url", "", "folder with train/ and eval/ class folders "
                                    "(empty: generated shapes)")
flags.DEFINE_string("train_url", "finetune-run", "log_dir: checkpoints and summaries")
flags.DEFINE_string("checkpoint_url", "", "pretrained checkpoint to start from")
flags.DEFINE_string("model_name", "resnet_v1_18", "network to fine-tune")
flags.DEFINE_integer("image_size", 32, "input height and width")
flags.DEFINE_integer("batch_size", 16, "images per step")
flags.DEFINE_integer("max_number_of_steps", 2000, "upper bound on training steps")
flags.DEFINE_float("min_delta", 0.01, "smallest accuracy gain that counts as improving")
flags.DEFINE_integer("patience", 3, "evaluations without improvement before stopping")
FLAGS = flags.FLAGS


def main(argv):
    data_url = FLAGS.data_url
    if not data_url:
        data_url = os.path.join(FLAGS.train_url, "generated-data")
        write_shapes_dataset(os.path.join(data_url, "train"), 16, seed=1)
        write_shapes_dataset(os.path.join(data_url, "eval"), 4, seed=2)
    train_meta = mox.ImageClassificationRawMetadata(base_dir=data_url.rstrip("/") + "/train")
    eval_meta = mox.ImageClassificationRawMetadata(base_dir=data_url.rstrip("/") + "/eval")
    num_classes, size, batch = train_meta.num_classes, FLAGS.image_size, FLAGS.batch_size
    # the network's own pipeline, scaled to the input size (ResNets use VGG's: resize, crop)
    scale = {"resize_side_min": math.ceil(size * 256 / 224),
             "resize_side_max": math.ceil(size * 512 / 224)}

    def input_fn(mode, **kwargs):
        meta = train_meta if mode == mox.ModeKeys.TRAIN else eval_meta
        # both repeat: the hook reads samples_in_eval eval samples at every evaluation
        dataset = mox.ImageClassificationRawDataset(meta, shuffle=mode == mox.ModeKeys.TRAIN)
        image, label = dataset.get(["image", "label"])
        image = mox.get_data_augmentation_fn(name=FLAGS.model_name, run_mode=mode,
                                             output_height=size, output_width=size,
                                             **scale)(image)
        return image, label

    def model_fn(inputs, mode, **kwargs):
        images, labels = inputs
        logits, _ = mox.get_model_fn(name=FLAGS.model_name, run_mode=mode,
                                     num_classes=num_classes, weight_decay=0.0001)(images)
        loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
        accuracy = tf.reduce_mean(tf.cast(tf.nn.in_top_k(logits, labels, 1), tf.float32))
        early_stop_hook = mox.EarlyStoppingHook(
            monitor_info={"accuracy": accuracy}, monitor="accuracy", batch_size=batch,
            samples_in_train=train_meta.total_num_samples,
            samples_in_eval=eval_meta.total_num_samples, evaluate_every_n_epochs=1,
            min_delta=FLAGS.min_delta, patience=FLAGS.patience, prefix="[EarlyStopping]")
        return mox.ModelSpec(loss=loss, log_info={"loss": loss, "accuracy": accuracy},
                             hooks=[early_stop_hook])

    if FLAGS.checkpoint_url:
        mox.set_flag("checkpoint_exclude_patterns",
                     mox.get_model_meta(FLAGS.model_name).default_logits_pattern)
    mox.run(input_fn=input_fn, model_fn=model_fn,
            optimizer_fn=mox.get_optimizer_fn("momentum", learning_rate=0.01, momentum=0.9),
            run_mode=mox.ModeKeys.TRAIN, inter_mode=mox.ModeKeys.EVAL, batch_size=batch,
            log_dir=FLAGS.train_url, checkpoint_path=FLAGS.checkpoint_url or None,
            max_number_of_steps=FLAGS.max_number_of_steps)


if __name__ == "__main__":
    tf.app.run(main)
