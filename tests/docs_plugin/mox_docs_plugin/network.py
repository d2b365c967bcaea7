"""A network that takes the layer options itself (its record has ``arg_scope=None``)."""

import tensorflow.compat.v1 as tf


def pool_net(images, num_classes, *, is_training, weight_decay=0.0, data_format="NHWC",
             batch_norm_fused=False, batch_renorm=False, scope="DocsPoolNet"):
    del is_training, data_format, batch_norm_fused, batch_renorm  # NHWC pooling needs none
    with tf.variable_scope(scope):
        pooled = tf.reduce_mean(images, axis=[1, 2])
        with tf.variable_scope("logits"):
            weights = tf.get_variable("weights", [int(pooled.shape[-1]), num_classes])
            biases = tf.get_variable("biases", [num_classes], initializer=tf.zeros_initializer())
        if weight_decay:
            tf.add_to_collection(tf.GraphKeys.REGULARIZATION_LOSSES,
                                 weight_decay * tf.nn.l2_loss(weights))
        logits = tf.nn.bias_add(tf.matmul(pooled, weights), biases, name="logits")
    return logits, {"Logits": logits, "Predictions": tf.nn.softmax(logits)}
