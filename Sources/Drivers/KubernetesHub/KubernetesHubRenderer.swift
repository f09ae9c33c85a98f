// A Kubernetes JupyterHub spec → the manifests Flux reconciles: a Namespace,
// a HelmRepository (source.toolkit.fluxcd.io/v1) for the Zero to JupyterHub
// chart and a HelmRelease (helm.toolkit.fluxcd.io/v2) whose values are the
// chart values below. Pure: no IO, same spec, same bytes.
//
// Upstream references (Z2JH 4.4.0 values.schema.yaml, JupyterHub 5.5,
// oauthenticator 17, KubeSpawner 7):
// - `hub.config.<Class>.<trait>` is loaded by the chart's jupyterhub_config.py
//   as traitlets config; `JupyterHub.authenticator_class` takes the entry-point
//   names oauthenticator registers ("gitlab", "azuread").
// - `hub.loadRoles.<name>` becomes JupyterHub.load_roles; a role listed there
//   with `users` is exact: JupyterHub revokes it from anyone not listed
//   (init_role_assignment), so removing an admin from the spec revokes admin.
// - `allow_existing_users: false`: a user removed from allowedUsers cannot log
//   in merely because the hub's database still knows them.
// - The OAuth client secret is never in these files: the HelmRelease's
//   `valuesFrom` reads it from a Secret the operator creates (see
//   `OAuthSecretRequirement`). The chart's generated secrets (cookie secret,
//   proxy token) are left to its `lookup`, so they do not change between runs.

import Remote
import Specs

/// The Secret the operator must create before Flux can install the release.
public struct OAuthSecretRequirement: Sendable, Hashable {
    public var namespace: String
    public var name: String
    public var key: String
    /// Where the spec says the value lives on the operator's machine.
    public var source: SecretReference

    public init(namespace: String, name: String, key: String, source: SecretReference) {
        self.namespace = namespace
        self.name = name
        self.key = key
        self.source = source
    }

    /// `kubectl create secret generic … --dry-run=client -o yaml`: prints the
    /// Secret for `kubectl apply -f -`, kubeseal or sops. The value is a shell
    /// expansion of the spec's reference (the variable, or the file read by
    /// `cat`), never the value itself. It is stored inside double quotes:
    /// Flux sets a `targetPath` value as a string only when it is quoted, and
    /// type-coerces it otherwise (an all-digit secret would become a number).
    public var kubectlCommand: String {
        let value: String
        switch source {
        case .fromEnv(let variable): value = "\"\\\"${\(variable):?set \(variable) to the OAuth client secret}\\\"\""
        case .fromFile(let path): value = "\"\\\"$(cat \(ShellQuote.quote(path)))\\\"\""
        }
        return ["kubectl", "create", "secret", "generic", ShellQuote.quote(name),
                "--namespace", ShellQuote.quote(namespace),
                ShellQuote.quote("--from-literal=\(key)=") + value,
                "--dry-run=client", "-o", "yaml"].joined(separator: " ")
    }
}

public struct KubernetesHubManifests: Sendable, Hashable {
    public var hub: String
    /// `<namespace>/<release>`: the folder of this hub's files under the manifests directory.
    public var directory: String
    /// namespace.yaml, helmrepository.yaml, helmrelease.yaml (in that order).
    public var files: [ManifestFile]
    /// The chart values alone (what the HelmRelease carries under spec.values).
    public var values: ManifestValue
    public var oauthSecret: OAuthSecretRequirement?
}

public enum KubernetesHubRenderer {
    public static let fileNames = ["namespace.yaml", "helmrepository.yaml", "helmrelease.yaml"]
    /// The chart's name in its repository.
    public static let chartName = "jupyterhub"
    /// The key of the OAuth client secret in the Secret `<release>-oauth-client`.
    public static let secretKey = "client-secret"
    /// KubeSpawner's `mem_guarantee` default in the chart (1G): a lower limit must lower it too.
    static let chartMemoryGuaranteeBytes = 1 << 30

    public static func secretName(release: String) -> String { "\(release)-oauth-client" }

    /// The first line of every file: how `labsync plan` tells labsync's files
    /// (and which hub they belong to) from everything else in the directory.
    static let headerPrefix = "Rendered by labsync from "
    static func headerLine(resource: String) -> String {
        "\(headerPrefix)\(resource); do not edit: labsync rewrites it from the spec."
    }

    public static func authenticatorClass(_ type: AuthenticationType) -> (entryPoint: String, className: String)? {
        switch type {
        case .gitlab: ("gitlab", "GitLabOAuthenticator")
        case .azuread: ("azuread", "AzureAdOAuthenticator")
        case .pam: nil  // refused by validation on Kubernetes
        }
    }

    public static func render(_ hub: KubernetesHubSpec) -> KubernetesHubManifests {
        let k = hub.kubernetes
        let namespace = k.namespace.value
        let release = k.release.value
        let labels = ManifestValue.object([
            "app.kubernetes.io/managed-by": .string("labsync"),
            "labsync.dev/jupyterhub": .string(hub.name),
        ])
        let header = [headerLine(resource: "JupyterHub/\(hub.name)")]

        let namespaceObject = ManifestValue.object([
            "apiVersion": .string("v1"),
            "kind": .string("Namespace"),
            "metadata": .object(["name": .string(namespace), "labels": labels]),
        ])

        var repositorySpec: [String: ManifestValue] = [
            "interval": .string("1h"),
            "url": .string(k.chartRepository),
        ]
        if k.chartRepository.hasPrefix("oci://") { repositorySpec["type"] = .string("oci") }
        let repository = ManifestValue.object([
            "apiVersion": .string("source.toolkit.fluxcd.io/v1"),
            "kind": .string("HelmRepository"),
            "metadata": .object(["name": .string(release), "namespace": .string(namespace), "labels": labels]),
            "spec": .map(repositorySpec),
        ])

        let values = values(hub)
        let secret = hub.authentication.oauth.map {
            OAuthSecretRequirement(namespace: namespace, name: secretName(release: release), key: secretKey,
                                   source: $0.clientSecret)
        }
        var releaseSpec: [String: ManifestValue] = [
            "interval": .string("10m"),
            "releaseName": .string(release),
            "chart": .object(["spec": .object([
                "chart": .string(chartName),
                "version": .string(k.chartVersion),
                "sourceRef": .object(["kind": .string("HelmRepository"), "name": .string(release)]),
            ])]),
            // Flux corrects changes made to the release's objects behind its back.
            "driftDetection": .object(["mode": .string("enabled")]),
            "values": values,
        ]
        if let secret, let auth = authenticatorClass(hub.authentication.type) {
            releaseSpec["valuesFrom"] = .list([.object([
                "kind": .string("Secret"),
                "name": .string(secret.name),
                "valuesKey": .string(secret.key),
                "targetPath": .string("hub.config.\(auth.className).client_secret"),
            ])])
        }
        let helmRelease = ManifestValue.object([
            "apiVersion": .string("helm.toolkit.fluxcd.io/v2"),
            "kind": .string("HelmRelease"),
            "metadata": .object(["name": .string(release), "namespace": .string(namespace), "labels": labels]),
            "spec": .map(releaseSpec),
        ])

        let directory = "\(namespace)/\(release)"
        let files = zip(fileNames, [namespaceObject, repository, helmRelease]).map { name, object in
            ManifestFile(path: "\(directory)/\(name)", content: ManifestYAML.document(object, header: header))
        }
        return KubernetesHubManifests(hub: hub.name, directory: directory, files: files, values: values, oauthSecret: secret)
    }

    /// The chart values: only what the spec says; everything else is the chart's default.
    public static func values(_ hub: KubernetesHubSpec) -> ManifestValue {
        var root: [String: ManifestValue] = [:]
        var hubValues: [String: ManifestValue] = [
            "config": authenticationConfig(hub),
            // Exact membership: removing a name from admins revokes admin.
            "loadRoles": .object(["admin": .object([
                "users": .strings(admins(hub.authentication)),
            ])]),
        ]
        if let extra = hub.extraConfig { hubValues["extraConfig"] = .object(["labsync": .string(extra)]) }
        root["hub"] = .map(hubValues)

        if let https = hub.https {
            var proxyHTTPS: [String: ManifestValue] = [
                "enabled": .bool(true),
                "hosts": .strings([https.hostname]),
            ]
            switch https.certificate {
            case .letsencrypt(let email):
                proxyHTTPS["type"] = .string("letsencrypt")
                proxyHTTPS["letsencrypt"] = .object(["contactEmail": .string(email)])
            case .secret(let name):
                proxyHTTPS["type"] = .string("secret")
                proxyHTTPS["secret"] = .object(["name": .string(name)])
            }
            root["proxy"] = .object(["https": .map(proxyHTTPS)])
        }

        let k = hub.kubernetes
        var singleuser: [String: ManifestValue] = [
            "image": .object(["name": .string(k.image.name), "tag": .string(k.image.tag)]),
        ]
        if let capacity = k.storageCapacity { singleuser["storage"] = .object(["capacity": .string(capacity)]) }
        if let memory = hub.limits?.memory {
            var m: [String: ManifestValue] = ["limit": .string(memory)]
            // The chart guarantees 1G by default; a request above the limit makes every user pod invalid.
            if let bytes = bytes(memory), bytes < chartMemoryGuaranteeBytes { m["guarantee"] = .string(memory) }
            singleuser["memory"] = .map(m)
        }
        if let cpu = hub.limits?.cpu { singleuser["cpu"] = .object(["limit": .number(cpu)]) }
        if !k.profiles.isEmpty {
            // The spec's image stays the default choice; profiles are the alternatives.
            var list: [ManifestValue] = [.object([
                "display_name": .string("Default"),
                "description": .string(k.image.reference),
                "default": .bool(true),
            ])]
            for p in k.profiles {
                var profile: [String: ManifestValue] = [
                    "display_name": .string(p.displayName.value),
                    "kubespawner_override": .object(["image": .string(p.image.reference)]),
                ]
                if let d = p.description { profile["description"] = .string(d) }
                list.append(.map(profile))
            }
            singleuser["profileList"] = .list(list)
        }
        root["singleuser"] = .map(singleuser)

        if let c = hub.idleCulling {
            var cull: [String: ManifestValue] = ["enabled": .bool(true), "timeout": .int(c.timeoutSeconds)]
            if let every = c.everySeconds { cull["every"] = .int(every) }
            if let age = c.maxAgeSeconds { cull["maxAge"] = .int(age) }
            root["cull"] = .map(cull)
        } else {
            // As on a host: no idleCulling in the spec, no culling (the chart's default culls after 1h).
            root["cull"] = .object(["enabled": .bool(false)])
        }
        return .map(root)
    }

    /// `hub.config`: the authenticator and its traits.
    static func authenticationConfig(_ hub: KubernetesHubSpec) -> ManifestValue {
        let auth = hub.authentication
        guard let (entryPoint, className) = authenticatorClass(auth.type), let oauth = auth.oauth else { return .map([:]) }
        var traits: [String: ManifestValue] = [
            "allowed_users": .strings(allowedUsers(auth)),
            "allow_all": .bool(auth.allowAll),
            "allow_existing_users": .bool(false),
            "client_id": .string(oauth.clientId),
            "oauth_callback_url": .string(callbackURL(hub, oauth)),
        ]
        switch auth.type {
        case .gitlab:
            traits["gitlab_url"] = .string(oauth.url ?? "")
            traits["allowed_gitlab_groups"] = .strings(oauth.allowedGroups.sorted())
        case .azuread:
            traits["tenant_id"] = .string(oauth.tenantId ?? "")
            let endpoints = HubConfig.azureEndpoints(oauth)
            traits["graph_url"] = .string(endpoints.authority)
            traits["authorize_url"] = .string(endpoints.authorize)
            traits["token_url"] = .string(endpoints.token)
            traits["scope"] = .strings(HubConfig.azureScopes)
            traits["username_claim"] = .string(oauth.usernameClaim ?? HubConfig.defaultAzureUsernameClaim)
            if !oauth.allowedGroups.isEmpty {
                traits["manage_groups"] = .bool(true)
                traits["auth_state_groups_key"] = .string("user.groups")
                traits["allowed_groups"] = .strings(oauth.allowedGroups.sorted())
            }
        case .pam: break
        }
        return .object([
            "JupyterHub": .object(["authenticator_class": .string(entryPoint)]),
            className: .map(traits),
        ])
    }

    static func admins(_ auth: Authentication) -> [String] { Set(auth.admins.map(\.value)).sorted() }

    /// Who may log in: allowedUsers and the admins (an admin who cannot log in is no admin).
    static func allowedUsers(_ auth: Authentication) -> [String] {
        Set(auth.allowedUsers.map(\.value)).union(admins(auth)).sorted()
    }

    /// `callbackUrl`, else `https://<https.hostname>/hub/oauth_callback` (validation requires one of them).
    static func callbackURL(_ hub: KubernetesHubSpec, _ oauth: OAuthProvider) -> String {
        oauth.callbackUrl ?? "https://\(hub.https?.hostname ?? "")/hub/oauth_callback"
    }

    /// `512M` → bytes, as KubeSpawner reads it (K/M/G/T are powers of 1024).
    static func bytes(_ memory: String) -> Int? {
        let units: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        guard let last = memory.last else { return nil }
        guard let unit = units[last] else { return Int(memory) }
        guard let n = Int(memory.dropLast()) else { return nil }
        let (product, overflow) = n.multipliedReportingOverflow(by: unit)
        return overflow ? nil : product
    }
}
