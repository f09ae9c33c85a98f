import LabsyncTestSupport
import Testing
@testable import Remote

@Suite struct ShellQuoteTests {
    @Test(.unit) func quotesEveryWordInSingleQuotes() {
        #expect(ShellQuote.quote("") == "''")
        #expect(ShellQuote.quote("plain") == "'plain'")
        #expect(ShellQuote.quote("it's") == #"'it'\''s'"#)
        #expect(ShellQuote.quote("$(rm -rf /) `id` ; | & > *") == "'$(rm -rf /) `id` ; | & > *'")
        #expect(ShellQuote.quote("a\nb") == "'a\nb'")
        #expect(ShellQuote.quote("''") == #"''\'''\'''"#)
    }

    @Test(.unit) func rendersCommandsWithAndWithoutSudo() {
        let plain = RemoteCommand("/usr/bin/printf", ["%s\\n", "-n", "x y"])
        #expect(plain.shellLine == #"'/usr/bin/printf' '%s\n' '-n' 'x y'"#)
        let sudo = RemoteCommand("apt-get", ["install", "-y", "python3-venv"], become: .sudo)
        #expect(sudo.shellLine == "sudo -n -- 'apt-get' 'install' '-y' 'python3-venv'")
    }

    @Test(.integration) func renderedLineParsesBackThroughSh() throws {
        // The same round trip the remote property test does, against the local /bin/sh.
        let words = ["-n", "a b", "it's", "$HOME", "`id`", "x\ny", "\\", "*", "ünï ☃"]
        let line = RemoteCommand("printf", ["%s\\0"] + words).shellLine
        let result = try LocalShell.run(line)
        #expect(result == words)
    }
}
