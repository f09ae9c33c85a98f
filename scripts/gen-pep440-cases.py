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
from packaging.markers import Marker, Value, Variable, _normalize_extras
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, Specifier, SpecifierSet
from packaging.utils import canonicalize_name
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


# PEP 508 requirements. Expected text is packaging's str(Requirement) with the
# extras normalized (PEP 685), also in `extra == ...` inside parentheses; null
# where packaging rejects the string.
REQUIREMENTS = [
    "requests", "requests[socks]>=2", "requests [socks] >= 2 ; python_version >= '3.8'",
    "Foo_Bar.baz", "foo[Bar_Baz,alpha]", "foo[]", "foo[ a , b ]", "foo (>=1.0,<2)",
    "foo(>=1.0)", "foo ()", "foo>=1.0,<2,!=1.5", "foo==1.*", "foo~=1.4.2",
    "foo===1.0", "foo==1.0+local.7", "foo>=1.0;python_version<'3.11'",
    "foo; os_name == 'posix' and (sys_platform == 'linux' or sys_platform == 'darwin')",
    "foo; (python_version >= '3')", "foo; ((python_version >= '3'))",
    "foo; python_version >= '3' and ((os_name == 'nt'))",
    "foo; extra == 'Test_Extra'", "foo; 'Test_Extra' == extra", "foo; (extra == 'Test_Extra')",
    "foo; os.name == 'posix'", "foo; python_implementation == 'CPython'",
    "foo; platform.python_implementation == 'PyPy'", "foo; 'linux' in sys_platform",
    "foo; 'win' not in sys_platform", "foo; python_version>\"3\"and os_name==\"x\"",
    "foo; python_version ~= '3.8'", "foo; python_full_version === '3.8.0'",
    "foo; implementation_name == \"cpython\" or platform_machine == 'x86_64'",
    "foo ; python_version < '3' ", "  foo  ", "\tfoo\t", "foo>=1.0,", "foo==1.0;os_name=='a;b'",
    "foo; platform_release == 'a$b`c|d&e'", "x", "X1", "1foo", "a.b-c_d",
    "foo>=1.0a1", "foo>=1!2.0", "foo!=1.0.*", "foo<=v1.0", "foo[bar]==1.0; extra == 'bar'",
    # rejected by packaging
    "foo bar", "foo>=1.0 bar", "foo>=1.0abc", "foo>=", "foo>=1.*", "foo<1.0+local",
    "foo[bar", "foo[bar baz]", "foo[bar,]", "foo(>=1.0", "foo; ", "foo; rm -rf x",
    "foo; python_version", "foo; python_version >= ", "foo; python_version >= '3' and",
    "foo; (python_version >= '3'", "foo; python_version = '3'", "foo; notavar == '3'",
    "foo; python_version not '3'", "foo; python_version notin '3'", "foo==1.0;;",
    "foo>=1.0,,<2", "[bar]", ">=1.0", "foo; python_version >= '3' or or os_name == 'a'",
    "foo; os_name == 'a' andos_name == 'b'", "foo===1.0 extra", "foo;",
]


_OLD_VERSION_REGEX = re.compile(r"\s*" + _version_module._VERSION_PATTERN_OLD + r"\s*",
                                re.VERBOSE | re.IGNORECASE)


def same_on_every_python(text):
    """packaging matches versions with a possessive regex on CPython >= 3.11.5 and
    with the plain one (`_VERSION_PATTERN_OLD`) before. Keep only inputs where
    packaging's answer equals the plain regex's, so the corpus is identical
    whichever Python regenerates it (the Makefile's venv may use an older one)."""
    fast = set(text) <= set(".0123456789")
    old_accepts = fast and "" not in text.split(".") or (not fast and _OLD_VERSION_REGEX.fullmatch(text) is not None)
    if old_accepts != (parse_version(text) is not None):
        print(f"skipping {text!r}: packaging's regexes disagree on it", file=sys.stderr)
        return False
    return True


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


def labsync_subset(req_text, req):
    """Whether labsync accepts this packaging-valid requirement (it refuses URLs,
    paths, options, odd names and characters outside the grammar), and prints it
    as packaging does (packaging garbles marker values containing a double quote)."""
    if len(req_text.encode()) > 1000 or not req_text.isascii():
        return False
    if any((ord(c) < 32 and c != "\t") or ord(c) == 127 for c in req_text):
        return False
    if req_text.lstrip(" \t")[:1] in ("-", ".", "~"):
        return False
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 \t._-+!*,;()[]<>=~")
    in_marker, quote = False, None
    for c in req_text:
        if quote:
            if c == quote:
                quote = None
            elif c == "\\":
                return False
        elif c == ";":
            in_marker = True
        elif c in "'\"":
            if not in_marker:
                return False
            quote = c
        elif c not in allowed:
            return False
    name_re = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)
    if req.url or not name_re.match(req.name) or not all(name_re.match(e) for e in req.extras):
        return False
    if req.name.lower().endswith((".whl", ".zip", ".tar.gz", ".tgz", ".tar", ".tar.bz2", ".tbz",
                                  ".tar.xz", ".txz", ".tlz", ".tar.lz", ".tar.lzma")):
        return False

    def clean(markers):
        for m in markers:
            if isinstance(m, list):
                if not clean(m):
                    return False
            elif isinstance(m, tuple):
                if any(isinstance(x, Value) and '"' in x.value for x in m):
                    return False
                if all(isinstance(x, Variable) for x in (m[0], m[2])):
                    return False
        return True

    return req.marker is None or clean(req.marker._markers)


def canonical_requirement(req):
    text = req.name
    if req.extras:
        text += "[" + ",".join(sorted({canonicalize_name(e) for e in req.extras})) + "]"
    text += str(req.specifier)
    if req.marker is not None:
        # packaging normalizes `extra == "A_B"` only at the marker's top level;
        # labsync does it at every depth so its text is a fixed point.
        def deep(markers):
            return [deep(m) if isinstance(m, list) else _normalize_extras(m) for m in markers]
        marker = Marker.__new__(Marker)
        marker._markers = deep(req.marker._markers)
        text += "; " + str(marker)
    return text


def fuzz_requirements(rng, count):
    names = ["foo", "Foo_Bar", "a", "x.y", "req-1", "9"] * 3 + ["foo-", "_foo", "foo..bar"]
    extras = ["", "", "", "[bar]", "[Bar_Baz, a]", "[]", "[bar", "[bar baz]"]
    specs = ["", "", ">=1.0", "==1.*", " (>=1.0,<2)", "~=1.0", "===x", ">=1.0,", ">=1.0 ,<2",
             "(>=1.0", ">=1.*", "==1.0+l", "<1.0+l", ">= 1.0rc1"]
    markers = ["", "", "; python_version >= '3.8'", ";os_name=='nt' or os_name=='posix'",
               "; (extra == 'X_Y')", "; extra == 'X_Y'", "; 'a' in platform_release",
               "; python_version", "; sys.platform != 'linux' and (a == 'b')", ";"]
    tails = [""] * 12 + [" ", " x", "\t", ",", ")"]
    out = set()
    while len(out) < count:
        out.add(rng.choice(["", "", " "]) + rng.choice(names) + rng.choice(["", " "]) + rng.choice(extras)
                + rng.choice(specs) + rng.choice(markers) + rng.choice(tails))
    return sorted(out)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: gen-pep440-cases.py OUT.json")
    rng = random.Random(440)

    normalization = {}
    invalid_versions = set(INVALID_VERSIONS)
    for text in VERSIONS + fuzz_strings(rng, 700, ["", "1", "1.0", "v1", "2!3"]) + structured_versions(rng, 700):
        if not same_on_every_python(text):
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

    requirements = {}
    for text in REQUIREMENTS + fuzz_requirements(rng, 600):
        try:
            req = Requirement(text)
            SpecifierSet(str(req.specifier))
        except (InvalidRequirement, InvalidSpecifier):
            requirements[text] = None
            continue
        if labsync_subset(text, req):
            requirements[text] = canonical_requirement(req)

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
        "requirements": [{"input": k, "canonical": v} for k, v in sorted(requirements.items())],
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
          f"{len(invalid_specifiers)} invalid specifiers, {len(requirements)} requirements", file=sys.stderr)


if __name__ == "__main__":
    main()
