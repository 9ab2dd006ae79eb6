import KubeProxyCore
import KubeProxyModel

/// Deletes conntrack entries: ``ConntrackNetlink`` over ctnetlink (the daemon's), ``ConntrackCommands``
/// with the `conntrack` tool (where no netfilter socket can be had).
public protocol ConntrackCleaner: Sendable {
    /// Deletes the UDP entries matching each filter; returns how many entries (over netlink) or
    /// filters (the tool) went.
    func delete(_ deletions: [ConntrackDeletion], family: IPFamily) async -> Int
}

/// Runs `conntrack -D` for each filter; "0 flow entries" is not an error.
public struct ConntrackCommands: ConntrackCleaner {
    let runner: any CommandRunner
    public init(runner: any CommandRunner) { self.runner = runner }

    public func delete(_ deletions: [ConntrackDeletion], family: IPFamily) async -> Int {
        var ran = 0
        for d in deletions {
            var args = ["-D", "-f", family == .ipv4 ? "ipv4" : "ipv6", "-p", "udp"]
            if let dst = d.origDst { args += ["--orig-dst", dst.description] }
            args += ["--orig-port-dst", String(d.origPortDst)]
            if let src = d.replySrc { args += ["--reply-src", src.description] }
            if let port = d.replyPortSrc { args += ["--reply-port-src", String(port)] }
            if (try? await runner.run("conntrack", args)) != nil { ran += 1 }
        }
        return ran
    }
}
