import ArgumentParser

@main
struct Labsync: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "labsync",
        abstract: "Keep Python environments and JupyterHub on Linux machines in the state a git repository declares.",
        discussion: """
            Exit codes: 0 success, 1 error (invalid specs, unreachable host, failed step), \
            2 changes pending (plan --detailed-exitcode).
            """,
        version: "labsync \(BuildInfo.line)",
        subcommands: [Validate.self, PlanCommand.self, Render.self, Apply.self, Status.self, Export.self, Hosts.self,
                      Packages.self, DaemonCommand.self, History.self, Logs.self, Suspend.self, Resume.self])
}
