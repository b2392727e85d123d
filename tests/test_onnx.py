"""fcfun.onnx: exported networks and converted pipelines run in onnxruntime as fcfun predicts.

Tolerances. onnxruntime sums a layer's products in another order than OpenBLAS (which
itself changes order with its kernel) and has its own ``exp`` / ``log`` / ``tanh``, so the
two differ by rounding. Each comparison is bounded by ``tests/_bounds.forward_error``: per
layer ``2 gamma_{n+1} (|A| |W| + |b|)`` for the two sums, the input error carried through
``|W|`` and the activation's Jacobian (``exp`` multiplies the absolute error of its input,
which grows with ``|z|``, by ``exp(z)``), and ``2 * ACTIVATION_ULPS`` ulps for the two
activations' own roundings; a pipeline adds its scaler's roundings at the input.
"""

from __future__ import annotations

import subprocess
import sys
import typing
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import fcfun
from fcfun._activations import _BY_NAME, parse_activation
from fcfun.onnx import OPSET, register_skl2onnx, to_onnx
from tests._bounds import assert_within, both, forward_error

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

Array = np.ndarray[Any, Any]

# fcfun's own name table, so that a new built-in activation is exported here untold.
ACTIVATIONS = [parse_activation(name) for name in _BY_NAME] + [fcfun.leaky_relu(0.1)]
DTYPES = [np.float32, np.float64]


def session(model: Any) -> Any:
    """An onnxruntime session on the CPU, one thread, warnings not printed."""
    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.intra_op_num_threads = 1
    return ort.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )


def assert_close(
    actual: Array, spec: fcfun.MLP, params: fcfun.Params, X: Array, dX: Array | float = 0.0
) -> None:
    """``actual`` is ``predict(spec, params, X)`` in its dtype and shape, within the bound on
    two implementations' rounding (``forward_error``), ``X`` known to within ``dX``."""
    expected = np.asarray(fcfun.predict(spec, params, X))
    assert actual.dtype == expected.dtype
    assert_within(actual, expected, forward_error(spec, params, X, dX))


def assert_pipeline_close(actual: Array, pipeline: Any, X: Array, method: str) -> None:
    """``actual`` (the converted pipeline's ``method`` output on ``X``) is the pipeline's,
    within ``forward_error`` of its network on the scaled ``X``. The scaler's inputs differ
    by rounding: scikit-learn's ``(x - mean) / scale`` and onnx's ``(x - mean) * (1 /
    scale)`` each round 3 times, in the coarser of ``X``'s and the network's dtypes (which
    also rounds ``X`` itself). A binary classifier's ``1 - p`` column adds one rounding."""
    scaler, estimator = pipeline[0], pipeline[-1]
    spec, params = estimator.spec_, estimator.params_
    dtype = params[0].W.dtype
    coarse = np.float32 if np.float32 in (X.dtype, dtype) else np.float64
    dX = both(3, coarse) * (np.abs(X) + np.abs(scaler.mean_)) / scaler.scale_
    scaled = scaler.transform(X.astype(dtype)).astype(dtype)
    bound = forward_error(spec, params, scaled, dX)
    if method == "predict_proba" and bound.shape[1] == 1:  # [1 - p, p]
        bound = np.hstack([bound, bound]) + both(1, dtype)
    expected = getattr(pipeline, method)(X.astype(dtype))
    assert_within(actual, expected.reshape(actual.shape), bound)


def random_params(spec: fcfun.MLP, dtype: type[np.floating[Any]], seed: int) -> fcfun.Params:
    """fcfun's initial weights with random (non-zero) biases, in ``dtype``."""
    rng = np.random.default_rng(seed)
    return tuple(
        fcfun.Dense(W.astype(dtype), rng.normal(size=b.shape).astype(dtype))
        for W, b in fcfun.init(spec, seed=seed)
    )


# to_onnx -------------------------------------------------------------------------------


def test_importing_fcfun_imports_neither_fcfun_onnx_nor_onnx() -> None:
    code = (
        "import sys, fcfun; print('fcfun.onnx' in sys.modules, 'onnx' in sys.modules); "
        "import fcfun.onnx; print('onnx' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False", "False"]


def test_the_activations_tested_are_every_builtin() -> None:
    names = {a.name for a in ACTIVATIONS}
    assert set(typing.get_args(fcfun.ActivationName)) <= names | {"leaky_relu"}
    assert set(_BY_NAME) <= names


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("output", ACTIVATIONS, ids=lambda a: f"out-{a.name}")
@pytest.mark.parametrize("hidden", ACTIVATIONS, ids=lambda a: f"hidden-{a.name}")
def test_the_model_predicts_as_fcfun(
    hidden: fcfun.Activation, output: fcfun.Activation, dtype: type[np.floating[Any]]
) -> None:
    spec = fcfun.mlp([5, 16, 16, 4], hidden=hidden, output=output, loss="half_squared_error")
    params = random_params(spec, dtype, seed=1)
    # An activation whose range ends (exp) says where: its layers get inputs of order 1
    # (a tenth of the weights behind them, small data) rather than of order 10.
    if hidden.max_input is not None:
        params = tuple(fcfun.Dense(0.1 * W, 0.1 * b) for W, b in params)
    run = session(to_onnx(spec, params))
    rng = np.random.default_rng(2)
    scale = 0.3 if hidden.max_input is not None else 3.0
    for m in (1, 7, 100):
        X = (scale * rng.normal(size=(m, 5))).astype(dtype)
        (A,) = run.run(["A"], {"X": X})
        assert_close(A, spec, params, X)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_the_tails_follow_fcfuns_stable_formulas(dtype: type[np.floating[Any]]) -> None:
    """Pre-activations from -1000 to 1000 (to ``max_input`` for an activation that has
    one): exp never overflows where fcfun's output is finite and tails keep their digits."""
    z = np.array([-1000, -700, -90, -40, -20, -1, -1e-9, 0, 1e-9, 1, 20, 40, 90, 700, 1000])
    for activation in ACTIVATIONS:
        top = activation.max_input(np.dtype(dtype)) if activation.max_input else np.inf
        z_in_range = np.minimum(z, np.asarray(top, dtype))
        X = np.stack([z_in_range, z_in_range[::-1], np.roll(z_in_range, 3)], axis=1).astype(dtype)
        spec = fcfun.mlp([3, 3], output=activation, loss="half_squared_error")
        params = (fcfun.Dense(np.eye(3, dtype=dtype), np.zeros(3, dtype=dtype)),)
        (A,) = session(to_onnx(spec, params)).run(None, {"X": X})
        assert_close(A, spec, params, X)


def test_the_model_names_dtype_opset_and_dynamic_batch() -> None:
    spec = fcfun.mlp([3, 2], output="softmax", loss="softmax_cross_entropy")
    params = random_params(spec, np.float32, seed=0)
    # Names an inner tensor would take are kept for the input and output.
    model = to_onnx(spec, params, name="net", input_name="W0", output_name="A0")
    onnx.checker.check_model(model, full_check=True)
    assert model.graph.name == "net"
    assert [(o.domain, o.version) for o in model.opset_import] == [("", OPSET)]
    assert model.ir_version == 7
    (inp,), (out,) = model.graph.input, model.graph.output
    assert (inp.name, out.name) == ("W0", "A0")
    for value, n in ((inp, 3), (out, 2)):
        tensor = value.type.tensor_type
        assert tensor.elem_type == onnx.TensorProto.FLOAT
        assert [(d.dim_param, d.dim_value) for d in tensor.shape.dim] == [("N", 0), ("", n)]
    X = np.ones((4, 3), np.float32)
    (A,) = session(model).run(["A0"], {"W0": X})
    assert_close(A, spec, params, X)


def test_the_docstring_example_runs() -> None:
    spec = fcfun.mlp([4, 8, 3], hidden="tanh", output="softmax", loss="softmax_cross_entropy")
    params = fcfun.init(spec, seed=0)
    X = np.ones((5, 4))
    (A,) = session(to_onnx(spec, params)).run(["A"], {"X": X})
    assert_close(A, spec, params, X)


def cube(Z: fcfun.FloatArray) -> fcfun.FloatArray:
    return Z**3


def cube_backward(
    dA: fcfun.FloatArray, Z: fcfun.FloatArray, A: fcfun.FloatArray
) -> fcfun.FloatArray:
    return dA * 3 * Z**2


@pytest.mark.parametrize(
    ("activations", "where", "name"),
    [
        ((fcfun.Activation("cube", cube, cube_backward), fcfun.sigmoid), 0, "cube"),
        ((fcfun.relu, fcfun.Activation("cube", cube, cube_backward)), 1, "cube"),
        # Named like a built-in, but the user's own functions: refused, never swapped.
        ((fcfun.Activation("relu", cube, cube_backward), fcfun.sigmoid), 0, "relu"),
    ],
)
def test_a_user_defined_activation_is_refused_by_its_place(
    activations: tuple[fcfun.Activation, ...], where: int, name: str
) -> None:
    spec = fcfun.mlp([2, 3, 1], output="sigmoid", loss="binary_cross_entropy")
    spec = spec._replace(activations=activations)
    params = fcfun.init(spec, seed=0)
    with pytest.raises(ValueError, match=rf"spec\.activations\[{where}\] .* named '{name}'"):
        to_onnx(spec, params)


def test_bad_arguments_are_refused() -> None:
    spec = fcfun.mlp([2, 1], output="sigmoid", loss="binary_cross_entropy")
    params = fcfun.init(spec, seed=0)
    with pytest.raises(ValueError, match="input_name and output_name must differ"):
        to_onnx(spec, params, input_name="X", output_name="X")
    with pytest.raises(ValueError, match="params must hold 1 layers"):
        to_onnx(spec, params * 2)
    with pytest.raises(TypeError, match="spec must be an fcfun MLP"):
        to_onnx(params, params)  # type: ignore[arg-type]


# skl2onnx: fcfun's estimators in scikit-learn pipelines ---------------------------------


@pytest.fixture
def skl2onnx() -> Any:
    pytest.importorskip("sklearn")
    module = pytest.importorskip("skl2onnx")
    register_skl2onnx()
    register_skl2onnx()  # idempotent
    return module


def fitted_pipeline(estimator: Any, X: Array, y: Array) -> Any:
    """``StandardScaler`` + ``estimator`` fitted (30 epochs: no convergence is expected)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return make_pipeline(StandardScaler(), estimator).fit(X, y)


def classification(classes: int, seed: int = 0) -> tuple[Array, Array]:
    from sklearn.datasets import make_classification

    X, y = make_classification(
        200, 6, n_informative=4, n_classes=classes, n_clusters_per_class=1, random_state=seed
    )
    return 5 * X + 3, y


LABELS: dict[str, Callable[[Array], Array]] = {
    "ints": lambda y: y,
    "strings": lambda y: np.array(["ant", "bee", "cat"])[y],
    "integral-floats": lambda y: 2.0 * y,
}


@pytest.mark.parametrize("classes", [2, 3])
@pytest.mark.parametrize("labels", list(LABELS))
def test_a_classifier_pipeline_converts_with_labels_and_probabilities(
    skl2onnx: Any, classes: int, labels: str
) -> None:
    from fcfun.sklearn import FCClassifier

    X, y = classification(classes)
    pipeline = fitted_pipeline(
        FCClassifier((8,), random_state=0, max_iter=30), X, LABELS[labels](y)
    )
    model = skl2onnx.to_onnx(pipeline, X[:1], options={FCClassifier: {"zipmap": False}})
    label, probabilities = session(model).run(["label", "probabilities"], {"X": X})
    np.testing.assert_array_equal(label, pipeline.predict(X))
    assert probabilities.shape == (200, classes)
    assert_pipeline_close(probabilities, pipeline, X, "predict_proba")


def test_a_multilabel_pipeline_converts_as_mlpclassifiers(skl2onnx: Any) -> None:
    from sklearn.datasets import make_multilabel_classification

    from fcfun.sklearn import FCClassifier

    X, Y = make_multilabel_classification(200, 6, n_classes=3, random_state=0)
    pipeline = fitted_pipeline(FCClassifier((8,), random_state=0, max_iter=30), X, Y)
    model = skl2onnx.to_onnx(pipeline, X[:1], options={FCClassifier: {"zipmap": False}})
    label, probabilities = session(model).run(["label", "probabilities"], {"X": X})
    assert label.dtype == np.int64
    np.testing.assert_array_equal(label, pipeline.predict(X))
    assert_pipeline_close(probabilities, pipeline, X, "predict_proba")


@pytest.mark.parametrize("outputs", [1, 2])
def test_a_regressor_pipeline_converts_to_n_by_outputs(skl2onnx: Any, outputs: int) -> None:
    from sklearn.datasets import make_regression

    from fcfun.sklearn import FCRegressor

    X, y = make_regression(200, 6, n_targets=outputs, random_state=0)
    pipeline = fitted_pipeline(FCRegressor((8,), random_state=0, max_iter=30), X, y)
    (variable,) = session(skl2onnx.to_onnx(pipeline, X[:1])).run(["variable"], {"X": X})
    assert variable.shape == (200, outputs)  # skl2onnx's regressor output, also for one
    assert_pipeline_close(variable, pipeline, X, "predict")


@pytest.mark.parametrize(
    ("fit_dtype", "input_dtype"),
    [(np.float32, np.float32), (np.float64, np.float32), (np.float32, np.float64)],
    ids=["fit-float32-input-float32", "fit-float64-input-float32", "fit-float32-input-float64"],
)
def test_float32_pipelines_and_mixed_dtypes(
    skl2onnx: Any, fit_dtype: type[np.floating[Any]], input_dtype: type[np.floating[Any]]
) -> None:
    """The network runs in its params' dtype; the outputs have the input's type.

    The model reads ``X`` in ``input_dtype`` and scikit-learn in ``fit_dtype``, and
    skl2onnx's float32 scaler multiplies by ``1 / scale_`` rounded to float32: the
    features differ by float32 roundings, so the probabilities agree to float32's
    precision and the labels exactly (this data has no near tie).
    """
    from fcfun.sklearn import FCClassifier

    X, y = classification(3)
    pipeline = fitted_pipeline(
        FCClassifier((8,), random_state=0, max_iter=30), X.astype(fit_dtype), y
    )
    assert pipeline[-1].params_[0].W.dtype == fit_dtype
    model = skl2onnx.to_onnx(
        pipeline, X[:1].astype(input_dtype), options={FCClassifier: {"zipmap": False}}
    )
    weights = {i.data_type for i in model.graph.initializer if i.name.startswith("W")}
    assert weights == {onnx.helper.np_dtype_to_tensor_dtype(np.dtype(fit_dtype))}
    label, probabilities = session(model).run(None, {"X": X.astype(input_dtype)})
    np.testing.assert_array_equal(label, pipeline.predict(X.astype(fit_dtype)))
    assert probabilities.dtype == input_dtype
    assert_pipeline_close(probabilities, pipeline, X.astype(input_dtype), "predict_proba")


def test_zipmap_by_default_as_for_mlpclassifier(skl2onnx: Any) -> None:
    """skl2onnx's default for classifiers: labels and a list of {class: probability}."""
    from fcfun.sklearn import FCClassifier

    X, y = classification(3)
    X32 = X.astype(np.float32)
    pipeline = fitted_pipeline(FCClassifier((8,), random_state=0, max_iter=30), X32, y)
    label, maps = session(skl2onnx.to_onnx(pipeline, X32[:1])).run(None, {"X": X32[:5]})
    np.testing.assert_array_equal(label, pipeline.predict(X32[:5]))
    probabilities = np.array([[row[c] for c in (0, 1, 2)] for row in maps], np.float32)
    assert_pipeline_close(probabilities, pipeline, X32[:5], "predict_proba")


def test_classes_that_are_no_onnx_label_are_refused(skl2onnx: Any) -> None:
    from fcfun.sklearn import FCClassifier

    X, y = classification(2)
    classes = np.array([0, 2**64 - 1], dtype=np.uint64)  # beyond int64: no look-alike
    pipeline = fitted_pipeline(FCClassifier((4,), max_iter=2), X, classes[y])
    with pytest.raises(ValueError, match="classes_ must be integers"):
        skl2onnx.to_onnx(pipeline, X[:1], options={FCClassifier: {"zipmap": False}})


def test_an_opset_below_13_is_refused(skl2onnx: Any) -> None:
    from fcfun.sklearn import FCRegressor

    X, y = classification(2)
    pipeline = fitted_pipeline(FCRegressor((4,), max_iter=2), X, y)
    with pytest.raises(ValueError, match="target_opset >= 13, got 12"):
        skl2onnx.to_onnx(pipeline, X[:1], target_opset=12)
