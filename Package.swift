// swift-tools-version:6.1
import PackageDescription

// On Windows only the agent is built and tested: the controller needs Debian's libssh2 and the
// simulator is Linux (.github/workflows/windows-agent.yml builds and tests it there).
#if os(Windows)
    let agentOnly = true
#else
    let agentOnly = false
#endif
let agentTargets: Set<String> = ["FarmProtocol", "FarmAgent", "osfarm-agent", "FarmProtocolTests", "FarmAgentTests"]

let package = Package(
    name: "osfarm",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "osfarm", targets: ["osfarm"]),
        .executable(name: "osfarm-agent", targets: ["osfarm-agent"]),
        .executable(name: "osfarm-sim", targets: ["osfarm-sim"]),
    ].filter { !agentOnly || $0.name == "osfarm-agent" },
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // Debian's libssh2 1.10 through pkg-config.
        .systemLibrary(
            name: "CLibSSH2",
            pkgConfig: "libssh2",
            providers: [.apt(["libssh2-1-dev"])]
        ),
        // The messages controller and agent share. Foundation and swift-crypto only (both build on
        // Windows): the agent builds on Windows. CryptoExtras (swift-crypto's own product, over the
        // same BoringSSL) is for AES-CBC: server.hsconf's encrypted values use it, and Crypto has no CBC.
        .target(
            name: "FarmProtocol",
            dependencies: [.product(name: "Crypto", package: "swift-crypto"), .product(name: "CryptoExtras", package: "swift-crypto")]
        ),
        // The libssh2 client: connect, known_hosts, auth, exec channels, deadlines.
        .target(
            name: "FarmSSH",
            dependencies: ["CLibSSH2", "FarmProtocol", .product(name: "Crypto", package: "swift-crypto"), .product(name: "Logging", package: "swift-log")]),
        // The agent's request loop and server operations. Foundation, swift-crypto and swift-log only.
        .target(name: "FarmAgent", dependencies: ["FarmProtocol", .product(name: "Logging", package: "swift-log")]),
        // Inventory, targeting, check, reports.
        .target(
            name: "FarmController",
            dependencies: ["FarmProtocol", "FarmSSH", .product(name: "Yams", package: "Yams"), .product(name: "Logging", package: "swift-log")]
        ),
        // Simulated Windows servers and the local farm launcher (sshd per server).
        .target(name: "FarmSimulator", dependencies: ["FarmProtocol"]),
        .executableTarget(
            name: "osfarm",
            dependencies: ["FarmController", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "controller"
        ),
        .executableTarget(name: "osfarm-agent", dependencies: ["FarmAgent"], path: "agent"),
        .executableTarget(
            name: "osfarm-sim",
            dependencies: ["FarmSimulator", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(name: "FarmProtocolTests", dependencies: ["FarmProtocol"], resources: [.copy("Fixtures")]),
        .testTarget(name: "FarmSSHTests", dependencies: ["FarmSSH", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "FarmAgentTests", dependencies: ["FarmAgent"]),
        // The agent's operations against the simulator's emulated programs called in-process (no sshd).
        .testTarget(name: "AgentInProcessTests", dependencies: ["FarmAgent", "FarmSimulator", "FarmProtocol"]),
        .testTarget(name: "FarmControllerTests", dependencies: ["FarmController", "FarmProtocol", "FarmSSH"]),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["FarmController", "FarmSSH", "FarmSimulator", "FarmProtocol"]
        ),
    ].filter { !agentOnly || agentTargets.contains($0.name) }
)
