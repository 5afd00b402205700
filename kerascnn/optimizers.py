"""Keras optimizers whose moving average of the weights ramps up.

Keras' `use_ema=True` starts the average at the first step's weights with
the full momentum, so after `t` steps the start still weighs
`ema_momentum ** t`: with 0.999, 68% after a 380-step run, an average
that is mostly the untrained network (a LeNet-5 run of that length on
1,200 MNIST digits tested at 67.00% with it, 94.58% without an average and
95.00% with these; `benchmarks/moving_average.py`). These optimizers take
TensorFlow's rule (`tf.train.ExponentialMovingAverage(num_updates=step)`):
the average starts at the first step's weights (as Keras') and the momentum
at step `t` is `min(ema_momentum, (1 + t) / (10 + t))`, so the average
follows the weights early on and, once `t` is well past
`1 / (1 - ema_momentum)`, averages over about that many last steps.
Everything else is the Keras optimizer's.
"""

from __future__ import annotations

import keras


class _MomentumWarmup:
    """Optimizer mixin: the moving average's momentum ramps up with the step."""

    def _update_model_variables_moving_average(self, trainable_variables):
        # NOTE: overrides Keras' private update (base_optimizer.py), the one
        # place the average's momentum is applied; `apply` calls it after
        # each step, before `iterations` counts that step.
        if not self.use_ema:
            return
        step = keras.ops.cast(self.iterations, "float32")
        # As Keras: the first step's weights replace the average's zeros.
        momentum = keras.ops.where(
            step > 0, keras.ops.minimum(self.ema_momentum, (1.0 + step) / (10.0 + step)), 0.0
        )
        for variable, average in zip(trainable_variables, self._model_variables_moving_average):
            if average is not None:
                rate = keras.ops.cast(momentum, variable.dtype)
                average.assign(rate * average + (1.0 - rate) * variable)


@keras.saving.register_keras_serializable(package="kerascnn")
class AveragingSGD(_MomentumWarmup, keras.optimizers.SGD):
    """`keras.optimizers.SGD` whose moving average (`use_ema=True`) ramps
    its momentum up to `ema_momentum` over the first steps.

    Example:
    >>> AveragingSGD(0.1, momentum=0.9, use_ema=True, ema_momentum=0.999)
    """


@keras.saving.register_keras_serializable(package="kerascnn")
class AveragingAdam(_MomentumWarmup, keras.optimizers.Adam):
    """`keras.optimizers.Adam` whose moving average ramps up (as `AveragingSGD`)."""


@keras.saving.register_keras_serializable(package="kerascnn")
class AveragingAdamW(_MomentumWarmup, keras.optimizers.AdamW):
    """`keras.optimizers.AdamW` whose moving average ramps up (as `AveragingSGD`)."""
