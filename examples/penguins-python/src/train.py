"""Stage "train": a one-vs-rest logistic model of the species, trained epoch by epoch.

Logs three ways, as training code does:
- appends `epoch,loss,accuracy` (on the fitted rows) to metrics/train_history.csv, a `plots`
  file that Lathe reads line by line while this runs;
- through Lathe's standard-library client (lathe_client, on PYTHONPATH in a stage): params about
  the model, the validation curves `val_loss` and `val_accuracy`, a tag and the ONNX file;
- through the MLflow tracking REST API with plain urllib (MLFLOW_TRACKING_URI, MLFLOW_RUN_ID,
  MLFLOW_TRACKING_TOKEN): a log-batch with the library versions, the class names and the
  training time, and a set-tag.
Writes models/penguins.onnx (see export.py).
"""

import json
import os
import time
import urllib.request
import warnings

import numpy as np
import onnx
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import lathe_client as lathe
from common import FEATURES, params, read_split
from export import to_onnx


def mlflow(endpoint, body):
    """POSTs to the MLflow tracking API of the run, when the stage has one (else skips)."""
    uri = os.environ.get("MLFLOW_TRACKING_URI")
    if not uri or not os.environ.get("MLFLOW_RUN_ID"):
        print("MLFLOW_TRACKING_URI or MLFLOW_RUN_ID not set: not calling %s" % endpoint)
        return None
    body = dict(body, run_id=os.environ["MLFLOW_RUN_ID"])
    headers = {"Content-Type": "application/json"}
    if os.environ.get("MLFLOW_TRACKING_TOKEN"):
        headers["Authorization"] = "Bearer " + os.environ["MLFLOW_TRACKING_TOKEN"]
    req = urllib.request.Request(
        uri.rstrip("/") + "/api/2.0/mlflow/" + endpoint,
        data=json.dumps(body).encode("utf-8"),
        headers=headers,
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=30) as res:
        return json.loads(res.read() or b"{}")


started = time.time()
p = params("train")
X, y = read_split("data/prepared/train.csv")
labels = sorted(set(y.tolist()))
X_fit, X_val, y_fit, y_val = train_test_split(
    X, y, test_size=p["val_fraction"], random_state=p["seed"], stratify=y
)
scaler = StandardScaler().fit(X_fit)
S_fit, S_val = scaler.transform(X_fit), scaler.transform(X_val)
model = SGDClassifier(
    loss="log_loss",
    alpha=p["alpha"],
    learning_rate="constant",
    eta0=p["eta0"],
    random_state=p["seed"],
)

lathe.log_params({"model": "SGDClassifier(log_loss, one-vs-rest)", "features": ",".join(FEATURES)})
lathe.set_tag("dataset", "palmer-penguins")
os.makedirs("metrics", exist_ok=True)
with open("metrics/train_history.csv", "w", encoding="utf-8") as history:
    history.write("epoch,loss,accuracy\n")
    for epoch in range(1, p["epochs"] + 1):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.partial_fit(S_fit, y_fit, classes=labels)
        fit_p, val_p = model.predict_proba(S_fit), model.predict_proba(S_val)
        loss = log_loss(y_fit, fit_p, labels=labels)
        accuracy = accuracy_score(y_fit, model.predict(S_fit))
        history.write("%d,%.6f,%.6f\n" % (epoch, loss, accuracy))
        history.flush()
        lathe.log_metrics(
            {
                "val_loss": log_loss(y_val, val_p, labels=labels),
                "val_accuracy": accuracy_score(y_val, model.predict(S_val)),
            },
            step=epoch,
        )
        if epoch == 1 or epoch % 10 == 0:
            print("epoch %d/%d loss=%.4f accuracy=%.4f" % (epoch, p["epochs"], loss, accuracy))

os.makedirs("models", exist_ok=True)
onnx.save(to_onnx(scaler, model, FEATURES, labels), "models/penguins.onnx")
lathe.log_artifact("models/penguins.onnx")
lathe.flush()

now_ms = int(time.time() * 1000)
mlflow(
    "runs/log-batch",
    {
        "metrics": [
            {"key": "train_seconds", "value": time.time() - started, "timestamp": now_ms, "step": 0}
        ],
        "params": [
            {"key": "sklearn_version", "value": sklearn.__version__},
            {"key": "numpy_version", "value": np.__version__},
            {"key": "classes", "value": ",".join(labels)},
        ],
        "tags": [{"key": "mlflow.source.name", "value": "src/train.py"}],
    },
)
mlflow("runs/set-tag", {"key": "framework", "value": "scikit-learn"})
print("wrote models/penguins.onnx (%d classes: %s)" % (len(labels), ", ".join(labels)))
