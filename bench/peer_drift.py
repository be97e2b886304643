#!/usr/bin/python3
"""The peer of `modelwatch drift --tests auto --format json`: pandas reads both
files and scipy runs the same auto selection (ks or wasserstein/std for numeric
columns with more than 5 distinct reference values, chi2 or Jensen-Shannon on
the category counts otherwise, by reference size <= 1000) and writes the same
JSON keys, so results can be compared as well as timed.

usage: /usr/bin/python3 bench/peer_drift.py REF CUR > peer.json
"""
import json
import sys

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial.distance import jensenshannon

ref = pd.read_csv(sys.argv[1])
cur = pd.read_csv(sys.argv[2])
cols = []
for name in ref.columns:
    if name not in cur.columns:
        continue
    r = ref[name].dropna()
    c = cur[name].dropna()
    small = len(r) <= 1000
    if pd.api.types.is_numeric_dtype(r) and r.nunique() > 5:
        if small:
            res = stats.ks_2samp(r, c)
            test, stat, p = "ks", float(res.statistic), float(res.pvalue)
            drifted = p < 0.05
        else:
            test = "wasserstein_norm"
            stat = float(stats.wasserstein_distance(r, c) / np.std(r))
            p, drifted = None, stat >= 0.1
    else:
        cats = sorted(set(r.astype(str)) | set(c.astype(str)))
        rc = r.astype(str).value_counts().reindex(cats, fill_value=0).to_numpy(float)
        cc = c.astype(str).value_counts().reindex(cats, fill_value=0).to_numpy(float)
        if small:
            s, p, _, _ = stats.chi2_contingency([rc, cc])
            test, stat, p = "chi2", float(s), float(p)
            drifted = p < 0.05
        else:
            test = "jensenshannon"
            stat = float(jensenshannon(rc / rc.sum(), cc / cc.sum()))
            p, drifted = None, stat >= 0.1
    cols.append({"name": name, "drift": {"test": test, "statistic": stat, "p_value": p,
                                         "drifted": bool(drifted)}})
share = sum(c["drift"]["drifted"] for c in cols) / len(cols)
json.dump({"dataset_drift": share >= 0.5, "drift_share": share, "columns": cols}, sys.stdout)
