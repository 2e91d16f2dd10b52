"""environment.yml (conda) and requirements.txt (pip) name the same packages at the same versions."""

from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent


def _pins(lines) -> dict[str, str]:
    out = {}
    for line in lines:
        line = line.split("#")[0].strip()
        if "==" in line:
            name, version = line.split("==")
            out[name.strip().lower()] = version.strip()
    return out


def test_conda_environment_matches_pip_requirements():
    pip_pins = _pins((REPO / "requirements.txt").read_text().splitlines())
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    assert _pins(pip_section) == pip_pins
    assert "python=3.11" in env["dependencies"]
