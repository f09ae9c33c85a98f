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
        environments()
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
            switch env.target.value {
            case .host(let name) where specs.host(named: name) == nil:
                sink.error(env.target.location, "spec.host '\(name)' names no Host")
            case .selector(let labels) where specs.hosts(for: env).isEmpty:
                let text = labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
                sink.error(env.target.location, "spec.hostSelector {\(text)} matches no Host")
            default: break
            }
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
                let onHost = specs.environments.contains { env in
                    env.name == kernel.value && specs.hosts(for: env).contains { $0.name == host }
                }
                if !onHost {
                    sink.error(kernel.location, "kernel '\(kernel.value)' names no PythonEnvironment on host '\(host)'")
                }
            }
            var seen = Set<String>()
            for user in hub.users where !seen.insert(user.name.value).inserted {
                sink.error(user.name.location, "user '\(user.name.value)' is listed twice")
            }
        }
    }
}
