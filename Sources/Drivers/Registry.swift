// The one place that names the drivers. Adding a driver is a folder beside
// this file and one line in `all` (DESIGN.md, "Writing a driver").
//
// Order matters only for reading: plans sort steps by host, resource and
// step kind, whatever the order here.

public enum DriverRegistry {
    public static let all: [any Driver] = [
        PipDriver(),
        RDriver(),
        JupyterHubDriver(),
    ]

    /// The driver whose step kinds include `kind` (by name).
    public static func driver(named name: String) -> (any Driver)? {
        all.first { $0.name == name }
    }

    /// Every resource of every driver on this host ("PythonEnvironment/ml", …), sorted.
    public static func resources(_ context: HostContext) -> [String] {
        all.flatMap { $0.resources(context) }.sorted()
    }
}
