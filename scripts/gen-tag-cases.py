#!/usr/bin/env python3
"""Generate the wheel-tag cross-check corpus for the Swift `PackageIndex` module.

Every expected value comes from `packaging.tags` (what pip uses): the ordered list
of tags a CPython X.Y interpreter on a given platform accepts, and which wheel
file names are installable there. `packaging` only describes the machine it runs
on, so the glibc/musl version and architecture are patched in for each target;
the tag logic itself is packaging's own.

Deterministic: fixed inputs, sorted keys, so running it again produces a
byte-identical file.

Usage: python3 scripts/gen-tag-cases.py OUT.json
"""

import json
import sys
import sysconfig
from unittest import mock

import packaging
from packaging import _manylinux, _musllinux, tags
from packaging.utils import InvalidWheelFilename, parse_wheel_filename

PYTHONS = [(3, 8), (3, 11), (3, 12), (3, 13), (3, 14)]
# (platform argument as labsync takes it, arch, glibc or None, musl or None)
PLATFORMS = [
    ("manylinux_2_36_x86_64", "x86_64", (2, 36), None),
    ("manylinux_2_28_x86_64", "x86_64", (2, 28), None),
    ("manylinux_2_17_aarch64", "aarch64", (2, 17), None),
    ("musllinux_1_2_x86_64", "x86_64", None, (1, 2)),
]

WHEELS = [
    "numpy-2.1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    "numpy-2.1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    "numpy-1.21.0-cp38-cp38-manylinux_2_12_x86_64.manylinux2010_x86_64.whl",
    "numpy-1.21.0-cp39-cp39-manylinux1_x86_64.whl",
    "numpy-2.1.0-cp313-cp313-musllinux_1_1_x86_64.whl",
    "numpy-2.1.0-cp313-cp313-macosx_14_0_arm64.whl",
    "numpy-2.1.0-cp312-cp312-win_amd64.whl",
    "numpy-2.1.0-cp311-cp311-manylinux_2_28_aarch64.whl",
    "numpy-2.1.0-cp311-cp311-manylinux_2_35_x86_64.whl",
    "numpy-2.1.0-cp311-cp311-manylinux_2_39_x86_64.whl",
    "numpy-2.1.0-cp313-cp313t-manylinux_2_17_x86_64.whl",
    "cryptography-44.0.0-cp39-abi3-manylinux_2_28_x86_64.whl",
    "cryptography-44.0.0-cp37-abi3-manylinux2014_aarch64.whl",
    "cryptography-44.0.0-cp312-abi3-manylinux_2_17_x86_64.whl",
    "pure-1.0-py3-none-any.whl",
    "pure-1.0-py2.py3-none-any.whl",
    "pure-1.0-py2-none-any.whl",
    "pure-1.0-py312-none-any.whl",
    "pure-1.0-py38-none-any.whl",
    "pure-1.0-cp311-none-any.whl",
    "pure-1.0-py3-none-linux_x86_64.whl",
    "pure-1.0-1-py3-none-any.whl",
    "pure-1.0-py3-none-manylinux1_x86_64.manylinux_2_5_x86_64.whl",
    "pure-1.0-pp310-pypy310_pp73-manylinux_2_17_x86_64.whl",
    "pure-1.0-cp311.cp312-cp311.cp312-manylinux_2_17_x86_64.whl",
    "pure-1.0-py3-none-musllinux_1_2_x86_64.whl",
    "Pure_Name-2.0rc1-py3-none-any.whl",
]


def target_tags(python, arch, glibc, musl):
    """packaging.tags.sys_tags() for CPython `python` on the described Linux."""
    with mock.patch.object(sysconfig, "get_platform", return_value=f"linux-{arch}"), \
         mock.patch.object(_manylinux, "_have_compatible_abi", return_value=glibc is not None), \
         mock.patch.object(_manylinux, "_get_glibc_version", return_value=glibc or (-1, -1)), \
         mock.patch.object(_musllinux, "_get_musl_version",
                           return_value=_musllinux._MuslVersion(*musl) if musl else None):
        platforms = list(tags._linux_platforms(is_32bit=False))
    interpreter = f"cp{python[0]}{python[1]}"
    abi = interpreter if python >= (3, 8) else interpreter + "m"
    result = list(tags.cpython_tags(python, [abi], platforms))
    result += list(tags.compatible_tags(python, interpreter, platforms))
    return [str(t) for t in result]


def main():
    out = {"packaging": packaging.__version__, "cases": [], "wheels": []}
    for python in PYTHONS:
        for platform, arch, glibc, musl in PLATFORMS:
            accepted = target_tags(python, arch, glibc, musl)
            accepted_set = set(accepted)
            compatible = []
            for wheel in WHEELS:
                _, _, _, wheel_tags = parse_wheel_filename(wheel)
                if any(str(t) in accepted_set for t in wheel_tags):
                    compatible.append(wheel)
            out["cases"].append({
                "python": f"{python[0]}.{python[1]}",
                "platform": platform,
                "tags": accepted,
                "compatibleWheels": compatible,
            })
    for wheel in WHEELS:
        try:
            name, version, build, wheel_tags = parse_wheel_filename(wheel)
        except InvalidWheelFilename:
            continue
        out["wheels"].append({
            "filename": wheel,
            "name": name,
            "version": str(version),
            "build": build[0] if build else None,
            "tags": sorted(str(t) for t in wheel_tags),
        })
    with open(sys.argv[1], "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
