import FarmAgent
import Foundation

#if !os(Windows)
    // A controller that disconnects must not kill the agent mid-write with SIGPIPE; the write fails instead.
    signal(SIGPIPE, SIG_IGN)
#endif

exit(AgentCommandLine.run(arguments: Array(CommandLine.arguments.dropFirst())))
