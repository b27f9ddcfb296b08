"""The scheduling recipes in docs/examples are valid: YAML, crontab syntax, systemd units."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"


def test_the_github_actions_workflow_runs_daily_on_a_schedule():
    workflow = yaml.safe_load((EXAMPLES / "github-actions-daily.yml").read_text())
    triggers = workflow[True] if True in workflow else workflow["on"]  # YAML 1.1 reads "on"
    assert re.fullmatch(r"(\S+ ){4}\S+", triggers["schedule"][0]["cron"])
    steps = workflow["jobs"]["daily"]["steps"]
    runs = " ".join(step.get("run", "") for step in steps)
    assert "hotpapers daily" in runs and "test $? -eq 3" in runs
    env = next(step["env"] for step in steps if "env" in step)
    assert all(v.startswith("${{ secrets.") for k, v in env.items()
               if k.endswith(("TOKEN", "PASSWORD")))


def test_the_crontab_line_has_five_time_fields_and_runs_daily():
    lines = [line for line in (EXAMPLES / "crontab").read_text().splitlines()
             if line.strip() and not line.startswith("#") and "=" not in line.split()[0]]
    [line] = lines
    fields = line.split(None, 5)
    assert all(re.fullmatch(r"[\d*/,-]+", f) for f in fields[:5])
    assert "hotpapers -q daily" in fields[5]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_the_systemd_units_verify(tmp_path):
    executable = Path(sys.executable).with_name("hotpapers")
    for name in ("hotpapers-daily.service", "hotpapers-daily.timer"):
        text = (EXAMPLES / name).read_text().replace("/usr/local/bin/hotpapers",
                                                    str(executable))
        (tmp_path / name).write_text(text)
    done = subprocess.run(["systemd-analyze", "verify", "--man=no",
                           str(tmp_path / "hotpapers-daily.service"),
                           str(tmp_path / "hotpapers-daily.timer")],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
