#!/usr/bin/env python3
"""Tests scripts/readme-tables on a synthetic results directory and README."""
import csv
import importlib.machinery
import importlib.util
import os
import subprocess
import sys
import tempfile
import unittest

ROOT = os.environ.get("QUIESCE_ROOT") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPT = os.path.join(ROOT, "scripts", "readme-tables")


def load_module():
    """scripts/readme-tables as a module (it has no .py suffix), to test its computations directly."""
    loader = importlib.machinery.SourceFileLoader("readme_tables", SCRIPT)
    spec = importlib.util.spec_from_loader("readme_tables", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def write_csv(path, rows):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    keys = sorted({k for r in rows for k in r})
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=keys)
        w.writeheader()
        for r in rows:
            w.writerow(r)


class ReadmeTables(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        flagship = []
        for ltc, special in (("preempt_disable", "v4.4"), ("irq_save", "v4.4")):
            for cores in ("4", "64"):
                for seed in range(1, 5):
                    bug = ltc == "preempt_disable"
                    flagship.append({
                        "kernel.perf.lock_task_context": ltc, "kernel.rcu.unlock_special": special,
                        "kernel.lockdep.might_wake": "false", "cores": cores, "irq.ipi.latency": "500ns",
                        "seed": str(seed), "lockdep_reports": "1" if bug else "0",
                        "deadlock": "1" if bug and seed <= 2 else "0",
                        "detection.first_ns": str(1000.0 * seed) if bug else "",
                        "rcu.exp_latency.p50_ns": "2000", "rcu.exp_latency.p99_ns": "6000", "irqs_off.max_ns": "700",
                    })
        write_csv(os.path.join(self.dir, "perf-rcu-2015", "points.csv"), flagship)
        irq = []
        for ltc in ("preempt_disable", "irq_save"):
            for seed in range(1, 3):
                irq.append({
                    "kernel.perf.lock_task_context": ltc, "kernel.perf.lookup_cost": "200", "seed": str(seed),
                    "simulated_ms": "20", "device_event_latency.count": "998",
                    "device_event_latency.p99_ns": "1300", "device_event_latency.max_ns": str(2000 + seed),
                    "irqs_off_by_site.perf_lock_task_context.p99_ns": "300",
                    "irqs_off_by_site.perf_lock_task_context.max_ns": "400", "deadlock": "0",
                })
        write_csv(os.path.join(self.dir, "remedy-irq-save", "points.csv"), irq)
        write_csv(os.path.join(self.dir, "remedy-might-wake", "points.csv"), [
            {"kernel.perf.lookup_cost": "20", "kernel.lockdep.might_wake": mw, "seed": str(seed),
             "lockdep_reports": "1" if seed == 1 else "0", "detection.first_ns": "1500" if seed == 1 else ""}
            for mw in ("false", "true") for seed in (1, 2)])
        self.readme = os.path.join(self.dir, "README.md")
        with open(self.readme, "w") as f:
            f.write("intro\n<!-- table:flagship-variants -->\nold\n<!-- end:flagship-variants -->\nmiddle\n"
                    "<!-- table:flagship-cores -->\n<!-- end:flagship-cores -->\n"
                    "<!-- table:irq-save-cost -->\n<!-- end:irq-save-cost -->\n"
                    "<!-- table:might-wake-coverage -->\n<!-- end:might-wake-coverage -->\nend\n")

    def run_script(self, *extra):
        return subprocess.run([sys.executable, SCRIPT, "--results", self.dir, "--readme", self.readme, *extra],
                              capture_output=True, text=True)

    def test_tables_come_from_the_points_and_check_sees_drift(self):
        self.assertEqual(self.run_script("--check").returncode, 1)
        r = self.run_script()
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(self.readme) as f:
            text = f.read()
        self.assertNotIn("old", text)
        self.assertIn("| variant | points | P(lockdep report) [95% CI] | P(deadlock) [95% CI] |", text)
        self.assertIn("| the 2015 bug (perf preempt_disable, v4.4 report) | 4 | 100% [51–100] | 50% [15–85] | 2 | "
                      "2.0 / 6.0 | 0.70 |", text)
        self.assertIn("| irq_save (the fix, 2fd59077755c) | 4 | 0% [0–49] | 0% [0–49] | - |", text)
        self.assertIn("| variant | 4 CPUs (n=4) | 64 CPUs (n=4) |", text)
        self.assertIn("| the 2015 bug (perf preempt_disable, v4.4 report) | 100% [51–100] / 50% [15–85] | "
                      "100% [51–100] / 50% [15–85] |", text)
        self.assertIn("| perf irq-off max (ns) | P(deadlock) [95% CI] |", text)
        self.assertIn("| irq_save | 200 | 2 | 20.0 | 998 | 1.300 | 2.002 | 300 | 400 | 0% [0–66] |", text)
        self.assertIn("| points | P(report) [95% CI] |", text)
        self.assertIn("| 20 | true | 2 | 50% [9–91] | 1.500 |", text)
        self.assertTrue(text.startswith("intro\n") and text.endswith("end\n"))
        self.assertEqual(self.run_script("--check").returncode, 0)

    def test_cells_with_unequal_n_give_a_range_in_the_header(self):
        path = os.path.join(self.dir, "perf-rcu-2015", "points.csv")
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
        write_csv(path, [r for r in rows if not (r["cores"] == "64" and r["kernel.perf.lock_task_context"] == "irq_save"
                                                 and r["seed"] in ("3", "4"))])
        self.assertEqual(self.run_script().returncode, 0)
        with open(self.readme) as f:
            text = f.read()
        self.assertIn("| variant | 4 CPUs (n=4) | 64 CPUs (n=2–4) |", text)
        self.assertIn("| irq_save (the fix, 2fd59077755c) | 0% [0–49] / 0% [0–49] | 0% [0–66] / 0% [0–66] |",
                      text)

    def test_a_missing_study_says_how_to_make_it(self):
        os.remove(os.path.join(self.dir, "remedy-irq-save", "points.csv"))
        r = self.run_script()
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("remedy-irq-save/points.csv is missing: run scripts/update-studies", r.stderr)

    def test_hw_pingpong_table_comes_from_its_result(self):
        os.makedirs(os.path.join(self.dir, "hw-pingpong"))
        with open(os.path.join(self.dir, "hw-pingpong", "result.json"), "w") as f:
            f.write('{"metrics": {"pingpong.cluster.cpu_a": 0, "pingpong.cluster.cpu_b": 1, '
                    '"pingpong.cluster.cas_one_way_ns": 20.04, "pingpong.cluster.cas_round_trip_ns": 40.08, '
                    '"pingpong.cluster.load_cas_one_way_ns": 40, "pingpong.cluster.ipi_one_way_ns": 1259.4, '
                    '"pingpong.local.cas_ns": 10, "pingpong.published.worst_error_pct": 0}}')
        with open(self.readme, "a") as f:
            f.write("<!-- table:hw-pingpong -->\n260.3\n<!-- end:hw-pingpong -->\n")
        self.assertEqual(self.run_script().returncode, 0)
        with open(self.readme) as f:
            text = f.read()
        self.assertIn("| 0-1 | cluster | 20.0 | 40.1 | 40.0 | 1259.4 |", text)
        self.assertNotIn("| local", text)
        self.assertNotIn("260.3", text)

    def test_presets_table_sets_each_published_figure_beside_the_model(self):
        os.makedirs(os.path.join(self.dir, "presets"))
        with open(os.path.join(self.dir, "presets", "zen3.json"), "w") as f:
            f.write('{"platform": "zen3", "description": "a Zen 3", "published": [{"metric": '
                    '"pingpong.ccx.cas_one_way_ns", "value": "17ns", "source": "s", "model_ns": 17.0, '
                    '"error_pct": 0.0}]}')
        with open(os.path.join(self.dir, "presets", "plain.json"), "w") as f:
            f.write('{"platform": "plain", "description": "round", "published": []}')
        with open(self.readme, "a") as f:
            f.write("<!-- table:presets -->\n<!-- end:presets -->\n")
        self.assertEqual(self.run_script().returncode, 0)
        with open(self.readme) as f:
            text = f.read()
        self.assertIn("| `zen3` | a Zen 3 | pingpong.ccx.cas_one_way_ns | 17ns | 17.00 ns | +0.0% |", text)
        self.assertIn("| `plain` | round | (none: round figures) | | | |", text)


class Wilson(unittest.TestCase):
    """The interval summary.md gives too: the same hand values."""

    def test_hand_values(self):
        rt = load_module()
        for (k, n), (lo, hi) in {(2, 5): (0.1176, 0.7693), (0, 5): (0.0, 0.4345), (5, 5): (0.5655, 1.0)}.items():
            got = rt.wilson(k, n)
            self.assertAlmostEqual(got[0], lo, places=4, msg=f"{k}/{n}")
            self.assertAlmostEqual(got[1], hi, places=4, msg=f"{k}/{n}")
        self.assertEqual(rt.wilson(0, 5)[0], 0.0)  # clipped, not -0.0000001
        self.assertEqual(rt.wilson(5, 5)[1], 1.0)

    def test_cells(self):
        rt = load_module()
        fired = [{"x": "1"}] * 2 + [{"x": "0"}] * 2 + [{"x": ""}]  # an empty cell counts as not fired
        self.assertEqual(rt.share(fired, "x"), "40% [12–77]")
        self.assertEqual(rt.share([{"x": "0"}] * 5, "x"), "0% [0–43]")
        self.assertEqual(rt.share([{"x": "3"}] * 5, "x"), "100% [57–100]")
        self.assertEqual(rt.share([], "x"), "-")


if __name__ == "__main__":
    unittest.main()
