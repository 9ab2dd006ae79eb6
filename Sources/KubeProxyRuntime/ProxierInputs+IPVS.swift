import IPVSRules
import KubeProxyModel

extension ProxierInputs {
    /// What a fresh IPVS-mode proxier's first sync programs: the desired virtual servers, sets and
    /// addresses, and the iptables payload. `localAddresses` are this host's (kube-ipvs0's excluded).
    public func firstSyncIPVS(scheduler: String, localAddresses: [IPAddress]) -> (desired: IPVSPlanner.Desired, payload: String) {
        let desired = IPVSProxier.planner(scheduler: scheduler, options: options, family: state.family, local: localAddresses).desired(state)
        var payloadOptions = options
        payloadOptions.hostAddresses = localAddresses
        return (desired, IPVSIPTablesRules.payload(desired, options: payloadOptions, family: state.family))
    }
}
