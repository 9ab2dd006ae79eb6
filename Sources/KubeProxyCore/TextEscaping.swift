/// The escaping each dataplane's text function is built on: bytes of an allowed set pass, every
/// other byte becomes `_` and two hex digits, so no newline, quote, separator or non-ASCII byte
/// ever reaches a payload. Values the API server accepts pass unchanged.
public enum TextEscaping {
    /// `text` with every byte not in `allowed` escaped, cut to `maxBytes`.
    public static func escape(_ text: String, allowed: (UInt8) -> Bool, maxBytes: Int) -> String {
        let utf8 = text.utf8
        if utf8.count <= maxBytes && utf8.allSatisfy(allowed) { return text }
        var out: [UInt8] = []
        out.reserveCapacity(min(utf8.count * 3, maxBytes))
        for byte in utf8 {
            if allowed(byte) {
                guard out.count < maxBytes else { break }
                out.append(byte)
            } else {
                guard out.count + 3 <= maxBytes else { break }
                out += [UInt8(ascii: "_"), hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A name part (namespace, name, port name): letters, digits, `-`, `_` and `.` pass
    /// (everything the API server accepts in them), any other byte is escaped; at most 63 bytes.
    public static func namePart(_ part: String) -> String {
        escape(part, allowed: { isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }, maxBytes: 63)
    }

    /// `namespace/name:port` (or `namespace/name`) with each part through ``namePart(_:)``:
    /// upstream's text for a valid name, one unbroken word without quotes for any other.
    public static func describe(_ name: ServicePortName) -> String {
        let base = namePart(name.namespace) + "/" + namePart(name.name)
        return name.port.isEmpty ? base : base + ":" + namePart(name.port)
    }

    /// ASCII letters and digits.
    public static func isAlphanumeric(_ b: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(b) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(b)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b)
    }

    private static let hex = Array("0123456789ABCDEF".utf8)
}
