"""System metrics of a run: CPU, memory and, when NVIDIA's management library is
importable, GPU utilisation and memory.

A sampler thread reads them every ``interval`` seconds and logs them through the run's
buffer, so they cost the training loop nothing and are flushed with everything else.
Names follow MLflow's own system metrics, so MLflow's UI charts them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import psutil

LogFn = Callable[[dict[str, float], int], Any]


def _gpu_reader() -> Callable[[], dict[str, float]] | None:
    try:
        import pynvml

        pynvml.nvmlInit()
        count = pynvml.nvmlDeviceGetCount()
    except Exception:  # no library, no driver or no GPU: nothing to read
        return None
    handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]

    def read() -> dict[str, float]:
        out: dict[str, float] = {}
        for i, h in enumerate(handles):
            util = pynvml.nvmlDeviceGetUtilizationRates(h)
            mem = pynvml.nvmlDeviceGetMemoryInfo(h)
            out[f"system/gpu_{i}_utilization_percentage"] = float(util.gpu)
            out[f"system/gpu_{i}_memory_usage_megabytes"] = mem.used / 1e6
            out[f"system/gpu_{i}_memory_usage_percentage"] = 100.0 * mem.used / mem.total
        return out

    return read


def sample(process: psutil.Process) -> dict[str, float]:
    """One reading of the machine and this process."""
    vm = psutil.virtual_memory()
    return {
        "system/cpu_utilization_percentage": psutil.cpu_percent(interval=None),
        "system/system_memory_usage_megabytes": (vm.total - vm.available) / 1e6,
        "system/system_memory_usage_percentage": vm.percent,
        "system/process_memory_rss_megabytes": process.memory_info().rss / 1e6,
    }


class SystemMetricsSampler:
    """Samples system metrics into ``log(metrics, step)`` until stopped."""

    def __init__(self, log: LogFn, interval: float = 10.0) -> None:
        self._log = log
        self._interval = interval
        self._stop = threading.Event()
        self._process = psutil.Process()
        self._gpu = _gpu_reader()
        psutil.cpu_percent(interval=None)  # prime: the first reading is relative to this
        self._thread = threading.Thread(target=self._loop, name="matih-system-metrics", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        step = 0
        while not self._stop.wait(self._interval):
            values = sample(self._process)
            if self._gpu is not None:
                try:
                    values.update(self._gpu())
                except Exception:
                    self._gpu = None
            try:
                self._log(values, step)
            except Exception:  # the run ended between the check and the call
                return
            step += 1

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
