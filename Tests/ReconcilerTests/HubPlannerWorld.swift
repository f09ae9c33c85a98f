// The in-memory world's JupyterHub: how each hub step changes what the observe
// script would report next (PlannerTestSupport's `apply` hands hub steps here).
// Derived from the steps' own commands and stdin, not from the spec, so the
// convergence test checks that the steps carry what the next plan compares.

import Drivers
import Foundation
import Remote
import Specs
import Testing

func applyHubStep(_ step: PlannedStep, to host: inout HostObservation) {
    var hub = (try? host.part(HubObservation.self, driver: "jupyterhub")) ?? HubObservation()
    func stdin(_ i: Int) -> String { String(decoding: step.commands[i].stdin ?? [], as: UTF8.self) }
    func args(_ i: Int) -> [String] { Array(step.commands[i].arguments.dropFirst(3)) }  // after -c SCRIPT NAME
    switch step.action {
    case .ensureProxy:
        if step.packages.contains("node-configurable-http-proxy") { hub.proxy = true }
        if step.packages.contains("openssl") { hub.openssl = true }
        // apt's python3-venv is seen by every driver that looks at python3.
        hub.python3Venv = true
        if var pip = try? host.part(PipObservation.self, driver: "pip"), let v = pip.python3,
           let i = pip.pythons.firstIndex(where: { $0.minor == minorVersion(of: v) }) {
            pip.pythons[i].venv = true
            host.setPart(pip, driver: "pip")
        }
    case .installHub:
        hub.installed = true
        hub.python = hub.python3 ?? "3.11.2"
        for text in step.packages {
            let r = try! Requirement(parsing: text)
            let version = ["jupyterhub": "5.5.4", "jupyterlab": "4.6.6", "oauthenticator": "17.4.0",
                           "jupyterhub-idle-culler": "2.0.0",
                           "configurable-http-proxy": "0.4.0"][r.normalizedName] ?? "1.0"
            hub.distributions.removeAll { $0.name == r.normalizedName }
            hub.distributions.append(Distribution(name: r.normalizedName, version: version))
        }
        hub.distributions.sort { $0.name < $1.name }
        hub.marker = step.markerAfter
        hub.markerSHA256 = sha256Hex(Array((step.markerAfter?.packages ?? []).joined(separator: ",").utf8))
    case .addUser, .updateUser:
        let a = args(0)
        let hash = stdin(0).split(separator: ":", maxSplits: 1).last.map { String($0.dropLast()) }
        var account = hub.account(a[0]) ?? HubObservation.Account(
            name: a[0], uid: 1000 + hub.accounts.count, home: "/home/\(a[0])", homeMode: nil, locked: true,
            passwordSHA256: nil)
        account.homeMode = a[1]
        if a[2] == "hash", let hash { account.passwordSHA256 = sha256Hex(Array(hash.utf8)); account.locked = false }
        hub.accounts.removeAll { $0.name == a[0] }
        hub.accounts.append(account)
        if step.action == .addUser && !hub.managedAccounts.contains(a[0]) { hub.managedAccounts.append(a[0]) }
    case .registerKernel:
        let json = try! JSONSerialization.jsonObject(with: Data(stdin(0).utf8)) as! [String: Any]
        let name = (args(0)[0] as NSString).lastPathComponent
        hub.kernels.removeAll { $0.name == name }
        hub.kernels.append(HubObservation.Kernel(
            name: name, displayName: json["display_name"] as! String, argv: json["argv"] as! [String],
            environment: ((json["metadata"] as! [String: Any])["labsync"] as! [String: String])["environment"]))
        hub.kernels.sort { $0.name < $1.name }
    case .unregisterKernel:
        let name = (args(0)[0] as NSString).lastPathComponent
        hub.kernels.removeAll { $0.name == name }
    case .createCertificate:
        let name = args(0)[0]
        hub.certificate = HubObservation.Certificate(path: HubLayout.selfSignedCert, exists: true, commonName: name,
                                                     dnsNames: [name])
    case .configureHub:
        let oauth = step.commands[0].arguments.last == "oauth"
        hub.secrets = ["api_token", "cookie_secret", "proxy_auth_token"] + (oauth ? ["oauth.env", "oauth.fingerprint"] : [])
        // The executor writes a fingerprint of the resolved value where the token is.
        hub.oauthFingerprint = nil
        for (name, reference) in step.secrets
        where (0..<step.commands.count).contains(where: { stdin($0).contains(SecretToken.fingerprintToken(name)) }) {
            hub.oauthFingerprint = SecretFingerprint.make(worldSecret(reference), salt: Array("world-salt".utf8))
        }
        hub.configSHA256 = sha256Hex(Array(stdin(step.commands.count - 1).utf8))
        if step.commands.contains(where: { $0.arguments.dropFirst(2).first == "labsync-hub-unit" }) { hub.unit = true }
    case .restartHub:
        hub.running = true
        hub.runningIdentity = "\(hub.configSHA256 ?? "") \(hub.markerSHA256 ?? "")"
        // The admin role is exact after a start (JupyterHub's init_role_assignment).
        hub.hubUsers = hub.hubUsers.map { HubObservation.HubUser(name: $0.name, admin: hubWorldAdmins.contains($0.name)) }
    case .removeUser:
        let a = args(0)
        if a[1] == "1" { hub.hubUsers.removeAll { $0.name == a[0] } }
        if a[2] == "delete" {
            hub.accounts.removeAll { $0.name == a[0] }
            hub.managedAccounts.removeAll { $0 == a[0] }
        } else if a[2] == "lock", let i = hub.accounts.firstIndex(where: { $0.name == a[0] }) {
            hub.accounts[i].locked = true
        }
    case .removeHub:
        hub = HubObservation(python3: hub.python3, python3Path: hub.python3Path, python3Venv: hub.python3Venv)
    default:
        Issue.record("not a hub step: \(step.action)")
    }
    host.setPart(hub, driver: "jupyterhub")
}

/// The admins the hub fixtures' specs name (the world cannot read the config).
let hubWorldAdmins: Set<String> = ["alice"]
