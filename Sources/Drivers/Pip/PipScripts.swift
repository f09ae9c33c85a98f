// The pip driver's shell scripts, embedded from Scripts/ at build time.

extension PipDriver {
    enum Scripts {
        /// remove-env: `$1` is deleted only while it carries a labsync marker,
        /// checked on the host at run time, so a stale plan can never delete a
        /// hand-made venv (exit 3 and a message). A path already gone is success.
        static let removeEnv = embeddedScript(PackageResources.pip_remove_env_sh)
        static let aptInstall = CoreScripts.aptInstall
    }
}
