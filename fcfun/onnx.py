"""ONNX export: an fcfun network as an ONNX model, and skl2onnx converters for the estimators.

``to_onnx(spec, params)`` writes the network ``fcfun.predict`` runs: for every layer
``Z = X @ W + b`` (``MatMul`` then ``Add``, fcfun's order of rounding) and its activation,
in the params' dtype (float32 or float64), with one input ``X`` of shape ``(N, n_in)``
(``N`` dynamic) and one output ``A`` of shape ``(N, n_out)``. ``register_skl2onnx()``
teaches skl2onnx the estimators of ``fcfun.sklearn``, so that ``skl2onnx.to_onnx`` converts
a fitted ``FCClassifier`` or ``FCRegressor`` alone or inside a scikit-learn ``Pipeline``.

Import it as ``fcfun.onnx``; ``import fcfun`` never imports it. It needs the
``fcfun[onnx]`` extra (the ``onnx`` package), imported when a function is first called,
so this module imports without it; ``register_skl2onnx`` also needs ``skl2onnx`` and
``fcfun[sklearn]``.

Opset ``OPSET = 13`` (IR version 7): the lowest opset in which every op written here has
its current meaning (``Softmax(axis=1)`` row-wise for any rank), so the widest range of
runtimes loads the model (onnxruntime since 1.6). Every op written has a float64 kernel in
onnxruntime's CPU provider (the tests run each activation in float64 with onnxruntime
1.32): ``MatMul``, ``Add``, ``Sub``, ``Mul``, ``Div``, ``Abs``, ``Neg``, ``Exp``, ``Log``,
``Relu``, ``Tanh``, ``Softmax``, ``Less``, ``Greater``, ``Equal``, ``Where``, ``Identity``,
``Shape``, ``Gather``, ``TopK`` (``sort``: the row's ``k`` smallest of ``k``, ascending)
(and ``Cast``, ``Concat``, ``Reshape``, ``ArgMax``, ``Gather`` in the converters). Three
activations are composed of these, each as fcfun computes it:

* ``sigmoid``: ``e = exp(-|z|)``, ``(e if z < 0 else 1) / (1 + e)``. onnxruntime's
  ``Sigmoid`` is accurate only in absolute terms for small outputs (relative errors up
  to 2e-3 in float32 and 3e-12 in float64 for ``|z| < 10``).
* ``softplus``: ``max(z, 0) + log1p(exp(-|z|))``, with ``log1p(e)`` as
  ``e * log(u) / (u - 1)``, ``u = 1 + e`` (``e`` where ``u == 1``): ONNX has no
  ``log1p``, and onnxruntime has no float64 ``Softplus``.
* ``leaky_relu(slope)``: ``where(z > 0, z, slope * z)``, ``slope`` a constant of the
  params' dtype: ONNX's ``LeakyRelu`` holds ``alpha`` as a float32 attribute, and
  onnxruntime has no float64 ``LeakyRelu``.

What the model does not do that ``predict`` does: convert ``X`` (it takes the params'
dtype only), refuse non-finite data or results (they propagate as inf and NaN), and
compute in chunks. Its results equal ``predict``'s to rounding, not bit for bit: the
runtime's matrix products and ``exp`` / ``log`` / ``tanh`` kernels are its own.

Example (with the ``onnxruntime`` package):

    import fcfun, numpy as np, onnxruntime
    from fcfun.onnx import to_onnx

    spec = fcfun.mlp([4, 8, 3], hidden="tanh", output="softmax", loss="softmax_cross_entropy")
    params = fcfun.init(spec, seed=0)
    session = onnxruntime.InferenceSession(to_onnx(spec, params).SerializeToString())
    X = np.ones((5, 4))
    (A,) = session.run(["A"], {"X": X})   # A == fcfun.predict(spec, params, X), to rounding
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

import numpy as np

from fcfun._activations import Activation, is_builtin_activation, leaky_relu
from fcfun._spec import MLP, check_spec, params_dtype
from fcfun._types import Params

if TYPE_CHECKING:
    import onnx

__all__ = ["OPSET", "register_skl2onnx", "to_onnx"]

OPSET = 13
"""The ``ai.onnx`` opset ``to_onnx`` writes (with its IR version, 7)."""


def _require(package: str, extra: str) -> None:
    """An ``ImportError`` naming the extra to install when ``package`` is missing."""
    if importlib.util.find_spec(package) is None:
        raise ImportError(f"fcfun.onnx needs the {package} package: pip install '{extra}'")


# Graphs: where the nodes go ------------------------------------------------------------


class _Graph(Protocol):
    """Where a network's nodes and constants are written: a model, or skl2onnx's container."""

    def name(self, hint: str) -> str:
        """A tensor name not used before, ``hint`` if free."""
        ...

    def constant(self, hint: str, value: np.ndarray[Any, Any]) -> str:
        """The name of an initializer holding ``value`` (its dtype and shape)."""
        ...

    def node(
        self,
        op_type: str,
        inputs: Sequence[str],
        output: str,
        spare_outputs: Sequence[str] = (),
        **attributes: Any,
    ) -> str:
        """Add a node of the ``ai.onnx`` domain writing ``output`` (and ``spare_outputs``,
        outputs the op must have that nothing reads); return ``output``."""
        ...


def _op(graph: _Graph, op_type: str, inputs: Sequence[str], hint: str, **attributes: Any) -> str:
    """A node writing a fresh tensor named after ``hint``; its name."""
    return graph.node(op_type, inputs, graph.name(hint), **attributes)


class _ModelGraph:
    """A ``_Graph`` collecting ``onnx`` nodes and initializers for ``to_onnx``."""

    def __init__(self, reserved: Sequence[str]) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._used = set(reserved)
        self._constants: dict[tuple[str, tuple[int, ...], bytes], str] = {}

    def name(self, hint: str) -> str:
        name, count = hint, 0
        while name in self._used:
            count += 1
            name = f"{hint}_{count}"
        self._used.add(name)
        return name

    def constant(self, hint: str, value: np.ndarray[Any, Any]) -> str:
        key = (value.dtype.str, value.shape, value.tobytes())
        if key not in self._constants:
            from onnx import numpy_helper

            name = self.name(hint)
            self.initializers.append(numpy_helper.from_array(value, name))
            self._constants[key] = name
        return self._constants[key]

    def node(
        self,
        op_type: str,
        inputs: Sequence[str],
        output: str,
        spare_outputs: Sequence[str] = (),
        **attributes: Any,
    ) -> str:
        from onnx import helper

        outputs = [output, *spare_outputs]
        self.nodes.append(
            helper.make_node(op_type, list(inputs), outputs, name=output, **attributes)
        )
        return output


# Activations as nodes ------------------------------------------------------------------

_Emit: TypeAlias = Callable[[_Graph, str, np.dtype[Any], str], str]
"""``(graph, Z, dtype, hint) -> A``: writes an activation's nodes, returns ``A``'s name."""


def _scalar(graph: _Graph, value: float, dtype: np.dtype[Any]) -> str:
    return graph.constant(f"c{value:g}", np.asarray(value, dtype))


def _identity(graph: _Graph, Z: str, dtype: np.dtype[Any], hint: str) -> str:
    return Z


def _relu(graph: _Graph, Z: str, dtype: np.dtype[Any], hint: str) -> str:
    return _op(graph, "Relu", [Z], hint)


def _tanh(graph: _Graph, Z: str, dtype: np.dtype[Any], hint: str) -> str:
    return _op(graph, "Tanh", [Z], hint)


def _softmax(graph: _Graph, Z: str, dtype: np.dtype[Any], hint: str) -> str:
    return _op(graph, "Softmax", [Z], hint, axis=1)


def _exp_minus_abs(graph: _Graph, Z: str, hint: str) -> str:
    """``exp(-|z|)``, in (0, 1]."""
    absolute = _op(graph, "Abs", [Z], f"{hint}_abs")
    return _op(graph, "Exp", [_op(graph, "Neg", [absolute], f"{hint}_neg")], f"{hint}_exp")


def _sigmoid(graph: _Graph, Z: str, dtype: np.dtype[Any], hint: str) -> str:
    # fcfun's sigmoid_function: e = exp(-|z|), (e if z < 0 else 1) / (1 + e).
    one, zero = _scalar(graph, 1.0, dtype), _scalar(graph, 0.0, dtype)
    e = _exp_minus_abs(graph, Z, hint)
    negative = _op(graph, "Less", [Z, zero], f"{hint}_negative")
    numerator = _op(graph, "Where", [negative, e, one], f"{hint}_numerator")
    denominator = _op(graph, "Add", [e, one], f"{hint}_denominator")
    return _op(graph, "Div", [numerator, denominator], hint)


def _softplus(graph: _Graph, Z: str, dtype: np.dtype[Any], hint: str) -> str:
    # fcfun's softplus: max(z, 0) + log1p(exp(-|z|)), with log1p(e) = e * log(u) / (u - 1)
    # for u = 1 + e (Goldberg's rounding-corrected log1p; e itself where u rounds to 1).
    one = _scalar(graph, 1.0, dtype)
    e = _exp_minus_abs(graph, Z, hint)
    u = _op(graph, "Add", [e, one], f"{hint}_u")
    scaled = _op(graph, "Mul", [_op(graph, "Log", [u], f"{hint}_log_u"), e], f"{hint}_e_log_u")
    corrected = _op(
        graph, "Div", [scaled, _op(graph, "Sub", [u, one], f"{hint}_u_1")], f"{hint}_log1p"
    )
    rounds_to_one = _op(graph, "Equal", [u, one], f"{hint}_u_is_1")
    log1p = _op(graph, "Where", [rounds_to_one, e, corrected], f"{hint}_log1p_e")
    return _op(graph, "Add", [_op(graph, "Relu", [Z], f"{hint}_relu"), log1p], hint)


def _exp(graph: _Graph, Z: str, dtype: np.dtype[Any], hint: str) -> str:
    return _op(graph, "Exp", [Z], hint)


def _sort(graph: _Graph, Z: str, dtype: np.dtype[Any], hint: str) -> str:
    # fcfun's sort: each row ascending, as the k smallest of k (TopK, largest=0).
    shape = _op(graph, "Shape", [Z], f"{hint}_shape")
    second = graph.constant("axis_1", np.array([1], np.int64))
    width = _op(graph, "Gather", [shape, second], f"{hint}_k")
    order = graph.name(f"{hint}_order")
    return graph.node(
        "TopK", [Z, width], graph.name(hint), spare_outputs=[order], axis=1, largest=0, sorted=1
    )


def _leaky_relu(slope: float, graph: _Graph, Z: str, dtype: np.dtype[Any], hint: str) -> str:
    # fcfun's leaky_relu: where(z > 0, z, slope * z), slope rounded to the dtype as numpy does.
    positive = _op(graph, "Greater", [Z, _scalar(graph, 0.0, dtype)], f"{hint}_positive")
    scaled = _op(graph, "Mul", [Z, _scalar(graph, slope, dtype)], f"{hint}_scaled")
    return _op(graph, "Where", [positive, Z, scaled], hint)


_EMIT: dict[str, _Emit] = {
    "identity": _identity,
    "sigmoid": _sigmoid,
    "relu": _relu,
    "tanh": _tanh,
    "softplus": _softplus,
    "softmax": _softmax,
    "exp": _exp,
    "sort": _sort,
}
"""fcfun's activations by name, as nodes (``leaky_relu(<slope>)`` aside)."""

_LEAKY_PREFIX = "leaky_relu("


def _emitter(activation: Activation, where: str) -> _Emit:
    """How ``activation`` (named ``where`` in the spec) is written as nodes."""
    if not is_builtin_activation(activation):
        raise ValueError(
            f"{where} must be one of fcfun's own activations to be exported to ONNX, got a "
            f"user-defined one named {activation.name!r}"
        )
    if activation.name in _EMIT:
        return _EMIT[activation.name]
    if activation.name.startswith(_LEAKY_PREFIX):
        slope = float(activation.name[len(_LEAKY_PREFIX) : -1])
        if leaky_relu(slope) is activation:
            return functools.partial(_leaky_relu, slope)
    raise ValueError(f"{where}: fcfun.onnx has no ONNX form for activation {activation.name!r}")


def _emitters(spec: MLP) -> list[_Emit]:
    """Every layer's activation as nodes, refusing one that fcfun.onnx cannot write."""
    return [_emitter(a, f"spec.activations[{i}]") for i, a in enumerate(spec.activations)]


def _network(graph: _Graph, spec: MLP, params: Params, X: str) -> str:
    """Write the network's nodes on ``X`` (of the params' dtype); return the output's name.

    The caller has checked ``params`` against ``spec`` (``params_dtype``).
    """
    emitters = _emitters(spec)
    A = X
    for index, (layer, emit) in enumerate(zip(params, emitters, strict=True)):
        W = graph.constant(f"W{index}", layer.W)
        b = graph.constant(f"b{index}", layer.b)
        XW = _op(graph, "MatMul", [A, W], f"XW{index}")
        Z = _op(graph, "Add", [XW, b], f"Z{index}")
        A = emit(graph, Z, layer.W.dtype, f"A{index}")
    return A


# to_onnx -----------------------------------------------------------------------------


def _check_name(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, got {type(value).__name__}")
    if not value:
        raise ValueError(f"{what} must be a non-empty str")
    return value


def to_onnx(
    spec: MLP,
    params: Params,
    *,
    name: str = "fcfun",
    input_name: str = "X",
    output_name: str = "A",
) -> onnx.ModelProto:
    """The network as an ONNX model: ``output_name`` equals ``fcfun.predict`` to rounding.

    The model computes in the params' dtype (float32 or float64); its input
    ``input_name`` is ``(N, n_in)`` of that dtype, ``N`` dynamic (``"N"``), and its output
    ``output_name`` ``(N, n_out)``. Opset ``OPSET`` (13), IR version 7.

    Args:
        spec: the network; its activations must be fcfun's own (any loss: it is not used).
        params: its parameters, ``Dense(W, b)`` per layer, all float32 or all float64.
        name: the ONNX graph's name.
        input_name: the input's name (fcfun's ``X``).
        output_name: the output's name (fcfun's ``A``, the last layer's output).

    Returns:
        An ``onnx.ModelProto``, checked by ``onnx.checker``.

    Raises:
        ValueError: a user-defined activation (``spec.activations[i]``), params that do
            not fit ``spec``, or equal input and output names.
        TypeError: ``spec`` is no ``MLP``, ``params`` no float32 or float64 ``Params``.
        ImportError: the ``onnx`` package is missing (``pip install 'fcfun[onnx]'``).
    """
    spec = check_spec(spec)
    dtype = params_dtype(spec, params)
    _emitters(spec)  # refuse a user's activation before anything is built
    name = _check_name(name, "name")
    input_name = _check_name(input_name, "input_name")
    output_name = _check_name(output_name, "output_name")
    if input_name == output_name:
        raise ValueError(f"input_name and output_name must differ, both are {input_name!r}")
    _require("onnx", "fcfun[onnx]")
    import onnx
    from onnx import helper

    graph = _ModelGraph([input_name, output_name])
    A = _network(graph, spec, params, input_name)
    graph.node("Identity", [A], output_name)
    element = helper.np_dtype_to_tensor_dtype(dtype)
    model_graph = helper.make_graph(
        graph.nodes,
        name,
        [helper.make_tensor_value_info(input_name, element, ["N", spec.sizes[0]])],
        [helper.make_tensor_value_info(output_name, element, ["N", spec.sizes[-1]])],
        graph.initializers,
        doc_string=(
            f"fcfun network: sizes {spec.sizes}, activations "
            f"{[a.name for a in spec.activations]}, {dtype}"
        ),
    )
    opsets = [helper.make_opsetid("", OPSET)]
    model = helper.make_model(
        model_graph,
        opset_imports=opsets,
        ir_version=helper.find_min_ir_version_for(opsets),
        producer_name="fcfun",
    )
    onnx.checker.check_model(model)
    return model


# skl2onnx converters -------------------------------------------------------------------

_CLASSIFIER_OPTIONS: dict[str, list[Any]] = {
    "zipmap": [True, False, "columns"],
    "output_class_labels": [False, True],
    "nocl": [True, False],
}
"""The options skl2onnx registers for ``MLPClassifier``, handled by its classifier parser."""


def register_skl2onnx() -> None:
    """Register ``FCClassifier`` and ``FCRegressor`` with skl2onnx (idempotent).

    After it, ``skl2onnx.to_onnx(model, X[:1])`` converts a fitted estimator, alone or
    in a ``Pipeline``, with the outputs skl2onnx gives ``MLPClassifier`` /
    ``MLPRegressor``:

    * ``FCClassifier``: ``label`` (``classes_[argmax]``; for binary, ``classes_[1]`` where
      ``p > 0.5``; for multilabel, an int64 ``(N, n_labels)`` indicator of ``p > 0.5``)
      and ``probabilities`` (``predict_proba``: ``[1 - p, p]`` for binary). Labels are
      int64 for integer, boolean or integral float classes and strings for string
      classes; other classes are refused. skl2onnx's classifier options apply as for
      ``MLPClassifier``: by default ``zipmap`` turns the outputs into ``output_label``
      and a list of ``{class: probability}`` (a float32 input only: ONNX's ``ZipMap``
      takes no float64); ``options={FCClassifier: {"zipmap": False}}`` gives
      ``label`` and ``probabilities``.
    * ``FCRegressor``: ``variable``, ``(N, n_outputs)`` (``(N, 1)`` for one target,
      as skl2onnx writes every regressor, where ``predict`` is 1-D).

    The network runs in its params' dtype (the input is cast if it differs) and the
    numeric outputs have the input's type (float64 for a float64 input, else float32),
    skl2onnx's convention. Needs opset 13 or later (skl2onnx's ``target_opset``).

    Registration changes skl2onnx's global tables, so it is an explicit call, not a side
    effect of importing ``fcfun.onnx`` (which needs neither skl2onnx nor scikit-learn).

    Raises:
        ImportError: skl2onnx or scikit-learn is missing.
    """
    _require("onnx", "fcfun[onnx]")
    _require("skl2onnx", "skl2onnx")
    _require("sklearn", "fcfun[sklearn]")
    from skl2onnx import update_registered_converter

    from fcfun.sklearn import FCClassifier, FCRegressor

    update_registered_converter(
        FCClassifier,
        "FcfunFCClassifier",
        _classifier_shapes,
        _convert_classifier,
        options=_CLASSIFIER_OPTIONS,
    )
    update_registered_converter(
        FCRegressor, "FcfunFCRegressor", _regressor_shapes, _convert_regressor
    )


class _SklearnGraph:
    """A ``_Graph`` over skl2onnx's scope (names) and container (nodes, initializers)."""

    def __init__(self, scope: Any, container: Any) -> None:
        self._scope = scope
        self._container = container

    def name(self, hint: str) -> str:
        name: str = self._scope.get_unique_variable_name(hint)
        return name

    def constant(self, hint: str, value: np.ndarray[Any, Any]) -> str:
        from onnx import TensorProto, helper, numpy_helper

        name = self.name(hint)
        if value.dtype.kind == "O":  # strings, as bytes
            self._container.add_initializer(
                name, TensorProto.STRING, list(value.shape), value.ravel().tolist()
            )
        else:
            element = helper.np_dtype_to_tensor_dtype(value.dtype)
            tensor = numpy_helper.from_array(value, name)
            self._container.add_initializer(name, element, list(value.shape), tensor)
        return name

    def node(
        self,
        op_type: str,
        inputs: Sequence[str],
        output: str,
        spare_outputs: Sequence[str] = (),
        **attributes: Any,
    ) -> str:
        self._container.add_node(
            op_type,
            list(inputs),
            [output, *spare_outputs],
            name=self._scope.get_unique_operator_name(op_type),
            **attributes,
        )
        return output


def _element(variable: Any) -> int:
    """The ONNX element type of a skl2onnx tensor variable."""
    element: int = variable.type.to_onnx_type().tensor_type.elem_type
    return element


def _output_type(input_type: Any, shape: list[Any]) -> Any:
    """skl2onnx's numeric output type: float64 for a float64 input, else float32."""
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType

    if isinstance(input_type, DoubleTensorType):
        return DoubleTensorType(shape)
    return FloatTensorType(shape)


def _network_on_input(graph: _Graph, operator: Any, container: Any) -> tuple[str, np.dtype[Any]]:
    """The fitted estimator's network on the operator's input, cast to the params' dtype:
    the output's name and its dtype."""
    from onnx import helper
    from sklearn.utils.validation import check_is_fitted

    if container.target_opset < OPSET:
        raise ValueError(
            f"fcfun.onnx converters need target_opset >= {OPSET}, got {container.target_opset}"
        )
    estimator = operator.raw_operator
    check_is_fitted(estimator)
    spec = check_spec(estimator.spec_)
    params: Params = estimator.params_
    dtype = params_dtype(spec, params)
    element = helper.np_dtype_to_tensor_dtype(dtype)
    X: str = operator.inputs[0].full_name
    if _element(operator.inputs[0]) != element:
        X = _op(graph, "Cast", [X], "X", to=element)
    return _network(graph, spec, params, X), dtype


def _write_output(graph: _Graph, A: str, dtype: np.dtype[Any], output: Any) -> None:
    """``A`` (of ``dtype``) as skl2onnx's ``output`` variable, cast to its type if needed."""
    from onnx import helper

    if _element(output) == helper.np_dtype_to_tensor_dtype(dtype):
        graph.node("Identity", [A], output.full_name)
    else:
        graph.node("Cast", [A], output.full_name, to=_element(output))


def _class_labels(classes: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """``classes_`` as ONNX labels: int64 (integral numbers, booleans) or UTF-8 bytes."""
    if classes.dtype.kind in "biuf":
        labels = classes.astype(np.int64)
        if np.array_equal(labels, classes):
            return labels
    elif all(isinstance(c, str) for c in classes.tolist()):
        return np.array([c.encode("utf-8") for c in classes.tolist()], dtype=object)
    raise ValueError(
        "classes_ must be integers (integral floats and booleans are int64 labels) or "
        f"strings to be ONNX labels, got {classes.tolist()!r}"
    )


def _classifier_task(estimator: Any) -> str:
    """'binary' (one sigmoid output), 'multilabel' (several) or 'multiclass' (softmax)."""
    if estimator.out_activation_ == "softmax":
        return "multiclass"
    return "binary" if estimator.n_outputs_ == 1 else "multilabel"


def _classifier_shapes(operator: Any) -> None:
    """skl2onnx's shape calculator for ``FCClassifier``: ``label``, ``probabilities``."""
    from skl2onnx.common.data_types import Int64TensorType, StringTensorType

    estimator = operator.raw_operator
    N = operator.inputs[0].get_first_dimension()
    task = _classifier_task(estimator)
    labels = _class_labels(np.asarray(estimator.classes_))
    if task == "multilabel":
        operator.outputs[0].set_type(Int64TensorType([N, len(labels)]))
    elif labels.dtype == object:
        operator.outputs[0].set_type(StringTensorType([N]))
    else:
        operator.outputs[0].set_type(Int64TensorType([N]))
    columns = 2 if task == "binary" else int(estimator.n_outputs_)
    operator.outputs[1].set_type(_output_type(operator.inputs[0].type, [N, columns]))


def _convert_classifier(scope: Any, operator: Any, container: Any) -> None:
    """skl2onnx's converter for ``FCClassifier``: ``predict`` and ``predict_proba``."""
    from onnx import TensorProto

    estimator = operator.raw_operator
    label, probabilities = operator.outputs[0], operator.outputs[1]
    graph = _SklearnGraph(scope, container)
    A, dtype = _network_on_input(graph, operator, container)
    task = _classifier_task(estimator)
    above_half = _op(graph, "Greater", [A, _scalar(graph, 0.5, dtype)], "above_half")
    if task == "multilabel":  # every label with p > 0.5, as an indicator
        _write_output(graph, A, dtype, probabilities)
        graph.node("Cast", [above_half], label.full_name, to=TensorProto.INT64)
        return
    if task == "binary":  # [1 - p, p]; classes_[1] where p > 0.5
        q = _op(graph, "Sub", [_scalar(graph, 1.0, dtype), A], "q")
        _write_output(graph, _op(graph, "Concat", [q, A], "proba", axis=1), dtype, probabilities)
        column = _op(graph, "Cast", [above_half], "index", to=TensorProto.INT64)
        index = _op(graph, "Reshape", [column, graph.constant("rows", np.array([-1]))], "index")
    else:  # A; classes_ at the first of the row's largest
        _write_output(graph, A, dtype, probabilities)
        index = _op(graph, "ArgMax", [A], "index", axis=1, keepdims=0)
    classes = graph.constant("classes", _class_labels(np.asarray(estimator.classes_)))
    graph.node("Gather", [classes, index], label.full_name, axis=0)


def _regressor_shapes(operator: Any) -> None:
    """skl2onnx's shape calculator for ``FCRegressor``: ``variable``, ``(N, n_outputs)``."""
    N = operator.inputs[0].get_first_dimension()
    shape = [N, int(operator.raw_operator.n_outputs_)]
    operator.outputs[0].set_type(_output_type(operator.inputs[0].type, shape))


def _convert_regressor(scope: Any, operator: Any, container: Any) -> None:
    """skl2onnx's converter for ``FCRegressor``: ``predict``, as ``(N, n_outputs)``."""
    graph = _SklearnGraph(scope, container)
    A, dtype = _network_on_input(graph, operator, container)
    _write_output(graph, A, dtype, operator.outputs[0])
