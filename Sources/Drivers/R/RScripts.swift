// The R driver's shell scripts, embedded from Scripts/ at build time.

extension RDriver {
    enum Scripts {
        /// install: one Rscript for a library's missing or unsatisfied packages;
        /// names and versions arrive as arguments, the R program is fixed text.
        static let install = embeddedScript(PackageResources.r_install_sh)
        /// remove-library: `$1` is deleted only while it carries a labsync marker,
        /// checked on the host at run time (exit 3 otherwise); a path already gone is success.
        static let removeLibrary = embeddedScript(PackageResources.r_remove_library_sh)
    }
}
