// The CI templates of examples/ci, run as CI runs them: the command each YAML
// step names, in a checkout of a real git repository that holds the scripts
// where the templates expect them (ci/), with the labsync binary on PATH,
// against the scenarios' real sshd. Only the forge is fake: CURL points at a
// script that records each request and answers like the GitHub/GitLab
// comment APIs, keeping the comments in a JSON file.

import Foundation
import LabsyncTestSupport
import Testing

@Suite(.serialized, .integration) struct CITemplateTests {
    static let ciDirectory = LabsyncBinary.packageRoot.appendingPathComponent("examples/ci")
    static let marker = "<!-- labsync-plan -->"

    @Test func githubPlanCommentThenApplyOnMerge() async throws {
        let ci = try CICheckout("github")
        defer { ci.cleanUp() }
        let plan = try ci.stepCommand(yaml: "github/labsync-plan.yml", containing: "labsync-plan-comment.sh")
        let apply = try ci.stepCommand(yaml: "github/labsync-apply.yml", containing: "labsync-apply.sh")
        #expect(plan == "ci/labsync-plan-comment.sh" && apply == "ci/labsync-apply.sh")
        let forge = ["GITHUB_ACTIONS": "true", "GITHUB_API_URL": "https://api.github.test",
                     "GITHUB_REPOSITORY": "course/specs", "GITHUB_EVENT_PATH": ci.event, "GITHUB_TOKEN": "ghs-test-token"]

        // A pull request with a new environment: changes pending (plan exit 2), the job passes.
        try ci.commitEnvironment(packages: ["alpha==1.0"])
        let first = try await ci.run(plan, forge)
        #expect(first.status == 0, "\(first.stdoutText)\(first.stderrText)")
        #expect(ci.planExitCode() == 2)
        let comments = try ci.comments()
        #expect(comments.count == 1)
        let body = try #require(comments.first?.body)
        #expect(body.hasPrefix(Self.marker + "\n"))
        // The comment is exactly the Markdown plan labsync prints, after the marker.
        let markdown = try await ci.labsync(["plan", "--repo", ci.checkout, "--format", "markdown"])
        // (--out and standard output may differ in the final newline.)
        #expect(body.trimmingCharacters(in: .newlines) == (Self.marker + "\n" + markdown.stdoutText).trimmingCharacters(in: .newlines))
        #expect(body.contains("alpha==1.0"))
        let post = try #require(ci.requests().last)
        #expect(post.method == "POST" && post.url == "https://api.github.test/repos/course/specs/issues/7/comments")
        #expect(post.headers.contains("Authorization: Bearer ghs-test-token"))
        #expect(!post.argv.contains { $0.contains("ghs-test-token") }, "the token never reaches argv")

        // Merged: the apply job converges the host and records its status.
        let applied = try await ci.run(apply, [:])
        #expect(applied.status == 0, "\(applied.stdoutText)\(applied.stderrText)")
        #expect(FileManager.default.fileExists(atPath: ci.envRoot + "/app/bin/python"))
        #expect(FileManager.default.fileExists(atPath: ci.checkout + "/labsync-status.json"))

        // The next push: no changes (plan exit 0), and the SAME comment is updated.
        let second = try await ci.run(plan, forge)
        #expect(second.status == 0, "\(second.stdoutText)\(second.stderrText)")
        #expect(ci.planExitCode() == 0)
        let updated = try ci.comments()
        #expect(updated.count == 1 && updated.first?.id == comments.first?.id)
        #expect(updated.first?.body != body)
        let patch = try #require(ci.requests().last)
        #expect(patch.method == "PATCH" && patch.url.hasSuffix("/issues/comments/\(comments[0].id)"))

        // Invalid specs: the job fails (plan exit 1) and the comment says where.
        try ci.commit(["app.yaml": "apiVersion: labsync/v1\nkind: PythonEnvironment\nmetadata: {name: app}\nspec: {host: loopback, packages: 3}\n"])
        let invalid = try await ci.run(plan, forge)
        #expect(invalid.status == 1)
        #expect(ci.planExitCode() == 1)
        let failed = try #require(try ci.comments().first)
        #expect(try ci.comments().count == 1)
        #expect(failed.body.hasPrefix(Self.marker) && failed.body.contains("labsync validate failed"))
        #expect(failed.body.contains("app.yaml:4:"), "\(failed.body)")
    }

    @Test func gitlabMergeRequestNote() async throws {
        let ci = try CICheckout("gitlab")
        defer { ci.cleanUp() }
        let yaml = "gitlab/.gitlab-ci.yml"
        let plan = try ci.stepCommand(yaml: yaml, containing: "labsync-plan-comment.sh")
        let apply = try ci.stepCommand(yaml: yaml, containing: "labsync-apply.sh")
        let forge = ["GITLAB_CI": "true", "CI_API_V4_URL": "https://gitlab.test/api/v4", "CI_PROJECT_ID": "42",
                     "CI_MERGE_REQUEST_IID": "5", "LABSYNC_GITLAB_TOKEN": "glpat-test"]
        let notes = "https://gitlab.test/api/v4/projects/42/merge_requests/5/notes"

        try ci.commitEnvironment(packages: ["alpha==1.0"])
        #expect(try await ci.run(plan, forge).status == 0)
        #expect(ci.planExitCode() == 2)
        let post = try #require(ci.requests().last)
        #expect(post.method == "POST" && post.url == notes && post.headers.contains("PRIVATE-TOKEN: glpat-test"))
        #expect(try ci.comments().first?.body.contains("alpha==1.0") == true)

        #expect(try await ci.run(apply, [:]).status == 0)
        #expect(try await ci.run(plan, forge).status == 0)
        #expect(ci.planExitCode() == 0)
        let notesNow = try ci.comments()
        #expect(notesNow.count == 1)
        #expect(ci.requests().last?.method == "PUT" && ci.requests().last?.url == "\(notes)/\(notesNow[0].id)")
    }

    /// CI without host access: the plan comes from the status the apply job
    /// recorded; no deploy key is given, so reaching the host would fail.
    @Test func planFromRecordedObservations() async throws {
        let ci = try CICheckout("observations")
        defer { ci.cleanUp() }
        let plan = try ci.stepCommand(yaml: "github/labsync-plan-observations.yml", containing: "labsync-plan-comment.sh")
        try ci.commitEnvironment(packages: ["alpha==1.0"])
        #expect(try await ci.run("ci/labsync-apply.sh", [:]).status == 0)
        let recorded = ci.directory + "/status.json"
        try FileManager.default.moveItem(atPath: ci.checkout + "/labsync-status.json", toPath: recorded)
        try FileManager.default.removeItem(atPath: ci.keyPath)

        let forge = ["LABSYNC_FORGE": "github", "GITHUB_API_URL": "https://api.github.test",
                     "GITHUB_REPOSITORY": "course/specs", "LABSYNC_PR": "9", "GITHUB_TOKEN": "t",
                     "LABSYNC_SSH_KEY": "", "LABSYNC_OBSERVATIONS": recorded]
        let unchanged = try await ci.run(plan, forge)
        #expect(unchanged.status == 0, "\(unchanged.stdoutText)\(unchanged.stderrText)")
        #expect(ci.planExitCode() == 0)

        try ci.commitEnvironment(packages: ["alpha==2.0"])
        let bump = try await ci.run(plan, forge)
        #expect(bump.status == 0, "\(bump.stdoutText)\(bump.stderrText)")
        #expect(ci.planExitCode() == 2)
        let body = try #require(try ci.comments().first?.body)
        #expect(body.hasPrefix(Self.marker) && body.contains("alpha==2.0"), "\(body)")
        #expect(!FileManager.default.fileExists(atPath: ci.keyPath), "no key was written")
    }
}

/// A CI checkout: a git repository (with a bare origin) holding the host spec,
/// the CI scripts under ci/ and the specs the test commits; the deploy key as
/// the CI secret; a fake forge.
struct CICheckout {
    struct Request: Decodable { var method: String; var url: String; var headers: [String]; var body: String; var argv: [String] }
    struct Comment: Decodable { var id: Int; var body: String }

    let server: SSHServer
    let wheels: String
    let directory: String
    let git: GitFixture
    var checkout: String { git.workDirectory.path }
    var envRoot: String { directory + "/envs" }
    var keyPath: String { directory + "/home/.ssh/labsync_ed25519" }
    var forgeDirectory: String { directory + "/forge" }
    var event: String { directory + "/event.json" }
    var outputFile: String { directory + "/github-output" }

    init(_ name: String) throws {
        let server = try Scenario.server.get()
        let directory = try Spawn.makeTempDirectory(prefix: "ci-\(name)").replacing("//", with: "/")
        chmod(directory, 0o755)
        let forge = directory + "/forge"
        try FileManager.default.createDirectory(atPath: forge, withIntermediateDirectories: true)
        try "[]".write(toFile: forge + "/comments.json", atomically: true, encoding: .utf8)
        try #"{"pull_request": {"number": 7}}"#.write(toFile: directory + "/event.json", atomically: true, encoding: .utf8)
        try Self.fakeCurl.write(toFile: directory + "/fake-curl", atomically: true, encoding: .utf8)
        chmod(directory + "/fake-curl", 0o755)
        // The host spec names the key path the CI script writes the secret to.
        let host = server.hostSpec().replacing("identityFile: \(server.clientKeys.ed25519)",
                                               with: "identityFile: \(directory)/home/.ssh/labsync_ed25519")
        var files = ["host.yaml": host]
        for script in ["labsync-plan-comment.sh", "labsync-apply.sh", "labsync-ci-lib.sh"] {
            files["ci/" + script] = try String(contentsOf: CITemplateTests.ciDirectory.appendingPathComponent(script), encoding: .utf8)
        }
        let git = try GitFixture.create(in: URL(fileURLWithPath: directory), files: files)
        for script in ["labsync-plan-comment.sh", "labsync-apply.sh"] {
            chmod(git.workDirectory.path + "/ci/" + script, 0o755)
        }
        self.server = server
        self.wheels = try Scenario.wheels.get()
        self.directory = directory
        self.git = git
    }

    func cleanUp() { GitFixture.removeTree(URL(fileURLWithPath: directory)) }

    func commit(_ files: [String: String]) throws { try git.commit(files: files, message: "change specs") }

    func commitEnvironment(packages: [String]) throws {
        let list = packages.map { "\"\($0)\"" }.joined(separator: ", ")
        try commit(["app.yaml": """
            apiVersion: labsync/v1
            kind: PythonEnvironment
            metadata: {name: app}
            spec:
              host: loopback
              root: \(envRoot)
              index: {noIndex: true, findLinks: [\(wheels)]}
              packages: [\(list)]

            """])
    }

    /// The command a template's step runs: the one line of the YAML naming `script`
    /// (`run: …` on GitHub, `- …` under `script:` on GitLab).
    func stepCommand(yaml: String, containing script: String) throws -> String {
        let text = try String(contentsOf: CITemplateTests.ciDirectory.appendingPathComponent(yaml), encoding: .utf8)
        let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.hasPrefix("#") && $0.contains(script) }
        guard lines.count >= 1, let line = lines.first else { throw SpawnError("\(yaml): no step runs \(script)") }
        for prefix in ["run: ", "- "] where line.hasPrefix(prefix) { return String(line.dropFirst(prefix.count)) }
        throw SpawnError("\(yaml): cannot read the step \(line)")
    }

    /// Runs a step's command with bash in the checkout, as the CI runner does.
    func run(_ command: String, _ env: [String: String]) async throws -> SpawnResult {
        let binDirectory = URL(fileURLWithPath: LabsyncBinary.path).deletingLastPathComponent().path
        let path = binDirectory + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        try? FileManager.default.removeItem(atPath: outputFile)
        var environment = ["PATH": path, "HOME": directory + "/home", "CURL": directory + "/fake-curl",
                           "FAKE_FORGE": forgeDirectory, "GITHUB_OUTPUT": outputFile,
                           "LABSYNC_STATE_DIR": directory + "/state", "LABSYNC_SSH_KEY_PATH": keyPath,
                           "LABSYNC_SSH_KEY": try String(contentsOfFile: server.clientKeys.ed25519, encoding: .utf8)]
        environment.merge(env) { $1 }
        return try await Spawn.runAsync(["/bin/bash", "-c", command], env: environment, cwd: checkout, timeout: 300)
    }

    func labsync(_ arguments: [String]) async throws -> SpawnResult {
        try await LabsyncBinary.runAsync(arguments + ["--state-dir", directory + "/state"],
                                         env: ["LABSYNC_SSH_KEY_PATH": keyPath], cwd: checkout)
    }

    /// `plan-exitcode=N` as the script wrote it to $GITHUB_OUTPUT.
    func planExitCode() -> Int? {
        guard let text = try? String(contentsOfFile: outputFile, encoding: .utf8) else { return nil }
        return text.split(separator: "\n").compactMap { $0.hasPrefix("plan-exitcode=") ? Int($0.dropFirst(14)) : nil }.last
    }

    func comments() throws -> [Comment] {
        try JSONDecoder().decode([Comment].self, from: Data(contentsOf: URL(fileURLWithPath: forgeDirectory + "/comments.json")))
    }

    func requests() -> [Request] {
        guard let text = try? String(contentsOfFile: forgeDirectory + "/requests.jsonl", encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(Request.self, from: Data($0.utf8)) }
    }

    /// Stands in for curl: records the request (argv, headers, including those
    /// read from stdin with `-H @-`, and the body) and answers as the comment APIs
    /// of GitHub and GitLab do: GET lists, POST adds, PATCH/PUT …/ID replaces.
    static let fakeCurl = #"""
        #!/usr/bin/env bash
        set -euo pipefail
        comments=$FAKE_FORGE/comments.json
        method="" url="" body="" out=/dev/stdout headers=()
        argv=("$@")
        while [ $# -gt 0 ]; do
          case $1 in
            -X) method=$2; shift ;;
            -H) if [ "$2" = @- ]; then while IFS= read -r line; do headers+=("$line"); done; else headers+=("$2"); fi; shift ;;
            --data-binary) body=$(cat "${2#@}"); shift ;;
            -o) out=$2; shift ;;
            -*) ;;
            *) url=$1 ;;
          esac
          shift
        done
        [ -n "$method" ] || { if [ -n "$body" ]; then method=POST; else method=GET; fi; }
        # jq 1.6 reads positional arguments starting with - as options: arrays via stdin.
        list() { if [ $# -gt 0 ]; then printf '%s\n' "$@" | jq -R . | jq -cs .; else echo '[]'; fi; }
        jq -cn --arg m "$method" --arg u "$url" --arg b "$body" --argjson h "$(list "${headers[@]}")" \
          --argjson a "$(list "${argv[@]}")" '{method: $m, url: $u, body: $b, headers: $h, argv: $a}' \
          >> "$FAKE_FORGE/requests.jsonl"
        text=$(printf '%s' "$body" | jq -r '.body // empty' 2>/dev/null || true)
        case $method in
          GET) cat "$comments" > "$out" ;;
          POST)
            jq --arg b "$text" '. + [{id: ((map(.id) | max // 100) + 1), body: $b}]' "$comments" > "$comments.new"
            mv "$comments.new" "$comments"; echo '{}' > "$out" ;;
          PATCH|PUT)
            id=${url##*/}
            jq --arg b "$text" --argjson id "$id" 'map(if .id == $id then .body = $b else . end)' "$comments" > "$comments.new"
            mv "$comments.new" "$comments"; echo '{}' > "$out" ;;
        esac
        """#
}
