#!/bin/sh
# Trains and publishes seed_cnn_base.fashion_mnist; run from the repository root.
set -e
kerascnn train seed_cnn_base --data tfds:fashion_mnist --manual-dir ../shared/datasets/fashion-mnist --out runs/seed_cnn_base.fashion_mnist --batch-size 128 --augment flip --validation-split 0.1 --epochs 15 --optimizer adamw --lr 0.002 --schedule cosine --warmup-epochs 1 --weight-decay 0.0001 --seed 0
kerascnn publish runs/seed_cnn_base.fashion_mnist --name seed_cnn_base.fashion_mnist --dataset fashion_mnist --data tfds:fashion_mnist --manual-dir ../shared/datasets/fashion-mnist --cards zoo
