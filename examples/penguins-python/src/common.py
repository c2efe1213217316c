"""Helpers shared by the penguins stages: params.yaml and the prepared CSV files."""

import csv

import numpy as np
import yaml

FEATURES = ["beak_length_mm", "beak_depth_mm", "flipper_length_mm", "body_mass_g"]
LABEL = "species"


def params(section):
    with open("params.yaml", encoding="utf-8") as f:
        return yaml.safe_load(f)[section]


def write_rows(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow([LABEL] + FEATURES)
        writer.writerows(rows)


def read_split(path):
    """The features as float32 [N, 4] and the species names of a prepared split."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    X = np.array([[float(r[c]) for c in FEATURES] for r in rows], dtype=np.float32)
    y = np.array([r[LABEL] for r in rows])
    return X, y
