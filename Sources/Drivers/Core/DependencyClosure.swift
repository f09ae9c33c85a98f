/// The packages in `roots` that are installed, plus everything they require,
/// transitively. `requires(name)` is nil for a package that is not installed
/// (it and what it would need are left out). Shared by every driver that
/// decides what nobody needs (pip's distributions, R's packages).
public func dependencyClosure(of roots: Set<String>, requires: (String) -> [String]?) -> Set<String> {
    var seen = Set<String>()
    var queue = roots.filter { requires($0) != nil }.sorted()
    while let name = queue.popLast() {
        guard seen.insert(name).inserted, let needs = requires(name) else { continue }
        queue += needs.filter { requires($0) != nil && !seen.contains($0) }
    }
    return seen
}
