"""Shared benchmark plumbing: a results dir, a Rich table, a saved plot, peak RSS."""

from __future__ import annotations

import json
import resource
import sys
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

RESULTS = Path(__file__).resolve().parent / "results"
console = Console()


def peak_rss_mb() -> float:
    """Peak resident memory of this process image.

    VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss across fork + exec, so a child
    started by a big parent would report the parent's peak instead of its own."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def print_table(title: str, columns: list[str], rows: list[list[object]]) -> None:
    table = Table(title=title)
    for c in columns:
        table.add_column(c)
    for r in rows:
        table.add_row(*(f"{v:.3f}" if isinstance(v, float) else str(v) for v in r))
    console.print(table)


def save_json(name: str, data: object) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2))
    return path


def save_bar_plot(name: str, labels: list[str], values: list[float], ylabel: str, title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    RESULTS.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(max(7, 1.3 * len(labels)), 4.5))
    ax.bar(labels, values, color="#3b7dd8")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    for i, v in enumerate(values):
        ax.text(i, v, f"{v:.2f}", ha="center", va="bottom")
    fig.tight_layout()
    path = RESULTS / f"{name}.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def emit_child_result(data: dict) -> None:
    """Child processes print one JSON line on stdout for the parent to collect."""
    sys.stdout.write("RESULT " + json.dumps(data) + "\n")
    sys.stdout.flush()


class ProcessTree:
    """CPU seconds and resident memory of a server and its child processes (model workers), so a
    server that moves work into children is measured as whole."""

    def __init__(self, pid: int):
        import psutil

        self._psutil = psutil
        self.root = psutil.Process(pid)

    def _members(self) -> list:
        try:
            return [self.root, *self.root.children(recursive=True)]
        except self._psutil.Error:
            return []

    def cpu_seconds(self) -> float:
        total = 0.0
        for p in self._members():
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except self._psutil.Error:
                continue
        return total

    def rss_mb(self) -> float:
        total = 0
        for p in self._members():
            try:
                total += p.memory_info().rss
            except self._psutil.Error:
                continue
        return total / 2**20


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile, or None for no values (printed as "-" by fmt)."""
    return float(np.percentile(values, q)) if values else None


def fmt(value: object, digits: int = 2) -> str:
    """A table cell: floats rounded, None as "-"."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def wait_healthy(proc, url: str, what: str, log_path, timeout_s: float = 120) -> None:
    """Until `url`/healthz answers 200; exits the bench with the log's path if `proc` dies or stalls."""
    import time

    import httpx

    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited ({proc.returncode}); see {log_path}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit(f"{what} did not start; see {log_path}")
