import Foundation
import LabsyncTestSupport
import Testing
@testable import Specs

/// schemas/*.schema.json and the Swift decoder must know the same fields.
/// The test walks each kind's schema for its property paths, builds a
/// document that sets every one of them, decodes it, and compares the paths
/// the decoder asked for (`DiagnosticSink.knownFields`) with the schema's.
@Suite(.unit) struct SchemaSyncTests {
    final class Schemas {
        var files: [String: Any] = [:]
        let directory = RepoPaths.root.appendingPathComponent("schemas")

        func load(_ file: String) throws -> [String: Any] {
            if let cached = files[file] as? [String: Any] { return cached }
            let data = try Data(contentsOf: directory.appendingPathComponent(file))
            let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            files[file] = json
            return json
        }

        /// Follows `$ref` ("file.json#/$defs/x" or "#/$defs/x") to the schema and its file.
        func resolve(_ schema: [String: Any], in file: String) throws -> ([String: Any], String) {
            guard let ref = schema["$ref"] as? String else { return (schema, file) }
            let parts = ref.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
            let target = parts[0].isEmpty ? file : String(parts[0])
            var node: Any = try load(target)
            if parts.count > 1 {
                for component in parts[1].split(separator: "/") {
                    node = try #require((node as? [String: Any])?[String(component)], "bad $ref \(ref)")
                }
            }
            var merged = try #require(node as? [String: Any])
            for (k, v) in schema where k != "$ref" { merged[k] = v }  // siblings of $ref apply too
            return try resolve(merged, in: target)
        }

        /// Every branch whose properties apply: the schema itself plus oneOf/anyOf/allOf/then/else.
        func branches(_ schema: [String: Any], in file: String) throws -> [([String: Any], String)] {
            let (resolved, at) = try resolve(schema, in: file)
            var out = [(resolved, at)]
            for key in ["oneOf", "anyOf", "allOf"] {
                for sub in resolved[key] as? [[String: Any]] ?? [] { out += try branches(sub, in: at) }
            }
            for key in ["then", "else"] {
                if let sub = resolved[key] as? [String: Any] { out += try branches(sub, in: at) }
            }
            return out
        }

        func properties(_ schema: [String: Any], in file: String) throws -> [(String, [String: Any], String)] {
            var seen = Set<String>()
            var out: [(String, [String: Any], String)] = []
            for (branch, at) in try branches(schema, in: file) {
                for (name, sub) in (branch["properties"] as? [String: Any] ?? [:]).sorted(by: { $0.key < $1.key })
                where seen.insert(name).inserted {
                    out.append((name, sub as? [String: Any] ?? [:], at))
                }
            }
            return out
        }

        func paths(_ schema: [String: Any], in file: String, prefix: String) throws -> Set<String> {
            var result = Set<String>()
            for (name, sub, at) in try properties(schema, in: file) {
                let path = prefix.isEmpty ? name : "\(prefix).\(name)"
                result.insert(path)
                result.formUnion(try paths(sub, in: at, prefix: path))
                for (branch, bat) in try branches(sub, in: at) {
                    if let items = branch["items"] as? [String: Any] {
                        result.formUnion(try paths(items, in: bat, prefix: path + "[]"))
                    }
                }
            }
            return result
        }

        /// A value for every property: types need not be valid, only present.
        func sample(_ schema: [String: Any], in file: String) throws -> Any {
            let all = try branches(schema, in: file)
            if let constant = all.lazy.compactMap({ $0.0["const"] }).first { return constant }
            if let choices = all.lazy.compactMap({ $0.0["enum"] as? [Any] }).first, let first = choices.first { return first }
            let props = try properties(schema, in: file)
            if !props.isEmpty {
                var object: [String: Any] = [:]
                for (name, sub, at) in props { object[name] = try sample(sub, in: at) }
                return object
            }
            if let (items, at) = try all.lazy.compactMap({ b -> ([String: Any], String)? in
                (b.0["items"] as? [String: Any]).map { ($0, b.1) } }).first {
                return [try sample(items, in: at)]
            }
            let type = all.lazy.compactMap { $0.0["type"] as? String }.first
            switch type {
            case "integer": return 1
            case "boolean": return true
            case "object": return ["k": "v"]
            default: return "x"
            }
        }
    }

    func knownFields(decoding document: Any) throws -> Set<String> {
        let text = String(decoding: try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys]), as: UTF8.self)
        let nodes = try YAMLReader.documents(text: text, file: "generated.json").get()
        let sink = DiagnosticSink()
        _ = DocumentDecoder(sink: sink).decode(try #require(nodes.first))
        #expect(!sink.diagnostics.contains { $0.message.contains("unknown field") },
                "\(sink.diagnostics.map(\.description))")
        return sink.knownFields
    }

    /// `targets`: exclusive spec keys (a JupyterHub's host or kubernetes);
    /// each is decoded without the others, since each selects its own reader.
    @Test(arguments: [
        ("host.schema.json", [String](), [String]()),
        ("python-environment.schema.json", [], []),
        ("jupyterhub.schema.json", ["gitlab", "azuread"], ["host", "kubernetes"]),
        ("r-environment.schema.json", [], []),
    ])
    func schemaAndDecoderKnowTheSameFields(file: String, authVariants: [String], targets: [String]) throws {
        let schemas = Schemas()
        let schema = try schemas.load(file)
        let schemaPaths = try schemas.paths(schema, in: file, prefix: "")
        let sample = try #require(try schemas.sample(schema, in: file) as? [String: Any])
        var decoded = Set<String>()
        for target in targets.isEmpty ? [nil] : targets.map(Optional.some) {
            var document = sample
            if let target, var spec = document["spec"] as? [String: Any] {
                for other in targets where other != target { spec[other] = nil }
                document["spec"] = spec
            }
            for variant in authVariants.isEmpty ? [nil] : authVariants.map(Optional.some) {
                if let variant, var spec = document["spec"] as? [String: Any],
                   var auth = spec["authentication"] as? [String: Any] {
                    auth["type"] = variant
                    spec["authentication"] = auth
                    document["spec"] = spec
                }
                decoded.formUnion(try knownFields(decoding: document))
            }
        }
        #expect(schemaPaths.subtracting(decoded).sorted() == [], "in the schema, unknown to the decoder")
        #expect(decoded.subtracting(schemaPaths).sorted() == [], "read by the decoder, missing from the schema")
        #expect(schemaPaths.count > 8)
    }
}
