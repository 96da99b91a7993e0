#!/usr/bin/env python3
"""Tests scripts/plot on small synthetic sweep directories.

Run: python3 tests/scripts/plot_test.py (exits 77, which ctest counts as skipped, when
matplotlib is missing). QUIESCE_ROOT names the source tree; by default it is found from here.
"""
import importlib.machinery
import importlib.util
import itertools
import json
import os
import struct
import subprocess
import sys
import tempfile
import unittest

ROOT = os.environ.get("QUIESCE_ROOT") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPT = os.path.join(ROOT, "scripts", "plot")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def have_matplotlib():
    """True if the script can import matplotlib: here, or in Debian's python3 it falls back to."""
    try:
        import matplotlib  # noqa: F401
        return True
    except ImportError:
        return os.access("/usr/bin/python3", os.X_OK) and subprocess.run(
            ["/usr/bin/python3", "-c", "import matplotlib"], capture_output=True).returncode == 0


def load_module():
    """scripts/plot as a module (it has no .py suffix), to test its computations directly."""
    loader = importlib.machinery.SourceFileLoader("quiesce_plot", SCRIPT)
    spec = importlib.util.spec_from_loader("quiesce_plot", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def make_sweep(directory, axes, metrics_of, scenario="synthetic"):
    """Writes sweep.json and points.jsonl for the cross product of axes.

    axes: list of sweep.json axis objects; metrics_of(params, index) returns
    (outcome, metrics) for a point."""
    value_lists = [a["values"] for a in axes]
    points, lines = [], []
    for index, combo in enumerate(itertools.product(*value_lists)):
        params = {}
        for axis, value in zip(axes, combo):
            if "zip" in axis:
                params.update(zip(axis["zip"], value))
            else:
                params[axis["key"]] = value
        pid = f"p{index:06d}"
        points.append({"index": index, "id": pid, "params": params})
        outcome, metrics = metrics_of(params, index)
        lines.append(json.dumps({"index": index, "id": pid, "params": params, "outcome": outcome,
                                 "ok": outcome == "ok", "metrics": metrics}))
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "sweep.json"), "w") as f:
        json.dump({"scenario": scenario, "file": "scenarios/x.yaml", "total_points": len(points),
                   "axes": axes, "points": points}, f)
    with open(os.path.join(directory, "points.jsonl"), "w") as f:
        f.write("".join(line + "\n" for line in lines))


def kernel_metrics(params, index):
    """Plausible metrics: lockdep fires under irq_save on even seeds, deadlocks on core count 8."""
    lockdep = 1 if params.get("mode") == "irq_save" and int(params.get("seed", "2")) % 2 == 0 else 0
    deadlock = 1 if params.get("cores") == "8" and lockdep else 0
    return ("deadlock" if deadlock else "ok",
            {"lockdep_reports": lockdep, "deadlock": deadlock, "irq_latency.max_ns": 500 + 997 * index,
             "wakeup_latency.p99_ns": 100 + 31 * index, "irqs_off.max_ns": 400})


class PlotScriptTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="plot_test.")
        self.addCleanup(self.tmp.cleanup)

    def run_plot(self, directory, expect_status=0):
        """Runs the script as an executable; returns its stdout lines."""
        r = subprocess.run([SCRIPT, directory], capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, expect_status, f"stdout:\n{r.stdout}\nstderr:\n{r.stderr}")
        self.stderr = r.stderr
        return r.stdout.splitlines()

    def assert_plots(self, directory, stdout, expected):
        """The PNGs are exactly `expected`, valid, listed in plots.txt and printed."""
        with open(os.path.join(directory, "plots.txt")) as f:
            listed = f.read().splitlines()
        self.assertEqual(sorted(listed), sorted(expected))
        self.assertEqual(sorted(n for n in os.listdir(directory) if n.endswith(".png")), sorted(expected))
        self.assertEqual(stdout, [os.path.join(directory, n) for n in listed + ["plots.txt"]])
        for name in expected:
            with open(os.path.join(directory, name), "rb") as f:
                head = f.read(24)
            self.assertEqual(head[:8], PNG_MAGIC, name)
            width, height = struct.unpack(">II", head[16:24])  # IHDR
            self.assertGreater(width, 100, name)
            self.assertGreater(height, 100, name)

    def test_two_numeric_axes_two_variants_with_seeds(self):
        d = os.path.join(self.tmp.name, "grid")
        make_sweep(d, [{"key": "cores", "values": ["2", "4", "8"]},
                       {"key": "irq.ipi.latency.median", "values": ["100ns", "1us", "10us"]},
                       {"key": "mode", "values": ["preempt_disable", "irq_save"]},
                       {"key": "seed", "values": ["1", "2"]}], kernel_metrics)
        out = self.run_plot(d)
        self.assert_plots(d, out, ["heatmap_preempt_disable.png", "heatmap_irq_save.png", "latency_cdf.png"])
        first = {n: os.path.getsize(os.path.join(d, n)) for n in os.listdir(d)}
        self.assertEqual(self.run_plot(d), out)  # same names on a rerun
        self.assertEqual(sorted(os.listdir(d)), sorted(first))

    def test_numeric_axis_order_and_log_spread(self):
        plot = load_module()
        axis = plot.Axis({"key": "t", "values": ["10us", "100ns", "1.5us", "2ms"]}, "here")
        self.assertEqual(axis.labels, ["100ns", "1.5us", "10us", "2ms"])
        self.assertEqual(axis.numbers, [100.0, 1500.0, 10000.0, 2e6])
        self.assertTrue(plot.wide_spread(axis.numbers))
        self.assertFalse(plot.wide_spread([2, 4, 8]))
        self.assertIsNone(plot.Axis({"key": "m", "values": ["b", "a"]}, "here").numbers)
        self.assertEqual(plot.Axis({"key": "m", "values": ["b", "a"]}, "here").labels, ["b", "a"])

    def test_rates_count_points_without_metrics_as_not_fired(self):
        plot = load_module()
        points = [{"outcome": "ok", "metrics": {"lockdep_reports": 1, "deadlock": 0}},
                  {"outcome": "deadlock", "metrics": {"lockdep_reports": 0, "deadlock": 1}},
                  {"outcome": "ok", "metrics": {"lockdep_reports": 2, "deadlock": False}},
                  {"outcome": "crashed", "metrics": {}}]
        lockdep, deadlock = plot.rates(points)
        self.assertAlmostEqual(lockdep, 2 / 4)
        self.assertAlmostEqual(deadlock, 1 / 4)
        self.assertAlmostEqual(plot.rates([{"outcome": "deadlock", "metrics": {}}])[1], 1.0)
        self.assertTrue(all(v != v for v in plot.rates([])))  # NaN: an empty cell

    def test_one_numeric_axis(self):
        d = os.path.join(self.tmp.name, "line")
        make_sweep(d, [{"key": "irq.ipi.latency.median", "values": ["100ns", "1us", "10us", "100us"]},
                       {"key": "mode", "values": ["preempt_disable", "irq_save"]},
                       {"key": "seed", "values": ["1", "2", "3"]}], kernel_metrics)
        self.assert_plots(d, self.run_plot(d), ["detection_irq.ipi.latency.median.png", "latency_cdf.png"])

    def test_no_numeric_axis(self):
        d = os.path.join(self.tmp.name, "bars")
        make_sweep(d, [{"key": "mode", "values": ["preempt_disable", "irq_save"]},
                       {"key": "lock", "values": ["spin", "raw"]},
                       {"key": "seed", "values": ["1", "2"]}], kernel_metrics)
        self.assert_plots(d, self.run_plot(d), ["detection_bars.png", "latency_cdf.png"])

    def test_zip_axis_is_one_variant_axis(self):
        d = os.path.join(self.tmp.name, "zip")
        make_sweep(d, [{"key": "cores", "values": ["2", "4", "8"]},
                       {"key": "timer", "values": ["1us", "100us"]},
                       {"key": "mode+lock", "zip": ["mode", "lock"],
                        "values": [["irq_save", "spin"], ["preempt_disable", "raw"]]},
                       {"key": "seed", "values": ["1", "2"]}], kernel_metrics)
        self.assert_plots(d, self.run_plot(d), ["heatmap_mode-irq_save-lock-spin.png",
                                                "heatmap_mode-preempt_disable-lock-raw.png", "latency_cdf.png"])

    def test_crashed_points_have_empty_metrics(self):
        d = os.path.join(self.tmp.name, "crashed")

        def metrics(params, index):
            return ("crashed", {}) if index % 3 == 0 else kernel_metrics(params, index)
        make_sweep(d, [{"key": "cores", "values": ["2", "4"]}, {"key": "timer", "values": ["1us", "5us"]},
                       {"key": "seed", "values": ["1", "2", "3"]}], metrics)
        self.assert_plots(d, self.run_plot(d), ["heatmap_all.png", "latency_cdf.png"])

    def test_only_crashed_points_is_a_note_not_an_error(self):
        d = os.path.join(self.tmp.name, "allcrashed")
        make_sweep(d, [{"key": "cores", "values": ["2", "4"]}], lambda p, i: ("crashed", {}))
        self.assert_plots(d, self.run_plot(d), [])
        self.assertIn("nothing to plot", self.stderr)

    def test_no_points_yet(self):
        d = os.path.join(self.tmp.name, "empty")
        make_sweep(d, [{"key": "cores", "values": ["2", "4"]}], kernel_metrics)
        open(os.path.join(d, "points.jsonl"), "w").close()
        self.assert_plots(d, self.run_plot(d), [])
        self.assertIn("no points", self.stderr)

    def test_stale_plots_of_an_earlier_run_are_removed(self):
        d = os.path.join(self.tmp.name, "stale")
        axes = [{"key": "cores", "values": ["2", "4"]}, {"key": "timer", "values": ["1us", "5us"]},
                {"key": "mode", "values": ["preempt_disable", "irq_save"]}]
        make_sweep(d, axes, kernel_metrics)
        self.run_plot(d)
        make_sweep(d, axes[:2], kernel_metrics)
        self.assert_plots(d, self.run_plot(d), ["heatmap_all.png", "latency_cdf.png"])

    def test_missing_or_malformed_inputs_exit_2(self):
        missing = os.path.join(self.tmp.name, "nowhere")
        self.run_plot(missing, expect_status=2)
        self.assertIn("no such directory", self.stderr)
        d = os.path.join(self.tmp.name, "bad")
        make_sweep(d, [{"key": "cores", "values": ["2", "4"]}], kernel_metrics)
        os.remove(os.path.join(d, "points.jsonl"))
        self.run_plot(d, expect_status=2)
        self.assertIn("points.jsonl", self.stderr)
        with open(os.path.join(d, "points.jsonl"), "w") as f:
            f.write('{"index": 0, "params": {"cores": "2"}, "metrics": {}}\n{not json\n')
        self.run_plot(d, expect_status=2)
        self.assertIn("points.jsonl:2: malformed JSON", self.stderr)
        with open(os.path.join(d, "points.jsonl"), "w") as f:
            f.write('{"index": 0, "params": {"cores": "3"}, "metrics": {}}\n')
        self.run_plot(d, expect_status=2)
        self.assertIn("cores='3'", self.stderr)
        with open(os.path.join(d, "sweep.json"), "w") as f:
            f.write('{"scenario": "x", "axes": ')
        self.run_plot(d, expect_status=2)
        self.assertIn("sweep.json: malformed JSON", self.stderr)
        os.remove(os.path.join(d, "sweep.json"))
        self.run_plot(d, expect_status=2)
        self.assertEqual(len(self.stderr.strip().splitlines()), 1, self.stderr)


if __name__ == "__main__":
    if not have_matplotlib():
        print("SKIPPED: matplotlib not installed (apt-get install python3-matplotlib)")
        sys.exit(77)
    unittest.main()
