"""Subsets of a data set: some of its classes, a few examples of each.

Used for fine-tuning experiments ("20 labelled images per class") and for
training on part of a label set. The first `per_class` examples of each class
in the split's (seeded, shuffled) order are kept, so a subset is reproducible.
"""

from __future__ import annotations

import tensorflow as tf

from kerascnn.data.dataset import DataError


def class_ids(class_names, classes) -> list[int]:
    """The indices of `classes` among `class_names`, in the order given."""
    ids = []
    for name in classes:
        if name not in class_names:
            raise DataError(
                f"`classes` names '{name}', which the data set does not have. "
                f"Its classes: {', '.join(class_names)}"
            )
        ids.append(list(class_names).index(name))
    if len(set(ids)) < 2:
        raise DataError(f"`classes` must name at least 2 different classes. Received: {classes}")
    return ids


def select_files(files, labels, ids, per_class: int | None):
    """(files, labels) of the classes `ids`, relabelled 0..len(ids)-1."""
    new_label = {old: new for new, old in enumerate(ids)}
    counts = dict.fromkeys(range(len(ids)), 0)
    kept_files, kept_labels = [], []
    for file, label in zip(files, labels):
        if label not in new_label:
            continue
        label = new_label[label]
        if per_class is not None and counts[label] >= per_class:
            continue
        counts[label] += 1
        kept_files.append(file)
        kept_labels.append(label)
    return kept_files, kept_labels


def select_examples(ds: tf.data.Dataset, ids, num_classes: int, per_class: int | None):
    """The (image, label) examples of classes `ids`, relabelled, at most
    `per_class` of each; returns the dataset and its size."""
    mapping = [-1] * num_classes
    for new, old in enumerate(ids):
        mapping[old] = new
    mapping = tf.constant(mapping, tf.int32)
    ds = ds.map(lambda image, label: (image, tf.gather(mapping, tf.cast(label, tf.int32))))
    ds = ds.filter(lambda image, label: label >= 0)
    if per_class is not None:

        def count(counts, example):
            image, label = example
            keep = counts[label] < per_class
            return tf.tensor_scatter_nd_add(counts, [[label]], [1]), (image, label, keep)

        ds = (
            ds.scan(tf.zeros([len(ids)], tf.int64), count)
            .filter(lambda image, label, keep: keep)
            .map(lambda image, label, keep: (image, label))
        )
    size = int(ds.map(lambda image, label: label).reduce(0, lambda n, _: n + 1))
    # Filtering loses the size; Keras wants it to count an epoch's steps.
    return ds.apply(tf.data.experimental.assert_cardinality(size)), size
