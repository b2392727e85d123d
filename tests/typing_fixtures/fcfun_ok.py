"""Correct uses of fcfun's API: mypy --strict must report nothing here."""

import functools

import numpy as np
from toolz import pipe

import fcfun

spec = fcfun.mlp([4, 8, 3], hidden="relu", output=fcfun.softmax, loss="softmax_cross_entropy")
params: fcfun.Params = fcfun.init(spec, seed=0, dtype=np.float32)
X = np.zeros((5, 4), dtype=np.float32)
y = np.array([0, 1, 2, 0, 1])

output, caches = fcfun.forward(spec, params, X)
loss, grads = fcfun.loss_and_grad(spec, params, X, y, alpha=1e-4)
checked: float = loss
same_type: fcfun.Params = grads

optimizer = fcfun.adam(1e-3)
opt_state = optimizer.init(params)
updates, opt_state = optimizer.update(grads, opt_state, params)
params = fcfun.apply_updates(params, updates)

state = fcfun.fit(spec, X, y, optimizer=optimizer, epochs=2, batch_size=2, seed=0)
adam_state: fcfun.ChainState = state.opt_state
resumed = fcfun.fit(spec, X, y, optimizer=optimizer, epochs=3, batch_size=2, params=state)
epochs_done: int = resumed.epoch
last_loss: float = resumed.history.train_loss[-1]
print(fcfun.fingerprint(resumed), fcfun.activation("tanh").name, fcfun.loss("mean_squared_error"))

data = fcfun.dataset(spec, X, y)
epoch = functools.partial(fcfun.train_epoch, spec, optimizer, data, batch_size=2)
after_one: fcfun.TrainState[fcfun.ChainState] = epoch(state, 2)


def first_weights(p: fcfun.Params) -> fcfun.FloatArray:
    return p[0].W


def total(W: fcfun.FloatArray) -> float:
    return float(W.sum())


value: float = pipe(params, first_weights, total)
schedule = fcfun.cosine_decay(0.1, decay_steps=100)
sgd = fcfun.sgd(schedule, momentum=0.9, nesterov=True)
