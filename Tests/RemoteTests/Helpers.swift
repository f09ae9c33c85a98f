import Foundation
import LabsyncTestSupport
@testable import Remote

enum LocalShell {
    /// Runs `line` with /bin/sh and splits its NUL-terminated output.
    static func run(_ line: String) throws -> [String] {
        let result = try Spawn.run(["/bin/sh", "-c", line])
        return splitNUL(result.stdout)
    }
}

func splitNUL(_ bytes: [UInt8]) -> [String] {
    var words = bytes.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
    if words.last == "" { words.removeLast() }
    return words
}

extension SSHServer {
    /// A policy trusting exactly this server's host keys.
    var pinnedPolicy: HostKeyPolicy {
        HostKeyPolicy(pinned: hostKeyLines.compactMap { HostKey(openSSH: $0) })
    }

    func endpoint(user: String = SSHServer.user, identity: String? = nil, policy: HostKeyPolicy? = nil,
                  useAgent: Bool = false, agentSocket: String? = nil,
                  connectTimeout: Duration = .seconds(10), outputLimit: Int = 16 * 1024 * 1024) -> SSHEndpoint {
        SSHEndpoint(address: host, port: port, user: user, identityFile: identity ?? clientKeys.ed25519,
                    useAgent: useAgent, agentSocket: agentSocket, hostKeyPolicy: policy ?? pinnedPolicy,
                    connectTimeout: connectTimeout, outputLimit: outputLimit)
    }
}

/// Expects `body` to throw a RemoteError and returns it.
func remoteError(_ body: () async throws -> Void) async -> RemoteError? {
    do {
        try await body()
        return nil
    } catch let error as RemoteError {
        return error
    } catch {
        return RemoteError(kind: .protocolError, target: "?", message: "unexpected error type: \(error)")
    }
}
