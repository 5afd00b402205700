#!/bin/sh
# Trains and publishes lenet5.mnist; run from the repository root.
set -e
kerascnn train lenet5 --data tfds:mnist --manual-dir ../shared/datasets/mnist --out runs/lenet5.mnist --batch-size 128 --augment translation --validation-split 0.1 --epochs 20 --optimizer adamw --lr 0.002 --schedule cosine --warmup-epochs 0 --weight-decay 0.0001 --seed 0
kerascnn publish runs/lenet5.mnist --name lenet5.mnist --dataset mnist --data tfds:mnist --manual-dir ../shared/datasets/mnist --cards zoo
