/// The name checks the API server applies to the objects kube-proxy reads (apimachinery's
/// `IsDNS1123Label`, `IsDNS1123Subdomain`, `IsDNS1035Label`, `IsValidLabelValue`). Each returns
/// nil for a valid value, else the reason, worded for a log line.
public enum NameValidation {
    /// A lowercase RFC 1123 label: at most 63 of `a-z0-9-`, alphanumeric at both ends
    /// (namespaces, EndpointSlice and Service port names).
    public static func dns1123Label(_ value: String) -> String? {
        let bytes = Array(value.utf8)
        if bytes.isEmpty { return "must not be empty" }
        if bytes.count > 63 { return "must be no more than 63 characters" }
        guard bytes.allSatisfy({ isLowerAlnum($0) || $0 == hyphen }), isLowerAlnum(bytes.first!), isLowerAlnum(bytes.last!) else {
            return "must consist of lower case alphanumeric characters or '-', and start and end with an alphanumeric character"
        }
        return nil
    }

    /// A lowercase RFC 1035 label: an RFC 1123 label that starts with a letter (Service names).
    public static func dns1035Label(_ value: String) -> String? {
        if let reason = dns1123Label(value) { return reason }
        guard let first = value.utf8.first, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first) else {
            return "must start with a lower case letter"
        }
        return nil
    }

    /// A lowercase RFC 1123 subdomain: at most 253 characters of dot-separated labels
    /// (EndpointSlice names, node names).
    public static func dns1123Subdomain(_ value: String) -> String? {
        let bytes = Array(value.utf8)
        if bytes.isEmpty { return "must not be empty" }
        if bytes.count > 253 { return "must be no more than 253 characters" }
        guard bytes.allSatisfy({ isLowerAlnum($0) || $0 == hyphen || $0 == dot }), isLowerAlnum(bytes.first!), isLowerAlnum(bytes.last!),
              !value.contains(".."), !value.contains(".-"), !value.contains("-.") else {
            return "must consist of lower case alphanumeric characters, '-' or '.', and start and end with an alphanumeric character"
        }
        return nil
    }

    /// A label value: empty, or at most 63 of `A-Za-z0-9-_.`, alphanumeric at both ends.
    public static func labelValue(_ value: String) -> String? {
        let bytes = Array(value.utf8)
        if bytes.isEmpty { return nil }
        if bytes.count > 63 { return "must be no more than 63 characters" }
        guard bytes.allSatisfy({ isAlnum($0) || $0 == hyphen || $0 == dot || $0 == underscore }), isAlnum(bytes.first!), isAlnum(bytes.last!) else {
            return "must consist of alphanumeric characters, '-', '_' or '.', and start and end with an alphanumeric character"
        }
        return nil
    }

    private static let hyphen = UInt8(ascii: "-"), dot = UInt8(ascii: "."), underscore = UInt8(ascii: "_")

    private static func isLowerAlnum(_ b: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(b) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b)
    }

    private static func isAlnum(_ b: UInt8) -> Bool {
        isLowerAlnum(b) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(b)
    }
}
