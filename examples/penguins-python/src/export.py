"""The trained scaler and one-vs-rest logistic model as an ONNX graph, built with onnx.helper.

Graph: Sub(mean) -> Div(scale) -> MatMul(W) -> Add(b) = scores; Sigmoid(scores) divided by its
row sum = probabilities (what scikit-learn's SGDClassifier.predict_proba computes for log_loss);
ArgMax(scores) = label. IR version 8, opset 13.
"""

import json

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

NODE_TYPES = ["Sub", "Div", "MatMul", "Add", "Sigmoid", "ReduceSum", "Div", "ArgMax"]


def to_onnx(scaler, model, features, labels):
    d, k = len(features), len(labels)
    init = [
        numpy_helper.from_array(scaler.mean_.astype(np.float32), "mean"),
        numpy_helper.from_array(scaler.scale_.astype(np.float32), "scale"),
        numpy_helper.from_array(model.coef_.T.astype(np.float32), "W"),
        numpy_helper.from_array(model.intercept_.astype(np.float32), "b"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "axis1"),
    ]
    nodes = [
        helper.make_node("Sub", ["features", "mean"], ["centered"], name="standardize_sub"),
        helper.make_node("Div", ["centered", "scale"], ["scaled"], name="standardize_div"),
        helper.make_node("MatMul", ["scaled", "W"], ["xw"], name="matmul"),
        helper.make_node("Add", ["xw", "b"], ["scores"], name="bias"),
        helper.make_node("Sigmoid", ["scores"], ["odds"], name="sigmoid"),
        helper.make_node("ReduceSum", ["odds", "axis1"], ["total"], keepdims=1, name="row_sum"),
        helper.make_node("Div", ["odds", "total"], ["probabilities"], name="normalize"),
        helper.make_node("ArgMax", ["scores"], ["label"], axis=1, keepdims=0, name="argmax"),
    ]
    graph = helper.make_graph(
        nodes,
        "penguins",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", d])],
        [
            helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", k]),
            helper.make_tensor_value_info("label", TensorProto.INT64, ["N"]),
        ],
        init,
    )
    onnx_model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 13)],
        producer_name="lathe-example",
        producer_version="1",
        doc_string="Palmer penguin species from four body measurements (one-vs-rest logistic).",
    )
    onnx_model.ir_version = 8
    helper.set_model_props(
        onnx_model,
        {"lathe.features": json.dumps(features), "lathe.labels": json.dumps(labels)},
    )
    onnx.checker.check_model(onnx_model)
    return onnx_model
