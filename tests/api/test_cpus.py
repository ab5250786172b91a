"""Worker count from the container's CPU quota, read from fake cgroup v1 and v2 file trees."""

from __future__ import annotations

from pathlib import Path

import pytest

from api import cpus


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n")


def v2_tree(tmp_path: Path, self_path: str, cpu_max: dict[str, str]) -> tuple[Path, Path]:
    """A unified hierarchy with `cpu.max` in the given folders, and a /proc/self/cgroup."""
    root = tmp_path / "cgroup"
    _write(root / "cgroup.controllers", "cpuset cpu io memory pids")
    for folder, value in cpu_max.items():
        _write(root / folder.lstrip("/") / "cpu.max", value)
    (root / self_path.lstrip("/")).mkdir(parents=True, exist_ok=True)
    proc = tmp_path / "proc-self-cgroup"
    _write(proc, f"0::{self_path}")
    return root, proc


def v1_tree(
    tmp_path: Path, mount: str, self_path: str, quotas: dict[str, tuple[int, int]]
) -> tuple[Path, Path]:
    root = tmp_path / "cgroup"
    for folder, (quota, period) in quotas.items():
        base = root / mount / folder.lstrip("/")
        _write(base / "cpu.cfs_quota_us", str(quota))
        _write(base / "cpu.cfs_period_us", str(period))
    proc = tmp_path / "proc-self-cgroup"
    _write(proc, f"4:memory:{self_path}\n3:{mount}:{self_path}\n1:name=systemd:{self_path}\n0::/")
    return root, proc


@pytest.fixture
def many_cores(monkeypatch: pytest.MonkeyPatch) -> int:
    """A 32-core node, as the process's affinity mask shows it."""
    monkeypatch.setattr(cpus, "affinity_cores", lambda: 32)
    return 32


def test_v2_container_limited_to_two_cpus_on_a_32_core_node_gets_two(
    tmp_path: Path, many_cores: int
) -> None:
    root, proc = v2_tree(tmp_path, "/", {"/": "200000 100000"})  # its own cgroup namespace
    assert cpus.cpu_limit(root, proc) == 2.0
    assert cpus.available_cores(root, proc) == 2


def test_v2_without_a_quota_keeps_the_affinity(tmp_path: Path, many_cores: int) -> None:
    root, proc = v2_tree(tmp_path, "/", {"/": "max 100000"})
    assert cpus.cpu_limit(root, proc) is None
    assert cpus.available_cores(root, proc) == 32


def test_v2_the_smallest_quota_on_the_way_up_counts(tmp_path: Path, many_cores: int) -> None:
    # No cgroup namespace: the process sees the whole tree; the pod's quota is below the
    # container's, as when a pod's other container takes part of it.
    pod = "/kubepods.slice/kubepods-burstable.slice/pod1"
    root, proc = v2_tree(
        tmp_path,
        f"{pod}/cri-containerd-abc.scope",
        {
            "/kubepods.slice": "max 100000",
            pod: "300000 100000",
            f"{pod}/cri-containerd-abc.scope": "400000 100000",
        },
    )
    assert cpus.cpu_limit(root, proc) == 3.0
    assert cpus.available_cores(root, proc) == 3


def test_a_fractional_quota_is_rounded_up_and_never_below_one(
    tmp_path: Path, many_cores: int
) -> None:
    root, proc = v2_tree(tmp_path, "/", {"/": "150000 100000"})
    assert cpus.available_cores(root, proc) == 2
    root, proc = v2_tree(tmp_path / "small", "/", {"/": "25000 100000"})
    assert cpus.cpu_limit(root, proc) == 0.25
    assert cpus.available_cores(root, proc) == 1


def test_the_quota_never_raises_the_count_above_the_affinity(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cpus, "affinity_cores", lambda: 2)  # pinned to 2 cores (cpuset)
    root, proc = v2_tree(tmp_path, "/", {"/": "800000 100000"})
    assert cpus.available_cores(root, proc) == 2


@pytest.mark.parametrize("mount", ["cpu,cpuacct", "cpu"])
def test_v1_cfs_quota_caps_the_count(tmp_path: Path, many_cores: int, mount: str) -> None:
    # Inside the container the mount is its own cgroup, though /proc names the full path.
    root, proc = v1_tree(tmp_path, mount, "/docker/0123abcd", {"/": (150_000, 100_000)})
    assert cpus.cpu_limit(root, proc) == 1.5
    assert cpus.available_cores(root, proc) == 2


def test_v1_minus_one_means_no_quota(tmp_path: Path, many_cores: int) -> None:
    root, proc = v1_tree(tmp_path, "cpu,cpuacct", "/", {"/": (-1, 100_000)})
    assert cpus.cpu_limit(root, proc) is None
    assert cpus.available_cores(root, proc) == 32


def test_v1_quota_on_the_container_below_the_mount(tmp_path: Path, many_cores: int) -> None:
    root, proc = v1_tree(
        tmp_path,
        "cpu,cpuacct",
        "/kubepods/pod1/abc",
        {
            "/": (-1, 100_000),
            "/kubepods/pod1": (400_000, 100_000),
            "/kubepods/pod1/abc": (200_000, 100_000),
        },
    )
    assert cpus.cpu_limit(root, proc) == 2.0


def test_no_cgroup_files_at_all_keeps_the_affinity(tmp_path: Path, many_cores: int) -> None:
    assert cpus.cpu_limit(tmp_path / "none", tmp_path / "none" / "cgroup") is None
    assert cpus.available_cores(tmp_path / "none", tmp_path / "none" / "cgroup") == 32


@pytest.mark.parametrize("garbage", ["", "lots 100000", "200000 0", "-5 100000", "1 2 3"])
def test_unreadable_cpu_max_is_no_quota(tmp_path: Path, many_cores: int, garbage: str) -> None:
    root, proc = v2_tree(tmp_path, "/", {"/": garbage})
    assert cpus.cpu_limit(root, proc) is None
