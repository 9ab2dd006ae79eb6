import KubeProxyModel
import Netlink

/// Set and map elements between their nf_tables bytes and the compiler's text: a key's fields
/// read by the container's declared type (`ipv4_addr . inet_proto . inet_service : verdict`),
/// verdicts as `goto chain`, an interval set's elements as prefixes.
public enum NFTElementText {
    /// The bytes one field of `type` takes (before padding to a 4-byte register).
    static func width(_ type: Substring) -> Int? {
        switch type {
        case "ipv4_addr": 4
        case "ipv6_addr": 16
        case "inet_proto": 1
        case "inet_service": 2
        default: nil
        }
    }

    /// The key's field types of a container of `type` (what comes before a map's ` : `).
    static func fields(_ type: String) throws -> [(name: Substring, width: Int)] {
        try type.split(separator: " ").prefix { $0 != ":" }.filter { $0 != "." }.map { name -> (name: Substring, width: Int) in
            guard let width = width(name) else { throw NFTWireError(code: .unsupported, message: "key type \(name) of \"\(type)\"") }
            return (name, width)
        }
    }

    /// The text of `key` in a container of `type`, each field as the compiler writes it.
    /// - Throws: ``NFTWireError`` `.malformed` when the bytes do not fit the type.
    public static func key(_ key: [UInt8], type: String) throws -> String {
        var offset = 0, out: [String] = []
        for (name, width) in try fields(type) {
            let padded = (width + 3) / 4 * 4
            guard offset + padded <= key.count, key[(offset + width)..<(offset + padded)].allSatisfy({ $0 == 0 }) else { break }
            let value = Array(key[offset..<(offset + width)])
            switch name {
            case "inet_proto": out.append(protocolName(value[0]))
            case "inet_service": out.append("\(Int(value[0]) << 8 | Int(value[1]))")
            default: out.append(IPAddress(bytes: value)!.description)
            }
            offset += padded
        }
        guard offset == key.count, out.count == (try fields(type)).count else {
            throw NFTWireError(code: .malformed, message: "a key of \(key.count) bytes for \"\(type)\"")
        }
        return out.joined(separator: " . ")
    }

    /// The bytes of `key` (the compiler's text) in a container of `type`.
    public static func bytes(_ key: String, type: String) throws -> [UInt8] {
        let types = try fields(type), texts = key.split(separator: " . ")
        guard texts.count == types.count else { throw NFTWireError(code: .malformed, message: "key \"\(key)\" for \"\(type)\"") }
        return try NFTablesNetlink.key(zip(types, texts).map { field, text -> [UInt8] in
            switch field.name {
            case "inet_proto": if let number = NFTRuleText.protocolNumber(String(text)) { return [number] }
            case "inet_service": if let port = UInt16(text) { return [UInt8(port >> 8), UInt8(port & 0xFF)] }
            default: if let ip = IPAddress(sloppy: text), ip.bytes.count == field.width { return ip.bytes }
            }
            throw NFTWireError(code: .malformed, message: "key \"\(key)\" for \"\(type)\": field \"\(text)\"")
        })
    }

    /// `tcp`, `udp`, `sctp`, or the number.
    public static func protocolName(_ number: UInt8) -> String {
        switch number {
        case 6: "tcp"
        case 17: "udp"
        case 132: "sctp"
        default: "\(number)"
        }
    }

    /// `drop`, `accept`, `return`, `jump chain`, `goto chain`.
    public static func verdict(_ verdict: NFTablesExpression.Verdict) -> String {
        switch verdict {
        case .drop: "drop"
        case .accept: "accept"
        case .return: "return"
        case .jump(let chain): "jump \(chain)"
        case .goto(let chain): "goto \(chain)"
        }
    }

    /// The verdict of `text` (an element's value), if it is one.
    public static func verdict(_ text: String) -> NFTablesExpression.Verdict? {
        let words = text.split(separator: " ").map(String.init)
        switch (words.first, words.count) {
        case ("drop", 1): return .drop
        case ("accept", 1): return .accept
        case ("return", 1): return .return
        case ("jump", 2): return .jump(words[1])
        case ("goto", 2): return .goto(words[1])
        default: return nil
        }
    }

    /// An interval set's ranges of addresses (`width` bytes), sorted, each as a prefix (or
    /// `first-last`); elements as nft writes them: each range's start, then the key after its
    /// end flagged as an interval end (an end at the zero address leads). Nil when they are not such pairs.
    public static func ranges(_ elements: [NFTablesNetlink.Element], width: Int) -> [String]? {
        var out: [String] = [], start: [UInt8]?
        for element in elements.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            guard element.key.count == width, element.data == .none else { return nil }
            if element.intervalEnd {
                if let first = start, let last = decrement(element.key) { out.append(range(first, last)) } else if start != nil { return nil }
                start = nil
            } else {
                guard start == nil else { return nil }
                start = element.key
            }
        }
        if let first = start { out.append(range(first, [UInt8](repeating: 0xFF, count: width))) }
        return out
    }

    /// `first/bits` when the range is a prefix, else `first-last`.
    static func range(_ first: [UInt8], _ last: [UInt8]) -> String {
        for bits in 0...(first.count * 8) {
            let mask = (0..<first.count).map { i -> UInt8 in
                let n = min(8, max(0, bits - i * 8))
                return n == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - n))
            }
            if zip(first, mask).allSatisfy({ $0 & $1 == $0 }) && zip(first, mask).map({ $0 | ~$1 }) == last {
                return NFTExpressionText.prefix(first, bits: bits)
            }
        }
        return "\(IPAddress(bytes: first)!)-\(IPAddress(bytes: last)!)"
    }

    /// `bytes` - 1 as a big-endian number; nil at zero.
    static func decrement(_ bytes: [UInt8]) -> [UInt8]? {
        var out = bytes
        for i in out.indices.reversed() {
            if out[i] == 0 { out[i] = 0xFF } else { out[i] -= 1; return out }
        }
        return nil
    }
}
