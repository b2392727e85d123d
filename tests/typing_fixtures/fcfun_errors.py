"""Mistakes with fcfun's API that mypy must report, on the line marked ``# E: <message part>``."""

import numpy as np
from toolz import pipe

import fcfun

spec = fcfun.mlp([4, 8, 3], output=fcfun.softmax, loss=fcfun.softmax_cross_entropy)
params = fcfun.init(spec, seed=0)
X = np.zeros((5, 4))
y = np.array([0, 1, 2, 0, 1])
loss, grads = fcfun.loss_and_grad(spec, params, X, y)

# Gradients of the wrong structure.
fcfun.apply_updates(params, list(grads))  # E: type "list[Dense]"
fcfun.apply_updates(params, grads[0])  # E: incompatible type "Dense"
opt = fcfun.sgd(0.1)
opt.update(grads[0], opt.init(params), params)  # E: incompatible type "Dense"
layer = fcfun.Dense(W=X)  # E: Missing positional argument "b" in call to "Dense"

# Names that do not exist.
fcfun.activation("relux")  # E: "Literal['relux']"
fcfun.loss("hinge")  # E: "Literal['hinge']"
fcfun.mlp([4, 3], output="softmaxx", loss="half_squared_error")  # E: Argument "output"
unknown = fcfun.relux  # E: Module has no attribute "relux"

# A TrainState where parameters are meant.
trained = fcfun.fit(spec, X, y, optimizer=fcfun.sgd(0.1), epochs=1, batch_size=2, seed=0)
fcfun.predict(spec, trained, X)  # E: type "TrainState[ChainState]"


# A pipe whose stages do not fit together.
def first_weights(p: fcfun.Params) -> fcfun.FloatArray:
    return p[0].W


def scale(p: fcfun.Params) -> fcfun.Params:
    return p


pipe(params, first_weights, scale)  # E: Cannot infer value of type parameter

# Results of the wrong type.
state = fcfun.fit(spec, X, y, optimizer=fcfun.adam(1e-3), epochs=1, batch_size=2, seed=0)
epochs_done: str = state.epoch  # E: Incompatible types in assignment
adam = fcfun.adam(1e-3)
fcfun.fit(spec, X, y, optimizer=adam, epochs=1.5, batch_size=2, seed=0)  # E: Argument "epochs"

# Labels where a mask is expected, and a mask of the wrong leaf type.
fcfun.masked(fcfun.sgd(0.1), fcfun.layer_labels("a", "b"))  # E: Argument 2 to "masked"
fcfun.multi_transform(
    {"a": fcfun.sgd(0.1)}, fcfun.weights_only(spec)
)  # E: Argument 2 to "multi_transform"
