"""Stage "evaluate": scores data/prepared/test.csv with the exported ONNX graph.

python3-onnx 1.12 has no runtime, so the graph is checked node by node against the one export.py
builds and computed with numpy from its own initializers: what is scored is the file, not the
scikit-learn object. Writes metrics/eval.json: accuracy, macro F1 and the majority baseline.
"""

import json

import numpy as np
import onnx
from onnx import numpy_helper
from sklearn.metrics import accuracy_score, f1_score

from common import read_split
from export import NODE_TYPES

model = onnx.load("models/penguins.onnx")
onnx.checker.check_model(model)
types = [n.op_type for n in model.graph.node]
if types != NODE_TYPES:
    raise SystemExit("models/penguins.onnx: nodes %s, expected %s" % (types, NODE_TYPES))
w = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
labels = json.loads({p.key: p.value for p in model.metadata_props}["lathe.labels"])

X, y = read_split("data/prepared/test.csv")
scores = ((X - w["mean"]) / w["scale"]) @ w["W"] + w["b"]
predicted = np.array(labels)[scores.argmax(axis=1)]
majority = max(set(y.tolist()), key=y.tolist().count)
metrics = {
    "accuracy": round(float(accuracy_score(y, predicted)), 6),
    "f1_macro": round(float(f1_score(y, predicted, average="macro")), 6),
    "baseline_accuracy": round(float(np.mean(y == majority)), 6),
}
with open("metrics/eval.json", "w", encoding="utf-8") as f:
    json.dump(metrics, f, indent=2)
    f.write("\n")
print("test: %d penguins, %s" % (len(y), metrics))
