import Foundation
import KubeProxyModel

/// An object that may not decode: a bad object is skipped alone, with its key and the reason.
struct Lossy<Object: Decodable>: Decodable {
    var value: Object?
    var problem: String?
    var key: String?

    private struct Meta: Decodable { var metadata: ObjectMeta? }

    init(from decoder: any Decoder) throws {
        do { value = try Object(from: decoder) } catch {
            problem = "\(error)"
            key = (try? Meta(from: decoder))?.metadata?.namespacedName
        }
    }
}

/// One page of a list response.
struct ListPage<Object: Decodable>: Decodable {
    struct Meta: Decodable {
        var resourceVersion: String?
        var `continue`: String?
    }
    var metadata: Meta?
    var items: [Lossy<Object>]?
}

/// One line of a watch stream: ADDED, MODIFIED, DELETED, BOOKMARK or ERROR (a Status).
struct WatchEvent<Object: Decodable>: Decodable {
    struct Status: Decodable { var code: Int?; var reason: String?; var message: String? }
    struct Meta: Decodable { var metadata: ObjectMeta? }
    var type: String
    var object: Lossy<Object>?
    var status: Status?
    var resourceVersion: String?

    enum Keys: String, CodingKey { case type, object }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        type = try c.decode(String.self, forKey: .type)
        if type == "ERROR" {
            status = try? c.decode(Status.self, forKey: .object)
        } else {
            resourceVersion = (try? c.decode(Meta.self, forKey: .object))?.metadata?.resourceVersion
            if type != "BOOKMARK" { object = try? c.decode(Lossy<Object>.self, forKey: .object) }
        }
    }
}
