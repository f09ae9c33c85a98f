#!/usr/bin/env bash
# The plug-in rule (issue 10): outside Sources/Drivers, no file under Sources/
# names a concrete driver (host or manifest driver), a driver's observed type or one of its step kinds.
# The registry (Sources/Drivers/Registry.swift) is the one place that lists them.
set -euo pipefail
cd "$(dirname "$0")/.."
# Driver types and their observed types, found from the drivers themselves, so
# a new driver is covered without editing this script.
types=$(grep -rhoE 'public struct [A-Za-z]+: (Driver|ManifestDriver)\b' Sources/Drivers | awk '{print $3}' | tr -d ':')
# The renderers a driver folder keeps beside its driver (KubernetesHubRenderer)
# are reached through the driver too.
renderers=$(grep -rhoE 'public enum [A-Za-z]+Renderer\b' Sources/Drivers --exclude-dir=Core | awk '{print $3}')
observed=$(grep -rhoE 'public typealias Observed = [A-Za-z]+' Sources/Drivers | awk '{print $5}')
kinds=$(grep -rhoE 'public static let [A-Za-z]+ = StepKind\(' Sources/Drivers | awk '{print $4}')
pattern=$(printf "%s\n" $types $renderers $observed isHubPhase StepAction | paste -sd"|")
# `.install` as a step kind, not `x.install(` as a method call.
kind_pattern=$(printf '\\.%s\\b(?!\\()\n' $kinds | paste -sd'|')
found=$(grep -rnP "\\b($pattern)\\b|$kind_pattern" Sources --include='*.swift' | grep -v '^Sources/Drivers/' || true)
if [ -n "$found" ]; then
  echo "check-architecture: these lines outside Sources/Drivers name a driver, its observed type or a step kind:"
  echo "$found"
  exit 1
fi
echo "check-architecture: the core names no driver ($(echo $types | wc -w) drivers, $(echo $kinds | wc -w) step kinds checked)"
