"""gpu: NVIDIA GPUs through ``nvidia-smi``, in dcgm-exporter's names and labels.

    DCGM_FI_DEV_GPU_UTIL{UUID="GPU-6f3c...",gpu="0",modelName="NVIDIA A100-SXM4-40GB"} 87
    DCGM_FI_DEV_FB_USED{...} 30512          (MiB, as dcgm-exporter)
    DCGM_FI_DEV_FB_FREE{...} 10024          (MiB)
    DCGM_FI_DEV_FB_TOTAL{...} 40960         (MiB)
    DCGM_FI_DEV_GPU_TEMP{...} 61            (°C)
    DCGM_FI_DEV_POWER_USAGE{...} 243.12     (W)

Labels are dcgm-exporter's ``gpu`` (the index), ``UUID`` and ``modelName``; its ``Hostname``
is left to Prometheus (a target label) and ``device`` (``nvidia<minor>``) is not in the query.
A host without ``nvidia-smi`` prints nothing: no series and no error.  A field nvidia-smi
cannot read (``[N/A]``, ``[Not Supported]``) drops that one sample.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families, gauge
from fleetwatch.exporters.host.collectors.base import Collector, Options
from fleetwatch.exporters.host.snapshot import Snapshot

KEY = "gpu"
QUERY = (
    "index,uuid,name,utilization.gpu,memory.used,memory.free,memory.total,"
    "temperature.gpu,power.draw"
)
COMMAND = (
    "command -v nvidia-smi >/dev/null 2>&1 && "
    f"nvidia-smi --query-gpu={QUERY} --format=csv,noheader,nounits"
)
LABELS = ("gpu", "UUID", "modelName")
UTIL = gauge("DCGM_FI_DEV_GPU_UTIL", "GPU utilization (in %).", *LABELS)
FB_USED = gauge("DCGM_FI_DEV_FB_USED", "Framebuffer memory used (in MiB).", *LABELS)
FB_FREE = gauge("DCGM_FI_DEV_FB_FREE", "Framebuffer memory free (in MiB).", *LABELS)
FB_TOTAL = gauge("DCGM_FI_DEV_FB_TOTAL", "Framebuffer memory total (in MiB).", *LABELS)
TEMP = gauge("DCGM_FI_DEV_GPU_TEMP", "GPU temperature (in C).", *LABELS)
POWER = gauge("DCGM_FI_DEV_POWER_USAGE", "Power draw (in W).", *LABELS)
#: the numeric query columns, in order, after index, uuid and name
VALUE_SPECS = (UTIL, FB_USED, FB_FREE, FB_TOTAL, TEMP, POWER)
_COLUMNS = 3 + len(VALUE_SPECS)


@dataclass(frozen=True)
class Gpu:
    index: str
    uuid: str
    name: str
    values: tuple[float | None, ...]  # in VALUE_SPECS order; None where nvidia-smi had none


def _value(text: str) -> float | None:
    text = text.strip()
    if not text or text.startswith("["):  # [N/A], [Not Supported], [Unknown Error]
        return None
    try:
        return float(text)
    except ValueError:
        raise ParseError("nvidia-smi", f"not a number: {text[:40]!r}") from None


def parse_nvidia_smi(text: str) -> list[Gpu]:
    """The GPUs of ``nvidia-smi --query-gpu=QUERY --format=csv,noheader,nounits``.

    Empty output (no nvidia-smi) is no GPU.  A line that is not a row of the query (nvidia-smi's
    own error message, e.g. when the driver is not loaded) is a ParseError.
    """
    gpus: list[Gpu] = []
    for row in csv.reader(line for line in text.splitlines() if line.strip()):
        cells = [c.strip() for c in row]
        if len(cells) != _COLUMNS or not cells[0].isdigit():
            raise ParseError("nvidia-smi", f"unexpected line: {', '.join(cells)[:80]!r}")
        values = tuple(_value(c) for c in cells[3:])
        gpus.append(Gpu(cells[0], cells[1], cells[2], values))
    return gpus


class GpuCollector(Collector):
    name = "gpu"
    specs = VALUE_SPECS
    default = True

    def commands(self, opts: Options) -> dict[str, str]:
        return {KEY: COMMAND}

    def collect(self, snap: Snapshot, out: Families, opts: Options) -> None:
        for gpu in parse_nvidia_smi(snap.command(KEY) or ""):
            for spec, value in zip(VALUE_SPECS, gpu.values, strict=True):
                if value is not None:
                    out.add(spec, value, gpu.index, gpu.uuid, gpu.name)


COLLECTORS = [GpuCollector]
