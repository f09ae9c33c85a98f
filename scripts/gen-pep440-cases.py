#!/usr/bin/env python3
"""Generate the PEP 440 cross-check corpus for the Swift `Specs` module.

Every expected value comes from `packaging` (the library pip vendors): version
normalization and ordering, specifier matching, and which versions/specifiers are
rejected. The Swift tests (Tests/SpecsTests/PEP440Tests.swift) must agree on all of it.

Deterministic: fixed inputs plus a fixed-seed fuzz set, sorted output, so running
it again produces a byte-identical file.

Usage: python3 scripts/gen-pep440-cases.py OUT.json
"""

import itertools
import json
import random
import re
import sys

import packaging
from packaging.specifiers import InvalidSpecifier, Specifier, SpecifierSet
from packaging.version import InvalidVersion, Version
from packaging import version as _version_module

# Versions in many spellings: epochs, pre/post/dev, locals, leading zeros, `v`,
# uppercase, implicit post releases, alternate spellings, whitespace.
VERSIONS = [
    "0", "0.0", "0.1", "0.9", "0.dev0", "0a1", "1", "1.0", "1.0.0", "1.0.0.0", "01.0",
    "1.00", "1.0.1", "1.0.9", "1.1", "1.1.0", "1.1a1", "1.1.dev1", "1.2", "1.10",
    "2", "2.0", "2.0.0", "2.1", "3.0", "10.0",
    "1.0a1", "1.0A1", "1.0alpha1", "1.0a", "1.0a2", "1.0b1", "1.0beta2", "1.0c1",
    "1.0rc1", "1.0RC1", "1.0pre1", "1.0preview2", "1.0rc1.post2.dev3", "1.0a1.post1",
    "1.0a1.dev1", "1.0.dev0", "1.0.dev1", "1.0dev", "1.0-dev2", "1.0.post0", "1.0beta-",
    "1.0-r", "1.0.post-",
    "1.0.post1", "1.0.post2", "1.0.post1.dev0", "1.0-1", "1.0_post3", "1.0r4",
    "1.0rev5", "1.0.POST1", "1.0+local", "1.0+local.7", "1.0+LOCAL.007",
    "1.0+abc.5", "1.0+5", "1.0+abc", "1.0.post1+local", "1.0a1+local",
    "1.0.dev0+local", "1.0.0+local", "1!1.0", "1!2.0", "1!0.1", "0!1.0", "2!1.0",
    "1!1.0a1", "1!2.0+local", "v1.0", "V1.0", "v2.0.post1", " 1.0 ", "\t2.0\n",
    "1.0.1a1", "1.1rc1", "1.1.post1", "1.9", "1.7", "1.7.post1", "1.7rc1",
    "1.7.1", "1.7+local", "1.6.dev0", "1.8.dev0", "3.10", "3.10.1", "3.9.18",
    "2024.1", "2024.01.15", "1.2.3.4.5",
]

# Specifiers of every operator, with and without the cases packaging treats
# specially (wildcards, locals, pre/post/dev, epochs, `~=` prefixes).
SPEC_VERSIONS = [
    "0", "1", "1.0", "1.0.0", "1.0.1", "1.1", "2.0", "1.7", "1.0a1", "1.0rc1",
    "1.0.dev0", "1.0.post1", "1.0.post1.dev0", "1.0rc1.post2.dev3", "1!1.0",
    "1!2.0", "v1.0", "1.0A1", "1.0-1", "0.dev0", "1.0a1.dev1",
]
SPECIFIERS = []
for _op in ["==", "!=", "<=", ">=", "<", ">"]:
    SPECIFIERS += [_op + v for v in SPEC_VERSIONS]
SPECIFIERS += [
    "==1.0+local", "==1.0+local.7", "==1.0+LOCAL.007", "!=1.0+local", "==1.0+5",
    "==1.*", "==1.0.*", "==1.0.0.*", "==1.1.*", "==2.*", "==0.*", "==1!1.*",
    "==1!2.*", "==v1.*", "!=1.*", "!=1.0.*", "!=1.1.*", "!=1!1.*", "==3.10.*",
    "~=1.0", "~=1.0.0", "~=1.1", "~=0.9", "~=1.0a1", "~=1.0rc1", "~=1.0.post1",
    "~=1.0.dev0", "~=1!1.0", "~=2.0", "~=1.0c1", "~=1.0.r1", "~=1.0.POST1",
    "~=v1.0", "~=1.0-1", "~=1.0.0.0", "~=3.10", "~=1.7",
    "===1.0", "===1.0.0", "===1.0+local", "===v1.0", "===1.0.POST1",
    "===1.0.post1", "===foobar", "=== 1.0", "===", "===1!2.0", "===1.0A1",
    " >= 1.0 ", ">=  1.0", "==\t1.0",
]

SPECIFIER_SETS = [
    "", ">=1.0,<2.0", ">=1.0,!=1.5,<2", ">1.0,<1.0.post2", ">=1.0a1,<1.0",
    "==1.*,!=1.0.*", "~=1.0,!=1.1", ">=1!0,<1!2", "<=1.0,>=1.0", "==1.0,!=1.0",
    ">1.7", "<1.7", ">=1.0.dev0,<1.0", "!=1.0.post1,>=1.0", " >=1.0 , <2 ",
    "===1.0,>=1.0", ">=1.0,,<2", ",", ">=0.dev0", "<1.0.dev0", ">1.0.dev0",
    ">1.0.post1", "<1.0.post1", "<=1.0,>=1.0.dev0",
]

INVALID_VERSIONS = [
    "", " ", "1.", ".1", "1..0", "1.0+", "1!", "!1", "1.0-", "1_0", "1,0",
    "1.0.x", "a", "dev", "1.0+-local", "1.0+local.", "1.0+lo cal", "1 .0",
    "1.0 dev", "v", "vv1.0", "1.0.*", "1.0a1a2", "1.0.post1.post2",
    "1.0.dev1.dev2", "1.0dev1rc1", "1.0+loc_al+x", "-1.0", "+1.0", "1.0++a",
    "1!1!1.0", "1.0post1dev1x", "1.0\x00", "1.0\n1", "１.0", "1.0\u00e9",
    "1.0+ü", "latest", "*", "1.0.0-SNAPSHOT",
]

INVALID_SPECIFIERS = [
    "1.0", "=1.0", "=>1.0", "=<1.0", "~1.0", "~=1", "~=1.*", "~=1.0.*", ">=1.*",
    "<1.0.*", ">=1.0+local", "<1.0+local", "~=1.0+local", "==1.0.*+local",
    "==1.0a1.*", "==1.*.0", "== 1.0 .*", "==", ">=", "!=", ">= 1.0 2.0",
    "===1.0 2.0", "===1.0;", "===1.0)", ">=1.0,", "==1.0 ,", "!==1.0", "<>1.0",
    ">==1.0", "== =1.0", ">=1.0abc", ">=1.0-", "==1.0+", ">=latest", ">=1.0\x00",
    "==1.0\n1", ">=１.0",
]

# Fragments for the fixed-seed fuzz sets.
FRAGMENTS = [
    "", "v", "V", " ", "1", "0", "01", "12", "1!", "2!", ".", ".", "-", "_", "a",
    "alpha", "B", "beta", "c", "rc", "RC", "pre", "preview", "post", "rev", "r",
    "dev", "DEV", "+", "local", "7", "ABC", "*", "!", "..", "\t", ".1", ".0",
]
OPERATORS = ["==", "!=", "~=", "<=", ">=", "<", ">", "===", "=", ""]


def possessive_and_old_agree(text):
    """packaging picks a possessive regex on CPython >= 3.11.5 and the old one
    before. Keep only inputs where both decide alike, so the corpus is the same
    whichever Python regenerates it."""
    old = re.compile(r"\s*" + _version_module._VERSION_PATTERN_OLD + r"\s*",
                     re.VERBOSE | re.IGNORECASE)
    try:
        new = re.compile(r"\s*" + _version_module._VERSION_PATTERN + r"\s*",
                         re.VERBOSE | re.IGNORECASE)
    except re.error:  # Python < 3.11 has no possessive quantifiers
        return True
    a, b = old.fullmatch(text), new.fullmatch(text)
    if (a is None) != (b is None):
        return False
    return a is None or a.groupdict() == b.groupdict()


def parse_version(text):
    try:
        return Version(text)
    except InvalidVersion:
        return None


def parse_specifier(text):
    try:
        return Specifier(text)
    except InvalidSpecifier:
        return None


def cmp(a, b):
    return -1 if a < b else (1 if a > b else 0)


def fuzz_strings(rng, count, prefix_choices):
    out = set()
    while len(out) < count:
        parts = [rng.choice(prefix_choices)]
        parts += [rng.choice(FRAGMENTS) for _ in range(rng.randint(1, 6))]
        text = "".join(parts)
        if text.isascii():
            out.add(text)
    return sorted(out)


def structured_versions(rng, count):
    """Valid versions in random spellings of every segment."""
    out = set()
    seps = ["", ".", "-", "_"]
    while len(out) < count:
        text = rng.choice(["", "", "", "v", "V"])
        if rng.random() < 0.2:
            text += str(rng.randint(0, 3)) + "!"
        text += ".".join(rng.choice(["0", "1", "2", "01", "10", "00"]) for _ in range(rng.randint(1, 4)))
        if rng.random() < 0.4:
            text += rng.choice(seps) + rng.choice(["a", "alpha", "b", "beta", "c", "rc", "pre", "preview", "RC", "A"])
            text += rng.choice(seps) + rng.choice(["", "0", "1", "2", "05"])
        if rng.random() < 0.3:
            if rng.random() < 0.3:
                text += "-" + rng.choice(["0", "1", "3"])
            else:
                text += rng.choice(seps) + rng.choice(["post", "rev", "r", "POST"])
                text += rng.choice(seps) + rng.choice(["", "0", "1", "2"])
        if rng.random() < 0.3:
            text += rng.choice(seps) + rng.choice(["dev", "DEV"]) + rng.choice(seps) + rng.choice(["", "0", "1", "2"])
        if rng.random() < 0.25:
            text += "+" + rng.choice(["ubuntu", "1", "abc.01", "Local-7", "x_y.2", "0"])
        out.add(text)
    return sorted(out)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: gen-pep440-cases.py OUT.json")
    rng = random.Random(440)

    normalization = {}
    invalid_versions = set(INVALID_VERSIONS)
    for text in VERSIONS + fuzz_strings(rng, 700, ["", "1", "1.0", "v1", "2!3"]) + structured_versions(rng, 700):
        if not possessive_and_old_agree(text):
            continue
        v = parse_version(text)
        if v is None:
            invalid_versions.add(text)
        else:
            normalization[text] = str(v)
    for text in INVALID_VERSIONS:
        assert parse_version(text) is None, text

    specifier_norm = {}
    invalid_specifiers = set(INVALID_SPECIFIERS)
    fuzz_specs = []
    for op in OPERATORS:
        for text in fuzz_strings(rng, 60, ["1", "1.0", "v1", "2!3", " "]):
            spec = op + text
            s = parse_specifier(spec)
            if s is None:
                invalid_specifiers.add(spec)
            else:
                fuzz_specs.append(spec)
    for text in INVALID_SPECIFIERS:
        assert parse_specifier(text) is None, text

    contains = []
    versions = [(t, Version(t)) for t in VERSIONS]
    # Hand-picked specifiers against every version; fuzzed ones against a sample.
    sample = versions[::6]
    for spec_text in SPECIFIERS + fuzz_specs:
        s = Specifier(spec_text)
        specifier_norm[spec_text] = str(s)
        for text, v in (versions if spec_text in SPECIFIERS else sample):
            contains.append({
                "version": text,
                "specifier": spec_text,
                "contains": s.contains(v, prereleases=True),
                "containsFinalOnly": s.contains(v, prereleases=False),
            })
    set_norm = {}
    for set_text in SPECIFIER_SETS:
        ss = SpecifierSet(set_text)
        set_norm[set_text] = str(ss)
        for text, v in versions:
            contains.append({
                "version": text,
                "specifier": set_text,
                "set": True,
                "contains": ss.contains(v, prereleases=True),
                "containsFinalOnly": ss.contains(v, prereleases=False),
            })

    # Ordering over distinct spellings: every ordered pair.
    ordered = sorted({t for t, _ in versions}, key=lambda t: (Version(t), t))[::2]
    ordering = [
        {"left": a, "right": b, "cmp": cmp(Version(a), Version(b))}
        for a, b in itertools.product(ordered, ordered)
    ]

    corpus = {
        "generator": "scripts/gen-pep440-cases.py",
        "packaging": packaging.__version__,
        "contains": sorted(contains, key=lambda c: (c["specifier"], c.get("set", False), c["version"])),
        "ordering": sorted(ordering, key=lambda c: (c["left"], c["right"])),
        "normalization": [{"input": k, "normalized": v} for k, v in sorted(normalization.items())],
        "specifiers": [{"input": k, "normalized": v} for k, v in sorted(specifier_norm.items())],
        "specifierSets": [{"input": k, "normalized": v} for k, v in sorted(set_norm.items())],
        "invalidVersions": sorted(invalid_versions),
        "invalidSpecifiers": sorted(invalid_specifiers),
    }
    # One case per line keeps diffs of the committed file readable.
    lines = ["{"]
    for i, (key, value) in enumerate(corpus.items()):
        comma = "," if i + 1 < len(corpus) else ""
        if isinstance(value, list):
            lines.append(f" {json.dumps(key)}: [")
            for j, item in enumerate(value):
                item_comma = "," if j + 1 < len(value) else ""
                lines.append("  " + json.dumps(item, ensure_ascii=True, sort_keys=True) + item_comma)
            lines.append(" ]" + comma)
        else:
            lines.append(f" {json.dumps(key)}: {json.dumps(value)}{comma}")
    lines.append("}")
    with open(sys.argv[1], "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    print(f"{sys.argv[1]}: {len(contains)} contains, {len(ordering)} ordering, "
          f"{len(normalization)} normalization, {len(invalid_versions)} invalid versions, "
          f"{len(invalid_specifiers)} invalid specifiers", file=sys.stderr)


if __name__ == "__main__":
    main()
