// A JupyterHub whose target is a Kubernetes cluster (`spec.kubernetes`)
// instead of a host: the same spec, rendered into Zero to JupyterHub chart
// values that Flux's helm-controller applies. It is its own type so that the
// host hub (JupyterHubSpec) and its driver stay exactly as they are; the
// pieces that mean the same on both (authentication, culling, limits) are the
// same types.
//
// Fields that cannot work on Kubernetes are refused where they are written,
// each with the reason, instead of being dropped silently.

/// A container image, `name:tag`.
public struct ContainerImage: Sendable, Hashable {
    public var name: String
    public var tag: String
    public init(name: String, tag: String) {
        self.name = name
        self.tag = tag
    }
    public var reference: String { "\(name):\(tag)" }
}

/// One entry of the server options users choose from (KubeSpawner's profile_list).
public struct KubernetesProfile: Sendable, Hashable {
    public var displayName: Located<String>
    public var description: String?
    public var image: ContainerImage
}

/// HTTPS on the chart's proxy: a Let's Encrypt certificate obtained by the
/// chart's autohttps pod, or a TLS Secret that already exists in the namespace.
public struct KubernetesHTTPS: Sendable, Hashable {
    public enum Certificate: Sendable, Hashable {
        case letsencrypt(contactEmail: String)
        case secret(name: String)
    }
    public var hostname: String
    public var certificate: Certificate
}

/// `spec.kubernetes`: where the hub runs and which chart runs it.
public struct KubernetesTarget: Sendable, Hashable {
    /// Z2JH's own Helm repository, used unless `chartRepository` is given.
    public static let defaultChartRepository = "https://hub.jupyter.org/helm-chart/"

    public var namespace: Located<String>
    public var release: Located<String>
    public var chartVersion: String
    public var chartRepository: String
    public var image: ContainerImage
    /// Size of each user's home volume (a Kubernetes quantity such as 10Gi); nil: the chart's default.
    public var storageCapacity: String?
    public var profiles: [KubernetesProfile]
}

public struct KubernetesHubSpec: Sendable, Hashable {
    public var metadata: Metadata
    public var kubernetes: KubernetesTarget
    public var authentication: Authentication
    public var idleCulling: IdleCulling?
    public var https: KubernetesHTTPS?
    public var limits: ResourceLimits?
    public var extraConfig: String?
    public var state: DesiredState
    public var name: String { metadata.name }
}

extension DocumentDecoder {
    /// Why a host-hub field has no meaning on Kubernetes (each is refused with this text).
    static let refusedOnKubernetes: [(field: String, reason: String)] = [
        ("host", "give either host or kubernetes"),
        ("version", "the JupyterHub version is the chart's: set kubernetes.chartVersion"),
        ("port", "the chart's proxy-public Service listens on 80 and 443"),
        ("users", "pods have no system accounts to create or give passwords to; use OAuth and allowedUsers"),
        ("kernels", "environments on Kubernetes are images: use kubernetes.singleuser.image and kubernetes.profiles"),
        ("homeDirectoryMode", "each user's home is their own volume, mounted only into their own pod"),
        ("extraPackages", "the hub runs the chart's image; packages for users go into kubernetes.singleuser.image"),
    ]

    func readKubernetesHub(_ r: inout FieldReader, _ metadata: Metadata) -> KubernetesHubSpec? {
        for (field, reason) in Self.refusedOnKubernetes where r.has(field) {
            _ = r.node(field)
            sink.error(r.keyLocation(field) ?? r.location, "spec.\(field) cannot be used with spec.kubernetes: \(reason)")
        }
        let target = r.object("kubernetes", required: true) { readKubernetesTarget(&$0) }
        let auth = r.object("authentication", required: true) { a -> Authentication? in
            let auth = readAuthentication(&a)
            if auth?.type == .pam {
                sink.error(a.keyLocation("type") ?? a.location,
                           "spec.authentication.type pam cannot be used with spec.kubernetes: pods have no system accounts; use gitlab or azuread")
            }
            return auth
        }
        if let policy = r.choice("removedUsers", RemovedUserPolicy.self), policy.value == .delete {
            sink.error(policy.location, "spec.removedUsers delete cannot be used with spec.kubernetes: deleting a user's volume is KubeSpawner's business (it deletes the PVC when the hub deletes the user); labsync only stops removed users from logging in")
        }
        let culling: IdleCulling? = r.object("idleCulling") { readIdleCulling(&$0) }
        let https: KubernetesHTTPS? = r.object("https") { readKubernetesHTTPS(&$0) }
        let limits: ResourceLimits? = r.object("limits") { readLimits(&$0) }
        let extraConfig = r.string("extraConfig")
        let state = r.choice("state", DesiredState.self)
        guard let target, let auth else { return nil }
        if let oauth = auth.oauth, oauth.callbackUrl == nil, https == nil {
            let provider = auth.type.rawValue
            sink.error(r.keyLocation("authentication") ?? r.location,
                       "spec.authentication.\(provider).callbackUrl is required on Kubernetes without spec.https: the hub's public address is the cluster's, unknown to labsync")
        }
        if !auth.allowAll && auth.allowedUsers.isEmpty && auth.admins.isEmpty && (auth.oauth?.allowedGroups ?? []).isEmpty {
            sink.error(r.keyLocation("authentication") ?? r.location,
                       "spec.authentication allows nobody: allowAll is false and there are no allowedUsers, admins or allowedGroups")
        }
        return KubernetesHubSpec(
            metadata: metadata, kubernetes: target, authentication: auth, idleCulling: culling, https: https,
            limits: limits, extraConfig: extraConfig?.value, state: state?.value ?? .present)
    }

    private func readKubernetesTarget(_ k: inout FieldReader) -> KubernetesTarget? {
        let namespace = k.string("namespace", required: true)
        if let n = namespace, let problem = Rules.checkName(n.value) { sink.error(n.location, "spec.kubernetes.namespace: \(problem)") }
        let release = k.string("release", required: true)
        // Helm limits release names to 53 characters (it appends suffixes to them).
        if let n = release, let problem = Rules.checkName(n.value) ?? (n.value.count > 53 ? "a Helm release name has at most 53 characters" : nil) {
            sink.error(n.location, "spec.kubernetes.release: \(problem)")
        }
        let version = k.string("chartVersion", required: true)
        if let v = version, !Self.isChartVersion(v.value) {
            sink.error(v.location, "spec.kubernetes.chartVersion must be a chart version such as \"4.4.0\", found '\(v.value)'")
        }
        let repository = k.string("chartRepository")
        if let u = repository, let problem = Rules.checkURL(u.value, schemes: ["https", "oci"]) { sink.error(u.location, problem) }
        let singleuser: (ContainerImage?, String?)? = k.object("singleuser", required: true) { s in
            let image = s.object("image", required: true) { readImage(&$0) }
            let capacity: String?? = s.object("storage") { st in
                let c = st.string("capacity")
                if let c, !Self.isQuantity(c.value) {
                    sink.error(c.location, "spec.kubernetes.singleuser.storage.capacity must be a Kubernetes quantity such as 10Gi")
                    return nil
                }
                return c?.value
            }
            return (image, capacity ?? nil)
        }
        var seen: [String: SourceLocation] = [:]
        let profiles: [KubernetesProfile] = k.list("profiles") { p in
            let name = p.string("displayName", required: true)
            let description = p.string("description")
            let image = p.object("image", required: true) { readImage(&$0) }
            guard let name, let image else { return nil }
            if name.value.isEmpty { sink.error(name.location, "spec.kubernetes.profiles[].displayName must not be empty") }
            if let earlier = seen[name.value] {
                sink.error(name.location, "profile '\(name.value)' is listed twice (also at \(earlier))")
            } else {
                seen[name.value] = name.location
            }
            return KubernetesProfile(displayName: name, description: description?.value, image: image)
        }
        guard let namespace, let release, let version, let image = singleuser?.0 else { return nil }
        return KubernetesTarget(
            namespace: namespace, release: release, chartVersion: version.value,
            chartRepository: repository?.value ?? KubernetesTarget.defaultChartRepository, image: image,
            storageCapacity: singleuser?.1, profiles: profiles)
    }

    private func readImage(_ i: inout FieldReader) -> ContainerImage? {
        let name = i.string("name", required: true)
        if let n = name, !Self.isImageName(n.value) {
            sink.error(n.location, "\(i.path).name must be an image name such as quay.io/jupyter/scipy-notebook, found '\(n.value)'")
        }
        let tag = i.string("tag", required: true)
        if let t = tag, !Self.isImageTag(t.value) {
            sink.error(t.location, "\(i.path).tag must be an image tag (letters, digits, '_', '.', '-'; at most 128), found '\(t.value)'")
        }
        guard let name, let tag else { return nil }
        return ContainerImage(name: name.value, tag: tag.value)
    }

    private func readKubernetesHTTPS(_ h: inout FieldReader) -> KubernetesHTTPS? {
        let refused = [
            ("selfSigned", "a self-signed certificate is useless to students' browsers; use letsencrypt: {contactEmail} or secretName"),
            ("certificate", "files on a host do not exist in the cluster; put the certificate in a TLS Secret and give secretName"),
        ]
        var refusedOne = false
        for (field, reason) in refused where h.has(field) {
            _ = h.node(field)
            refusedOne = true
            sink.error(h.keyLocation(field) ?? h.location, "spec.https.\(field) cannot be used with spec.kubernetes: \(reason)")
        }
        if let port = h.int("port", in: 1...65535), port.value != 443 {
            sink.error(port.location, "spec.https.port must be 443 on Kubernetes: the chart's proxy-public Service serves HTTPS there")
        }
        let hostname = h.string("hostname", required: true)
        if let n = hostname, !Self.isDNSName(n.value) { sink.error(n.location, "spec.https.hostname must be a DNS name") }
        let email: String?? = h.object("letsencrypt") { l in
            let e = l.string("contactEmail", required: true)
            if let e, !Self.isEmail(e.value) { sink.error(e.location, "spec.https.letsencrypt.contactEmail must be an e-mail address") }
            return e?.value
        }
        let secret = h.string("secretName")
        if let s = secret, let problem = Self.checkSecretName(s.value) { sink.error(s.location, "spec.https.secretName: \(problem)") }
        let certificate: KubernetesHTTPS.Certificate?
        switch (email, secret) {
        case (let e??, nil): certificate = .letsencrypt(contactEmail: e)
        case (nil, let s?): certificate = .secret(name: s.value)
        case (.some(nil), nil): certificate = nil  // reported by the letsencrypt reader
        default:
            // After a refused selfSigned or certificate, that error already says what to use.
            if !refusedOne {
                sink.error(h.location, "spec.https needs exactly one of letsencrypt: {contactEmail} or secretName on Kubernetes")
            }
            certificate = nil
        }
        guard let hostname, let certificate else { return nil }
        return KubernetesHTTPS(hostname: hostname.value, certificate: certificate)
    }

    // MARK: lexical rules of Kubernetes and container names

    static func isChartVersion(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 64 && s.first!.isASCII && s.first!.isNumber
            && s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || ".-+".contains($0)) }
    }

    /// A Kubernetes quantity with an optional binary or decimal suffix: 10Gi, 500M, 1.5Gi.
    static func isQuantity(_ s: String) -> Bool {
        var number = Substring(s)
        for suffix in ["Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "k", "M", "G", "T", "P", "E"] where number.hasSuffix(suffix) {
            number = number.dropLast(suffix.count)
            break
        }
        let parts = number.split(separator: ".", omittingEmptySubsequences: false)
        return (1...2).contains(parts.count) && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }
    }

    /// `[registry[:port]/]path` in lower case, as the OCI distribution spec allows.
    static func isImageName(_ s: String) -> Bool {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789._-/:")
        return !s.isEmpty && s.count <= 255 && s.allSatisfy { allowed.contains($0) }
            && !s.hasPrefix("/") && !s.hasSuffix("/") && !s.contains("//") && !s.hasPrefix("-")
    }

    static func isImageTag(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 128 && s.first != "." && s.first != "-"
            && s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_.-".contains($0)) }
    }

    static func isDNSName(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 253 && s.split(separator: ".", omittingEmptySubsequences: false).allSatisfy {
            Rules.checkName(String($0).lowercased()) == nil
        }
    }

    static func isEmail(_ s: String) -> Bool {
        let parts = s.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && parts[0].count <= 64
            && parts[0].allSatisfy { $0.isASCII && !$0.isWhitespace && !"\"'\\<>(),;:[]".contains($0) }
            && isDNSName(String(parts[1]))
    }

    /// A Secret name: a DNS subdomain (lower case, digits, '-', '.').
    static func checkSecretName(_ s: String) -> String? {
        guard s.count <= 253, isDNSName(s), s == s.lowercased() else {
            return "'\(s)' is not a valid Secret name (lower-case letters, digits, '-' and '.')"
        }
        return nil
    }
}
