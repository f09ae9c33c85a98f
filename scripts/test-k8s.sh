#!/usr/bin/env bash
# Live check of a Kubernetes hub on a real cluster: `make test-k8s`.
#
# Runs only when KUBECONFIG names a cluster that has Flux installed (its
# source-controller and helm-controller CRDs). No cluster is available to
# labsync's own tests and none is faked: without KUBECONFIG this prints that
# it skipped and exits 0, which is not a pass.
#
# With a cluster: renders examples/k8s-course, creates its OAuth Secret with a
# throw-away value (the hub starts without contacting GitLab), applies the
# manifests with kubectl and waits for Flux to report the HelmRelease Ready.
# It leaves the namespace in place for inspection; delete it with
#   kubectl delete namespace ml101
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${KUBECONFIG:-}" ]; then
  echo "skipped: no KUBECONFIG (no Kubernetes cluster here)"
  exit 0
fi
command -v kubectl >/dev/null || { echo "kubectl is required for the live check" >&2; exit 1; }
for crd in helmreleases.helm.toolkit.fluxcd.io helmrepositories.source.toolkit.fluxcd.io; do
  kubectl get crd "$crd" >/dev/null || { echo "Flux is not installed in this cluster ($crd missing): flux install" >&2; exit 1; }
done

make build
labsync=.build/release/labsync
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$labsync" render examples/k8s-course --manifests "$out"

namespace=ml101
release=ml101-hub
kubectl apply -f "$out/$namespace/$release/namespace.yaml"
# A throw-away client secret, only for this check; it never leaves this shell.
GITLAB_CLIENT_SECRET=$(openssl rand -hex 32)
export GITLAB_CLIENT_SECRET
"$labsync" render examples/k8s-course --secret-template | grep '^kubectl ' | bash | kubectl apply -f -
kubectl apply -f "$out/$namespace/$release/"
kubectl -n "$namespace" wait --for=condition=Ready "helmrelease/$release" --timeout=20m
echo "1 passed, 0 failed"
