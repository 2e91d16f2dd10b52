"""Job start-up (issue 14): what a job's entry module imports in a fresh interpreter.

Each import below costs seconds per job process (hundreds of processes per suite): a job must not import a
library its path never uses. Training, prior and bound jobs use DDPM's scheduler only, so not diffusers'
multistep solvers (they import scipy.stats), nor pandas (metrics tables); a 2D evaluation runs no network.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

# entry module of the job script → modules it must not load
NOT_LOADED = {
    "rpd.stages": ("scipy.stats", "pandas", "rpd.multistep"),  # train_prior, train_model, sample_model
    "rpd.elbo": ("scipy.stats", "rpd.multistep"),
    "rpd.evaluate": ("torch", "diffusers"),
    "rpd.progress": ("torch", "diffusers"),  # imported by the report too; the job imports torch when it samples
}


@pytest.mark.parametrize("module", sorted(NOT_LOADED))
def test_job_entry_module_does_not_load_what_its_jobs_never_use(module: str) -> None:
    code = f"import sys, {module}; print(' '.join(m for m in {NOT_LOADED[module]!r} if m in sys.modules))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "", f"importing {module} loads {proc.stdout.strip()}"


def test_ddim_sampler_needs_no_multistep_module() -> None:
    code = ("import sys; from rpd.schedule import make_sampler; make_sampler('ddim', 100, 'linear', 'eps', 3); "
            "make_sampler('ddpm', 100, 'linear', 'eps', 3); sys.exit('rpd.multistep' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], timeout=300).returncode == 0


@pytest.mark.parametrize(("dataset", "loaded", "not_loaded"), [
    ({"kind": "grid"}, ("ot",), ("torch",)),  # a 2D evaluation runs no network
    ({"kind": "fmnist", "resolution": 16}, ("ot", "torch_fidelity"), ()),
])
def test_evaluate_job_imports_its_metric_libraries_before_its_log_opens(
    dataset: dict, loaded: tuple[str, ...], not_loaded: tuple[str, ...]
) -> None:
    # the logged start-up counts only what is imported before log_to: the lazy POT/torch-fidelity imports must
    # happen there, or the start-up share (suite_time.py) understates the imports by seconds a job
    code = (f"import sys; from rpd.evaluate import import_metric_libraries; "
            f"import_metric_libraries({{'dataset': {dataset!r}}}); "
            f"print(' '.join(m for m in {loaded!r} if m not in sys.modules), '|', "
            f"' '.join(m for m in {not_loaded!r} if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "|", f"missing | unwanted: {proc.stdout.strip()}"
