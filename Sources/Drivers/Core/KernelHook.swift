// The one typed hook between drivers: kernels.
//
// A hub lists environments in `kernels`; the environments belong to other
// drivers (pip's PythonEnvironment, R's REnvironment). The hub's driver asks
// (`kernelRequests`), the planner hands every request to every driver, and
// the driver that owns the named environment answers with a `KernelOffer`
// (how to start the kernel) and, while planning, makes sure the environment
// can run one (ipykernel in a venv, IRkernel for an R library). Neither
// driver sees the other's types: only these values cross.

import Specs

/// "Make environment `environment` usable as a Jupyter kernel."
public struct KernelRequest: Sendable, Hashable {
    /// The environment's name, as written in the requester's spec.
    public var environment: String
    /// "JupyterHub/course-hub": who asks (for messages).
    public var requester: String
    /// Where the request is written (the hub's `kernels` entry).
    public var location: SourceLocation
    /// false while the requester is being removed: the environment keeps what
    /// it has (nothing is uninstalled because a hub goes away), but no kernel
    /// is registered.
    public var register: Bool

    public init(environment: String, requester: String, location: SourceLocation, register: Bool = true) {
        self.environment = environment
        self.requester = requester
        self.location = location
        self.register = register
    }
}

/// How to start a kernel in an environment: a Jupyter kernelspec's contents.
public struct KernelOffer: Sendable, Hashable {
    /// The environment's name: also the kernelspec's directory name.
    public var environment: String
    /// "PythonEnvironment/ml": who offers it.
    public var resource: String
    public var displayName: String
    /// "python", "R".
    public var language: String
    /// The kernel's command line, with Jupyter's `{connection_file}`.
    public var argv: [String]
    /// Extra environment for the kernel process (R_LIBS for an R library).
    public var env: [String: String]

    public init(environment: String, resource: String, displayName: String, language: String, argv: [String],
                env: [String: String] = [:]) {
        self.environment = environment
        self.resource = resource
        self.displayName = displayName
        self.language = language
        self.argv = argv
        self.env = env
    }
}

/// What the planner passes to each driver from the others.
public struct HookInputs: Sendable, Hashable {
    /// Every kernel request made on this host (a driver acts on those naming its resources).
    public var kernelRequests: [KernelRequest]
    /// Every kernel offered on this host (a driver uses those answering its requests).
    public var kernelOffers: [KernelOffer]

    public init(kernelRequests: [KernelRequest] = [], kernelOffers: [KernelOffer] = []) {
        self.kernelRequests = kernelRequests
        self.kernelOffers = kernelOffers
    }
}
