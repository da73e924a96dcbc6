"""Redraw latency of every course widget: a control change -> the figure redrawn (kernel side, Agg).

For each widget and each of its value controls the script makes ``--repeats``
changes (cycling through the control's options or across its range) and times

    control.value = v      # the app's observer computes the new state and updates the artists
    app.render()           # and the figure is drawn into the Agg buffer (blit or full draw)

which is what happens in the kernel between a slider's release and the new
frame being ready (ipympl then only encodes and sends it). It prints the
median and the 95th percentile per control; the targets are median < 30 ms
and p95 < 50 ms for every control that does not train a network.

Python's cyclic garbage collector is run before each change, outside the
timing. Otherwise a full collection (15-40 ms in this process, more in a
Jupyter kernel, whatever the widget does) lands on one change in twenty or
thirty and decides the 95th percentile; its cost is printed separately. The
young generations still run inside the timings, as they do in a kernel.

Controls that train are marked "training" and are not held to the targets:
the playground's play/step control trains one epoch per change (that row is
the cost of one animation tick), and the regularization explorer trains a
1,000-epoch run on every penalty/dropout/early-stopping change (timed a few
times only, with its progress bar).

    python benchmarks/bench_widgets.py               # all widgets present
    python benchmarks/bench_widgets.py --repeats 50 playground
    python benchmarks/bench_widgets.py --no-collect   # full collections land inside the timings
    python benchmarks/bench_widgets.py --breakdown    # where a frame's time goes, per widget

``--breakdown`` splits one frame of every widget (all its controls that do not
train, each changed ``--repeats`` times) into its stages, in CPU milliseconds
of this process (``time.process_time``, so that other processes on a busy
machine do not count) and in wall milliseconds: the new state and the artists
(``control.value = v``), the drawing (``app.render()``), the PNG encoding of
the inline view (``canvas_png``: no row filters, zlib level
``PNG_COMPRESS_LEVEL``, RGB), Pillow's default encoding beside it (RGBA, level
6, a filter per row, as matplotlib's web backend encodes ipympl's frames), and
the size of the frame in pixels and kilobytes. What the browser adds (the message, the
decode, the paint) is measured by ``bench_widgets_browser.py``.
"""

from __future__ import annotations

import argparse
import functools
import gc
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

WIDGETS = ["perceptron_explorer", "activation_explorer", "universal_approximation", "forward_stepper",
           "backprop_stepper", "gradient_descent", "playground", "regularization_explorer"]
#: controls that train a network on change (timed, but not held to the redraw targets)
TRAINING = {
    "playground": {"epoch"},
    "regularization_explorer": {"penalty", "lam", "l1_method", "dropout", "early_stopping", "patience"},
}
#: how many changes a training control gets (each can take a second or more)
TRAINING_REPEATS = {"regularization_explorer": 3}
MEDIAN_TARGET_MS, P95_TARGET_MS = 30.0, 50.0


def make_app(name: str):
    from course import widgets

    try:
        factory = getattr(widgets, name)
    except (ImportError, AttributeError):
        return None
    app = factory()
    app.raise_errors = True
    return app


def value_sequence(control, n: int) -> list:
    """n valid values for ``control``, each different from the one before."""
    import ipywidgets as W

    if isinstance(control, W.Play):
        return [control.value + 1 + i for i in range(n)]
    if hasattr(control, "options") and hasattr(control, "index"):
        k = len(control.options)
        if k < 2:
            return []
        start = control.index or 0
        indices = [(start + 1 + i) % k for i in range(n)]
        return [("index", i) for i in indices]
    if isinstance(control, (W.Checkbox, W.ToggleButton)):
        return [bool((control.value + 1 + i) % 2) for i in range(n)]
    if isinstance(control, W.FloatLogSlider):
        exps = np.linspace(control.min, control.max, 13)
        return [float(control.base ** exps[(3 + 5 * i) % 13]) for i in range(n)]
    if hasattr(control, "min") and hasattr(control, "max") and control.max > control.min:
        step = getattr(control, "step", None) or 1
        grid = np.arange(control.min, control.max + step / 2, step)
        if len(grid) < 2:
            return []
        # hop around the range, never repeating the previous value
        picks = [grid[(len(grid) // 3 + 7 * i) % len(grid)] for i in range(n)]
        out, last = [], control.value
        for v in picks:
            if np.isclose(v, last):
                v = grid[(int(np.argmin(np.abs(grid - v))) + 1) % len(grid)]
            out.append(int(v) if isinstance(control.value, int) else float(v))
            last = out[-1]
        return out
    return []


def set_value(control, v) -> None:
    if isinstance(v, tuple) and v[0] == "index":
        control.index = v[1]
    else:
        control.value = v


#: run a full garbage collection before each timed change (see the module docstring)
COLLECT = True


def bench_control(app, name: str, control, n: int) -> list[float] | None:
    values = value_sequence(control, n)
    if not values:
        return None
    app.render()
    times = []
    for v in values:
        if COLLECT:
            gc.collect()
        t0 = time.perf_counter()
        set_value(control, v)
        app.render()
        times.append(time.perf_counter() - t0)
        if app.last_error is not None:
            raise RuntimeError(f"{name}: {app.last_error!r}")
    return times


def bench_widget(widget: str, repeats: int) -> list[tuple]:
    import ipywidgets as W

    app = make_app(widget)
    if app is None:
        return [(widget, "(not written yet)", "", 0, np.nan, np.nan)]
    rows = []
    training = TRAINING.get(widget, set())
    for name, control in app.controls.items():
        if isinstance(control, (W.Button, W.Output)) or not hasattr(control, "value"):
            continue
        if getattr(control, "disabled", False):
            continue
        is_training = name in training
        n = TRAINING_REPEATS.get(widget, repeats) if is_training else repeats
        before = {k: getattr(c, "value", None) for k, c in app.controls.items()}
        times = bench_control(app, name, control, n)
        # restore the starting state so that every control is timed from the default view
        with app.hold():
            for k, c in app.controls.items():
                if before[k] is not None and getattr(c, "value", None) != before[k] and not c.disabled:
                    c.value = before[k]
        if hasattr(app.controls.get("epoch"), "playing"):
            app.controls["epoch"].value = 0
        if times is None:
            continue
        ms = 1e3 * np.asarray(times)
        rows.append((widget, name, "training" if is_training else "", len(ms), float(np.median(ms)),
                     float(np.percentile(ms, 95))))
    return rows


def _png(fig) -> int:
    """Encode the canvas as the inline view does (``canvas_png``); the size in bytes."""
    from course.widgets._base import canvas_png

    return len(canvas_png(fig))


def _pillow_png(fig) -> int:
    """Encode the canvas with Pillow's default PNG settings (level 6, a filter per row), as matplotlib's
    web backend encodes ipympl's frames; the size in bytes."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.asarray(fig.canvas.buffer_rgba())).save(buf, format="png")
    return len(buf.getvalue())


def breakdown_widget(widget: str, repeats: int) -> dict | None:
    """One widget's frames split into stages: {stage: (median CPU ms, median wall ms)} and the frame size."""
    import ipywidgets as W

    from course.widgets._base import PNG_COMPRESS_LEVEL

    app = make_app(widget)
    if app is None:
        return None
    stages = {"state+artists": [], "draw (Agg)": [], f"PNG (ours, level {PNG_COMPRESS_LEVEL})": [],
              "PNG (Pillow, level 6)": []}
    size = 0
    for name, control in app.controls.items():
        if (isinstance(control, (W.Button, W.Output)) or not hasattr(control, "value")
                or getattr(control, "disabled", False) or name in TRAINING.get(widget, set())):
            continue
        for v in value_sequence(control, repeats):
            if COLLECT:
                gc.collect()
            steps = [functools.partial(set_value, control, v), app.render,
                     functools.partial(_png, app.fig), functools.partial(_pillow_png, app.fig)]
            for stage, step in zip(stages, steps):
                c0, t0 = time.process_time(), time.perf_counter()
                out = step()
                stages[stage].append((time.process_time() - c0, time.perf_counter() - t0))
                if stage.startswith("PNG (ours"):
                    size = out
    if not stages["draw (Agg)"]:
        return None
    result = {stage: tuple(1e3 * np.median(np.asarray(times), axis=0)) for stage, times in stages.items()}
    width, height = app.fig.canvas.get_width_height()
    result["frame"] = f"{width} x {height} px, {size / 1e3:.0f} kB"
    result["n"] = len(stages["draw (Agg)"])
    return result


def print_breakdown(widgets: list[str], repeats: int) -> None:
    rows = {w: breakdown_widget(w, repeats) for w in widgets}
    stages = next(r for r in rows.values() if r is not None)
    names = [k for k in stages if k not in ("frame", "n")]
    print(f"{'widget':26s} {'n':>4s} " + " ".join(f"{k:>22s}" for k in names) + "  frame")
    print(f"{'':26s} {'':4s} " + " ".join(f"{'CPU / wall ms':>22s}" for _ in names))
    for widget, r in rows.items():
        if r is None:
            continue
        print(f"{widget:26s} {r['n']:4d} " + " ".join(f"{r[k][0]:10.1f} / {r[k][1]:9.1f}" for k in names)
              + f"  {r['frame']}", flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("widgets", nargs="*", default=WIDGETS, help="widget names (default: all)")
    parser.add_argument("--repeats", type=int, default=30, help="changes per control (default 30)")
    parser.add_argument("--no-collect", action="store_true",
                        help="do not collect garbage before each change (full collections then land in the timings)")
    parser.add_argument("--breakdown", action="store_true", help="split each widget's frame into its stages")
    args = parser.parse_args(argv)
    global COLLECT
    COLLECT = not args.no_collect
    import matplotlib

    print(f"matplotlib {matplotlib.__version__} ({matplotlib.get_backend()}), {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f}")
    make_app(args.widgets[0])  # the imports and one app, so that the heap is a notebook's
    t0 = time.perf_counter()
    gc.collect()
    print(f"one full garbage collection of this process: {1e3 * (time.perf_counter() - t0):.1f} ms "
          f"({len(gc.get_objects())} objects), " + ("run before each change and not timed" if COLLECT else
                                                    "left to Python: it lands inside some timings"))
    if args.breakdown:
        print_breakdown(args.widgets, args.repeats)
        return 0
    header = f"{'widget':26s} {'control':18s} {'kind':9s} {'n':>3s} {'median ms':>10s} {'p95 ms':>8s}  target"
    print(header)
    print("-" * len(header))
    failures = 0
    for widget in args.widgets:
        for w, control, kind, n, med, p95 in bench_widget(widget, args.repeats):
            if n == 0:
                print(f"{w:26s} {control:18s}")
                continue
            if kind:
                verdict = "(trains)"
            elif med < MEDIAN_TARGET_MS and p95 < P95_TARGET_MS:
                verdict = "ok"
            else:
                verdict = "MISSED"
                failures += 1
            print(f"{w:26s} {control:18s} {kind:9s} {n:3d} {med:10.1f} {p95:8.1f}  {verdict}", flush=True)
    print(f"\ntargets: median < {MEDIAN_TARGET_MS:.0f} ms and p95 < {P95_TARGET_MS:.0f} ms for every control "
          f"that does not train; {failures} missed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
