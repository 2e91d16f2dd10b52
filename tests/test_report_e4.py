"""rpd.report.sections.e4: E4's curves (one line per model, styled by its auxiliary input)."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from rpd.report.sections.e4 import AUX_LINESTYLES, _curves


def test_each_auxiliary_input_keeps_its_line_style_across_panels() -> None:
    # 2D and images use different models for ω and μ̂ (rpd / rpd_mu, rpd_v / rpd_mu_v); by model rank within the
    # family, ω was solid on one panel and dotted on the other
    frame = pd.DataFrame([
        {"dataset": d, "model": m, "size": "std", "step": step, "loss": 1.0 / step + seed}
        for d, models in [("d2", ("rpd", "rpd_mu")), ("img", ("rpd_v", "rpd_mu_v"))]
        for m in models for step in (100, 200) for seed in (0, 1)
    ])
    order = ["rpd", "rpd_mu", "rpd_v", "rpd_mu_v"]
    ctx = SimpleNamespace(family=lambda m: "rpd", ordered_models=lambda ms: [m for m in order if m in set(ms)])
    aux = {"rpd": "omega", "rpd_v": "omega", "rpd_mu": "mu", "rpd_mu_v": "mu"}
    curves = _curves(ctx, frame, "loss", aux)
    styles = curves.groupby("model")["linestyle"].agg(set).to_dict()
    assert styles == {"rpd": {"-"}, "rpd_v": {"-"}, "rpd_mu": {"--"}, "rpd_mu_v": {"--"}}
    assert AUX_LINESTYLES["omega"] != AUX_LINESTYLES["mu"]
    assert set(curves["panel"]) == {"d2, size std", "img, size std"}
