/// An error from parsing a PEP 440 version or specifier, or a PEP 508 requirement.
///
/// `kind` is what callers match on; `message` is for people and quotes the input.
public struct PackagingError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Kind: Sendable, Equatable {
        /// Not a PEP 440 version (what `packaging.version.Version` rejects).
        case invalidVersion
        /// Not a PEP 440 specifier (what `packaging.specifiers.Specifier` rejects).
        case invalidSpecifier
        /// Not a valid PEP 508 requirement (syntax error in name, extras, specifier or marker).
        case invalidRequirement
        /// Syntactically close to a requirement but refused on purpose because it would
        /// reach pip as something other than a plain name-based requirement: URLs, paths,
        /// options, extra tokens, shell metacharacters, control characters, over-long input.
        case forbiddenRequirement
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
