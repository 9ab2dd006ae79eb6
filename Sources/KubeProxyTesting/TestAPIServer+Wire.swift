import Foundation

/// The wire format of ``TestAPIServer``: object JSON, watch event lines, Status bodies, and the
/// label and field selectors it answers.
extension TestAPIServer {
    static func json(_ object: [String: Any]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    static func withResourceVersion(_ json: String, _ rv: Int) -> String {
        guard var object = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any] else { return json }
        var meta = object["metadata"] as? [String: Any] ?? [:]
        meta["resourceVersion"] = String(rv)
        object["metadata"] = meta
        return Self.json(object)
    }

    static func eventLine(_ event: Event) -> String { "{\"type\":\"\(event.type)\",\"object\":\(event.object.json)}\n" }

    static func status(_ code: Int, reason: String, message: String) -> String {
        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"\(message)\",\"reason\":\"\(reason)\",\"code\":\(code)}"
    }

    /// Label selector (`!key`, `key`, `key=value`, `key!=value`, comma = and) and
    /// `metadata.name=`/`metadata.namespace=` field selectors.
    static func matches(_ meta: Meta, _ query: [String: String]) -> Bool {
        guard query["labelSelector"] != nil || query["fieldSelector"] != nil else { return true }
        let labels = meta.labels
        for requirement in (query["labelSelector"] ?? "").split(separator: ",").map(String.init) {
            if requirement.hasPrefix("!") { if labels[String(requirement.dropFirst())] != nil { return false } }
            else if let r = requirement.range(of: "!=") { if labels[String(requirement[..<r.lowerBound])] == String(requirement[r.upperBound...]) { return false } }
            else if let r = requirement.range(of: "=") { if labels[String(requirement[..<r.lowerBound])] != String(requirement[r.upperBound...]) { return false } }
            else if labels[requirement] == nil { return false }
        }
        for requirement in (query["fieldSelector"] ?? "").split(separator: ",") {
            let kv = requirement.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2 else { continue }
            let field = kv[0] == "metadata.name" ? meta.name : kv[0] == "metadata.namespace" ? meta.namespace : nil
            if field != kv[1] { return false }
        }
        return true
    }
}
