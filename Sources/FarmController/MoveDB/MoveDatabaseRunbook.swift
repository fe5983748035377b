import FarmProtocol
import Foundation

extension StepID {
    public static let stopIIS: StepID = "stop-iis"
    public static let stopServices: StepID = "stop-services"
    public static let probeDatabase: StepID = "probe-database"
    /// The gate's login check: every user server.hsconf names logs in to the new database.
    public static let checkLogins: StepID = "check-logins"
    public static let backup: StepID = "backup"
    public static let repoint: StepID = "repoint"
    public static let startIIS: StepID = "start-iis"
    public static let configurationTool: StepID = "configuration-tool"
    public static let startServices: StepID = "start-services"
    public static let waitReady: StepID = "wait-ready"
    public static let verify: StepID = "verify"
    /// Service Center's own answer (GetPlatformInfo) with the expected platform version.
    public static let platformProof: StepID = "platform-proof"
    public static let applySettings: StepID = "apply-settings"
    /// After Apply Settings restarted the deployment controller's services: ready and answering again.
    public static let readyAfterSettings: StepID = "wait-ready-after-settings"
    public static let proofAfterSettings: StepID = "platform-proof-after-settings"
    /// Only in rollbacks: put the run's backup of server.hsconf and private.key back.
    public static let restore: StepID = "restore"
    /// The server's hooks on the jump host (a load balancer drains it first, takes it back last).
    public static let beforeStopHook: StepID = "hook:before-stop"
    public static let afterVerifyHook: StepID = "hook:after-verify"
    /// The same hook, run once the after-steps are done (`hooks.rejoin: after-settings`, the default).
    public static let rejoinHook: StepID = "hook:after-verify-after-settings"
}

extension Runbook {
    /// The Configuration Tool's turn: no two servers run it at once.
    static let configurationToolTurn = "configuration-tool"

    /// OutSystems' "restore the database to a different server" procedure, as one table
    /// (shared/reference/restore-database-procedure.md): stop everywhere, the DBA's restore, the
    /// deployment controller first and the front-ends after it, then the after-steps.
    public static let moveDatabase = Runbook(
        phases: [
            RunbookPhase(
                kind: .stop, title: "stop, every server at once", servers: .all, concurrency: .all,
                onFailure: .finishPhaseThenFail, steps: [.beforeStopHook, .stopIIS, .stopServices],
                wording: PhaseWording(
                    failed: { facts in
                        // A service stuck stopping: the same run carries on once its process may be ended.
                        let stuck = facts.failures.contains { $0.message.contains(MoveOptions.killStuckServicesOption) }
                        return "could not stop every server, so the database must not be restored yet: " + facts.failureList
                            + ". Resume with \(stuck ? facts.resume + " " + MoveOptions.killStuckServicesOption : facts.resume + " once fixed")"
                            + ", or start everything again with \(facts.rollback)"
                    }, stoppedBeforeAnyBegan: "nothing was stopped")),
            RunbookPhase(
                kind: .gate, title: "gate: the DBA restores the database; it must answer", servers: .deploymentController,
                concurrency: .one, onFailure: .failRun, steps: [.probeDatabase, .checkLogins],
                wording: PhaseWording { facts in facts.failures.map(\.message).joined(separator: "; ") }),
            RunbookPhase(
                kind: .apply, title: "apply on the deployment controller", servers: .deploymentController, concurrency: .one,
                onFailure: .failRun, budgeted: true, steps: applySteps, wording: .stopsTheRun),
            RunbookPhase(
                kind: .apply, title: "apply on the front-ends", servers: .frontEnds, concurrency: .parallelOption,
                onFailure: .tolerateMaxFailures, budgeted: true, steps: applySteps,
                wording: PhaseWording { facts in
                    "front-end failure\(facts.failures.count == 1 ? "" : "s"): " + facts.failureList + facts.held + facts.notStartedList
                        + ". Resume with \(facts.resume), or undo with \(facts.rollback)"
                }),
            RunbookPhase(
                kind: .after, title: "after", servers: .deploymentController, concurrency: .one, onFailure: .failRun,
                steps: [.applySettings, .readyAfterSettings, .proofAfterSettings], wording: .stopsTheRun),
            RunbookPhase(
                kind: .after, title: "back behind the load balancer, once settings are applied", servers: .all, concurrency: .all,
                onFailure: .finishPhaseThenFail, steps: [.rejoinHook]),
        ],
        steps: MoveDatabaseSteps.all)

    static let applySteps: [StepID] = [
        .backup, .repoint, .startIIS, .configurationTool, .startServices, .waitReady, .verify, .platformProof,
        .afterVerifyHook,
    ]
}

/// The entries of the table: what each step asks the agent, how long it may take, what counts as
/// done, and what a rollback runs for it.
enum MoveDatabaseSteps {
    static var all: [RunbookStep] {
        [
            beforeStopHook, stopIIS, stopServices, probeDatabase, checkLogins, backup, repoint, startIIS, configurationTool, startServices, waitReady,
            verify, platformProof, afterVerifyHook, applySettings, readyAfterSettings, proofAfterSettings, rejoinHook, restore,
        ]
    }

    private static func services(_ context: StepContext) -> ServiceControlArguments {
        ServiceControlArguments(serviceTimeoutSeconds: context.options.serviceTimeout, killStuckServices: context.options.killStuckServices)
    }

    /// The admin password the Configuration Tool needs on an integrated-authentication farm.
    private static func integratedPassword(_ context: StepContext) -> Secret? {
        context.record.windowsAuthentication ? context.adminPassword : nil
    }

    private static let appliesAfterSettings: @Sendable (RunServer, MoveOptions) -> Bool = { server, options in
        server.role == .deploymentController && options.applySettings
    }

    private static let serviceDeadline: @Sendable (MoveOptions) -> StepDeadline = { StepDeadline(total: $0.stepTimeout) }

    private static func unexpected(_ data: ResultData) -> StepFailure {
        StepFailure("the agent answered with \(data.operationName) data")
    }

    static let stopIIS = RunbookStep(
        id: .stopIIS, summary: "stop IIS (iisreset /stop)", deadline: serviceDeadline,
        request: { .stopIIS(services($0)) }, judge: { _, _ in "IIS stopped" },
        inverse: [.startIIS])

    static let stopServices = RunbookStep(
        id: .stopServices, summary: "stop the platform services", deadline: serviceDeadline,
        request: { .stopServices(services($0)) },
        judge: { data, _ in
            // A process --kill-stuck-services ended is said in the journal, and so in runs show and the change record.
            guard case let .services(_, report) = data else { return "platform services stopped" }
            let ended = report.actions.filter { $0.hasPrefix("ended the stuck process") }
            return (["platform services stopped"] + ended).joined(separator: "; ")
        },
        inverse: [.startServices, .waitReady])

    static let probeDatabase = RunbookStep(
        id: .probeDatabase, summary: "check that the new database answers",
        explain: { context in "probe \(context.targets.servers.map(\.description).joined(separator: ", ")) from \(context.server.name)" },
        deadline: { StepDeadline(total: $0.timeout * 3) },
        requests: { context in
            context.targets.servers.map { .probeDatabase(DatabaseProbeArguments(address: $0, timeoutSeconds: min(5, context.options.timeout))) }
        },
        judge: { data, context throws(StepFailure) in
            guard case let .databaseProbe(probe) = data else { throw unexpected(data) }
            guard probe.reachable else {
                throw StepFailure(
                    "the new database \(probe.address) does not answer from \(context.server.name) (\(probe.message)); check the restore, then: osfarm resume \(context.record.runID) --db-restored"
                )
            }
            return "\(probe.address) answers" + (probe.port.map { " on port \($0)" } ?? "")
        })

    /// After the restore and before any server.hsconf changes: a login SQL Server refuses stops the
    /// run here, with the farm still on the old database and only the stop phase to undo.
    static let checkLogins = RunbookStep(
        id: .checkLogins, summary: "log in to the new database as every user server.hsconf names",
        explain: { context in "log in to \(context.targets) from \(context.server.name) as each user server.hsconf names (passwords stay on the server)" },
        deadline: { StepDeadline(total: $0.timeout * 6 + 60) },
        request: { context in .checkLogins(LoginCheckArguments(targets: context.targets, timeoutSeconds: min(15, context.options.timeout))) },
        judge: { data, context throws(StepFailure) in
            guard case let .loginCheck(result) = data else { throw unexpected(data) }
            let blocking = result.blocking
            guard blocking.isEmpty else {
                let lines = blocking.map {
                    "\($0.subject): \($0.kind.rawValue)" + ($0.errorNumber.map { " (\($0))" } ?? "") + ": \($0.message)"
                        + ($0.fix.map { "; DBA fix: \($0)" } ?? "")
                }
                throw StepFailure(
                    "the new database refuses the platform's logins from \(context.server.name): " + lines.joined(separator: "; ")
                        + ". No server.hsconf was changed: the farm is still on the old database. Fix the logins on the new server, then: osfarm resume \(context.record.runID) --db-restored; or go back: osfarm rollback \(context.record.runID)"
                )
            }
            return "\(result.findings.count) login\(result.findings.count == 1 ? "" : "s") checked: "
                + result.findings.map { "\($0.section.rawValue) \($0.role.rawValue) \($0.user) \($0.kind.rawValue)" }.joined(separator: ", ")
        },
        appliesTo: { _, options in options.checksLogins })

    static let backup = RunbookStep(
        id: .backup, summary: "back up server.hsconf and private.key", deadline: { StepDeadline(total: $0.timeout * 12) },
        request: { .backupConfiguration(BackupArguments(runID: $0.record.runID)) },
        judge: { data, _ throws(StepFailure) in
            guard case let .backup(_, record) = data else { throw unexpected(data) }
            return "backed up " + record.files.map { "\($0.name ?? $0.path) sha256 \($0.sha256.prefix(12))" }.joined(separator: ", ")
        })

    static let repoint = RunbookStep(
        id: .repoint, summary: "repoint server.hsconf",
        explain: { context in
            let moving = context.targets.moving
            if let first = moving.first?.1, moving.allSatisfy({ $0.1 == first }) {
                return "server.hsconf: Server → \(first.server)" + (first.catalog.map { ", Catalog → \($0)" } ?? "")
                    + " in the " + moving.map(\.0.rawValue).joined(separator: ", ") + " sections"
            }
            return "server.hsconf: "
                + moving.map { section, target in
                    "\(section.elementName) Server → \(target.server)" + (target.catalog.map { ", Catalog → \($0)" } ?? "")
                }.joined(separator: "; ")
        },
        deadline: { StepDeadline(total: $0.timeout * 12) },
        request: { context in
            .repointDatabase(RepointArguments(targets: context.targets, expectedCurrentServer: context.options.expectFrom))
        },
        judge: { data, context throws(StepFailure) in
            guard case let .repoint(result) = data else { throw unexpected(data) }
            return result.changes.isEmpty
                ? "already pointing at \(context.targets)"
                : result.changes.map { "\($0.section.rawValue) \($0.element) \($0.from) → \($0.to)" }.joined(separator: "; ")
        },
        inverse: [.stopIIS, .stopServices, .restore, .startIIS, .configurationTool, .startServices, .waitReady, .verify, .platformProof])

    static let startIIS = RunbookStep(
        id: .startIIS, summary: "start IIS (iisreset /start)", deadline: serviceDeadline,
        request: { .startIIS(services($0)) }, judge: { _, _ in "IIS running" },
        inverse: [.stopIIS])

    static let configurationTool = RunbookStep(
        id: .configurationTool, summary: "ConfigurationTool.com /UpgradeInstall /InstallServiceCenter",
        explain: { context in
            context.record.windowsAuthentication
                ? "ConfigurationTool.com /UpgradeInstall <admin password> /InstallServiceCenter /WithWindowsAuthentication <admin password>"
                : "ConfigurationTool.com /UpgradeInstall /InstallServiceCenter"
        },
        deadline: { StepDeadline(total: $0.configurationToolTimeout + ConfigurationToolArguments.defaultMachineConfigWaitSeconds + $0.timeout) },
        request: { context in
            .runConfigurationTool(
                ConfigurationToolArguments(
                    mode: .upgradeInstall(integratedAuthenticationPassword: integratedPassword(context)),
                    installServiceCenter: true, timeoutSeconds: context.options.configurationToolTimeout))
        },
        judge: { data, _ throws(StepFailure) in
            guard case let .configurationTool(run) = data else { throw unexpected(data) }
            return "Configuration Tool exited \(run.exitCode) after \(Int(run.durationMilliseconds / 1000)) s"
        },
        turn: Runbook.configurationToolTurn)

    static let startServices = RunbookStep(
        id: .startServices, summary: "start the platform services", deadline: serviceDeadline,
        request: { .startServices(services($0)) }, judge: { _, _ in "platform services started" },
        inverse: [.stopServices], whenStopping: .finish)

    static let waitReady = RunbookStep(
        id: .waitReady, summary: "wait until the services' ports answer", deadline: { StepDeadline(total: $0.readinessTimeout + $0.timeout) },
        request: { .waitForReadiness(ReadinessArguments(timeoutSeconds: $0.options.readinessTimeout)) },
        judge: { data, _ throws(StepFailure) in
            guard case let .readiness(readiness) = data else { throw unexpected(data) }
            return "ports " + readiness.ports.map { String($0.port) }.joined(separator: ", ") + " answer"
        },
        whenStopping: .finish)

    static let verify = RunbookStep(
        id: .verify, summary: "verify server.hsconf names the new server and services run",
        explain: { context in "verify server.hsconf names \(context.targets) and the platform services run" },
        deadline: { StepDeadline(total: $0.timeout * 6) },
        request: { _ in .inspect },
        judge: { data, context throws(StepFailure) in
            guard case let .inspection(inspection) = data, let platform = inspection.platform else {
                throw StepFailure("cannot read the server's configuration")
            }
            for (section, target) in context.targets.moving {
                guard let endpoint = platform.database(section) else {
                    throw StepFailure("server.hsconf has no \(section.rawValue) section")
                }
                guard endpoint.isAt(target) else {
                    throw StepFailure("\(section.rawValue) still names \(endpoint.server)\(endpoint.catalog.map { " (catalog \($0))" } ?? ""), not \(target)")
                }
            }
            let down = platform.services.filter { $0.kind == .platform && $0.mustRunButDoesNot }
            guard down.isEmpty else { throw StepFailure("not running: " + down.map(\.name).joined(separator: ", ")) }
            return "names \(context.targets); services running"
        },
        whenStopping: .finish)

    static let platformProof = RunbookStep(
        id: .platformProof, summary: "ask Service Center on the server for its platform version (GetPlatformInfo)",
        explain: { context in
            "Service Center on the server answers GetPlatformInfo" + (context.record.platformVersion.map { " with version \($0)" } ?? "")
        },
        deadline: { StepDeadline(total: $0.timeout * 6) },
        request: { context in
            .getPlatformInfo(
                PlatformInfoArguments(
                    timeoutSeconds: min(30, context.options.timeout * 3), hostHeader: context.server.serviceCenter?.host,
                    port: context.server.serviceCenter?.port, scheme: context.server.serviceCenter?.scheme))
        },
        judge: { data, context throws(StepFailure) in
            guard case let .platformInfo(report) = data else { throw unexpected(data) }
            return try PlatformVersion.proof(report, expected: context.record.platformVersion, server: context.server.name)
        },
        whenStopping: .finish
    )
    .retrying { $0.readinessTimeout }

    static let applySettings = RunbookStep(
        id: .applySettings, summary: "ConfigurationTool.com /ApplySettingsFactory",
        explain: { context in
            "ConfigurationTool.com /ApplySettingsFactory" + (context.record.windowsAuthentication ? " /WithWindowsAuthentication <admin password>" : "")
                + " (it restarts this server's platform services)"
        },
        deadline: { StepDeadline(total: $0.configurationToolTimeout + ConfigurationToolArguments.defaultMachineConfigWaitSeconds + $0.timeout) },
        request: { context in
            .runConfigurationTool(
                ConfigurationToolArguments(
                    mode: .applySettingsFactory(integratedAuthenticationPassword: integratedPassword(context)),
                    timeoutSeconds: context.options.configurationToolTimeout))
        },
        judge: { data, _ throws(StepFailure) in
            guard case .configurationTool = data else { throw unexpected(data) }
            return "settings applied to the factory"
        },
        turn: Runbook.configurationToolTurn,
        appliesTo: appliesAfterSettings)

    /// The tool restarted the services: wait for them again.
    static let readyAfterSettings = RunbookStep(
        id: .readyAfterSettings, summary: "wait until the services' ports answer again",
        deadline: waitReady.deadline, requests: waitReady.requests, judge: waitReady.judge, whenStopping: .finish, appliesTo: appliesAfterSettings)

    static let proofAfterSettings = RunbookStep(
        id: .proofAfterSettings, summary: "ask Service Center again for its platform version",
        explain: platformProof.explain, deadline: platformProof.deadline, requests: platformProof.requests, judge: platformProof.judge,
        whenStopping: .finish, appliesTo: appliesAfterSettings
    )
    .retrying { $0.readinessTimeout }

    /// Drains the server before it stops; a rollback puts it back in rotation last (whichever of
    /// the two put-back steps the server's `hooks.rejoin` uses).
    static let beforeStopHook = hook(.beforeStop, id: .beforeStopHook, inverse: [.afterVerifyHook, .rejoinHook], whenStopping: .halt)
    /// Puts the server back once verified (`hooks.rejoin: after-verify`); a rollback drains it again first.
    static let afterVerifyHook = hook(
        .afterVerify, id: .afterVerifyHook, inverse: [.beforeStopHook], whenStopping: .finish, rejoin: .afterVerify,
        when: "as soon as this server is verified (hooks.rejoin: after-verify)")
    /// Puts the server back once /ApplySettingsFactory has run on the deployment controller
    /// (`hooks.rejoin: after-settings`, the default; `RejoinPoint` says why).
    static let rejoinHook = hook(
        .afterVerify, id: .rejoinHook, inverse: [.beforeStopHook], whenStopping: .finish, rejoin: .afterSettings,
        when: "once the after-steps (ConfigurationTool.com /ApplySettingsFactory) are done (hooks.rejoin: after-settings, the default)")

    private static func hook(
        _ event: HookEvent, id: StepID, inverse: [StepID], whenStopping: StopBehaviour, rejoin: RejoinPoint? = nil, when: String? = nil
    ) -> RunbookStep {
        RunbookStep(
            id: id, summary: "\(event.rawValue) hook on the jump host" + (when.map { ", \($0)" } ?? ""),
            explain: { context in
                "\(event.rawValue) hook on the jump host: " + (context.hooks.command(event)?.joined(separator: " ") ?? "none") + (when.map { ", \($0)" } ?? "")
            },
            deadline: { _ in StepDeadline(total: ServerHooks.timeoutRange.upperBound) },
            local: { context throws(StepFailure) in try await HookStep.run(event, context) },
            inverse: inverse, whenStopping: whenStopping,
            appliesTo: { server, _ in server.hooks.command(event) != nil && (rejoin == nil || server.hooks.rejoinPoint == rejoin) })
    }

    static let restore = RunbookStep(
        id: .restore, summary: "put the run's backup of server.hsconf and private.key back (SHA-256 checked)",
        deadline: { StepDeadline(total: $0.timeout * 12) },
        request: { .restoreConfiguration(BackupArguments(runID: $0.record.runID)) },
        judge: { data, _ throws(StepFailure) in
            guard case let .backup(_, record) = data else { throw unexpected(data) }
            return "restored " + record.files.map { $0.name ?? $0.path }.joined(separator: ", ")
        })
}

extension PhaseWording {
    /// A failure that ends the run at once: no front-end touched when they come later; undo with a rollback.
    static let stopsTheRun = PhaseWording { facts in
        facts.failures.map { "\($0.server) failed: \($0.message)" }.joined(separator: "; ")
            + (facts.frontEndsLater ? ". No front-end was touched" : "") + ". To undo: \(facts.rollback)"
    }
}
