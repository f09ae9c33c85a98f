// The one public door to Digest.sha256, for modules that must compare file
// contents with what a host reports (the hub driver compares the rendered
// jupyterhub_config.py with the sha256 the observe script computed).

public func sha256Hex(_ bytes: [UInt8]) -> String {
    Digest.sha256(bytes).map { byte in
        let hex = String(byte, radix: 16)
        return byte < 16 ? "0" + hex : hex
    }.joined()
}
