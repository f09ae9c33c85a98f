#!/usr/bin/env python3
"""Check labsync's Kubernetes hub manifests against the real definitions.

Run from the repository root:  .tools/venv/bin/python scripts/check-k8s.py
(`make test-python` does). The last line is always "N passed, N failed";
exit 0 only when nothing failed.

Input: every rendered/<namespace>/<release>/ directory under
Tests/Fixtures/kubernetes/ (the golden files of KubernetesHubRenderTests, which
also records one for every examples/* with a Kubernetes hub; this script checks
that no such example lacks one).

For each, against files read in place from ../shared/third-party/ (never copied
into the repository; LABSYNC_THIRD_PARTY overrides the path):
  1. each file is exactly one YAML document (PyYAML, safe loader);
  2. namespace.yaml validates against Kubernetes' own schema (kubernetes-validate,
     offline, strict);
  3. helmrepository.yaml and helmrelease.yaml validate against the openAPIV3Schema
     of the served version of Flux's CRDs (jsonschema, draft 7);
  4. the HelmRelease's values, with the valuesFrom Secret inserted at its
     targetPath as Flux does, merged over the chart's values.yaml the way Helm
     merges (maps deep-merged, lists replaced, null deletes), validate against
     the chart's values.schema.yaml (draft 7);
  5. in a second interpreter with jupyterhub 5, oauthenticator and kubespawner
     installed (.tools/hubcheck, `make deps`): every trait under hub.config is
     a configurable trait of its class; the hub.config, hub.loadRoles and
     hub.extraConfig sections, assembled the way Z2JH 4.4.0's
     jupyterhub_config.py does, load in a real `jupyterhub --show-config`
     process; and the real authenticator admits the allowed users and refuses a
     user outside allowed_users (unless allow_all).
Also: the hostile-strings case parses back to the exact strings of its spec,
and the golden cases' specs pass labsync's JSON Schema (as check-schemas.py reads it).
"""
import copy
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "Tests" / "Fixtures" / "kubernetes"
THIRD = Path(os.environ.get("LABSYNC_THIRD_PARTY", ROOT.parent / "shared" / "third-party"))
Z2JH = THIRD / "z2jh-4.4.0"
FLUX = THIRD / "flux"
HUBCHECK = ROOT / ".tools" / "hubcheck" / "bin" / "python"
FILES = ("namespace.yaml", "helmrepository.yaml", "helmrelease.yaml")
SECRET_PLACEHOLDER = "not-a-secret-placeholder"
# The Kubernetes version whose schemas the Namespace is checked with (shipped by kubernetes-validate).
KUBERNETES_VERSION = "1.33"


class Checker:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, condition, what, why=""):
        if condition:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAIL {what}: {why}")
        return condition


def helm_merge(defaults, overrides):
    """Helm's coalesce of user values over chart defaults: maps merge key by
    key, anything else (lists included) replaces, and a null removes the key."""
    out = copy.deepcopy(defaults)
    for key, value in overrides.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = helm_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def set_path(values, dotted, value):
    """Flux's targetPath (a Helm --set path without escapes or indices here)."""
    *parents, last = dotted.split(".")
    node = values
    for key in parents:
        node = node.setdefault(key, {})
    node[last] = value


def crd_validator(path, api_version):
    from jsonschema import Draft7Validator
    crd = yaml.safe_load(path.read_text())
    group, version = api_version.split("/")
    assert crd["spec"]["group"] == group, (path, group)
    for v in crd["spec"]["versions"]:
        if v["name"] == version:
            assert v.get("served"), f"{api_version} is not served by {path.name}"
            return Draft7Validator(v["schema"]["openAPIV3Schema"])
    raise AssertionError(f"{api_version} not in {path.name}")


def describe(errors):
    return "; ".join(f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in errors)[:2000]


def rendered_directories():
    return sorted(p.parent for p in FIXTURES.rglob("rendered/*/*/helmrelease.yaml"))


def check_examples_have_goldens(checker):
    """Every example with a Kubernetes hub must have recorded manifests (the Swift golden test makes them)."""
    for example in sorted(d for d in (ROOT / "examples").iterdir() if d.is_dir()):
        has_hub = any("kubernetes:" in p.read_text() for p in example.rglob("*.y*ml"))
        if has_hub:
            golden = FIXTURES / "examples" / example.name / "rendered"
            checker.check(any(golden.rglob("helmrelease.yaml")), f"examples/{example.name}",
                          f"no rendered manifests under {golden.relative_to(ROOT)} (LABSYNC_RECORD=1 swift test --filter KubernetesHub)")


def check_directory(checker, directory, schemas, defaults, hub_inputs):
    import kubernetes_validate  # in the tools venv only, not in the hubcheck interpreter
    label = str(directory.relative_to(ROOT))
    objects = {}
    for name in FILES:
        path = directory / name
        if not checker.check(path.is_file(), f"{label}/{name}", "missing"):
            return
        documents = list(yaml.safe_load_all(path.read_text()))
        if checker.check(len(documents) == 1 and isinstance(documents[0], dict), f"{label}/{name}",
                         f"must be exactly one mapping document, found {len(documents)}"):
            objects[name] = documents[0]
    if len(objects) != len(FILES):
        return
    namespace, repository, release = (objects[n] for n in FILES)

    try:
        kubernetes_validate.validate(namespace, KUBERNETES_VERSION, strict=True)
        checker.check(True, f"{label}/namespace.yaml")
    except Exception as error:  # ValidationError, or a schema it cannot find
        checker.check(False, f"{label}/namespace.yaml", f"Kubernetes {KUBERNETES_VERSION} schema: {error}")

    for name, obj, key in (("helmrepository.yaml", repository, "repository"), ("helmrelease.yaml", release, "release")):
        validator = schemas[key](obj.get("apiVersion", ""))
        checker.check(obj.get("kind") == ("HelmRepository" if key == "repository" else "HelmRelease"), f"{label}/{name}", "kind")
        errors = list(validator.iter_errors(obj))
        checker.check(not errors, f"{label}/{name}", f"CRD schema: {describe(errors)}")

    spec = release.get("spec", {})
    checker.check(spec.get("driftDetection", {}).get("mode") == "enabled", f"{label}/helmrelease.yaml", "driftDetection.mode")
    checker.check(spec.get("chart", {}).get("spec", {}).get("sourceRef", {}).get("name") == repository["metadata"]["name"],
                  f"{label}/helmrelease.yaml", "chart.spec.sourceRef does not name the HelmRepository")
    values = copy.deepcopy(spec.get("values", {}))
    for source in spec.get("valuesFrom", []):
        checker.check(source.get("kind") == "Secret" and source.get("targetPath"), f"{label}/helmrelease.yaml",
                      f"valuesFrom must be a Secret with a targetPath: {source}")
        set_path(values, source["targetPath"], SECRET_PLACEHOLDER)
    merged = helm_merge(defaults, values)
    errors = list(schemas["values"].iter_errors(merged))
    checker.check(not errors, f"{label} values", f"chart values.schema.yaml: {describe(errors)}")
    hub_inputs.append({"label": label, "values": merged, "user_values": values})


def check_case_specs_against_the_json_schema(checker):
    """The golden cases' specs pass labsync's own JSON Schema too (the editor's view),
    with check-schemas.py's loader and typing, so both agree on what a Kubernetes hub is."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("check_schemas", ROOT / "scripts" / "check-schemas.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    schemas, registry = module.load_schemas(module.Checker())
    validation = module.Validation(schemas, registry)
    for path in sorted(FIXTURES.glob("cases/*/specs/*.yaml")):
        for index, document in enumerate(module.load_documents(path)):
            errors = validation.errors(document)
            checker.check(not errors, f"{path.relative_to(ROOT)} document {index + 1}",
                          "; ".join(module.describe(e) for e in errors))


def check_hostile_strings(checker):
    """The hostile case's strings come back unchanged: nothing became structure."""
    spec = yaml.safe_load((FIXTURES / "cases/hostile-strings/specs/hub.yaml").read_text())["spec"]
    release_path = FIXTURES / "cases/hostile-strings/rendered/hostile/hostile/helmrelease.yaml"
    if not checker.check(release_path.is_file(), "hostile-strings", "not recorded"):
        return
    values = yaml.safe_load(release_path.read_text())["spec"]["values"]
    profiles = values["singleuser"]["profileList"][1:]
    for given, rendered in zip(spec["kubernetes"]["profiles"], profiles):
        checker.check(rendered.get("display_name") == given["displayName"], "hostile-strings displayName",
                      f"{rendered.get('display_name')!r} != {given['displayName']!r}")
        checker.check(rendered.get("description") == given.get("description"), "hostile-strings description",
                      f"{rendered.get('description')!r} != {given.get('description')!r}")
    checker.check(values["hub"]["extraConfig"]["labsync"] == spec["extraConfig"], "hostile-strings extraConfig")
    gitlab = values["hub"]["config"]["GitLabOAuthenticator"]
    checker.check(gitlab["gitlab_url"] == spec["authentication"]["gitlab"]["url"], "hostile-strings gitlab url")


# ---------------------------------------------------------------------------
# Part 2, run by the hubcheck interpreter (jupyterhub, oauthenticator, kubespawner).

# What Z2JH 4.4.0's jupyterhub_config.py does with the values this check
# covers (files/hub/jupyterhub_config.py: "load hub.config values",
# hub.loadRoles, hub.extraConfig, and the singleuser → KubeSpawner table).
ASSEMBLE = r'''
import json, os
values = json.load(open(os.environ["LABSYNC_HUBCHECK_VALUES"]))
c = get_config()  # noqa: F821
c.JupyterHub.spawner_class = "kubespawner.KubeSpawner"
c.JupyterHub.load_roles = []
for key, role in values["hub"].get("loadRoles", {}).items():
    role.setdefault("name", key)
    c.JupyterHub.load_roles.append(role)
singleuser = values["singleuser"]
for trait, path in (("mem_limit", ("memory", "limit")), ("mem_guarantee", ("memory", "guarantee")),
                    ("cpu_limit", ("cpu", "limit")), ("cpu_guarantee", ("cpu", "guarantee")),
                    ("profile_list", ("profileList",)), ("storage_capacity", ("storage", "capacity"))):
    node = singleuser
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    if node is not None:
        setattr(c.KubeSpawner, trait, node)
c.KubeSpawner.image = f"{singleuser['image']['name']}:{singleuser['image']['tag']}"
for section, cfg in values["hub"].get("config", {}).items():
    if not section[:1].isupper():
        raise SystemExit(f"FATAL: Invalid hub.config section name: {section}")
    c[section].update(cfg)
for key, config_py in sorted(values["hub"].get("extraConfig", {}).items()):
    exec(config_py)
'''


def hubcheck_main():
    import asyncio

    from jupyterhub.app import JupyterHub
    from kubespawner import KubeSpawner
    from traitlets.config import Config, PyFileConfigLoader

    checker = Checker()
    cases = json.load(sys.stdin)
    with tempfile.TemporaryDirectory() as tmp:
        config_file = Path(tmp) / "jupyterhub_config.py"
        config_file.write_text(ASSEMBLE)
        for case in cases:
            label, values, user_values = case["label"], case["values"], case["user_values"]
            values_file = Path(tmp) / "values.json"
            values_file.write_text(json.dumps(values))
            env = dict(os.environ, LABSYNC_HUBCHECK_VALUES=str(values_file))
            os.environ["LABSYNC_HUBCHECK_VALUES"] = str(values_file)

            entry = user_values.get("hub", {}).get("config", {}).get("JupyterHub", {}).get("authenticator_class")
            named = JupyterHub(config=Config({"JupyterHub": {"authenticator_class": entry}})).authenticator_class
            classes = {cls.__name__: cls for cls in (JupyterHub, KubeSpawner, *named.__mro__) if hasattr(cls, "class_traits")}
            for section, traits in user_values.get("hub", {}).get("config", {}).items():
                cls = classes.get(section)
                if not checker.check(cls is not None, f"{label} hub.config.{section}", "not a configurable class of jupyterhub/oauthenticator"):
                    continue
                configurable = cls.class_traits(config=True)
                for trait in traits:
                    checker.check(trait in configurable, f"{label} hub.config.{section}.{trait}",
                                  f"not a configurable trait of {cls.__module__}.{cls.__name__}")

            # A real JupyterHub 5 process loads the assembled config.
            shown = subprocess.run([sys.executable, "-m", "jupyterhub", "--show-config", "-f", str(config_file)],
                                   env=env, cwd=tmp, capture_output=True, text=True, timeout=120)
            checker.check(shown.returncode == 0, f"{label} jupyterhub --show-config", shown.stderr[-2000:])

            config = PyFileConfigLoader(config_file.name, path=tmp).load_config()
            app = JupyterHub(config=config)
            authenticator_class = app.authenticator_class
            auth = authenticator_class(parent=app, config=config)
            gitlab = values["hub"]["config"].get("GitLabOAuthenticator", {})
            if gitlab.get("allowed_gitlab_groups"):
                # GitLab's group-membership API call is the only network access
                # of check_allowed: the test users are in none of the groups.
                async def not_a_member(*args, **kwargs):
                    return False
                auth._check_membership_allowed_groups = not_a_member  # noqa: SLF001
            roles = {r["name"]: r for r in app.load_roles}
            checker.check("admin" in roles and "users" in roles["admin"], f"{label} load_roles",
                          "the admin role must list its users (exact membership)")
            checker.check(auth.allow_existing_users is False, f"{label} allow_existing_users")

            def allowed(name):
                # The auth model as Authenticator.get_authenticated_user hands it
                # to check_allowed: after update_auth_model (admin from admin_users).
                async def run():
                    state = {"token_response": {"access_token": "test-token-not-real"},
                             auth.user_auth_state_key: {"id": 4242, "groups": []}}
                    model = {"name": name, "admin": None, "auth_state": state, "groups": []}
                    model = await auth.update_auth_model(model)
                    return await auth.check_allowed(name, model)
                return asyncio.run(run())

            for name in sorted(auth.allowed_users)[:3]:
                checker.check(allowed(name) is True, f"{label} check_allowed({name!r})", "an allowed user is refused")
            for name in roles["admin"].get("users", []):
                checker.check(allowed(name) is True, f"{label} check_allowed(admin {name!r})", "an admin is refused")
            intruder = "not-in-the-spec-0451"
            checker.check(allowed(intruder) is bool(auth.allow_all), f"{label} check_allowed({intruder!r})",
                          f"allow_all={auth.allow_all} but the real authenticator said otherwise")
            for profile in values["singleuser"].get("profileList", []):
                checker.check(set(profile) <= {"display_name", "description", "default", "kubespawner_override", "slug"},
                              f"{label} profileList", f"unknown KubeSpawner profile keys {sorted(profile)}")
    print(f"{checker.passed} passed, {checker.failed} failed")
    return 0 if checker.failed == 0 else 1


def main():
    from jsonschema import Draft7Validator

    checker = Checker()
    for path in (Z2JH / "values.yaml", Z2JH / "values.schema.yaml", FLUX / "helm.toolkit.fluxcd.io_helmreleases.yaml",
                 FLUX / "source.toolkit.fluxcd.io_helmrepositories.yaml"):
        if not checker.check(path.is_file(), str(path), "missing: the third-party definitions are read in place from ../shared/third-party"):
            print(f"{checker.passed} passed, {checker.failed} failed")
            return 1
    defaults = yaml.safe_load((Z2JH / "values.yaml").read_text())
    values_schema = yaml.safe_load((Z2JH / "values.schema.yaml").read_text())
    Draft7Validator.check_schema(values_schema)
    schemas = {
        "values": Draft7Validator(values_schema),
        "repository": lambda v: crd_validator(FLUX / "source.toolkit.fluxcd.io_helmrepositories.yaml", v),
        "release": lambda v: crd_validator(FLUX / "helm.toolkit.fluxcd.io_helmreleases.yaml", v),
    }
    check_examples_have_goldens(checker)
    directories = rendered_directories()
    checker.check(len(directories) >= 4, "Tests/Fixtures/kubernetes", f"only {len(directories)} rendered hubs")
    hub_inputs = []
    for directory in directories:
        check_directory(checker, directory, schemas, defaults, hub_inputs)
    check_hostile_strings(checker)
    check_case_specs_against_the_json_schema(checker)

    if checker.check(HUBCHECK.is_file(), str(HUBCHECK), "missing: run make deps"):
        result = subprocess.run([str(HUBCHECK), __file__, "--hubcheck"], input=json.dumps(hub_inputs),
                                capture_output=True, text=True, timeout=1800)
        lines = result.stdout.strip().splitlines() or [""]
        # Its own closing line is folded into this script's: one count at the end.
        for line in lines[:-1]:
            print(line)
        last = lines[-1].split()
        if len(last) == 4 and last[1] == "passed," and last[3] == "failed":
            checker.passed += int(last[0])
            checker.failed += int(last[2])
        else:
            checker.check(False, "hubcheck", f"exit {result.returncode}: {result.stderr[-3000:]}")
        checker.check(result.returncode == 0 or checker.failed > 0, "hubcheck", f"exit {result.returncode}")
    print(f"{checker.passed} passed, {checker.failed} failed")
    return 0 if checker.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(hubcheck_main() if sys.argv[1:] == ["--hubcheck"] else main())
