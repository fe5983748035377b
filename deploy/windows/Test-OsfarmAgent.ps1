<#
.SYNOPSIS
    Talks to the osfarm agent through this server's own sshd, as the osfarm controller would, and
    checks what it answers.

.DESCRIPTION
    Connects with ssh.exe and the controller's key (whose authorized_keys line forces the agent),
    sends JSON-line requests and reads the answers: the agent's hello, then inspect (which runs
    reg.exe and sc.exe) and service-status. With -StopStartIIS it also stops and starts IIS through
    the agent and checks W3SVC with Get-Service after each. Changes nothing else. Exits 1 on the
    first check that fails.

.EXAMPLE
    .\Test-OsfarmAgent.ps1 -IdentityFile C:\keys\osfarm_ed25519 -StopStartIIS
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)] [string] $IdentityFile,
    [string] $User = $env:USERNAME,
    [string] $HostName = '127.0.0.1',
    [switch] $StopStartIIS
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$ssh = Join-Path $env:SystemRoot 'System32\OpenSSH\ssh.exe'
$knownHosts = Join-Path $env:TEMP 'osfarm-test-known_hosts'

# One session: the requests on stdin, one JSON document per line on stdout.
function Invoke-Agent([string[]] $Requests) {
    $errors = Join-Path $env:TEMP 'osfarm-test-stderr.txt'
    $lines = @($Requests | & $ssh -i $IdentityFile -o BatchMode=yes -o StrictHostKeyChecking=accept-new `
            -o "UserKnownHostsFile=$knownHosts" "$User@$HostName" 2> $errors)
    $status = $LASTEXITCODE
    $messages = @($lines | Where-Object { $_ -match '^\{' } | ForEach-Object { $_ | ConvertFrom-Json })
    if ($messages.Count -eq 0) {
        throw "the agent said nothing (ssh exit $status): $(Get-Content -Raw -LiteralPath $errors)"
    }
    return $messages
}

function Get-Result($Messages, [string] $Id) {
    $result = @($Messages | Where-Object { $_.type -eq 'result' -and $_.id -eq $Id })
    if ($result.Count -ne 1) { throw "no single result for request $Id" }
    if ($result[0].status -ne 'ok') { throw "request $Id failed: $($result[0] | ConvertTo-Json -Depth 8 -Compress)" }
    return $result[0]
}

$messages = Invoke-Agent @('{"id":"1","op":"inspect","v":1}', '{"id":"2","op":"service-status","v":1}')
if ($messages[0].type -ne 'hello') { throw "the agent did not speak first: $($messages[0] | ConvertTo-Json -Compress)" }
Write-Output "hello: agent $($messages[0].agentVersion) on $($messages[0].host.hostname) ($($messages[0].host.operatingSystem))"
$inspection = Get-Result $messages '1'
Write-Output "inspect: $($inspection.data | ConvertTo-Json -Depth 8 -Compress)"
$status = Get-Result $messages '2'
$w3svc = @($status.data.services | Where-Object { $_.name -eq 'W3SVC' })
if ($w3svc.Count -ne 1) { throw "service-status does not report W3SVC: $($status.data | ConvertTo-Json -Depth 6 -Compress)" }
Write-Output "service-status: W3SVC $($w3svc[0].state), start type $($w3svc[0].startType)"

if ($StopStartIIS) {
    $stopped = Invoke-Agent @('{"args":{"serviceTimeoutSeconds":120},"id":"3","op":"stop-iis","v":1}')
    $null = Get-Result $stopped '3'
    if ((Get-Service -Name W3SVC).Status -ne 'Stopped') { throw 'stop-iis answered ok but W3SVC is not stopped' }
    Write-Output 'stop-iis: W3SVC stopped'
    $started = Invoke-Agent @('{"args":{"serviceTimeoutSeconds":120},"id":"4","op":"start-iis","v":1}')
    $null = Get-Result $started '4'
    if ((Get-Service -Name W3SVC).Status -ne 'Running') { throw 'start-iis answered ok but W3SVC is not running' }
    Write-Output 'start-iis: W3SVC running'
}
