"""C5's pair of prior sizes (rpd.report.judges.prior_capacity) when metrics.csv has no parameter count to order
them by: the config's order of the dataset's prior sizes decides, per modality, and the weak prior is the last."""

from __future__ import annotations

import pandas as pd

from rpd.report.judges.prior_capacity import count_note, prior_pair

MODELS = {"rpd_s": {"family": "rpd", "prior": "vq", "prior_size": "small"},
          "rpd_m": {"family": "rpd", "prior": "vq", "prior_size": "mid"},
          "rpd_l": {"family": "rpd", "prior": "vq", "prior_size": "large"}}
E5 = {"datasets": ["d"], "models": ["rpd_s", "rpd_m", "rpd_l"], "sizes": ["std"]}


def config(kind: str) -> dict:
    return {"datasets": {"d": {"kind": kind}}, "models": MODELS, "priors": {"vq": {"kind": "vqvae"}},
            "prior_sizes": {"large": {}, "mid": {}, "small": {}},  # 2D: listed largest first
            "image_prior_sizes": {"small": {}, "mid": {}, "large": {}},  # images: the other way round
            "experiments": {"e5": E5}}


def test_c5_without_counts_pairs_the_first_and_last_prior_size_the_config_lists() -> None:
    assert prior_pair(config("grid"), E5) == ("rpd_s", "rpd_l")  # (weak, strong)
    assert prior_pair(config("fmnist"), E5) == ("rpd_l", "rpd_s")
    assert prior_pair(config("grid"), E5, pd.DataFrame()) == ("rpd_s", "rpd_l")  # an empty table: no counts
    note = count_note(config("grid"), E5, pd.DataFrame(), ("rpd_s", "rpd_l"))
    assert note.startswith("prior sizes large and small of vq ordered by config order")
