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

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:  # the figure-level tests below need it in this process
    plt = None

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
    """Plausible metrics: lockdep fires under irq_save on even seeds, deadlocks on core count 8;
    a point runs 5 ms unless it deadlocks, and says when it first detected something."""
    lockdep = 1 if params.get("mode") == "irq_save" and int(params.get("seed", "2")) % 2 == 0 else 0
    deadlock = 1 if params.get("cores") == "8" and lockdep else 0
    metrics = {"lockdep_reports": lockdep, "deadlock": deadlock, "irq_latency.max_ns": 500 + 997 * index,
               "wakeup_latency.p99_ns": 100 + 31 * index, "irqs_off.max_ns": 400, "simulated_ms": 5.0}
    if lockdep:
        metrics["detection.first_ns"] = 1000.0 + 1370.0 * index
    if deadlock:
        metrics["simulated_ms"] = (metrics["detection.first_ns"] + 500) / 1e6
    return "deadlock" if deadlock else "ok", metrics


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
        self.assert_plots(d, out, ["heatmap_preempt_disable.png", "heatmap_irq_save.png", "survival.png",
                                   "latency_cdf.png"])
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
        self.assert_plots(d, self.run_plot(d), ["detection_irq.ipi.latency.median.png", "survival.png",
                                                "latency_cdf.png"])

    def test_no_numeric_axis(self):
        d = os.path.join(self.tmp.name, "bars")
        make_sweep(d, [{"key": "mode", "values": ["preempt_disable", "irq_save"]},
                       {"key": "lock", "values": ["spin", "raw"]},
                       {"key": "seed", "values": ["1", "2"]}], kernel_metrics)
        self.assert_plots(d, self.run_plot(d), ["detection_bars.png", "survival.png", "latency_cdf.png"])

    def test_zip_axis_is_one_variant_axis(self):
        d = os.path.join(self.tmp.name, "zip")
        make_sweep(d, [{"key": "cores", "values": ["2", "4", "8"]},
                       {"key": "timer", "values": ["1us", "100us"]},
                       {"key": "mode+lock", "zip": ["mode", "lock"],
                        "values": [["irq_save", "spin"], ["preempt_disable", "raw"]]},
                       {"key": "seed", "values": ["1", "2"]}], kernel_metrics)
        self.assert_plots(d, self.run_plot(d), ["heatmap_mode-irq_save-lock-spin.png",
                                                "heatmap_mode-preempt_disable-lock-raw.png", "survival.png",
                                                "latency_cdf.png"])

    def test_crashed_points_have_empty_metrics(self):
        d = os.path.join(self.tmp.name, "crashed")

        def metrics(params, index):
            return ("crashed", {}) if index % 3 == 0 else kernel_metrics(params, index)
        make_sweep(d, [{"key": "cores", "values": ["2", "4"]}, {"key": "timer", "values": ["1us", "5us"]},
                       {"key": "seed", "values": ["1", "2", "3"]}], metrics)
        self.assert_plots(d, self.run_plot(d), ["heatmap_all.png", "survival.png", "latency_cdf.png"])

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
        self.assert_plots(d, self.run_plot(d), ["heatmap_all.png", "survival.png", "latency_cdf.png"])

    def test_tick_labels_are_rounded_engineering_units(self):
        plot = load_module()
        self.assertEqual(plot.format_time(3.162278e-6), "3.16 µs")
        self.assertEqual(plot.format_time(2e-3), "2 ms")
        self.assertEqual([plot.format_ns(v) for v in (10, 46.416, 215.443, 1000, 999.7, 0.5)],
                         ["10 ns", "46.4 ns", "215 ns", "1 µs", "1 µs", "500 ps"])
        self.assertEqual(plot.format_plain(2000), "2000")
        self.assertEqual(plot.format_plain(3.14159), "3.14")
        log_axis = plot.Axis({"key": "mem.c2c", "values": ["1us", "10ns", "46.416ns", "215.443ns"]}, "here")
        self.assertEqual(log_axis.ticks(), ["10 ns", "46.4 ns", "215 ns", "1 µs"])
        self.assertEqual(plot.Axis({"key": "cores", "values": ["8", "4", "16"]}, "here").ticks(), ["4", "8", "16"])
        # Close ticks keep as many digits as tell them apart.
        self.assertEqual(plot.tick_labels([1065, 1070, 1075, 1080], True),
                         ["1.065 µs", "1.07 µs", "1.075 µs", "1.08 µs"])

    def test_release_axis_is_a_category_in_its_given_order(self):
        plot = load_module()
        axis = plot.Axis({"key": "kernel.release", "values": ["4.4", "4.14"]}, "here")
        self.assertIsNone(axis.numbers)
        self.assertEqual(axis.labels, ["4.4", "4.14"])

    def flagship_like(self):
        """The flagship's axes: a zip of three kernel settings and two expect.* keys, cores, seeds."""
        plot = load_module()
        axes_spec = [{"key": "a+b+c+expect.lockdep_reports+expect.deadlock",
                      "zip": ["kernel.a", "kernel.b", "kernel.c", "expect.lockdep_reports", "expect.deadlock"],
                      "values": [["x", "v4.4", "false", ">= 1", "~"], ["y", "v4.4", "false", "0", "false"],
                                 ["x", "deferred", "false", "0", "false"], ["x", "v4.4", "true", ">= 1", "~"]]},
                     {"key": "cores", "values": ["4", "8"]}, {"key": "seed", "values": ["1", "2", "3"]}]
        d = os.path.join(self.tmp.name, "flagship")
        make_sweep(d, axes_spec, kernel_metrics)
        return plot, d

    def test_variants_get_short_labels_and_a_table_of_their_settings(self):
        plot, d = self.flagship_like()
        sweep, axes, points = plot.load_sweep(d)
        main, variants = plot.plan(axes, points)
        self.assertEqual([a.key for a in main], ["cores"])
        title, shorts, table = plot.variant_key(variants)
        self.assertEqual(shorts, ["V1", "V2", "V3", "V4"])
        self.assertEqual([v.short for v in variants], shorts)
        keys, rows = table
        self.assertEqual(keys, ["kernel.a", "kernel.b", "kernel.c"])  # no expect.* key
        self.assertEqual(rows, [["x", "v4.4", "false"], ["y", "v4.4", "false"],
                                ["x", "deferred", "false"], ["x", "v4.4", "true"]])
        text = plot.table_text(shorts, table).splitlines()
        self.assertEqual(text[0].split(), ["variant", "kernel.a", "kernel.b", "kernel.c"])
        self.assertEqual(text[3].split(), ["V3", "x", "deferred", "false"])
        self.assertNotIn("expect", plot.table_text(shorts, table))
        # One varying setting: its values are the labels and its key the legend's title.
        one = [plot.Variant("m=a", "a", [("m", "a")], []), plot.Variant("m=b", "b", [("m", "b")], [])]
        self.assertEqual(plot.variant_key(one), ("m", ["a", "b"], None))

    @unittest.skipIf(plt is None, "matplotlib is not importable in this interpreter")
    def test_legends_and_tables_sit_outside_the_axes(self):
        plot, d = self.flagship_like()
        sweep, axes, points = plot.load_sweep(d)
        main, variants = plot.plan(axes, points)
        for fig in (plot.make_lines(plt, sweep, main[0], variants), plot.make_latency_cdfs(plt, sweep, variants),
                    plot.make_survival(plt, sweep, variants)):
            self.addCleanup(plt.close, fig)
            renderer = fig.canvas.get_renderer()
            self.assertEqual(len(fig.legends), 1)
            legend = fig.legends[0].get_window_extent(renderer)
            table = [t for t in fig.texts if t.get_text().startswith("variant")]
            self.assertEqual(len(table), 1)
            table = table[0].get_window_extent(renderer)
            for ax in fig.axes:
                self.assertIsNone(ax.get_legend())
                box = ax.get_window_extent(renderer)
                self.assertFalse(legend.overlaps(box), f"legend {legend} over axes {box}")
                self.assertFalse(table.overlaps(box), f"table {table} over axes {box}")
            # bbox_inches="tight" keeps both in the saved image.
            tight = fig.get_tightbbox(renderer).transformed(fig.dpi_scale_trans)
            for part in (legend, table):
                self.assertLessEqual(part.x1, tight.x1 + 1)
                self.assertGreaterEqual(part.y0, tight.y0 - 1)

    @unittest.skipIf(plt is None, "matplotlib is not importable in this interpreter")
    def test_no_curve_for_a_metric_without_samples(self):
        plot = load_module()

        def metrics(params, index):  # variant "none" measured no interrupt; nobody a wakeup
            m = {"lockdep_reports": 0, "deadlock": 0, "irq_latency.count": 10, "irq_latency.max_ns": 900 + index,
                 "wakeup_latency.count": 0, "wakeup_latency.p99_ns": 0, "irqs_off.max_ns": 300 + index}
            if params["mode"] == "none":
                m.update({"irq_latency.count": 0, "irq_latency.max_ns": 0})
            return "ok", m
        d = os.path.join(self.tmp.name, "nosamples")
        make_sweep(d, [{"key": "mode", "values": ["some", "none"]}, {"key": "seed", "values": ["1", "2"]}], metrics)
        sweep, axes, points = plot.load_sweep(d)
        _, variants = plot.plan(axes, points)
        self.assertEqual(plot.samples(variants[1].members, "irq_latency.max_ns"), [])
        self.assertEqual(plot.latency_families(variants), [("IRQ latency", "irq_latency.max_ns"),
                                                           ("IRQs-off section", "irqs_off.max_ns")])
        fig = plot.make_latency_cdfs(plt, sweep, variants)
        self.addCleanup(plt.close, fig)
        irq, irqs_off = fig.axes
        self.assertEqual(len(irq.get_lines()), 1)  # only "some"
        self.assertIn("no samples: none", irq.get_title())
        self.assertEqual(len(irqs_off.get_lines()), 2)
        self.assertNotIn("0 ns", [t.get_text() for t in irq.get_xticklabels()])

    @unittest.skipIf(plt is None, "matplotlib is not importable in this interpreter")
    def test_bar_labels_are_one_value_per_bar_and_do_not_touch(self):
        plot = load_module()
        d = os.path.join(self.tmp.name, "manybars")
        make_sweep(d, [{"key": "kernel.release", "values": ["4.4", "4.14"]},
                       {"key": "kernel.printk.stall_warning", "values": ["under_rnp_lock", "deferred"]},
                       {"key": "kernel.perf.lock_task_context", "values": ["preempt_disable", "irq_save"]},
                       {"key": "seed", "values": ["1", "2"]}], lambda p, i: ("ok", {"lockdep_reports": 0, "deadlock": 0}))
        sweep, axes, points = plot.load_sweep(d)
        main, variants = plot.plan(axes, points)
        self.assertEqual((main, len(variants)), ([], 8))
        fig = plot.make_bars(plt, sweep, variants)
        self.addCleanup(plt.close, fig)
        renderer = fig.canvas.get_renderer()
        for ax in fig.axes:
            labels = [t for t in ax.texts if t.get_text() not in ("",)]
            self.assertEqual([t.get_text() for t in labels], ["0.00\nn=2"] * 8)
            boxes = [t.get_window_extent(renderer) for t in labels]
            for a, b in itertools.combinations(boxes, 2):
                self.assertFalse(a.overlaps(b), "bar labels run into each other")
            self.assertEqual([t.get_text() for t in ax.get_xticklabels()], [f"V{i}" for i in range(1, 9)])
            self.assertTrue(ax.get_ylabel())

    def test_wilson_interval_and_zero_detection_bound_hand_values(self):
        plot = load_module()
        for (k, n), (lo, hi) in {(2, 5): (0.1176, 0.7693), (0, 5): (0.0, 0.4345), (5, 5): (0.5655, 1.0)}.items():
            got = plot.wilson(k, n)
            self.assertAlmostEqual(got[0], lo, places=4, msg=f"{k}/{n}")
            self.assertAlmostEqual(got[1], hi, places=4, msg=f"{k}/{n}")
        self.assertEqual(plot.wilson(0, 5)[0], 0.0)
        self.assertEqual(plot.wilson(5, 5)[1], 1.0)
        self.assertTrue(all(v != v for v in plot.wilson(0, 0)))
        self.assertAlmostEqual(plot.zero_upper_bound(5), 0.4507, places=4)
        self.assertAlmostEqual(plot.zero_upper_bound(10), 0.2589, places=4)
        self.assertEqual(plot.runs_for_bound(0.01), 299)
        self.assertLess(plot.zero_upper_bound(299), 0.01)
        self.assertGreater(plot.zero_upper_bound(298), 0.01)
        self.assertEqual(plot.more_clean_runs(5), 294)
        self.assertEqual(plot.more_clean_runs(299), 0)
        self.assertEqual(plot.more_clean_runs(1000), 0)
        self.assertEqual(plot.counts([{"outcome": "deadlock", "metrics": {"lockdep_reports": 1}},
                                      {"outcome": "ok", "metrics": {"lockdep_reports": 0, "deadlock": 0}},
                                      {"outcome": "crashed", "metrics": {}}]), ([1, 1], 3))

    def test_kaplan_meier_by_hand(self):
        plot = load_module()
        # Six points: detections at 1, 2, 2 and 5; censored at 2 (still at risk at 2) and at 3.
        steps, censored, median = plot.kaplan_meier(
            [(2, True), (1, True), (2, False), (2, True), (3, False), (5, True)])
        self.assertEqual([t for t, _ in steps], [1, 2, 5])
        for (_, got), want in zip(steps, [5 / 6, 5 / 6 * 3 / 5, 0.0]):
            self.assertAlmostEqual(got, want)
        self.assertEqual([t for t, _ in censored], [2, 3])
        self.assertAlmostEqual(censored[0][1], 0.5)
        self.assertEqual(median, 2)  # the first time S(t) <= 0.5
        steps, censored, median = plot.kaplan_meier([(1, True), (2, False), (3, True), (4, False)])
        self.assertAlmostEqual(steps[-1][1], 0.75 * 0.5)
        self.assertEqual(median, 3)
        self.assertEqual(plot.kaplan_meier([(1, True), (2, False), (3, False), (4, False)])[2], None)
        self.assertEqual(plot.kaplan_meier([(5, False)] * 3), ([], [(5, 1.0)] * 3, None))

    def test_time_to_detection_is_first_detection_or_censored_at_the_run_end(self):
        plot = load_module()
        ttd = plot.time_to_detection
        self.assertEqual(ttd({"metrics": {"lockdep_reports": 1, "detection.first_ns": 1500.0, "simulated_ms": 20}}),
                         (1500.0, True))
        self.assertEqual(ttd({"metrics": {"lockdep_reports": 0, "deadlock": 0, "simulated_ms": 20}}), (2e7, False))
        self.assertIsNone(ttd({"outcome": "crashed", "metrics": {}}))
        self.assertIsNone(ttd({"metrics": {"lockdep_reports": 2, "simulated_ms": 20}}))  # fired, but when?
        self.assertIsNone(ttd({"metrics": {"irq_latency.max_ns": 5, "simulated_ms": 20}}))  # no detector

    def test_survival_plot_only_with_detector_metrics(self):
        d = os.path.join(self.tmp.name, "nodetector")
        make_sweep(d, [{"key": "cores", "values": ["2", "4"]}, {"key": "seed", "values": ["1", "2"]}],
                   lambda p, i: ("ok", {"irq_latency.max_ns": 500 + 10 * i, "simulated_ms": 5.0}))
        self.assert_plots(d, self.run_plot(d), ["latency_cdf.png"])
        d = os.path.join(self.tmp.name, "detections")
        make_sweep(d, [{"key": "mode", "values": ["preempt_disable", "irq_save"]},
                       {"key": "seed", "values": ["1", "2", "3", "4"]}], kernel_metrics)
        self.assert_plots(d, self.run_plot(d), ["detection_bars.png", "survival.png", "latency_cdf.png"])

    @unittest.skipIf(plt is None, "matplotlib is not importable in this interpreter")
    def test_survival_curves_mark_censored_points_and_bound_clean_variants(self):
        plot = load_module()
        d = os.path.join(self.tmp.name, "survival")
        make_sweep(d, [{"key": "mode", "values": ["preempt_disable", "irq_save"]},
                       {"key": "seed", "values": ["1", "2", "3", "4", "5", "6"]}], kernel_metrics)
        sweep, axes, points = plot.load_sweep(d)
        _, variants = plot.plan(axes, points)
        fig = plot.make_survival(plt, sweep, variants)
        self.addCleanup(plt.close, fig)
        ax, = fig.axes
        steps = [line for line in ax.get_lines() if line.get_drawstyle() == "steps-post"]
        marks = [line for line in ax.get_lines() if line.get_marker() == "+"]
        self.assertEqual(len(steps), 2)
        self.assertEqual([len(m.get_xdata()) for m in marks], [6, 3])  # all 6 clean; 3 of irq_save's
        self.assertEqual(list(steps[0].get_ydata()), [1.0, 1.0])
        self.assertAlmostEqual(list(steps[1].get_ydata())[-1], 0.5)
        self.assertEqual(max(marks[0].get_xdata()), 5e6)  # censored at 5 ms, in ns
        labels = [t.get_text() for t in fig.legends[0].get_texts()]
        self.assertEqual(labels[0], "preempt_disable: 0/6 detected, P(detect) ≤ 39.3% (95%); "
                                    "293 more clean runs for < 1%")
        self.assertTrue(labels[1].startswith("irq_save: 3/6 detected, median "), labels[1])
        self.assertIn("µs", labels[1])
        fig.canvas.draw()
        ticks = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
        self.assertTrue(ticks)
        for tick in ticks:  # engineering units, as the other plots' time axes
            self.assertRegex(tick, r"^[0-9.]+ (ps|ns|µs|ms|s)$")

    @unittest.skipIf(plt is None, "matplotlib is not importable in this interpreter")
    def test_rates_carry_wilson_intervals_and_n(self):
        plot = load_module()
        d = os.path.join(self.tmp.name, "intervals")
        make_sweep(d, [{"key": "irq.ipi.latency.median", "values": ["100ns", "1us"]},
                       {"key": "mode", "values": ["preempt_disable", "irq_save"]},
                       {"key": "seed", "values": ["1", "2", "3", "4"]}], kernel_metrics)
        sweep, axes, points = plot.load_sweep(d)
        main, variants = plot.plan(axes, points)
        fig = plot.make_lines(plt, sweep, main[0], variants)
        self.addCleanup(plt.close, fig)
        lockdep = fig.axes[0]
        self.assertEqual(len(lockdep.containers), 2)  # an errorbar per variant
        bars = lockdep.containers[1].lines[2][0].get_segments()  # irq_save: 2 of 4 per value
        for seg in bars:
            self.assertAlmostEqual(seg[0][1], plot.wilson(2, 4)[0])
            self.assertAlmostEqual(seg[1][1], plot.wilson(2, 4)[1])
        self.assertEqual([t.get_text() for t in fig.legends[0].get_texts()],
                         ["preempt_disable (n=4)", "irq_save (n=4)"])
        self.assertIn("95% Wilson", fig._suptitle.get_text())
        fig = plot.make_bars(plt, sweep, [plot.Variant("all", "all", [], points)])
        self.addCleanup(plt.close, fig)
        self.assertEqual([t.get_text() for t in fig.axes[0].texts], ["0.25\nn=16"])

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
    if plt is None and os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3") and not os.environ.get("PLOT_TEST_REEXEC"):
        # As scripts/plot does: Debian's python3 has the matplotlib the figure-level tests need.
        os.environ["PLOT_TEST_REEXEC"] = "1"
        os.execv("/usr/bin/python3", ["/usr/bin/python3", os.path.abspath(__file__)] + sys.argv[1:])
    unittest.main()
