#!/usr/bin/env python3
"""Check labsync's JSON Schemas against the examples and the invalid-spec corpus.

Run from the repository root:  python3 scripts/check-schemas.py
Needs jsonschema (4.26), referencing and PyYAML. Exits 0 when every check
passes, 1 otherwise; the last line is always "N passed, N failed".

What it checks:
  1. every schemas/*.json is a valid draft 2020-12 schema whose $id names its file;
  2. every document of every examples/**/*.yaml (and Tests/Fixtures/valid/**)
     validates against schemas/labsync.schema.json, carries the editor
     `# yaml-language-server: $schema=` line, and every requirementsFile it
     names exists inside its example and holds only acceptable requirements;
  3. every `schema: true` case of Tests/Fixtures/invalid/cases.json is rejected
     by the schema, and the case's line:column points at a node under the
     rejected path (so the positions the Swift tests assert are not typos);
  4. every `schema: false` case loads cleanly and passes the schema (the fault
     is one only labsync can see), or is refused by the loader exactly at the
     case's position (duplicate key, alias bomb). Nothing may crash.

YAML is read the way labsync reads it, not the way PyYAML's YAML 1.1 resolver
would: plain scalars stay text (`user: no` is the string "no", `python: 3.10`
is "3.10"), and only where the schema asks for an integer or a boolean is
plain text `[-+]?[0-9]+` or `true`/`false` converted. Quoted scalars are
always strings. Plain `null`, `~` and empty values are null, which no field
accepts. Aliases are counted as they are read, so a "billion laughs" document
is refused after a few thousand nodes instead of being expanded.
"""

import json
import re
import sys
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

ROOT = Path.cwd()
SCHEMAS = ROOT / "schemas"
EXAMPLES = ROOT / "examples"
VALID = ROOT / "Tests" / "Fixtures" / "valid"
INVALID = ROOT / "Tests" / "Fixtures" / "invalid"
ENTRY_SCHEMA = "labsync.schema.json"
KIND_SCHEMAS = {
    "Host": "host.schema.json",
    "PythonEnvironment": "python-environment.schema.json",
    "JupyterHub": "jupyterhub.schema.json",
    "REnvironment": "r-environment.schema.json",
}

# Loader limits: far above any real spec, far below what hurts.
MAX_FILE_BYTES = 1 << 20
MAX_NODES_PER_DOCUMENT = 10_000  # counted with aliases expanded
MAX_DEPTH = 64

PYYAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml marks when available
NULLS = {"", "~", "null", "Null", "NULL"}
INTEGER = re.compile(r"[-+]?[0-9]+")
EDITOR_LINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)$")


class Refused(Exception):
    """The loader refused a file on purpose (not a crash). line/column are 1-based."""

    def __init__(self, message, mark):
        super().__init__(message)
        self.line = mark.line + 1
        self.column = mark.column + 1


class Plain(str):
    """Text of a plain (unquoted) scalar: may become an int or bool if the schema says so."""


class Document:
    """One YAML document as JSON-like data, with the 1-based position of every node.

    positions maps a path (tuple of keys and indices) to (key position or None,
    value position)."""

    def __init__(self, data, positions):
        self.data = data
        self.positions = positions


def pos(mark):
    return (mark.line + 1, mark.column + 1)


def load_documents(path):
    """Read every document of a YAML file; raises Refused for input labsync also refuses."""
    raw = path.read_bytes()
    if len(raw) > MAX_FILE_BYTES:
        raise Refused(f"file larger than {MAX_FILE_BYTES} bytes", yaml.Mark(str(path), 0, 0, 0, None, None))
    events = iter(yaml.parse(raw.decode("utf-8"), Loader=PYYAML_LOADER))
    documents = []
    for event in events:
        if isinstance(event, yaml.DocumentStartEvent):
            builder = _Builder(events)
            root_event = next(events)
            data = builder.node(root_event, (), 0)
            documents.append(Document(data, builder.positions))
    return documents


class _Builder:
    """Builds one document from parser events; anchors hold the built value and its size."""

    def __init__(self, events):
        self.events = events
        self.anchors = {}
        self.positions = {}
        self.nodes = 0
        self.root_mark = None

    def count(self, n, mark):
        self.nodes += n
        if self.nodes > MAX_NODES_PER_DOCUMENT:
            # Reported at the document's root node: the whole document is refused.
            raise Refused(f"document expands to more than {MAX_NODES_PER_DOCUMENT} nodes (alias bomb?)", self.root_mark)

    def node(self, event, path, depth, key_pos=None):
        if self.root_mark is None:
            self.root_mark = event.start_mark
        if depth > MAX_DEPTH:
            raise Refused(f"nesting deeper than {MAX_DEPTH}", event.start_mark)
        self.positions[path] = (key_pos, pos(event.start_mark))
        if isinstance(event, yaml.AliasEvent):
            if event.anchor not in self.anchors:
                raise Refused(f"unknown alias *{event.anchor}", event.start_mark)
            value, size = self.anchors[event.anchor]
            self.count(size, event.start_mark)
            return value
        before = self.nodes
        self.count(1, event.start_mark)
        if event.tag not in (None, "!", "tag:yaml.org,2002:str", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"):
            raise Refused(f"YAML tag {event.tag} is not supported", event.start_mark)
        if isinstance(event, yaml.ScalarEvent):
            if event.style or event.tag:  # quoted, block, or explicitly !!str
                value = event.value
            else:
                value = None if event.value in NULLS else Plain(event.value)
        elif isinstance(event, yaml.SequenceStartEvent):
            value = []
            for child in self.events:
                if isinstance(child, yaml.SequenceEndEvent):
                    break
                value.append(self.node(child, path + (len(value),), depth + 1))
        elif isinstance(event, yaml.MappingStartEvent):
            value = {}
            for key_event in self.events:
                if isinstance(key_event, yaml.MappingEndEvent):
                    break
                if not isinstance(key_event, yaml.ScalarEvent):
                    raise Refused("mapping keys must be strings", key_event.start_mark)
                self.count(1, key_event.start_mark)
                key = str(key_event.value)
                if key in value:
                    raise Refused(f"duplicate key {key}", key_event.start_mark)
                value[key] = self.node(next(self.events), path + (key,), depth + 1, pos(key_event.start_mark))
        else:
            raise Refused(f"unexpected YAML event {type(event).__name__}", event.start_mark)
        if event.anchor is not None:
            self.anchors[event.anchor] = (value, self.nodes - before)
        return value


# ---------------------------------------------------------------------------
# Schema-directed typing of plain scalars (labsync decodes by field type).

def subschemas_with(schema, resolver):
    """The schema and every schema it applies in place ($ref, allOf, oneOf, anyOf,
    then, else), each paired with the resolver its own $refs are relative to."""
    out, stack = [], [(schema, resolver)]
    while stack:
        s, r = stack.pop()
        if not isinstance(s, dict) or any(s is x for x, _ in out):
            continue
        out.append((s, r))
        if "$ref" in s:
            resolved = r.lookup(s["$ref"])
            stack.append((resolved.contents, resolved.resolver))
        for keyword in ("allOf", "oneOf", "anyOf"):
            stack.extend((sub, r) for sub in s.get(keyword, []))
        for keyword in ("then", "else"):
            if keyword in s:
                stack.append((s[keyword], r))
    return out


def types_of(schemas):
    types = set()
    for s, _ in schemas:
        t = s.get("type")
        types.update([t] if isinstance(t, str) else t or [])
    return types


def typed(value, schemas):
    """Convert Plain scalars to int/bool where one of the applicable schemas asks for it."""
    schemas = [pair for s, r in schemas for pair in subschemas_with(s, r)]
    if isinstance(value, Plain):
        types = types_of(schemas)
        if "string" not in types:
            if "integer" in types and INTEGER.fullmatch(value):
                return int(value)
            if "boolean" in types and value in ("true", "false"):
                return value == "true"
        return str(value)
    if isinstance(value, list):
        items = [(s["items"], r) for s, r in schemas if isinstance(s.get("items"), dict)]
        return [typed(v, items) for v in value]
    if isinstance(value, dict):
        out = {}
        for key, v in value.items():
            children = []
            for s, r in schemas:
                if key in s.get("properties", {}):
                    children.append((s["properties"][key], r))
                elif isinstance(s.get("additionalProperties"), dict):
                    children.append((s["additionalProperties"], r))
            out[key] = typed(v, children)
        return out
    return value


# ---------------------------------------------------------------------------

class Checker:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def fail(self, what, why):
        self.failed += 1
        print(f"FAIL {what}: {why}")

    def check(self, condition, what, why):
        if condition:
            self.passed += 1
        else:
            self.fail(what, why)
        return condition


def load_schemas(checker):
    registry = Registry()
    schemas = {}
    for path in sorted(SCHEMAS.glob("*.json")):
        try:
            schema = json.loads(path.read_text())
            Draft202012Validator.check_schema(schema)
        except Exception as error:  # a broken schema must not stop the report
            checker.fail(str(path), f"not a valid draft 2020-12 schema: {error}")
            continue
        expected_id = f"https://labsync.dev/schemas/v1/{path.name}"
        if checker.check(schema.get("$id") == expected_id, str(path), f"$id should be {expected_id}"):
            schemas[path.name] = schema
            registry = registry.with_resource(expected_id, Resource.from_contents(schema, default_specification=DRAFT202012))
    missing = {ENTRY_SCHEMA, *KIND_SCHEMAS.values()} - schemas.keys()
    checker.check(not missing, "schemas", f"missing {sorted(missing)}")
    return schemas, registry


class Validation:
    def __init__(self, schemas, registry):
        self.registry = registry
        self.validator = Draft202012Validator(schemas[ENTRY_SCHEMA], registry=registry)
        self.kind_schemas = {kind: schemas[name] for kind, name in KIND_SCHEMAS.items()}

    def prepare(self, document):
        """The document's data with plain scalars typed by its kind's schema."""
        data = document.data
        kind = data.get("kind") if isinstance(data, dict) else None
        schema = self.kind_schemas.get(kind)
        if schema is None:  # unknown kind: the entry schema will say so
            return typed(data, [])
        resolver = self.registry.resolver(base_uri=schema["$id"])
        return typed(data, [(schema, resolver)])

    def errors(self, document):
        return list(self.validator.iter_errors(self.prepare(document)))


def all_errors(errors):
    for error in errors:
        yield error
        yield from all_errors(error.context or [])


def describe(error):
    where = "/".join(str(p) for p in error.absolute_path) or "(document)"
    return f"{where}: {error.message}"


def yaml_files(directory):
    return sorted(p for p in directory.rglob("*") if p.suffix in (".yaml", ".yml") and not p.is_symlink())


def check_requirements_file(checker, validation, repo, document, path_label):
    spec = document.data.get("spec") if isinstance(document.data, dict) else None
    if not isinstance(spec, dict) or "requirementsFile" not in spec:
        return
    name = str(spec["requirementsFile"])
    target = (repo / name).resolve()
    inside = target.is_relative_to(repo.resolve())
    if not checker.check(inside and target.is_file(), path_label, f"requirementsFile {name} is not a file inside {repo}"):
        return
    requirement = validation.registry.resolver(base_uri="https://labsync.dev/schemas/v1/common.schema.json") \
        .lookup("#/$defs/requirement").contents
    line_validator = Draft202012Validator(requirement)
    for number, line in enumerate(target.read_text().splitlines(), 1):
        line = line.split("#", 1)[0].strip()  # requirement lines never contain '#'
        if line:
            checker.check(line_validator.is_valid(line), f"{target}:{number}", f"not an acceptable requirement: {line!r}")


NOT_SPEC_REPOSITORIES = {"systemd", "ci"}


def check_valid_tree(checker, validation, top, examples):
    """Every document under top/<repo>/ must validate; top's subdirectories are repositories."""
    if not top.is_dir():
        checker.fail(str(top), "missing")
        return
    # examples/systemd holds a unit file for the daemon, examples/ci CI
    # pipelines (GitHub Actions, GitLab CI): neither is a spec repository.
    repos = sorted(d for d in top.iterdir() if d.is_dir() and d.name not in NOT_SPEC_REPOSITORIES)
    checker.check(repos, str(top), "no repositories in it")
    for repo in repos:
        files = yaml_files(repo)
        checker.check(files, str(repo), "no YAML files")
        for path in files:
            label = str(path.relative_to(ROOT))
            if examples:
                match = EDITOR_LINE.match(path.read_text().partition("\n")[0])
                points_home = match and (path.parent / match.group(1)).resolve() == (SCHEMAS / ENTRY_SCHEMA).resolve()
                checker.check(points_home, label, "first line should be # yaml-language-server: $schema=<relative path to schemas/labsync.schema.json>")
            try:
                documents = load_documents(path)
            except (Refused, yaml.YAMLError) as error:
                checker.fail(label, f"does not load: {error}")
                continue
            checker.check(documents, label, "no documents")
            for index, document in enumerate(documents):
                errors = validation.errors(document)
                checker.check(not errors, f"{label} document {index + 1}",
                              "; ".join(describe(e) for e in errors))
                check_requirements_file(checker, validation, repo, document, label)


def node_at(documents, line, column):
    """The path of the key or value node starting at line:column, and whether it is a key."""
    for index, document in enumerate(documents):
        for path, (key_pos, value_pos) in document.positions.items():
            if key_pos == (line, column):
                return index, path, True
            if value_pos == (line, column):
                return index, path, False
    return None


def check_position_in_text(checker, label, path, line, column):
    lines = path.read_text().splitlines()
    inside = 1 <= line <= len(lines) and 1 <= column <= len(lines[line - 1])
    checker.check(inside, label, f"{path.name}:{line}:{column} is outside the file")


def check_invalid_corpus(checker, validation):
    cases_path = INVALID / "cases.json"
    try:
        cases = json.loads(cases_path.read_text())
    except Exception as error:
        checker.fail(str(cases_path), f"unreadable: {error}")
        return
    required = {"case", "schema", "file", "line", "column", "message"}
    listed = set()
    for case in cases:
        label = f"invalid/{case.get('case')}"
        if not checker.check(isinstance(case, dict) and set(case) == required, label, f"entry needs exactly {sorted(required)}"):
            continue
        listed.add(case["case"])
        repo = INVALID / case["case"]
        target = repo / case["file"]
        if not checker.check(repo.is_dir() and target.is_file(), label, f"{target} missing"):
            continue
        try:
            check_case(checker, validation, case, repo, target, label)
        except Exception as error:  # a crash is a failure of this script's promise
            checker.fail(label, f"crashed: {type(error).__name__}: {error}")
    on_disk = {d.name for d in INVALID.iterdir() if d.is_dir()}
    checker.check(on_disk == listed, "invalid/cases.json", f"directories and cases differ: {sorted(on_disk ^ listed)}")


def check_case(checker, validation, case, repo, target, label):
    line, column = case["line"], case["column"]
    loaded, refusals = {}, {}
    for path in yaml_files(repo):
        try:
            loaded[path] = load_documents(path)
        except Refused as refusal:
            refusals[path] = refusal
        except yaml.YAMLError as error:
            refusals[path] = error

    if target.suffix not in (".yaml", ".yml"):
        check_position_in_text(checker, label, target, line, column)

    if case["schema"]:
        checker.check(not refusals, label, f"schema case must load: {refusals}")
        documents = loaded.get(target, [])
        errors = [e for d in documents for e in all_errors(validation.errors(d))]
        if not checker.check(errors, label, "the schema accepts it but must reject it"):
            return
        found = node_at(documents, line, column)
        if not checker.check(found, label, f"no key or value starts at {case['file']}:{line}:{column}"):
            return
        index, path, _ = found
        document_errors = list(all_errors(validation.errors(documents[index])))
        # The position must name the rejected node itself or a key/value directly under it.
        related = any(tuple(e.absolute_path) == path[: len(e.absolute_path)] and len(path) - len(e.absolute_path) <= 1
                      for e in document_errors)
        checker.check(related, label, f"{case['file']}:{line}:{column} ({'/'.join(map(str, path))}) is not where the schema "
                                      f"complains: {[describe(e) for e in document_errors]}")
        return

    # schema: false — every file loads and passes the schema, unless the loader
    # refuses it, in which case the refusal must be the case itself.
    for path, refusal in refusals.items():
        at = (path, getattr(refusal, "line", None), getattr(refusal, "column", None))
        checker.check(at == (target, line, column), label,
                      f"{path.relative_to(repo)} refused: {refusal}" + (f" at {at[1]}:{at[2]}" if at[1] else ""))
    for path, documents in loaded.items():
        for index, document in enumerate(documents):
            errors = validation.errors(document)
            checker.check(not errors, f"{label}/{path.name} document {index + 1}",
                          "only labsync should see this case's fault, but the schema rejects: "
                          + "; ".join(describe(e) for e in errors))
    if target in loaded:
        checker.check(node_at(loaded[target], line, column), label, f"no key or value starts at {case['file']}:{line}:{column}")


def main():
    checker = Checker()
    schemas, registry = load_schemas(checker)
    if {ENTRY_SCHEMA, *KIND_SCHEMAS.values()} <= schemas.keys():
        validation = Validation(schemas, registry)
        check_valid_tree(checker, validation, EXAMPLES, examples=True)
        check_valid_tree(checker, validation, VALID, examples=False)
        check_invalid_corpus(checker, validation)
    print(f"{checker.passed} passed, {checker.failed} failed")
    return 0 if checker.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
