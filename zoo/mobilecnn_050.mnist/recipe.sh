#!/bin/sh
# Trains and publishes mobilecnn_050.mnist; run from the repository root.
set -e
kerascnn train mobilecnn_050 --data tfds:mnist --manual-dir ../shared/datasets/mnist --input-shape 28x28x1 --out runs/mobilecnn_050.mnist --batch-size 128 --augment translation --validation-split 0.1 --epochs 6 --optimizer adamw --lr 0.002 --schedule cosine --warmup-epochs 1 --weight-decay 0.0001 --seed 0
kerascnn publish runs/mobilecnn_050.mnist --name mobilecnn_050.mnist --dataset mnist --data tfds:mnist --manual-dir ../shared/datasets/mnist --cards zoo
