"""gpu: the nvidia-smi CSV parser, and the snippet run for real with a stand-in nvidia-smi."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from fleetwatch.errors import ParseError
from fleetwatch.exporters.families import Families
from fleetwatch.exporters.host.collectors.base import Options
from fleetwatch.exporters.host.collectors.gpu import (
    COMMAND,
    KEY,
    GpuCollector,
    parse_nvidia_smi,
)
from fleetwatch.exporters.host.runner import run_collectors
from fleetwatch.exporters.host.script import (
    build_script,
    new_nonce,
    parse_output,
    wrap_for_login_shell,
)
from fleetwatch.exporters.host.snapshot import Snapshot

# nvidia-smi --query-gpu=... --format=csv,noheader,nounits as NVIDIA documents it: one row per
# GPU, ", " between fields, [N/A] / [Not Supported] for what a board cannot report
CSV = (
    "0, GPU-6f3c1e2a-57a9-1c43-1c5b-3b7f2d5e8a11, NVIDIA A100-SXM4-40GB, 87, 30512, 10024, "
    "40960, 61, 243.12\n"
    "1, GPU-0d4b8b9e-2c1f-7a3e-9f41-c1a2b3c4d5e6, NVIDIA A100-SXM4-40GB, 0, 3, 40533, "
    "40960, 33, 52.40\n"
    "2, GPU-a1b2c3d4-0000-1111-2222-333344445555, NVIDIA GeForce GTX 1080, [N/A], 512, 7607, "
    "8119, 45, [Not Supported]\n"
)
LABELS0 = {
    "gpu": "0",
    "UUID": "GPU-6f3c1e2a-57a9-1c43-1c5b-3b7f2d5e8a11",
    "modelName": "NVIDIA A100-SXM4-40GB",
}


def test_snippet_is_the_documented_query() -> None:
    assert COMMAND == (
        "command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi --query-gpu=index,uuid,name,"
        "utilization.gpu,memory.used,memory.free,memory.total,temperature.gpu,power.draw "
        "--format=csv,noheader,nounits"
    )


def test_parse_documented_csv() -> None:
    gpus = parse_nvidia_smi(CSV)
    assert [g.index for g in gpus] == ["0", "1", "2"]
    assert gpus[0].name == "NVIDIA A100-SXM4-40GB"
    assert gpus[0].values == (87.0, 30512.0, 10024.0, 40960.0, 61.0, 243.12)
    assert gpus[2].values == (None, 512.0, 7607.0, 8119.0, 45.0, None)


def test_collect_uses_dcgm_names_and_labels() -> None:
    out = Families()
    GpuCollector().collect(Snapshot(commands={KEY: CSV}), out, Options())
    assert out.get("DCGM_FI_DEV_GPU_UTIL", LABELS0) == 87
    assert out.get("DCGM_FI_DEV_FB_USED", LABELS0) == 30512
    assert out.get("DCGM_FI_DEV_FB_FREE", LABELS0) == 10024
    assert out.get("DCGM_FI_DEV_FB_TOTAL", LABELS0) == 40960
    assert out.get("DCGM_FI_DEV_GPU_TEMP", LABELS0) == 61
    assert out.get("DCGM_FI_DEV_POWER_USAGE", LABELS0) == 243.12
    # [N/A] and [Not Supported] drop only those samples
    assert len(out.samples("DCGM_FI_DEV_GPU_UTIL")) == 2
    assert len(out.samples("DCGM_FI_DEV_POWER_USAGE")) == 2
    assert len(out.samples("DCGM_FI_DEV_GPU_TEMP")) == 3
    text = out.render().decode()
    assert 'DCGM_FI_DEV_GPU_TEMP{UUID="GPU-6f3c1e2a' in text


@pytest.mark.parametrize("text", ["", "\n", "  \n\n"])
def test_no_nvidia_smi_is_no_gpu(text: str) -> None:
    out = Families()
    GpuCollector().collect(Snapshot(commands={KEY: text}), out, Options())
    assert len(out) == 0


@pytest.mark.parametrize(
    "text",
    [
        "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n",
        "0, GPU-x, Tesla, 1, 2, 3\n",
        "0, GPU-x, Tesla, abc, 2, 3, 4, 5, 6\n",
    ],
)
def test_garbage_is_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError, match="nvidia-smi"):
        parse_nvidia_smi(text)


def _run_snippet(path: str) -> tuple[Families, dict[str, str]]:
    collector = GpuCollector()
    nonce = new_nonce()
    script = build_script([collector], Options(), nonce)
    proc = subprocess.run(
        ["sh", "-c", wrap_for_login_shell(script)],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "PATH": path},
    )
    result = run_collectors([collector], parse_output(proc.stdout, nonce), Options(), "local")
    return result.families, result.errors


def test_live_snippet_with_a_stand_in_nvidia_smi(tmp_path: Path) -> None:
    args_file = tmp_path / "args"
    stub = tmp_path / "nvidia-smi"
    stub.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$*\" > {args_file}\ncat <<'EOF'\n{CSV}EOF\n")
    stub.chmod(0o755)
    fams, errors = _run_snippet(f"{tmp_path}{os.pathsep}{os.environ.get('PATH', '')}")
    assert errors == {}
    assert fams.get("node_scrape_collector_success", {"collector": "gpu"}) == 1
    assert fams.get("DCGM_FI_DEV_GPU_UTIL", LABELS0) == 87
    assert fams.get("DCGM_FI_DEV_POWER_USAGE", LABELS0) == 243.12
    assert args_file.read_text().split() == [
        "--query-gpu=index,uuid,name,utilization.gpu,memory.used,memory.free,memory.total,"
        "temperature.gpu,power.draw",
        "--format=csv,noheader,nounits",
    ]


def test_live_snippet_without_nvidia_smi(tmp_path: Path) -> None:
    path = "/usr/sbin:/usr/bin:/sbin:/bin"
    if shutil.which("nvidia-smi", path=path):
        pytest.skip("this machine has a real nvidia-smi")
    fams, errors = _run_snippet(path)
    assert errors == {}
    assert fams.get("node_scrape_collector_success", {"collector": "gpu"}) == 1
    assert not fams.samples("DCGM_FI_DEV_GPU_UTIL")
