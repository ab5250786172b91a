"""How many CPUs this process may use: its affinity, capped by its container's CPU quota.

A container limited to 2 CPUs on a 32-core node sees 32 cores in `os.cpu_count()`
and in its affinity mask; the limit is a CFS quota in its cgroup instead
(cgroup v2 `cpu.max`, v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us`). The quota
may be set on the container's cgroup or on any cgroup above it (Kubernetes sets
it on both the pod and the container), so the smallest one on the way up counts.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
SELF_CGROUP = Path("/proc/self/cgroup")
# Where cgroup v1 mounts the cpu controller (it is co-mounted with cpuacct on most systems).
_V1_MOUNTS = ("cpu", "cpu,cpuacct", "cpuacct,cpu")


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def _own_paths(self_cgroup: Path) -> dict[str, str]:
    """This process's cgroup path per hierarchy: {"": v2 path, "cpu": v1 cpu path, ...}."""
    paths: dict[str, str] = {}
    for line in (_read(self_cgroup) or "").splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        if controllers == "":
            paths[""] = path
        for controller in controllers.split(","):
            if controller:
                paths[controller] = path
    return paths


def _upwards(mount: Path, path: str) -> list[Path]:
    """mount/path and each folder above it up to mount itself (those that exist).

    Inside a container with its own cgroup namespace `path` is "/" and the mount is
    the container's cgroup; without one, `path` names the container under the mount.
    """
    folders = []
    current = mount / path.lstrip("/")
    while True:
        if current.is_dir():
            folders.append(current)
        if current == mount or mount not in current.parents:
            break
        current = current.parent
    if mount not in folders and mount.is_dir():
        folders.append(mount)
    return folders


def _v2_limit(folder: Path) -> float | None:
    raw = _read(folder / "cpu.max")  # "max 100000" or "200000 100000"
    if raw is None:
        return None
    fields = raw.split()
    if len(fields) != 2 or fields[0] == "max":
        return None
    try:
        quota, period = int(fields[0]), int(fields[1])
    except ValueError:
        return None
    return quota / period if quota > 0 and period > 0 else None


def _v1_limit(folder: Path) -> float | None:
    quota, period = _read(folder / "cpu.cfs_quota_us"), _read(folder / "cpu.cfs_period_us")
    if quota is None or period is None:
        return None
    try:
        q, p = int(quota), int(period)
    except ValueError:
        return None
    return q / p if q > 0 and p > 0 else None  # -1: no quota


def cpu_limit(root: Path = CGROUP_ROOT, self_cgroup: Path = SELF_CGROUP) -> float | None:
    """The CPUs this process's cgroup quota allows (e.g. 1.5), or None when there is none."""
    paths = _own_paths(self_cgroup)
    limits: list[float] = []
    if (root / "cgroup.controllers").exists():  # v2: one unified hierarchy
        for folder in _upwards(root, paths.get("", "/")):
            limit = _v2_limit(folder)
            if limit is not None:
                limits.append(limit)
    else:
        for name in _V1_MOUNTS:
            mount = root / name
            if mount.is_dir():
                for folder in _upwards(mount, paths.get("cpu", "/")):
                    limit = _v1_limit(folder)
                    if limit is not None:
                        limits.append(limit)
                break
    return min(limits) if limits else None


def affinity_cores() -> int:
    """The cores the OS lets this process run on (its CPU affinity where the OS tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def available_cores(root: Path = CGROUP_ROOT, self_cgroup: Path = SELF_CGROUP) -> int:
    """The CPUs this process may keep busy: its affinity, capped by its cgroup's quota.

    A fractional quota is rounded up (1.5 CPUs: 2 workers share it, throttled a little,
    rather than one leaving half a CPU idle); never less than 1.
    """
    cores = affinity_cores()
    limit = cpu_limit(root, self_cgroup)
    if limit is not None:
        cores = min(cores, max(1, math.ceil(limit - 1e-9)))
    return cores
