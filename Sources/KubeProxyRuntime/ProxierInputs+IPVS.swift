import IPVSRules
import KubeProxyModel

extension ProxierInputs {
    /// What a fresh IPVS-mode proxier's first sync programs: the desired virtual servers, sets and
    /// addresses, and the iptables payload. `localAddresses` are this host's (kube-ipvs0's excluded).
    public func firstSyncIPVS(scheduler: String, localAddresses: [IPAddress]) -> (desired: IPVSPlanner.Desired, payload: String) {
        IPVSDataplane.plan(state, scheduler: scheduler, options: options, local: localAddresses)
    }
}
