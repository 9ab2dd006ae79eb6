import KubeProxyKernel
import KubeProxyModel
import Synchronization

/// The `ip` and `ipset` commands IPVS mode runs, emulated in memory: dummy interfaces and their
/// addresses (`ip link show|add|del`, `ip -o address show dev`, `ip -force -batch -` with
/// `address add|del`), and ipsets (`ipset restore -exist` with create/flush/add/del/swap/destroy,
/// `ipset list -t`, `ipset destroy`). Every call is recorded; `failing` makes a program fail.
public final class FakeIPVSHost: CommandRunner {
    struct State {
        var links: [String: Set<String>] = [:]   // name -> "ip/prefix"
        var sets: [String: (type: String, entries: Set<String>)] = [:]
        var calls: [RecordingCommandRunner.Call] = []
        var failing: Set<String> = []
    }
    private let state = Mutex(State())

    public init() {}

    /// The calls made so far, in order.
    public var calls: [RecordingCommandRunner.Call] { state.withLock { $0.calls } }
    /// The ipsets and their entries.
    public var sets: [String: Set<String>] { state.withLock { $0.sets.mapValues(\.entries) } }
    /// The addresses (`ip/prefix`) on `link`, or nil when it does not exist.
    public func addresses(on link: String) -> Set<String>? { state.withLock { $0.links[link] } }
    /// Makes every later run of `program` (`ip`, `ipset`) fail, or succeed again.
    public func setFailing(_ program: String, _ fails: Bool) {
        state.withLock { if fails { $0.failing.insert(program) } else { $0.failing.remove(program) } }
    }
    /// Removes an address behind the proxier's back.
    public func removeAddress(_ address: String, on link: String) { state.withLock { _ = $0.links[link]?.remove(address) } }
    /// Empties a set behind the proxier's back (`ipset flush`).
    public func flushSet(_ name: String) { state.withLock { $0.sets[name]?.entries = [] } }
    /// Adds an address behind the proxier's back.
    public func addAddress(_ address: String, on link: String) { state.withLock { _ = $0.links[link, default: []].insert(address) } }

    public func run(_ executable: String, _ arguments: [String], stdin: String?) async throws -> CommandResult {
        state.withLock { s in
            s.calls.append(.init(executable: executable, arguments: arguments, stdin: stdin))
            if s.failing.contains(executable) { return CommandResult(exitCode: 1, stderr: "\(executable): injected failure") }
            switch executable {
            case "ip": return Self.ip(arguments, stdin: stdin, &s)
            case "ipset": return Self.ipset(arguments, stdin: stdin, &s)
            default: return CommandResult(exitCode: 127, stderr: "\(executable): not emulated")
            }
        }
    }

    static func ip(_ args: [String], stdin: String?, _ s: inout State) -> CommandResult {
        switch args {
        case let a where a.starts(with: ["link", "show", "dev"]) && a.count == 4:
            return s.links[a[3]] == nil ? CommandResult(exitCode: 1, stderr: "Device \"\(a[3])\" does not exist.") : CommandResult(exitCode: 0)
        case let a where a.starts(with: ["link", "add"]) && a.count == 5 && a[3...] == ["type", "dummy"]:
            if s.links[a[2]] != nil { return CommandResult(exitCode: 2, stderr: "RTNETLINK answers: File exists") }
            s.links[a[2]] = []
            return CommandResult(exitCode: 0)
        case let a where a.starts(with: ["link", "del"]) && a.count == 3:
            guard s.links.removeValue(forKey: a[2]) != nil else { return CommandResult(exitCode: 1, stderr: "Cannot find device") }
            return CommandResult(exitCode: 0)
        case let a where a.starts(with: ["-o", "address", "show", "dev"]) && a.count == 5:
            guard let addresses = s.links[a[4]] else { return CommandResult(exitCode: 1, stderr: "Device does not exist") }
            let lines = addresses.sorted().map { "9: \(a[4])    \($0.contains(":") ? "inet6" : "inet") \($0) scope global \(a[4])\\       valid_lft forever" }
            return CommandResult(exitCode: 0, stdout: lines.map { $0 + "\n" }.joined())
        case ["-force", "-batch", "-"]:
            var failed = false
            for line in (stdin ?? "").split(separator: "\n") {
                let w = line.split(separator: " ").map(String.init)
                guard w.count == 5, w[0] == "address", w[3] == "dev", s.links[w[4]] != nil else { failed = true; continue }
                if w[1] == "add" { if s.links[w[4]]!.insert(w[2]).inserted == false { failed = true } }
                else if w[1] == "del" { if s.links[w[4]]!.remove(w[2]) == nil { failed = true } }
            }
            return CommandResult(exitCode: failed ? 1 : 0, stderr: failed ? "Command failed -:1" : "")
        default:
            return CommandResult(exitCode: 255, stderr: "ip \(args.joined(separator: " ")): not emulated")
        }
    }

    static func ipset(_ args: [String], stdin: String?, _ s: inout State) -> CommandResult {
        if args == ["restore", "-exist"] {
            for (n, line) in (stdin ?? "").split(separator: "\n").enumerated() {
                let w = line.split(separator: " ").map(String.init)
                guard w.count >= 2 else { continue }
                func fail(_ why: String) -> CommandResult { CommandResult(exitCode: 1, stderr: "ipset v7.17: Error in line \(n + 1): \(why)") }
                switch w[0] {
                case "create":
                    if let existing = s.sets[w[1]], existing.type != w[2] { return fail("Set cannot be created: set with the same name already exists") }
                    if s.sets[w[1]] == nil { s.sets[w[1]] = (w[2], []) }
                case "flush": s.sets[w[1]]?.entries = []
                case "add", "del":
                    guard s.sets[w[1]] != nil, w.count == 3 else { return fail("The set with the given name does not exist") }
                    if w[0] == "add" { s.sets[w[1]]!.entries.insert(w[2]) } else { s.sets[w[1]]!.entries.remove(w[2]) }
                case "swap":
                    guard let a = s.sets[w[1]], let b = s.sets[w[2]], a.type == b.type else { return fail("Sets cannot be swapped") }
                    s.sets[w[1]] = b
                    s.sets[w[2]] = a
                case "destroy": s.sets[w[1]] = nil
                default: return fail("unknown command \(w[0])")
                }
            }
            return CommandResult(exitCode: 0)
        }
        if args == ["list", "-t"] {
            let text = s.sets.keys.sorted().map { "Name: \($0)\nType: \(s.sets[$0]!.type)\nNumber of entries: \(s.sets[$0]!.entries.count)\n" }
            return CommandResult(exitCode: 0, stdout: text.joined())
        }
        if args.count == 2, args[0] == "destroy" {
            guard s.sets.removeValue(forKey: args[1]) != nil else { return CommandResult(exitCode: 1, stderr: "ipset v7.17: The set with the given name does not exist") }
            return CommandResult(exitCode: 0)
        }
        return CommandResult(exitCode: 1, stderr: "ipset \(args.joined(separator: " ")): not emulated")
    }
}
