/// Seeded mutations for the fuzz tests: valid input made slightly wrong in the ways text and
/// bytes go wrong (a byte flipped, a separator or quote inserted, a piece cut out, the end lost).
public struct Fuzz: Sendable {
    public var random: RandomCluster.Generator

    public init(seed: UInt64) { random = RandomCluster.Generator(seed: seed) }

    /// Strings that mean something to YAML, JSON, nft or iptables.
    static let specials: [String] = ["\n", "\"", "'", "\\", "{", "}", "[", "]", ": ", "- ", "---\n", "null", "~", "!!binary ",
                                     "&a ", "*a", "\t", "é", "\u{0}", "99999999999999999999", "-1", "0x10", ",", "#", "%", ";"]

    /// `bytes` with one to four random edits.
    public mutating func mutate(_ bytes: [UInt8]) -> [UInt8] {
        var out = bytes
        for _ in 0..<Int.random(in: 1...4, using: &random) {
            guard !out.isEmpty else { return Array(Self.specials.randomElement(using: &random)!.utf8) }
            let at = Int.random(in: 0..<out.count, using: &random)
            switch Int.random(in: 0..<5, using: &random) {
            case 0: out[at] = UInt8.random(in: 0...255, using: &random)
            case 1: out.insert(contentsOf: Array(Self.specials.randomElement(using: &random)!.utf8), at: at)
            case 2: out.removeSubrange(at..<min(out.count, at + Int.random(in: 1...40, using: &random)))
            case 3: out.removeSubrange(at...)
            default: out[at] ^= 1 << UInt8.random(in: 0...7, using: &random)
            }
        }
        return out
    }

    /// `count` random bytes.
    public mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) } }

    /// `whole` cut into random pieces (empty ones too).
    public mutating func chunks(_ whole: [UInt8]) -> [[UInt8]] {
        var pieces: [[UInt8]] = [], at = 0
        while at < whole.count {
            let next = min(whole.count, at + Int.random(in: 0...64, using: &random))
            pieces.append(Array(whole[at..<next]))
            at = next
        }
        return pieces
    }
}
