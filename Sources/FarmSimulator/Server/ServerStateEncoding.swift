import FarmProtocol

// state.json written by hand, the counterpart of ServerStateDecoding.swift: JSONEncoder, too,
// builds generic containers per type at its first use in a process, and every emulated sc.exe
// stop or start and every Configuration Tool run writes the state. Keys sorted and nil left out,
// as JSONEncoder with .sortedKeys wrote them; StateFileTests reads what this writes with
// JSONDecoder and with the hand reader.

extension ServerState {
    /// The state as state.json holds it (pretty-printed).
    var stateJSON: String { String(decoding: stateJSONBytes, as: UTF8.self) }
    var stateJSONBytes: [UInt8] { plain.utf8(pretty: true) + [0x0A] }

    fileprivate var plain: PlainJSON {
        .sortedObject([
            ("name", .string(name)), ("role", .string(role.rawValue)), ("address", .string(address)), ("profile", .string(profile.rawValue)),
            ("services", .array(services.map(\.plain))),
            ("registry", .sortedObject(registry.map { ($0.key, .array($0.value.map(\.plain))) })),
            ("faults", faults.plain), ("lastConfigurationTool", lastConfigurationTool?.plain), ("nextProcessID", .number(Double(nextProcessID))),
            ("language", .string(language.rawValue)), ("measuredTimings", measuredTimings?.plain),
        ])
    }
}

extension ServerState.RegistryValue {
    fileprivate var plain: PlainJSON { .sortedObject([("name", .string(name)), ("type", .string(type)), ("data", .string(data))]) }
}

extension SimulatedService {
    fileprivate var plain: PlainJSON {
        .sortedObject([
            ("name", .string(name)), ("displayName", .string(displayName)), ("type", .number(Double(type))), ("binaryPath", .string(binaryPath)),
            ("startType", .string(startType.rawValue)), ("state", .string(state.rawValue)), ("processID", processID.map { .number(Double($0)) }),
            ("pendingUntil", pendingUntil.map(PlainJSON.number)), ("runningSince", runningSince.map(PlainJSON.number)),
            ("initialised", .bool(initialised)),
        ])
    }
}

extension InjectedFaults {
    fileprivate var plain: PlainJSON {
        .sortedObject([
            ("stuckStopping", .array(stuckStopping.map(PlainJSON.string))), ("failingStart", .array(failingStart.map(PlainJSON.string))),
            ("configurationToolFailure", configurationToolFailure.map(PlainJSON.string)), ("slowdown", .number(slowdown)),
            ("configurationToolOrphanSeconds", configurationToolOrphanSeconds.map(PlainJSON.number)),
            ("iisHostBinding", iisHostBinding.map(PlainJSON.string)), ("forceHTTPS", .bool(forceHTTPS)), ("httpsBinding", httpsBinding?.plain),
            ("sessionNetworkCredentials", sessionNetworkCredentials.map(PlainJSON.bool)),
        ])
    }
}

extension SimulatedHTTPSBinding {
    fileprivate var plain: PlainJSON { .sortedObject([("port", .number(Double(port))), ("certificate", certificate.plain)]) }
}

extension SimulatedCertificate {
    fileprivate var plain: PlainJSON {
        .sortedObject([
            ("subject", .string(subject)), ("thumbprint", .string(thumbprint)), ("dnsNames", .array(dnsNames.map(PlainJSON.string))),
            ("inMachineStore", .bool(inMachineStore)), ("trusted", .bool(trusted)),
        ])
    }
}

extension ConfigurationToolRecord {
    fileprivate var plain: PlainJSON {
        .sortedObject([
            ("switches", .array(switches.map(PlainJSON.string))), ("exitCode", .number(Double(exitCode))), ("message", .string(message)),
            ("finishedAt", .number(finishedAt)),
        ])
    }
}

extension SimulatedTimings {
    fileprivate var plain: PlainJSON {
        .sortedObject([
            ("stopSeconds", .number(stopSeconds)), ("startSeconds", .number(startSeconds)), ("initialisationSeconds", .number(initialisationSeconds)),
            ("iisSeconds", .number(iisSeconds)), ("configurationToolSeconds", .number(configurationToolSeconds)),
        ])
    }
}

extension PlainJSON {
    /// An object of the members that have a value, sorted by name (byte order, as JSONEncoder's .sortedKeys).
    static func sortedObject(_ members: [(String, PlainJSON?)]) -> PlainJSON {
        .object(
            members.compactMap { name, value in value.map { (name: name, value: $0) } }
                .sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) })
    }
}
