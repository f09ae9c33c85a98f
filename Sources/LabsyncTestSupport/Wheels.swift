import Foundation

/// Tiny, valid wheels built on the spot, so tests and the demo install real
/// packages with real pip from a `--find-links` directory — no network.
public enum Wheels {
    /// A minimal valid wheel per spec `name:version[:requirement…]`:
    /// METADATA (with Requires-Dist), WHEEL, RECORD and one module.
    static let script = #"""
        import sys, zipfile
        out = sys.argv[1]
        for spec in sys.argv[2:]:
            name, version, *requires = spec.split(":")
            dist = "%s-%s.dist-info" % (name, version)
            with zipfile.ZipFile("%s/%s-%s-py3-none-any.whl" % (out, name, version), "w") as z:
                meta = "Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (name, version)
                meta += "".join("Requires-Dist: %s\n" % r for r in requires if r)
                files = {"%s/__init__.py" % name: "VERSION = %r\n" % version,
                         dist + "/METADATA": meta,
                         dist + "/WHEEL": "Wheel-Version: 1.0\nGenerator: labsync-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
                files[dist + "/RECORD"] = "".join("%s,,\n" % f for f in list(files) + [dist + "/RECORD"])
                for path, text in files.items():
                    z.writestr(path, text)
        """#

    /// Builds the wheels into `directory` (created, world-readable so that an
    /// unprivileged SSH user's pip can read them).
    public static func build(into directory: String, _ specs: [String]) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        chmod(directory, 0o755)
        try Spawn.check(["/usr/bin/python3", "-c", script, directory] + specs)
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) {
            chmod(directory + "/" + name, 0o644)
        }
    }
}
