// Generated from deploy/windows/Test-OsfarmLogins.ps1 (LoginCheckScriptTests checks they are equal).
// swift-format-ignore-file

/// The fixed PowerShell script of the login check, as the agent starts it.
enum LoginCheckScript {
    static let text = #"""
# osfarm-login-check 1
# The login check osfarm-agent runs on each server (check-logins). Fixed text: the agent embeds it
# and starts it as powershell.exe -NoProfile -NonInteractive -EncodedCommand <this script>, with
# its input, one JSON document, on stdin; no value from the input is ever put into code or SQL
# text (SqlConnectionStringBuilder and SqlParameter carry them). It uses .NET Framework's
# System.Data.SqlClient, which every OutSystems 11 server has, so what answers is what the
# platform's own client sees (error numbers, TLS, SQL Server Browser).
# Input:  {"timeoutSeconds":15,"checks":[{"id":"..","server":"..","catalog":"..","integrated":false,
#          "user":"..","password":"..","roles":[".."]}]}
# Output: {"identity":".."} (the Windows identity the session runs as), then one JSON line per check, ASCII only: {"id":"..","ok":true,"login":"..","roles":[..],
#          "defaultDatabase":"..","defaultDatabaseExists":true} or {"id":"..","ok":false,"number":N,
#          "message":".."}, then per failed check that another check on the same server can look
#          into: {"id":"..","refined":true,"canSeeLogins":..,"loginExists":..,"loginDisabled":..,
#          "userExists":..}. Passwords are never printed.
$ErrorActionPreference = 'Stop'
$request = [Console]::In.ReadToEnd() | ConvertFrom-Json

function Write-Line($record) {
    $json = ConvertTo-Json -InputObject $record -Compress -Depth 4
    $ascii = [regex]::Replace($json, '[^\x00-\x7F]', { param($m) '\u{0:x4}' -f [int][char]$m.Value })
    [Console]::Out.WriteLine($ascii)
}

function Open-Connection($check, [bool]$withCatalog) {
    $builder = New-Object System.Data.SqlClient.SqlConnectionStringBuilder
    $builder['Data Source'] = [string]$check.server
    if ($withCatalog) { $builder['Initial Catalog'] = [string]$check.catalog }
    $builder['Connect Timeout'] = [int][Math]::Ceiling([double]$request.timeoutSeconds)
    $builder['Pooling'] = $false
    $builder['Application Name'] = 'osfarm login check'
    if ($check.integrated) {
        $builder['Integrated Security'] = $true
    } else {
        $builder['User ID'] = [string]$check.user
        $builder['Password'] = [string]$check.password
    }
    $connection = New-Object System.Data.SqlClient.SqlConnection $builder.ConnectionString
    $connection.Open()
    return $connection
}

function Invoke-Scalar($connection, [string]$text, $parameters) {
    $command = $connection.CreateCommand()
    $command.CommandText = $text
    foreach ($name in $parameters.Keys) { [void]$command.Parameters.AddWithValue($name, [string]$parameters[$name]) }
    return $command.ExecuteScalar()
}

Write-Line @{ identity = [System.Security.Principal.WindowsIdentity]::GetCurrent().Name }
$results = @{}
foreach ($check in $request.checks) {
    $connection = $null
    try {
        $connection = Open-Connection $check $true
        $roles = @()
        foreach ($role in @($check.roles) + @('db_owner')) {
            if ((Invoke-Scalar $connection 'SELECT IS_ROLEMEMBER(@role)' @{ '@role' = $role }) -eq 1) { $roles += $role }
        }
        $login = Invoke-Scalar $connection 'SELECT SUSER_SNAME()' @{}
        $default = Invoke-Scalar $connection 'SELECT default_database_name FROM sys.server_principals WHERE sid = SUSER_SID()' @{}
        $exists = $null -ne (Invoke-Scalar $connection 'SELECT DB_ID(@name)' @{ '@name' = [string]$default })
        $results[$check.id] = @{ id = $check.id; ok = $true; login = [string]$login; roles = $roles; defaultDatabase = [string]$default; defaultDatabaseExists = $exists }
    } catch [System.Data.SqlClient.SqlException] {
        $results[$check.id] = @{ id = $check.id; ok = $false; number = $_.Exception.Number; message = $_.Exception.Message }
    } catch {
        $results[$check.id] = @{ id = $check.id; ok = $false; number = 0; message = $_.Exception.Message }
    } finally {
        if ($null -ne $connection) { $connection.Dispose() }
    }
    Write-Line $results[$check.id]
}

# SQL Server tells a client only "Login failed" (MSSQLSERVER_18456): ask, through a check that
# worked on the same server and catalog, whether the login exists, is disabled, and has a user.
foreach ($check in $request.checks) {
    if ($results[$check.id].ok -or $check.integrated) { continue }
    $helper = $request.checks | Where-Object {
        $results[$_.id].ok -and ([string]$_.server -eq [string]$check.server) -and ([string]$_.catalog -eq [string]$check.catalog)
    } | Select-Object -First 1
    if ($null -eq $helper) { continue }
    $connection = $null
    try {
        $connection = Open-Connection $helper $true
        $name = @{ '@name' = [string]$check.user }
        $canSee = (Invoke-Scalar $connection "SELECT HAS_PERMS_BY_NAME(NULL, NULL, 'VIEW ANY DEFINITION')" @{}) -eq 1
        $loginCount = Invoke-Scalar $connection 'SELECT COUNT(*) FROM sys.server_principals WHERE name = @name' $name
        $disabled = Invoke-Scalar $connection 'SELECT COUNT(*) FROM sys.server_principals WHERE name = @name AND is_disabled = 1' $name
        $users = Invoke-Scalar $connection 'SELECT COUNT(*) FROM sys.database_principals WHERE name = @name' $name
        Write-Line @{ id = $check.id; refined = $true; canSeeLogins = $canSee; loginExists = ($loginCount -gt 0); loginDisabled = ($disabled -gt 0); userExists = ($users -gt 0) }
    } catch {
        Write-Line @{ id = $check.id; refined = $false; message = $_.Exception.Message }
    } finally {
        if ($null -ne $connection) { $connection.Dispose() }
    }
}
"""#
}
