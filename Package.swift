// swift-tools-version: 6.2
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "swift-kube-proxy",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "swift-kube-proxy", targets: ["swift-kube-proxy"]),
        .library(name: "KubeProxyModel", targets: ["KubeProxyModel"]),
        .library(name: "KubeProxyCore", targets: ["KubeProxyCore"]),
        .library(name: "IPTablesRules", targets: ["IPTablesRules"]),
        .library(name: "NFTablesRules", targets: ["NFTablesRules"]),
        .library(name: "PacketTracer", targets: ["PacketTracer"]),
        .library(name: "KubeProxyTesting", targets: ["KubeProxyTesting"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // Pure: Kubernetes objects, configuration and domain values.
        .target(
            name: "KubeProxyModel",
            dependencies: [.product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        // Pure: change tracking, endpoint selection, proxy state, chain names.
        .target(
            name: "KubeProxyCore",
            dependencies: ["KubeProxyModel", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        // Pure: ProxyState -> iptables-restore payload; the restore-text model.
        .target(
            name: "IPTablesRules",
            dependencies: ["KubeProxyCore"],
            swiftSettings: swiftSettings
        ),
        // Pure: ProxyState -> nftables transaction; the table model (knftables-style fake).
        .target(
            name: "NFTablesRules",
            dependencies: ["KubeProxyCore"],
            swiftSettings: swiftSettings
        ),
        // Pure: walks a compiled ruleset with one packet.
        .target(
            name: "PacketTracer",
            dependencies: ["IPTablesRules", "NFTablesRules", "IPVSRules"],
            swiftSettings: swiftSettings
        ),
        // Pure: ProxyState -> IPVS virtual and real servers, ipsets and the iptables rules of IPVS
        // mode (every mode's ProxierOptions); the diff against the kernel's table.
        .target(
            name: "IPVSRules",
            dependencies: ["KubeProxyCore"],
            swiftSettings: swiftSettings
        ),
        // Pure: netlink and generic netlink framing, the IPVS family's messages.
        .target(
            name: "Netlink",
            swiftSettings: swiftSettings
        ),
        // Pure: an NFTTransaction as nf_tables netlink messages (Service chains, rules, elements).
        .target(
            name: "NFTablesWire",
            dependencies: ["NFTablesRules", "Netlink"],
            swiftSettings: swiftSettings
        ),
        // Side effects: iptables-restore, conntrack, sysctls, interface addresses, netlink sockets.
        .target(
            name: "KubeProxyKernel",
            dependencies: [
                "IPTablesRules", "NFTablesRules", "NFTablesWire", "Netlink", "IPVSRules",
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Side effects: the Kubernetes API client (kubeconfig, in-cluster), informers (list + watch).
        .target(
            name: "KubeProxyAPI",
            dependencies: [
                "KubeProxyModel",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Orchestration: the Proxier actors, the sync loop, health and metrics endpoints.
        .target(
            name: "KubeProxyRuntime",
            dependencies: [
                "KubeProxyKernel", "IPTablesRules", "NFTablesRules", "IPVSRules", "KubeProxyCore", "KubeProxyAPI",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Shipped test support: fake kernel, recording runner, upstream normaliser.
        .target(
            name: "KubeProxyTesting",
            dependencies: [
                "KubeProxyKernel", "IPTablesRules", "NFTablesRules", "KubeProxyRuntime",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "swift-kube-proxy",
            dependencies: [
                "KubeProxyRuntime", "KubeProxyAPI", "PacketTracer", "NFTablesRules", "IPVSRules", "Netlink",
                "LabSockets",   // `bench-pod serve|probe|latency`: bench's pod and client in its namespaces
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        // Side effects: the lab's pod server and clients over BSD sockets (skp-lab and bench).
        .target(
            name: "LabSockets",
            dependencies: ["KubeProxyModel"],
            swiftSettings: swiftSettings
        ),
        // The lab harness (lab/lab.sh, the demo, kernel tests, the IPVS VM): not in the product binary.
        .executableTarget(
            name: "skp-lab",
            dependencies: [
                "LabSockets", "KubeProxyTesting", "KubeProxyRuntime", "KubeProxyKernel", "IPVSRules", "IPTablesRules", "KubeProxyCore", "Netlink",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // A stand-in API server for the lab, the demo and the daemon benchmark.
        .executableTarget(
            name: "skp-apiserver",
            dependencies: [
                "KubeProxyTesting", "KubeProxyCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        // Benchmarks of the iptables dataplane (make bench); not part of the tests.
        .executableTarget(
            name: "skp-bench",
            dependencies: ["KubeProxyRuntime", "NFTablesRules", "Netlink", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KubeProxyAPITests",
            dependencies: ["KubeProxyAPI", "KubeProxyTesting", "KubeProxyModel", .product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "IPVSRulesTests",
            dependencies: ["IPVSRules", "IPTablesRules", "KubeProxyCore", "KubeProxyModel", "KubeProxyRuntime", "KubeProxyKernel", "KubeProxyTesting", "PacketTracer", "Netlink"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "NetlinkTests",
            dependencies: ["Netlink", "NFTablesWire", "NFTablesRules", "IPTablesRules", "KubeProxyKernel", "KubeProxyTesting", "IPVSRules", "KubeProxyCore", "KubeProxyModel"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KubeProxyModelTests",
            dependencies: ["KubeProxyModel"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KubeProxyCoreTests",
            dependencies: ["KubeProxyCore", "KubeProxyTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "IPTablesRulesTests",
            dependencies: ["IPTablesRules", "NFTablesRules", "PacketTracer", "KubeProxyTesting", "KubeProxyRuntime"],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "NFTablesRulesTests",
            dependencies: ["NFTablesRules", "KubeProxyTesting", "KubeProxyRuntime", .product(name: "Yams", package: "Yams")],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KubeProxyRuntimeTests",
            dependencies: ["KubeProxyRuntime", "KubeProxyKernel", "KubeProxyModel", "KubeProxyCore", "KubeProxyTesting", "IPTablesRules"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KernelTests",
            dependencies: ["KubeProxyTesting", "KubeProxyRuntime", "KubeProxyAPI", "PacketTracer", "IPTablesRules", "KubeProxyModel", "Netlink", "KubeProxyKernel", .product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
    ]
)
