import ArgumentParser

@main
struct Labsync: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "labsync",
        abstract: "Keep Python environments and JupyterHub on Linux machines in the state a git repository declares.")
}
