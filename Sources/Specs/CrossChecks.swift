/// Rules that span documents: unique names, references that resolve,
/// one hub per host, requirements declared once per environment.
struct CrossChecks {
    let specs: SpecSet
    let sink: DiagnosticSink

    func run() {
        uniqueNames(specs.hosts.map(\.metadata), kind: .host)
        uniqueNames(specs.environments.map(\.metadata), kind: .pythonEnvironment)
        // Host and Kubernetes hubs share one name space: both are kind JupyterHub.
        uniqueNames((specs.hubs.map(\.metadata) + specs.kubernetesHubs.map(\.metadata)).sorted { $0.location < $1.location },
                    kind: .jupyterHub)
        uniqueNames(specs.rEnvironments.map(\.metadata), kind: .rEnvironment)
        environments()
        rEnvironments()
        hubs()
        kubernetesHubs()
    }

    /// One hub per namespace: each hub's files carry its Namespace, and two
    /// copies of one object in the directory Flux reads fail its build (and
    /// two releases would overwrite each other's files if they shared a name).
    private func kubernetesHubs() {
        var first: [String: (hub: String, at: SourceLocation)] = [:]
        for hub in specs.kubernetesHubs {
            let namespace = hub.kubernetes.namespace
            if let earlier = first[namespace.value] {
                sink.error(namespace.location, "namespace '\(namespace.value)' already has JupyterHub '\(earlier.hub)' (at \(earlier.at)): one hub per namespace")
            } else {
                first[namespace.value] = (hub.name, namespace.location)
            }
        }
    }

    private func uniqueNames(_ all: [Metadata], kind: SpecKind) {
        var first: [String: SourceLocation] = [:]
        for m in all {
            if let earlier = first[m.name] {
                sink.error(m.location, "duplicate \(kind.rawValue) name '\(m.name)' (first defined at \(earlier))")
            } else {
                first[m.name] = m.location
            }
        }
    }

    private func environments() {
        for env in specs.environments {
            hostTarget(env)
            var seen: [String: SourceLocation] = [:]
            for r in env.requirements {
                if let earlier = seen[r.value.normalizedName] {
                    sink.error(r.location, "'\(r.value.name)' is required more than once in environment '\(env.name)' (also at \(earlier)); merge the two into one requirement")
                } else {
                    seen[r.value.normalizedName] = r.location
                }
            }
        }
    }

    private func hostTarget(_ spec: some HostTargeted) {
        switch spec.target.value {
        case .host(let name) where specs.host(named: name) == nil:
            sink.error(spec.target.location, "spec.host '\(name)' names no Host")
        case .selector(let labels) where specs.hosts(for: spec).isEmpty:
            let text = labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            sink.error(spec.target.location, "spec.hostSelector {\(text)} matches no Host")
        default: break
        }
    }

    private func rEnvironments() {
        // A hub's `kernels` names environments of either kind: one name must not mean two.
        let python = Dictionary(specs.environments.map { ($0.name, $0.metadata.location) }) { a, _ in a }
        for env in specs.rEnvironments {
            hostTarget(env)
            if let other = python[env.name] {
                sink.error(env.metadata.location, "REnvironment '\(env.name)' has the name of PythonEnvironment at \(other); hub kernels name environments, so give it another name")
            }
            var seen: [String: SourceLocation] = [:]
            for p in env.packages {
                if let earlier = seen[p.value.name] {
                    sink.error(p.location, "'\(p.value.name)' is listed more than once in R environment '\(env.name)' (also at \(earlier)); keep one entry")
                } else {
                    seen[p.value.name] = p.location
                }
            }
        }
    }

    private func hubs() {
        var hubOnHost: [String: String] = [:]
        for hub in specs.hubs {
            let host = hub.host.value
            if specs.host(named: host) == nil {
                sink.error(hub.host.location, "spec.host '\(host)' names no Host")
            }
            if let other = hubOnHost[host] {
                sink.error(hub.host.location, "host '\(host)' already has JupyterHub '\(other)': one hub per host")
            } else {
                hubOnHost[host] = hub.name
            }
            for kernel in hub.kernels {
                func here(_ env: some HostTargeted) -> Bool {
                    env.metadata.name == kernel.value && specs.hosts(for: env).contains { $0.name == host }
                }
                let onHost = specs.environments.contains(where: here) || specs.rEnvironments.contains(where: here)
                if !onHost {
                    sink.error(kernel.location, "kernel '\(kernel.value)' names no PythonEnvironment or REnvironment on host '\(host)'")
                }
            }
            var seen = Set<String>()
            for user in hub.users where !seen.insert(user.name.value).inserted {
                sink.error(user.name.location, "user '\(user.name.value)' is listed twice")
            }
        }
    }
}
