// A throwaway SSH host on loopback for `make demo` and `make bench`: the
// test harness's sshd (generated keys, a user with passwordless sudo),
// started until this process gets SIGTERM/SIGINT.
//
//   labsync-testhost SPECS_DIR [--name NAME] [--find-links DIR]
//   labsync-testhost --build-wheels DIR NAME:VERSION[:DEP…]…   (tiny wheels, then exit)
//
// writes SPECS_DIR/host.yaml (a Host named NAME, default `loopback`, pointing
// at it with its host keys pinned; with --find-links, its environments
// install from that wheel directory only) and prints the port.
import Foundation
import LabsyncTestSupport

if CommandLine.arguments.count >= 3 && CommandLine.arguments[1] == "--build-wheels" {
    try Wheels.build(into: CommandLine.arguments[2], Array(CommandLine.arguments.dropFirst(3)))
    exit(0)
}

var positional: [String] = []
var name = "loopback"
var findLinks: String?
var rest = CommandLine.arguments.dropFirst()
while let arg = rest.popFirst() {
    switch arg {
    case "--name": name = rest.popFirst() ?? name
    case "--find-links": findLinks = rest.popFirst()
    default: positional.append(arg)
    }
}
guard positional.count == 1 else {
    FileHandle.standardError.write(Data("usage: labsync-testhost SPECS_DIR [--name NAME] [--find-links DIR]\n".utf8))
    exit(2)
}
let server = try SSHServer()
let directory = URL(fileURLWithPath: positional[0])
try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
let spec = "# Written by labsync-testhost: a throwaway sshd on loopback.\n"
    + server.hostSpec(name: name, labels: ["demo": "true"], findLinks: findLinks)
try spec.write(to: directory.appendingPathComponent("host.yaml"), atomically: true, encoding: .utf8)
FileHandle.standardOutput.write(Data("""
    sshd listening on 127.0.0.1:\(server.port)
    log: \(server.logPath)
    key: \(server.clientKeys.ed25519)

    """.utf8))

// Wait for SIGTERM or SIGINT, then stop sshd (and its session children).
let stop = DispatchSemaphore(value: 0)
let sources = [SIGTERM, SIGINT].map { sig -> DispatchSourceSignal in
    signal(sig, SIG_IGN)
    let source = DispatchSource.makeSignalSource(signal: sig)
    source.setEventHandler { stop.signal() }
    source.resume()
    return source
}
stop.wait()
server.stop()
withExtendedLifetime(sources) {}
exit(0)
