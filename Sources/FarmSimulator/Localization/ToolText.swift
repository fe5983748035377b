import Foundation

/// The labels and messages sc.exe, reg.exe, iisreset.exe and cmd.exe print, in one display
/// language. Templates take `{0}`, `{1}`… for what is filled in (a function name, a number, a path).
/// Where each string comes from is in Tests/Fixtures/windows/SOURCES.md: a public paste of the real
/// program's output where one was found, otherwise the simulator's own rendering (marked so there).
struct ToolText: Sendable {
    /// `sc query`/`queryex` block labels, in print order: service name, type, state, Win32 exit
    /// code, service exit code, checkpoint, wait hint, PID, flags.
    var statusLabels: [String]
    /// `sc qc` labels, in print order: service name, type, start type, error control, binary path,
    /// load order group, tag, display name, dependencies, service start name.
    var configurationLabels: [String]
    /// The state, type, start-type and error-control words after the numbers. Windows keeps them
    /// in English in the languages seen (zh-CN, ru-RU pastes); the pseudo-locale rewrites them.
    var words: [String: String]
    /// `[SC] {0} FAILED {1}:` where {0} is the function and {1} the Win32 error.
    var failureHeader: String
    /// `[SC] {0} SUCCESS`.
    var success: String
    /// The system message of each Win32 error sc.exe reports.
    var messages: [Int: String]
    /// The name reg.exe gives a key's default value.
    var defaultValueName: String
    var registryNotFound: String
    var registrySyntax: String
    var iisAttemptingStop: String
    var iisStopped: String
    var iisAttemptingStart: String
    var iisStarted: String
    /// `Status for {0} ( {1} ) : {2}`.
    var iisStatus: String
    var iisRunning: String
    var iisStopped2: String
    /// cmd.exe for a command it cannot find: {0} is the command as typed (two lines).
    var notRecognized: String

    static func of(_ language: DisplayLanguage) -> ToolText {
        switch language {
        case .english: return english
        case .german: return german
        case .french: return french
        case .spanish: return spanish
        case .portuguese: return portuguese
        case .chinese: return chinese
        case .japanese: return japanese
        case .pseudo: return english.rewritten
        }
    }

    /// A word (RUNNING, AUTO_START, WIN32_OWN_PROCESS…) as this language prints it.
    func word(_ english: String) -> String { words[english] ?? english }

    static let englishWords = [
        "STOPPED", "START_PENDING", "STOP_PENDING", "RUNNING", "CONTINUE_PENDING", "PAUSE_PENDING", "PAUSED",
        "WIN32_OWN_PROCESS", "WIN32_SHARE_PROCESS", "BOOT_START", "SYSTEM_START", "AUTO_START", "DEMAND_START", "DISABLED",
        "NORMAL", "STOPPABLE", "NOT_STOPPABLE", "NOT_PAUSABLE", "ACCEPTS_SHUTDOWN", "IGNORES_SHUTDOWN",
    ]

    static let english = ToolText(
        statusLabels: ["SERVICE_NAME", "TYPE", "STATE", "WIN32_EXIT_CODE", "SERVICE_EXIT_CODE", "CHECKPOINT", "WAIT_HINT", "PID", "FLAGS"],
        configurationLabels: [
            "SERVICE_NAME", "TYPE", "START_TYPE", "ERROR_CONTROL", "BINARY_PATH_NAME", "LOAD_ORDER_GROUP", "TAG",
            "DISPLAY_NAME", "DEPENDENCIES", "SERVICE_START_NAME",
        ],
        words: [:],
        failureHeader: "[SC] {0} FAILED {1}:",
        success: "[SC] {0} SUCCESS",
        messages: [
            1053: "The service did not respond to the start or control request in a timely fashion.",
            1056: "An instance of the service is already running.",
            1058: "The service cannot be started, either because it is disabled or because it has no enabled devices associated with it.",
            1060: "The specified service does not exist as an installed service.",
            1061: "The service cannot accept control messages at this time.",
            1062: "The service has not been started.",
        ],
        defaultValueName: "(Default)",
        registryNotFound: "ERROR: The system was unable to find the specified registry key or value.",
        registrySyntax: "ERROR: Invalid syntax.\r\nType \"REG /?\" for usage.",
        iisAttemptingStop: "Attempting stop...",
        iisStopped: "Internet services successfully stopped",
        iisAttemptingStart: "Attempting start...",
        iisStarted: "Internet services successfully started",
        iisStatus: "Status for {0} ( {1} ) : {2}",
        iisRunning: "Running",
        iisStopped2: "Stopped",
        notRecognized: "'{0}' is not recognized as an internal or external command,\r\noperable program or batch file.")

    static let german = ToolText(
        statusLabels: ["DIENSTNAME", "TYP", "STATUS", "WIN32_EXITCODE", "DIENST_EXITCODE", "CHECKPOINT", "WARTE_HINWEIS", "PID", "FLAGS"],
        configurationLabels: [
            "DIENSTNAME", "TYP", "STARTTYP", "FEHLERSTEUERUNG", "BINÄRPFAD_NAME", "LADEREIHENFOLGEGRUPPE", "TAG",
            "ANZEIGENAME", "ABHÄNGIGKEITEN", "DIENSTSTARTNAME",
        ],
        words: [:],
        failureHeader: "[SC] {0} FEHLER {1}:",
        success: "[SC] {0} ERFOLG",
        messages: [
            1053: "Der Dienst antwortete nicht rechtzeitig auf die Start- oder Steuerungsanforderung.",
            1056: "Es wird bereits eine Instanz des Dienstes ausgeführt.",
            1058: "Der angegebene Dienst kann nicht gestartet werden. Er ist deaktiviert oder nicht mit aktivierten Geräten verbunden.",
            1060: "Der angegebene Dienst ist kein installierter Dienst.",
            1061: "Der Dienst kann zurzeit keine Steuerungsmeldungen annehmen.",
            1062: "Der Dienst wurde nicht gestartet.",
        ],
        defaultValueName: "(Standard)",
        registryNotFound: "FEHLER: Der angegebene Registrierungsschlüssel bzw. Wert wurde nicht gefunden.",
        registrySyntax: "FEHLER: Ungültige Syntax.\r\nGeben Sie \"REG /?\" ein, um die Syntax anzuzeigen.",
        iisAttemptingStop: "Beenden wird versucht...",
        iisStopped: "Internetdienste wurden erfolgreich beendet.",
        iisAttemptingStart: "Starten wird versucht...",
        iisStarted: "Internetdienste wurden erfolgreich gestartet.",
        iisStatus: "Status für {0} ( {1} ) : {2}",
        iisRunning: "Wird ausgeführt",
        iisStopped2: "Beendet",
        notRecognized: "Der Befehl \"{0}\" ist entweder falsch geschrieben oder\r\nkonnte nicht gefunden werden.")

    static let french = ToolText(
        statusLabels: [
            "NOM_SERVICE", "TYPE", "ÉTAT", "CODE_SORTIE_WIN32", "CODE_SORTIE_SERVICE", "POINT_CONTRÔLE", "INDICATION_ATTENTE",
            "ID_PROCESSUS", "INDICATEURS",
        ],
        configurationLabels: [
            "NOM_SERVICE", "TYPE", "TYPE_DÉMARRAGE", "CONTRÔLE_ERREURS", "NOM_CHEMIN_BINAIRE", "GROUPE_ORDRE_CHARGEMENT",
            "BALISE", "NOM_AFFICHAGE", "DÉPENDANCES", "NOM_DÉMARRAGE_SERVICE",
        ],
        words: [:],
        failureHeader: "[SC] {0} échec(s) {1}",
        success: "[SC] {0} réussite(s)",
        messages: [
            1053: "Le service n’a pas répondu assez vite à la demande de lancement ou de contrôle.",
            1056: "Une instance du service s’exécute déjà.",
            1058: "Le service ne peut pas être démarré parce qu’il est désactivé ou qu’aucun périphérique activé ne lui est associé.",
            1060: "Le service spécifié n’existe pas en tant que service installé.",
            1061: "Le service ne peut pas accepter de messages de contrôle pour l’instant.",
            1062: "Le service n’a pas été démarré.",
        ],
        defaultValueName: "(par défaut)",
        registryNotFound: "ERREUR : le système n'a pas trouvé la clé ou la valeur de Registre spécifiée.",
        registrySyntax: "ERREUR : syntaxe non valide.\r\nTapez \"REG /?\" pour afficher la syntaxe.",
        iisAttemptingStop: "Tentative d'arrêt...",
        iisStopped: "Les services Internet ont été arrêtés.",
        iisAttemptingStart: "Tentative de démarrage...",
        iisStarted: "Les services Internet ont été démarrés.",
        iisStatus: "État de {0} ( {1} ) : {2}",
        iisRunning: "En cours d'exécution",
        iisStopped2: "Arrêté",
        notRecognized: "'{0}' n’est pas reconnu en tant que commande interne\r\nou externe, un programme exécutable ou un fichier de commandes.")

    static let spanish = ToolText(
        statusLabels: [
            "NOMBRE_SERVICIO", "TIPO", "ESTADO", "CÓD_SALIDA_WIN32", "CÓD_SALIDA_SERVICIO", "PUNTO_COMPROB.", "INDICACIÓN_INICIO",
            "PID", "MARCAS",
        ],
        configurationLabels: [
            "NOMBRE_SERVICIO", "TIPO", "TIPO_INICIO", "CONTROL_ERROR", "NOMBRE_RUTA_BINARIO", "GRUPO_ORDEN_CARGA",
            "ETIQUETA", "NOMBRE_MOSTRAR", "DEPENDENCIAS", "NOMBRE_INICIO_SERVICIO",
        ],
        words: [:],
        failureHeader: "[SC] {0} ERROR {1}:",
        success: "[SC] {0} CORRECTO",
        messages: [
            1053: "El servicio no respondió a tiempo a la solicitud de inicio o de control.",
            1056: "Ya se está ejecutando una instancia del servicio.",
            1058: "No se puede iniciar el servicio porque está deshabilitado o porque no tiene dispositivos habilitados asociados.",
            1060: "El servicio especificado no existe como servicio instalado.",
            1061: "El servicio no puede aceptar mensajes de control en este momento.",
            1062: "El servicio no se ha iniciado.",
        ],
        defaultValueName: "(Predeterminado)",
        registryNotFound: "ERROR: El sistema no pudo encontrar la clave o el valor del Registro especificados.",
        registrySyntax: "ERROR: Sintaxis no válida.\r\nEscriba \"REG /?\" para obtener detalles de uso.",
        iisAttemptingStop: "Intentando detener...",
        iisStopped: "Servicios de Internet detenidos correctamente",
        iisAttemptingStart: "Intentando iniciar...",
        iisStarted: "Servicios de Internet iniciados correctamente",
        iisStatus: "Estado de {0} ( {1} ) : {2}",
        iisRunning: "En ejecución",
        iisStopped2: "Detenido",
        notRecognized: "\"{0}\" no se reconoce como un comando interno o externo,\r\nprograma o archivo por lotes ejecutable.")

    static let portuguese = ToolText(
        statusLabels: [
            "NOME_DO_SERVIÇO", "TIPO", "ESTADO", "CÓDIGO_DE_SAÍDA_WIN32", "CÓDIGO_DE_SAÍDA_DO_SERVIÇO", "PONTO_DE_VERIFICAÇÃO",
            "DICA_DE_ESPERA", "PID", "SINALIZADORES",
        ],
        configurationLabels: [
            "NOME_DO_SERVIÇO", "TIPO", "TIPO_DE_INÍCIO", "CONTROLE_DE_ERROS", "NOME_DO_CAMINHO_BINÁRIO",
            "GRUPO_DE_ORDEM_DE_CARGA", "MARCA", "NOME_DE_EXIBIÇÃO", "DEPENDÊNCIAS", "NOME_DE_INÍCIO_DO_SERVIÇO",
        ],
        words: [:],
        failureHeader: "[SC] {0} FALHA {1}:",
        success: "[SC] {0} ÊXITO",
        messages: [
            1053: "O serviço não respondeu à solicitação de início ou controle em tempo hábil.",
            1056: "Uma instância do serviço já está em execução.",
            1058: "O serviço não pode ser iniciado porque está desabilitado ou porque não tem dispositivos habilitados associados a ele.",
            1060: "O serviço especificado não existe como serviço instalado.",
            1061: "O serviço não pode aceitar mensagens de controle no momento.",
            1062: "O serviço não foi iniciado.",
        ],
        defaultValueName: "(Padrão)",
        registryNotFound: "ERRO: o sistema não pôde localizar a chave ou o valor do Registro especificado.",
        registrySyntax: "ERRO: sintaxe inválida.\r\nDigite \"REG /?\" para obter detalhes sobre o uso.",
        iisAttemptingStop: "Tentando parar...",
        iisStopped: "Os serviços de Internet foram parados.",
        iisAttemptingStart: "Tentando iniciar...",
        iisStarted: "Os serviços de Internet foram iniciados.",
        iisStatus: "Status de {0} ( {1} ) : {2}",
        iisRunning: "Em execução",
        iisStopped2: "Parado",
        notRecognized: "'{0}' não é reconhecido como um comando interno\r\nou externo, um programa operável ou um arquivo em lotes.")

    /// zh-CN: the `sc query` labels stay English in the public pastes; `sc qc` translates
    /// BINARY_PATH_NAME (the only qc label seen translated, kept so; the others stay English).
    static let chinese = ToolText(
        statusLabels: english.statusLabels,
        configurationLabels: [
            "SERVICE_NAME", "TYPE", "START_TYPE", "ERROR_CONTROL", "二进制路径名", "LOAD_ORDER_GROUP", "TAG",
            "DISPLAY_NAME", "DEPENDENCIES", "SERVICE_START_NAME",
        ],
        words: [:],
        failureHeader: "[SC] {0} 失败 {1}:",
        success: "[SC] {0} 成功",
        messages: [
            1053: "服务没有及时响应启动或控制请求。",
            1056: "服务的实例已在运行中。",
            1058: "无法启动服务，原因可能是已被禁用或与其相关联的设备没有启动。",
            1060: "指定的服务未安装。",
            1061: "服务此时无法接受控制信息。",
            1062: "服务未启动。",
        ],
        defaultValueName: "(默认)",
        registryNotFound: "错误: 系统找不到指定的注册表项或值。",
        registrySyntax: "错误: 无效语法。\r\n键入 \"REG /?\" 以了解用法信息。",
        iisAttemptingStop: "正在尝试停止...",
        iisStopped: "已成功停止 Internet 服务",
        iisAttemptingStart: "正在尝试启动...",
        iisStarted: "已成功启动 Internet 服务",
        iisStatus: "{0} ( {1} ) 的状态: {2}",
        iisRunning: "正在运行",
        iisStopped2: "已停止",
        notRecognized: "'{0}' 不是内部或外部命令，也不是可运行的程序\r\n或批处理文件。")

    /// ja-JP, printed in code page 932 (Shift-JIS). Like zh-CN, the `sc` labels stay English;
    /// cmd.exe's message is from a public paste (SOURCES.md), the rest the simulator's own.
    static let japanese = ToolText(
        statusLabels: english.statusLabels,
        configurationLabels: english.configurationLabels,
        words: [:],
        failureHeader: "[SC] {0} 失敗 {1}:",
        success: "[SC] {0} 成功",
        messages: [
            1053: "サービスが開始要求または制御要求に適切な時間内に応答しませんでした。",
            1056: "サービスのインスタンスは既に実行されています。",
            1058: "無効にされているか、または有効なデバイスが関連付けられていないため、このサービスを開始できません。",
            1060: "指定されたサービスはインストールされたサービスとして存在しません。",
            1061: "現在サービスは制御メッセージを受け付けることができません。",
            1062: "サービスは開始されていません。",
        ],
        defaultValueName: "(既定)",
        registryNotFound: "エラー: 指定されたレジストリ キーまたは値が見つかりませんでした。",
        registrySyntax: "エラー: 無効な構文です。\r\n使用法については、\"REG /?\" と入力してください。",
        iisAttemptingStop: "停止を試みています...",
        iisStopped: "インターネット サービスは正常に停止されました",
        iisAttemptingStart: "開始を試みています...",
        iisStarted: "インターネット サービスは正常に開始されました",
        iisStatus: "{0} ( {1} ) の状態: {2}",
        iisRunning: "実行中",
        iisStopped2: "停止",
        notRecognized: "'{0}' は、内部コマンドまたは外部コマンド、\r\n操作可能なプログラムまたはバッチ ファイルとして認識されていません。")

    /// Every label, word and message rewritten as the pseudo-locale does.
    var rewritten: ToolText {
        let r = PseudoLocalization.rewrite
        var words: [String: String] = [:]
        for word in Self.englishWords { words[word] = r(word) }
        return ToolText(
            statusLabels: statusLabels.map(r), configurationLabels: configurationLabels.map(r), words: words,
            failureHeader: r(failureHeader), success: r(success), messages: messages.mapValues(r),
            defaultValueName: r(defaultValueName), registryNotFound: r(registryNotFound), registrySyntax: r(registrySyntax),
            iisAttemptingStop: r(iisAttemptingStop), iisStopped: r(iisStopped), iisAttemptingStart: r(iisAttemptingStart),
            iisStarted: r(iisStarted), iisStatus: r(iisStatus), iisRunning: r(iisRunning), iisStopped2: r(iisStopped2),
            notRecognized: r(notRecognized))
    }

    /// Fills `{0}`, `{1}`… in a template (by hand: Foundation's replacingOccurrences goes through
    /// NSString, a cost at every emulated program's start).
    static func fill(_ template: String, _ values: String...) -> String {
        var result = ""
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{") {
            result += rest[..<open]
            let after = rest[rest.index(after: open)...]
            if let close = after.firstIndex(of: "}"), let index = Int(after[..<close]), values.indices.contains(index) {
                result += values[index]
                rest = after[after.index(after: close)...]
            } else {
                result += "{"
                rest = after
            }
        }
        return result + rest
    }
}
