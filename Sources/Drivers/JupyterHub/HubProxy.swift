// Which configurable-http-proxy a hub runs in front of it.
//
// Debian's node-configurable-http-proxy (jupyterhub/configurable-http-proxy,
// the reference implementation) wherever the release packages it. Debian 11
// does not (it arrived in Debian 12), and npm, which TLJH uses, is a second
// package manager and registry labsync would have to trust and a network it
// cannot test from here. There the hub runs the pure-Python port instead
// (PyPI `configurable-http-proxy`, "meant to be a drop-in replacement"),
// installed into the hub venv by the same pip call as JupyterHub. The port
// has no TLS, so labsync's launcher (Scripts/hub_proxy.py) serves it with the
// hub's certificate. The choice follows the release, observed every run, so
// the plan shows it and the rendered config is the same for the same host.

public enum HubProxy: String, Sendable, Hashable {
    /// /usr/bin/configurable-http-proxy from APT.
    case node
    /// The PyPI port in the hub venv, started through `hub_proxy.py`.
    case python

    /// `node` where the release packages the proxy, else `python`.
    public init(apt: AptPackageNames) {
        self = apt.configurableHTTPProxy == nil ? .python : .node
    }

    /// The PyPI requirement of the `python` proxy. Pinned below 0.5: the
    /// launcher builds on the port's PythonProxy and ProxyHandler.
    public static let pythonRequirement = "configurable-http-proxy>=0.4,<0.5"

    /// The launcher, passed to the hub venv's python as `-c` text.
    static let launcher = String(decoding: PackageResources.hub_proxy_py, as: UTF8.self)

    /// `ConfigurableHTTPProxy.command`: JupyterHub appends its options to it.
    public var command: [String] {
        switch self {
        case .node: [HubLayout.proxy]
        case .python: [HubLayout.python, "-c", Self.launcher]
        }
    }
}
