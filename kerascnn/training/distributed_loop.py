"""A training loop for multi-worker runs, where `keras.Model.fit` fails.

NOTE: Keras 3's `fit` breaks under `tf.distribute.MultiWorkerMirroredStrategy`
(keras-team/keras#20585, open: it reduces data batches and scalar logs with
collective ops that do not accept them; seen here with Keras 3.15 and
TensorFlow 2.21). This loop keeps Keras' model, optimizer, loss and callback
protocol (progress bar, History, checkpoints) and does the distribution
itself: `strategy.run` per step, sums reduced with `axis=None`.
"""

from __future__ import annotations

import keras
import tensorflow as tf


def _sums(strategy, per_replica):
    return [strategy.reduce(tf.distribute.ReduceOp.SUM, v, axis=None) for v in per_replica]


def fit_distributed(
    model: keras.Model,
    strategy: tf.distribute.Strategy,
    train_data: tf.data.Dataset,
    validation_data: tf.data.Dataset | None,
    *,
    epochs: int,
    initial_epoch: int,
    steps_per_epoch: int,
    global_batch_size: int,
    callbacks,
    verbose,
) -> keras.callbacks.History:
    """Trains a compiled model like `model.fit`, distributing with `strategy`.

    Logs `loss` and `accuracy` (and `val_` ones) per epoch, for a sparse
    categorical classifier compiled by `compile_for_training`.
    """
    loss_fn = model.loss
    per_example_loss = loss_fn.__class__.from_config({**loss_fn.get_config(), "reduction": None})
    train_batches = strategy.experimental_distribute_dataset(train_data)
    validation_batches = (
        strategy.experimental_distribute_dataset(validation_data)
        if validation_data is not None
        else None
    )

    def correct(labels, predictions):
        predicted = tf.cast(tf.argmax(predictions, axis=-1), labels.dtype)
        return tf.reduce_sum(tf.cast(tf.equal(predicted, labels), tf.float32))

    @tf.function
    def train_step(images, labels):
        def step(images, labels):
            with tf.GradientTape() as tape:
                predictions = model(images, training=True)
                losses = per_example_loss(labels, predictions)
                loss = tf.nn.compute_average_loss(losses, global_batch_size=global_batch_size)
                if model.losses:
                    loss += tf.nn.scale_regularization_loss(tf.add_n(model.losses))
            gradients = tape.gradient(loss, model.trainable_variables)
            model.optimizer.apply_gradients(zip(gradients, model.trainable_variables))
            count = tf.cast(tf.shape(labels)[0], tf.float32)
            return tf.reduce_sum(losses), correct(labels, predictions), count

        return _sums(strategy, strategy.run(step, args=(images, labels)))

    @tf.function
    def test_step(images, labels):
        def step(images, labels):
            predictions = model(images, training=False)
            count = tf.cast(tf.shape(labels)[0], tf.float32)
            losses = per_example_loss(labels, predictions)
            return tf.reduce_sum(losses), correct(labels, predictions), count

        return _sums(strategy, strategy.run(step, args=(images, labels)))

    def run_epoch(step_fn, batches, on_batch=None):
        total_loss = total_correct = total = 0.0
        for index, (images, labels) in enumerate(batches):
            loss, hits, count = (float(v) for v in step_fn(images, labels))
            total_loss, total_correct, total = (
                total_loss + loss,
                total_correct + hits,
                total + count,
            )
            logs = {"loss": total_loss / total, "accuracy": total_correct / total}
            if on_batch is not None and not on_batch(index, logs):
                break
        return {"loss": total_loss / max(total, 1.0), "accuracy": total_correct / max(total, 1.0)}

    callback_list = keras.callbacks.CallbackList(
        list(callbacks),
        add_history=True,
        add_progbar=verbose != 0,
        model=model,
        verbose=verbose,
        epochs=epochs,
        steps=steps_per_epoch,
    )
    model.stop_training = False

    def on_batch(index, logs):
        callback_list.on_train_batch_end(index, logs)
        return not model.stop_training

    callback_list.on_train_begin()
    for epoch in range(initial_epoch, epochs):
        callback_list.on_epoch_begin(epoch)
        logs = run_epoch(train_step, train_batches, on_batch)
        if validation_batches is not None and not model.stop_training:
            callback_list.on_test_begin()  # e.g. SwapEMAWeights, as in Keras' fit
            val = run_epoch(test_step, validation_batches)
            callback_list.on_test_end(val)
            logs.update({f"val_{k}": v for k, v in val.items()})
        callback_list.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    callback_list.on_train_end()
    # As Keras' fit ends: an averaging optimizer hands the model its average.
    model.optimizer.finalize_variable_values(model.trainable_variables)
    return model.history
