"""fcfun: fully connected neural networks as pure functions over numpy."""

from fcfun._activations import Activation as Activation
from fcfun._activations import ActivationName as ActivationName
from fcfun._activations import activation as activation
from fcfun._activations import identity as identity
from fcfun._activations import leaky_relu as leaky_relu
from fcfun._activations import relu as relu
from fcfun._activations import sigmoid as sigmoid
from fcfun._activations import softmax as softmax
from fcfun._activations import softplus as softplus
from fcfun._activations import tanh as tanh
from fcfun._gradcheck import gradcheck as gradcheck
from fcfun._initializers import Initializer as Initializer
from fcfun._initializers import glorot_normal as glorot_normal
from fcfun._initializers import glorot_uniform as glorot_uniform
from fcfun._initializers import he_normal as he_normal
from fcfun._initializers import he_uniform as he_uniform
from fcfun._initializers import lecun_normal as lecun_normal
from fcfun._initializers import zeros as zeros
from fcfun._layers import LinearCache as LinearCache
from fcfun._layers import dense_backward as dense_backward
from fcfun._layers import dense_forward as dense_forward
from fcfun._layers import linear_backward as linear_backward
from fcfun._layers import linear_forward as linear_forward
from fcfun._losses import Loss as Loss
from fcfun._losses import LossName as LossName
from fcfun._losses import binary_cross_entropy as binary_cross_entropy
from fcfun._losses import binary_cross_entropy_with_logits as binary_cross_entropy_with_logits
from fcfun._losses import half_squared_error as half_squared_error
from fcfun._losses import loss as loss
from fcfun._losses import mean_squared_error as mean_squared_error
from fcfun._losses import softmax_cross_entropy as softmax_cross_entropy
from fcfun._network import MLP as MLP
from fcfun._network import backward as backward
from fcfun._network import forward as forward
from fcfun._network import init as init
from fcfun._network import loss_and_grad as loss_and_grad
from fcfun._network import mlp as mlp
from fcfun._network import predict as predict
from fcfun._types import Caches as Caches
from fcfun._types import Dense as Dense
from fcfun._types import DenseCache as DenseCache
from fcfun._types import FloatArray as FloatArray
from fcfun._types import Params as Params

__all__ = [
    "MLP",
    "Activation",
    "ActivationName",
    "Caches",
    "Dense",
    "DenseCache",
    "FloatArray",
    "Initializer",
    "LinearCache",
    "Loss",
    "LossName",
    "Params",
    "activation",
    "backward",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "dense_backward",
    "dense_forward",
    "forward",
    "glorot_normal",
    "glorot_uniform",
    "gradcheck",
    "half_squared_error",
    "he_normal",
    "he_uniform",
    "identity",
    "init",
    "leaky_relu",
    "lecun_normal",
    "linear_backward",
    "linear_forward",
    "loss",
    "loss_and_grad",
    "mean_squared_error",
    "mlp",
    "predict",
    "relu",
    "sigmoid",
    "softmax",
    "softmax_cross_entropy",
    "softplus",
    "tanh",
    "zeros",
]
