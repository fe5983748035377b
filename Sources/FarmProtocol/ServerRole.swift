/// The role of a server in an OutSystems farm.
public enum ServerRole: String, Codable, Sendable, CaseIterable {
    case deploymentController = "deployment-controller"
    case frontEnd = "front-end"
}
