"""fcfun: fully connected neural networks as pure functions over numpy."""

from fcfun._activations import Activation as Activation
from fcfun._activations import ActivationName as ActivationName
from fcfun._activations import activation as activation
from fcfun._activations import exp as exp
from fcfun._activations import identity as identity
from fcfun._activations import leaky_relu as leaky_relu
from fcfun._activations import relu as relu
from fcfun._activations import sigmoid as sigmoid
from fcfun._activations import softmax as softmax
from fcfun._activations import softplus as softplus
from fcfun._activations import sort as sort
from fcfun._activations import tanh as tanh
from fcfun._dropout import StepKey as StepKey
from fcfun._ensemble import Ensemble as Ensemble
from fcfun._ensemble import fit_ensemble as fit_ensemble
from fcfun._ensemble import member as member
from fcfun._ensemble import member_by_member as member_by_member
from fcfun._ensemble import member_seeds as member_seeds
from fcfun._ensemble import predict_ensemble as predict_ensemble
from fcfun._ensemble import stack_params as stack_params
from fcfun._environment import replay_environment as replay_environment
from fcfun._errors import DivergenceError as DivergenceError
from fcfun._flat import flat as flat
from fcfun._gradcheck import gradcheck as gradcheck
from fcfun._initializers import Initializer as Initializer
from fcfun._initializers import glorot_normal as glorot_normal
from fcfun._initializers import glorot_uniform as glorot_uniform
from fcfun._initializers import he_normal as he_normal
from fcfun._initializers import he_uniform as he_uniform
from fcfun._initializers import lecun_normal as lecun_normal
from fcfun._initializers import zeros as zeros
from fcfun._io import checkpoint_environment as checkpoint_environment
from fcfun._io import load as load
from fcfun._io import save as save
from fcfun._layers import LinearCache as LinearCache
from fcfun._layers import dense_backward as dense_backward
from fcfun._layers import dense_forward as dense_forward
from fcfun._layers import linear_backward as linear_backward
from fcfun._layers import linear_forward as linear_forward
from fcfun._lbfgs import LbfgsState as LbfgsState
from fcfun._lbfgs import Minimum as Minimum
from fcfun._lbfgs import lbfgs as lbfgs
from fcfun._lbfgs import minimize as minimize
from fcfun._losses import Loss as Loss
from fcfun._losses import LossName as LossName
from fcfun._losses import binary_cross_entropy as binary_cross_entropy
from fcfun._losses import binary_cross_entropy_with_logits as binary_cross_entropy_with_logits
from fcfun._losses import half_squared_error as half_squared_error
from fcfun._losses import huber as huber
from fcfun._losses import loss as loss
from fcfun._losses import mean_absolute_error as mean_absolute_error
from fcfun._losses import mean_squared_error as mean_squared_error
from fcfun._losses import poisson as poisson
from fcfun._losses import quantile as quantile
from fcfun._losses import softmax_cross_entropy as softmax_cross_entropy
from fcfun._metrics import Metric as Metric
from fcfun._metrics import accuracy as accuracy
from fcfun._metrics import d2_poisson_score as d2_poisson_score
from fcfun._metrics import label_accuracy as label_accuracy
from fcfun._metrics import r2_score as r2_score
from fcfun._network import backward as backward
from fcfun._network import dropout_masks as dropout_masks
from fcfun._network import forward as forward
from fcfun._network import init as init
from fcfun._network import loss_and_grad as loss_and_grad
from fcfun._network import predict as predict
from fcfun._network import unflat as unflat
from fcfun._optimizers import ChainState as ChainState
from fcfun._optimizers import EmptyState as EmptyState
from fcfun._optimizers import FlatParams as FlatParams
from fcfun._optimizers import Objective as Objective
from fcfun._optimizers import Optimizer as Optimizer
from fcfun._optimizers import ScaleByAdagradState as ScaleByAdagradState
from fcfun._optimizers import ScaleByAdamState as ScaleByAdamState
from fcfun._optimizers import ScaleByPlateauState as ScaleByPlateauState
from fcfun._optimizers import ScaleByRmsState as ScaleByRmsState
from fcfun._optimizers import ScaleByScheduleState as ScaleByScheduleState
from fcfun._optimizers import ScaleByStddevState as ScaleByStddevState
from fcfun._optimizers import TraceState as TraceState
from fcfun._optimizers import adagrad as adagrad
from fcfun._optimizers import adam as adam
from fcfun._optimizers import adamw as adamw
from fcfun._optimizers import add_decayed_weights as add_decayed_weights
from fcfun._optimizers import apply_updates as apply_updates
from fcfun._optimizers import chain as chain
from fcfun._optimizers import clip_by_global_norm as clip_by_global_norm
from fcfun._optimizers import donated_step as donated_step
from fcfun._optimizers import optimizer_step as optimizer_step
from fcfun._optimizers import rmsprop as rmsprop
from fcfun._optimizers import scale as scale
from fcfun._optimizers import scale_by_adagrad as scale_by_adagrad
from fcfun._optimizers import scale_by_adam as scale_by_adam
from fcfun._optimizers import scale_by_adam_sklearn as scale_by_adam_sklearn
from fcfun._optimizers import scale_by_learning_rate as scale_by_learning_rate
from fcfun._optimizers import scale_by_plateau as scale_by_plateau
from fcfun._optimizers import scale_by_rms as scale_by_rms
from fcfun._optimizers import scale_by_schedule as scale_by_schedule
from fcfun._optimizers import scale_by_stddev as scale_by_stddev
from fcfun._optimizers import set_scale as set_scale
from fcfun._optimizers import sgd as sgd
from fcfun._optimizers import trace as trace
from fcfun._partition import Labels as Labels
from fcfun._partition import Leaves as Leaves
from fcfun._partition import Mask as Mask
from fcfun._partition import MaskedState as MaskedState
from fcfun._partition import MultiTransformState as MultiTransformState
from fcfun._partition import layer_labels as layer_labels
from fcfun._partition import masked as masked
from fcfun._partition import multi_transform as multi_transform
from fcfun._partition import set_to_zero as set_to_zero
from fcfun._partition import weights_only as weights_only
from fcfun._plateau import ReduceOnPlateau as ReduceOnPlateau
from fcfun._plateau import plateau_scale as plateau_scale
from fcfun._schedules import Schedule as Schedule
from fcfun._schedules import constant as constant
from fcfun._schedules import cosine_decay as cosine_decay
from fcfun._schedules import cosine_warm_restarts as cosine_warm_restarts
from fcfun._schedules import exponential_decay as exponential_decay
from fcfun._schedules import inverse_scaling as inverse_scaling
from fcfun._schedules import linear_warmup as linear_warmup
from fcfun._schedules import step_decay as step_decay
from fcfun._sources import RowSource as RowSource
from fcfun._spec import MLP as MLP
from fcfun._spec import SpecNames as SpecNames
from fcfun._spec import mlp as mlp
from fcfun._spec import spec_from_names as spec_from_names
from fcfun._spec import spec_names as spec_names
from fcfun._state import History as History
from fcfun._state import TrainState as TrainState
from fcfun._summary import summary as summary
from fcfun._training import Batch as Batch
from fcfun._training import Dataset as Dataset
from fcfun._training import EarlyStopping as EarlyStopping
from fcfun._training import Stage as Stage
from fcfun._training import StepState as StepState
from fcfun._training import TrainConfig as TrainConfig
from fcfun._training import batches as batches
from fcfun._training import dataset as dataset
from fcfun._training import epoch_data as epoch_data
from fcfun._training import epoch_of as epoch_of
from fcfun._training import epoch_order as epoch_order
from fcfun._training import evaluate as evaluate
from fcfun._training import final as final
from fcfun._training import fit as fit
from fcfun._training import fit_iter as fit_iter
from fcfun._training import make_step as make_step
from fcfun._training import observe as observe
from fcfun._training import stop_early as stop_early
from fcfun._training import stop_on_divergence as stop_on_divergence
from fcfun._training import stop_on_plateau as stop_on_plateau
from fcfun._training import train_epoch as train_epoch
from fcfun._training import train_step as train_step
from fcfun._tree import fingerprint as fingerprint
from fcfun._tree import flatten as flatten
from fcfun._tree import unflatten as unflatten
from fcfun._types import Caches as Caches
from fcfun._types import Dense as Dense
from fcfun._types import DenseCache as DenseCache
from fcfun._types import FloatArray as FloatArray
from fcfun._types import Params as Params

__all__ = [
    "MLP",
    "Activation",
    "ActivationName",
    "Batch",
    "Caches",
    "ChainState",
    "Dataset",
    "Dense",
    "DenseCache",
    "DivergenceError",
    "EarlyStopping",
    "EmptyState",
    "Ensemble",
    "FlatParams",
    "FloatArray",
    "History",
    "Initializer",
    "Labels",
    "LbfgsState",
    "Leaves",
    "LinearCache",
    "Loss",
    "LossName",
    "Mask",
    "MaskedState",
    "Metric",
    "Minimum",
    "MultiTransformState",
    "Objective",
    "Optimizer",
    "Params",
    "ReduceOnPlateau",
    "RowSource",
    "ScaleByAdagradState",
    "ScaleByAdamState",
    "ScaleByPlateauState",
    "ScaleByRmsState",
    "ScaleByScheduleState",
    "ScaleByStddevState",
    "Schedule",
    "SpecNames",
    "Stage",
    "StepKey",
    "StepState",
    "TraceState",
    "TrainConfig",
    "TrainState",
    "accuracy",
    "activation",
    "adagrad",
    "adam",
    "adamw",
    "add_decayed_weights",
    "apply_updates",
    "backward",
    "batches",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "chain",
    "checkpoint_environment",
    "clip_by_global_norm",
    "constant",
    "cosine_decay",
    "cosine_warm_restarts",
    "d2_poisson_score",
    "dataset",
    "dense_backward",
    "dense_forward",
    "donated_step",
    "dropout_masks",
    "epoch_data",
    "epoch_of",
    "epoch_order",
    "evaluate",
    "exp",
    "exponential_decay",
    "final",
    "fingerprint",
    "fit",
    "fit_ensemble",
    "fit_iter",
    "flat",
    "flatten",
    "forward",
    "glorot_normal",
    "glorot_uniform",
    "gradcheck",
    "half_squared_error",
    "he_normal",
    "he_uniform",
    "huber",
    "identity",
    "init",
    "inverse_scaling",
    "label_accuracy",
    "layer_labels",
    "lbfgs",
    "leaky_relu",
    "lecun_normal",
    "linear_backward",
    "linear_forward",
    "linear_warmup",
    "load",
    "loss",
    "loss_and_grad",
    "make_step",
    "masked",
    "mean_absolute_error",
    "mean_squared_error",
    "member",
    "member_by_member",
    "member_seeds",
    "minimize",
    "mlp",
    "multi_transform",
    "observe",
    "optimizer_step",
    "plateau_scale",
    "poisson",
    "predict",
    "predict_ensemble",
    "quantile",
    "r2_score",
    "relu",
    "replay_environment",
    "rmsprop",
    "save",
    "scale",
    "scale_by_adagrad",
    "scale_by_adam",
    "scale_by_adam_sklearn",
    "scale_by_learning_rate",
    "scale_by_plateau",
    "scale_by_rms",
    "scale_by_schedule",
    "scale_by_stddev",
    "set_scale",
    "set_to_zero",
    "sgd",
    "sigmoid",
    "softmax",
    "softmax_cross_entropy",
    "softplus",
    "sort",
    "spec_from_names",
    "spec_names",
    "stack_params",
    "step_decay",
    "stop_early",
    "stop_on_divergence",
    "stop_on_plateau",
    "summary",
    "tanh",
    "trace",
    "train_epoch",
    "train_step",
    "unflat",
    "unflatten",
    "weights_only",
    "zeros",
]
