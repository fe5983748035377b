import ArgumentParser
import FarmController
import FarmProtocol
import FarmSSH
import Foundation
#if canImport(Glibc)
    import Glibc
#endif

extension Osfarm {
    struct Hosts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Manage the servers' host keys.", subcommands: [Enroll.self])

        struct Enroll: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Add each server's host key to known_hosts after you confirm its fingerprint (or it matches --expect).",
                discussion:
                    "Shows each key's type and SHA256 fingerprint and asks before writing a [host]:port entry. Unattended only with --expect FILE (lines of 'SHA256:…' or 'SERVER SHA256:…'). An existing, different entry is never overwritten."
            )

            @Option(name: [.short, .customLong("inventory")], help: "The farm's inventory (YAML).") var inventory: String
            @Option(help: "Which servers.", completion: Completions.limit) var limit: String?
            @Option(help: "A file of expected fingerprints; enrol only keys listed there.") var expect: String?
            @Option(help: "Seconds allowed to reach each server.") var timeout: Double = 10

            func validate() throws {
                if let problem = Bounds.connectionTimeoutSeconds.problem(timeout, name: "--timeout") { throw ValidationError(problem) }
            }

            func run() async throws {
                let loaded: Inventory, servers: [ServerEntry], expected: HostEnrollment.ExpectedFingerprints?
                do {
                    loaded = try InventoryLoader.load(path: inventory)
                    servers = try TargetSelector(limit).select(from: loaded.servers)
                    expected = try expect.map { try HostEnrollment.ExpectedFingerprints.load(path: $0) }
                } catch {
                    throw failUsage(error)
                }
                let confirm: HostEnrollment.Confirm? =
                    isatty(STDIN_FILENO) == 1
                    ? { server, key in
                        FileHandle.standardOutput.write(
                            Data(
                                """
                                \(server.name) \(KnownHosts.lookupName(host: server.host, port: server.port)) presents \(key.type) key \(key.fingerprint)
                                Add it to \(loaded.knownHostsPath)? Compare with the server's own 'ssh-keygen -l' first. [y/N]\u{20}
                                """.utf8))
                        return ["y", "yes"].contains(readLine()?.trimmingCharacters(in: .whitespaces).lowercased() ?? "")
                    } : nil
                let results = await HostEnrollment.run(servers, knownHostsPath: loaded.knownHostsPath, timeout: timeout, expected: expected, confirm: confirm)
                print(HostEnrollment.table(results), terminator: "")
                throw OsfarmExit(status: HostEnrollment.exitStatus(results))
            }
        }
    }

    struct Agent: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Manage the agent on the servers.", subcommands: [Push.self])

        struct Push: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Update the agent through the agent itself; --rollback puts the previous binary back.",
                discussion:
                    "The binary travels in chunks inside protocol messages (so a forced-command key that blocks SFTP still works); the agent checks its SHA-256, stages it beside itself and swaps it in, keeping the previous one. osfarm then confirms in a fresh handshake that the agent answering is the pushed binary."
            )

            @OptionGroup var connection: ConnectionOptions
            @Option(help: "The new osfarm-agent binary (osfarm-agent.exe for Windows servers).") var binary: String?
            @Flag(help: "Swap the previous agent back instead.") var rollback = false

            func validate() throws {
                guard (binary == nil) == rollback else { throw ValidationError("give --binary PATH, or --rollback") }
            }

            func run() async throws {
                let (_, servers, settings) = try connection.prepare()
                let results: [AgentPush.ServerResult]
                if rollback {
                    results = await AgentPush.rollback(servers, settings: settings)
                } else {
                    guard let data = FileManager.default.contents(atPath: binary!), !data.isEmpty else {
                        throw failUsage("--binary \(binary!): cannot read the file")
                    }
                    results = await AgentPush.push(binary: data, to: servers, settings: settings) { server, message in
                        ProgressLine.print(server: server, message)
                    }
                }
                print(AgentPush.table(results), terminator: "")
                throw OsfarmExit(status: AgentPush.exitStatus(results))
            }
        }
    }
}
