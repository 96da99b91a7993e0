#!/usr/bin/env python3
"""The README's figures come from the studies' committed outputs (docs/studies/), and those
outputs are what the current model gives: README.md agrees with scripts/readme-tables over
them, and a sample of each study's points, run again with this build, reproduces their
committed rows exactly (the simulator is deterministic). When the model changes on purpose,
run scripts/update-studies and commit what it rewrites."""
import csv
import json
import os
import subprocess
import sys
import tempfile
import unittest

ROOT = os.environ.get("QUIESCE_ROOT") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("QUIESCE_BIN", os.path.join(ROOT, "build", "bin", "quiesce"))
STUDIES = os.path.join(ROOT, "docs", "studies")
# Each study's sample: the points of shard 1/N (indexes 0, N, 2N, ...): two or three each.
SAMPLES = {"perf-rcu-2015": 120, "remedy-irq-save": 16, "remedy-might-wake": 25}
HINT = "the model no longer gives the committed study outputs: run scripts/update-studies and commit"


def rows(path):
    with open(path, newline="") as f:
        return {r["id"]: r for r in csv.DictReader(f)}


class StudyDrift(unittest.TestCase):
    def test_readme_agrees_with_the_committed_outputs(self):
        r = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "readme-tables"), "--check"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, "README.md's tables differ from scripts/readme-tables over docs/studies/ "
                         "(run python3 scripts/readme-tables)\n" + r.stdout + r.stderr)

    def test_a_sample_of_every_study_reproduces_its_committed_rows(self):
        env = dict(os.environ, QUIESCE_ROOT=ROOT)
        for study, shards in SAMPLES.items():
            with self.subTest(study=study), tempfile.TemporaryDirectory() as tmp:
                out = os.path.join(tmp, "out")
                r = subprocess.run([BIN, "sweep", os.path.join("scenarios", study + ".yaml"), "--shard", f"1/{shards}",
                                    "--out", out, "--no-plot", "-q", "--jobs", "2"], cwd=ROOT, env=env,
                                   capture_output=True, text=True)
                self.assertLessEqual(r.returncode, 1, r.stderr)
                now = rows(os.path.join(out, "points.csv"))
                committed = rows(os.path.join(STUDIES, study, "points.csv"))
                self.assertGreaterEqual(len(now), 2)
                for pid, row in now.items():
                    self.assertIn(pid, committed, f"{study}: {pid} is not in the committed outputs; {HINT}")
                    diff = {k: (committed[pid].get(k), v) for k, v in row.items() if committed[pid].get(k) != v}
                    self.assertEqual(diff, {}, f"{study} {pid} (committed, now); {HINT}")

    def test_hw_pingpong_reproduces_its_committed_figures(self):
        with tempfile.TemporaryDirectory() as tmp:
            r = subprocess.run([BIN, "run", "scenarios/hw-pingpong.yaml", "--out", tmp, "-q"], cwd=ROOT,
                               env=dict(os.environ, QUIESCE_ROOT=ROOT), capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(os.path.join(tmp, "result.json")) as f:
                now = json.load(f)["metrics"]
            with open(os.path.join(STUDIES, "hw-pingpong", "result.json")) as f:
                committed = json.load(f)["metrics"]
            self.assertEqual(now, committed, HINT)


if __name__ == "__main__":
    unittest.main()
