"""How fast the grader is: one submission, and 20 submissions with two jobs.

    python benchmarks/bench_grade.py [--n 20] [--jobs 2] [--exercise ex01] [--no-baseline]

Each figure is the wall time of the whole command ``python -m course.grade ...`` (Python
start-up, reading the instructor's tests, kernels, CSV, JSON and feedback files), the
way an instructor runs it. The submissions are the exercise's solution, its stub, and
variants with one function wrong, cycled to ``--n`` notebooks.

For comparison, the same single submission executed the way nbgrader and otter-grader
execute notebooks (a Jupyter kernel via nbclient, top to bottom; their own grading
work comes on top). Targets: median <= 1 s per NumPy submission inside the batch,
sandbox start included, and 20 submissions with two jobs <= 15 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _variants(exercise: str, n: int, d: Path) -> list[Path]:
    sol = next((ROOT / "solutions").glob(f"{exercise}_*.ipynb"))
    ex = ROOT / "exercises" / sol.name
    nb = json.loads(sol.read_text())
    answer_cells = [c for c in nb["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("solution")]
    sources = [sol, ex]
    for k, cell in enumerate(answer_cells):  # one answer cell broken at a time
        broken = json.loads(sol.read_text())
        for c in broken["cells"]:
            if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == cell["metadata"]["nbgrader"]["grade_id"]:
                src = "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
                c["source"] = src.replace("return ", "return 0.5 * ", 1)
        p = d / f"broken_{k}.ipynb"
        p.write_text(json.dumps(broken))
        sources.append(p)
    out = []
    for i in range(n):
        p = d / f"student_{i:02d}.ipynb"
        shutil.copy(sources[i % len(sources)], p)
        out.append(p)
    return out


def _grade(paths, jobs, outdir) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "course.grade", *map(str, paths), "--csv", str(outdir / "grades.csv"),
                    "--json", str(outdir / "report.json"), "--timeout", "30", "--jobs", str(jobs), "--quiet"],
                   cwd=ROOT, env=env, check=False)
    return time.perf_counter() - t


def _nbclient_run(path) -> float:
    import nbclient
    import nbformat

    nb = nbformat.read(path, as_version=4)
    t = time.perf_counter()
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(ROOT)}}).execute()
    return time.perf_counter() - t


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=20)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--exercise", default="ex01")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--no-baseline", action="store_true")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        subs = _variants(args.exercise, args.n, d)
        one = min(_grade(subs[:1], 1, d / "one") for _ in range(args.repeat))
        many = min(_grade(subs, args.jobs, d / "many") for _ in range(max(1, args.repeat - 1)))
        report = json.loads((d / "many" / "report.json").read_text())
        per_kernel = sorted(s["seconds"] for s in report["submissions"])
        print(f"exercise {args.exercise}, {os.cpu_count()} CPU cores, isolation: "
              f"{report['submissions'][0]['isolation'].split(':')[0]}")
        print(f"one submission, whole command:           {one:6.2f} s")
        print(f"{args.n} submissions, --jobs {args.jobs}, whole command: {many:6.2f} s   (target <= 15 s)")
        print(f"  per submission inside the batch (sandbox start included): median "
              f"{per_kernel[len(per_kernel) // 2]:.2f} s (target <= 1 s), max {per_kernel[-1]:.2f} s")
        scores = sorted({s["points"] for s in report["submissions"]})
        print(f"  distinct scores in the batch: {scores}")
        if not args.no_baseline:
            base = min(_nbclient_run(subs[0]) for _ in range(2))
            print(f"the same submission run top to bottom in a Jupyter kernel (nbclient, as nbgrader and otter do): "
                  f"{base:6.2f} s")


if __name__ == "__main__":
    main()
