#!/bin/sh
# Trains and publishes minivgg_m.cifar10; run from the repository root.
set -e
tar -xzf ../shared/datasets/cifar10-jpg/CIFAR-10-images.tar.gz
kerascnn train minivgg_m --data CIFAR-10-images --out runs/minivgg_m.cifar10 --batch-size 128 --augment flip,crop --validation-split 0.04 --epochs 30 --optimizer sgd --lr 0.05 --schedule cosine --warmup-epochs 1 --weight-decay 0.0005 --seed 0
kerascnn publish runs/minivgg_m.cifar10 --name minivgg_m.cifar10 --dataset cifar10 --data CIFAR-10-images --cards zoo
