// The version and revision `labsync --version` prints. `make build` and
// `make dist` stamp them (scripts/stamp-version.sh writes the ignored
// BuildInfo.generated.swift and passes -DLABSYNC_STAMPED), so no committed file
// goes stale; a plain `swift build` compiles the generated file's body out and
// says so instead of printing a revision that may be wrong.
enum BuildInfo {
    #if LABSYNC_STAMPED
    static let version = StampedBuildInfo.version
    static let revision = StampedBuildInfo.revision
    #else
    static let version = "unversioned"
    static let revision = "unknown revision: built without make, see `make build`"
    #endif

    static var line: String { "\(version) (\(revision))" }
}
