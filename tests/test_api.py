"""rpd.api: the README's Python example runs (at toy sizes), runs are reproducible, bad arguments name the fix."""

from __future__ import annotations

import contextlib
import io
import re

import numpy as np
import pytest

from rpd import api
from rpd.config import ConfigError
from suite import REPO

# README sizes → toy sizes (each must occur: a README edit that drops one fails here, not silently runs long).
# 4 training steps: the test checks that the example runs and prints a finite score, and a step of the
# example's default-width networks costs ~0.1 s (20 steps made this the slowest fast test).
SHRINK = {"grid=4": "grid=2", "n_train=20000": "n_train=400", "n_eval=2000": "n_eval=64", "steps=3000": "steps=4",
          "steps=5000": "steps=4", "n=2000": "n=64"}


def readme_api_example() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## Python API", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 1, "README's Python API section should hold one python block"
    return blocks[0]


def test_readme_example_runs_and_prints_rw1wd_for_each_model():
    code = readme_api_example()
    assert len(code.strip().splitlines()) <= 12, "the README promises about ten lines"
    for big, small in SHRINK.items():
        assert big in code, f"README example no longer has {big!r}; update SHRINK"
        code = code.replace(big, small)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    lines = out.getvalue().splitlines()
    assert [ln.split()[0] for ln in lines] == ["rpd", "ddpm"], lines
    for ln in lines:
        assert "RW-1WD at K = 10:" in ln and np.isfinite(float(ln.rsplit(" ", 1)[1])), ln


@pytest.fixture(scope="module")
def toy() -> tuple[api.GridData, api.Trained]:
    data = api.grid_data(shape="dino", grid=2, scale=0.1, n_train=300, n_eval=64)
    return data, api.train_prior(data, kind="vqvae", hidden=16, depth=2, steps=20, codes=4)


def test_same_seed_same_samples_and_scores(toy):
    data, prior = toy
    a, b = (api.train_model(data, prior, hidden=16, depth=2, steps=10, seed=3) for _ in range(2))
    xa, xb = (api.sample(m, n=32, steps=2, seed=5) for m in (a, b))
    np.testing.assert_array_equal(xa, xb)
    assert api.scores(xa, data) == api.scores(xb, data)
    assert not np.array_equal(xa, api.sample(a, n=32, steps=2, seed=6))  # the sampling seed matters


def test_run_config_is_a_suite_run_config(toy):
    data, prior = toy
    model = api.train_model(data, prior, family="diffusevae2", hidden=16, depth=2, steps=5, target="v")
    run = model.run
    assert run["kind"] == "model" and run["model"]["family"] == "diffusevae2" and run["model"]["target"] == "v"
    assert run["prior_run"]["prior"]["kind"] == "vqvae" and run["prior_run"]["prior"]["codes"] == 4
    assert run["network"] == {"hidden": 16, "depth": 2} and run["training"]["steps"] == 5
    assert len(api.sample(model, n=8, sampler="dpmpp", steps=3)) == 8


def test_bad_arguments_name_the_key_or_the_fix(toy):
    data, prior = toy
    with pytest.raises(ConfigError, match="datasets.data.shape"):
        api.grid_data(shape="dinosaur")
    with pytest.raises(ConfigError, match="priors.prior.kind"):
        api.train_prior(data, kind="gmm", steps=1)
    with pytest.raises(ValueError, match="needs prior"):
        api.train_model(data, None, family="rpd", steps=1)
    with pytest.raises(ValueError, match="takes no prior"):
        api.train_model(data, prior, family="ddpm", steps=1)
    model = api.train_model(data, None, family="ddpm", hidden=8, depth=1, steps=1)
    with pytest.raises(ValueError, match="1 ≤ K ≤ T = 1000"):
        api.sample(model, n=4, steps=1001)
