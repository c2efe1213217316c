"""Stage "prepare": data/penguins.json -> data/prepared/{train,test}.csv, a stratified split.

Keeps the four body measurements and the species; drops the 2 penguins with no measurements.
"""

import json
import os

from sklearn.model_selection import train_test_split

from common import FEATURES, params, write_rows

SOURCE_COLUMNS = ["Beak Length (mm)", "Beak Depth (mm)", "Flipper Length (mm)", "Body Mass (g)"]

p = params("prepare")
with open("data/penguins.json", encoding="utf-8") as f:
    records = json.load(f)
rows = [
    [r["Species"]] + [r[c] for c in SOURCE_COLUMNS]
    for r in records
    if all(r[c] is not None for c in SOURCE_COLUMNS)
]
train, test = train_test_split(
    rows,
    test_size=p["test_fraction"],
    random_state=p["seed"],
    stratify=[r[0] for r in rows],
)
os.makedirs("data/prepared", exist_ok=True)
write_rows("data/prepared/train.csv", train)
write_rows("data/prepared/test.csv", test)
print("kept %d of %d penguins (%s); train %d, test %d" % (
    len(rows), len(records), ", ".join(FEATURES), len(train), len(test)))
