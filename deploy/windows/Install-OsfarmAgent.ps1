<#
.SYNOPSIS
    Installs the osfarm agent on an OutSystems server and lets the osfarm controller reach it over SSH.

.DESCRIPTION
    Idempotent: every step checks the current state first and only acts when something differs, so
    running it again changes nothing. Supports -WhatIf and -Confirm.

    1. Copies osfarm-agent.exe to C:\Program Files\osfarm\ (only when the file differs).
    2. Makes sure the OpenSSH Server capability is installed, the sshd service is running and starts
       automatically.
    3. Adds the controller's public key to C:\ProgramData\ssh\administrators_authorized_keys with a
       forced command, so that key can run the agent and nothing else:
           command="\"C:\Program Files\osfarm\osfarm-agent.exe\" serve",restrict ssh-ed25519 AAAA... osfarm
       Win32-OpenSSH runs a forced command through its DefaultShell (cmd.exe /c unless
       HKLM\SOFTWARE\OpenSSH DefaultShell names another), and cmd.exe cuts an unquoted path at its
       first space: the path is quoted inside the command. With PowerShell as the DefaultShell the
       command is & "C:\Program Files\osfarm\osfarm-agent.exe" serve instead.
       The file gets the ACL OpenSSH requires (Administrators and SYSTEM only), named by their
       well-known SIDs so that it works on a localized Windows too.
    4. Opens TCP 22 for sshd to the jump host's address only, and disables the rule the OpenSSH
       capability adds (OpenSSH-Server-In-TCP), which opens it to every address.

.PARAMETER AgentBinary
    Path of the osfarm-agent.exe to install.

.PARAMETER ControllerPublicKey
    The controller's public key line (ssh-ed25519 AAAA... comment), or the path of a .pub file.

.PARAMETER JumpHostAddress
    The IP address (or CIDR range) of the jump host; sshd is opened to it only.

.EXAMPLE
    .\Install-OsfarmAgent.ps1 -AgentBinary .\osfarm-agent.exe -ControllerPublicKey .\osfarm_ed25519.pub -JumpHostAddress 10.20.0.5 -WhatIf
#>
[CmdletBinding(SupportsShouldProcess = $true)]
param(
    [Parameter(Mandatory = $true)] [string] $AgentBinary,
    [Parameter(Mandatory = $true)] [string] $ControllerPublicKey,
    [Parameter(Mandatory = $true)] [string] $JumpHostAddress,
    [string] $InstallDirectory = "$env:ProgramFiles\osfarm",
    [string] $FirewallRuleName = 'osfarm - OpenSSH Server from the jump host'
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$principal = New-Object Security.Principal.WindowsPrincipal([Security.Principal.WindowsIdentity]::GetCurrent())
if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
    throw 'Run this script in an elevated PowerShell (as Administrator).'
}

# 1. The agent binary.
$agentPath = Join-Path $InstallDirectory 'osfarm-agent.exe'
if (-not (Test-Path -LiteralPath $AgentBinary -PathType Leaf)) { throw "No agent binary at $AgentBinary" }
$wanted = (Get-FileHash -LiteralPath $AgentBinary -Algorithm SHA256).Hash
$present = if (Test-Path -LiteralPath $agentPath) { (Get-FileHash -LiteralPath $agentPath -Algorithm SHA256).Hash } else { $null }
if ($present -ne $wanted) {
    if ($PSCmdlet.ShouldProcess($agentPath, 'Install osfarm-agent.exe')) {
        New-Item -ItemType Directory -Force -Path $InstallDirectory | Out-Null
        Copy-Item -LiteralPath $AgentBinary -Destination $agentPath -Force
    }
} else {
    Write-Verbose "$agentPath is already this binary (SHA256 $wanted)"
}

# 2. OpenSSH Server: installed, running, automatic.
$capability = Get-WindowsCapability -Online | Where-Object Name -like 'OpenSSH.Server*' | Select-Object -First 1
if ($null -eq $capability) { throw 'This Windows has no OpenSSH.Server capability; install Win32-OpenSSH.' }
if ($capability.State -ne 'Installed') {
    if ($PSCmdlet.ShouldProcess($capability.Name, 'Add-WindowsCapability')) {
        Add-WindowsCapability -Online -Name $capability.Name | Out-Null
    }
}
# Read after the capability step: on a server where it was just added, sshd exists only now.
$sshd = Get-Service -Name sshd -ErrorAction SilentlyContinue
if ($null -eq $sshd) {
    if (-not $WhatIfPreference) { throw 'The sshd service is not there after installing OpenSSH.Server; restart Windows and run this script again.' }
    Write-Output 'What if: sshd would be set to start automatically and started once OpenSSH.Server is installed.'
} else {
    if ($sshd.StartType -ne 'Automatic' -and $PSCmdlet.ShouldProcess('sshd', 'Set start type Automatic')) {
        Set-Service -Name sshd -StartupType Automatic
    }
    if ($sshd.Status -ne 'Running' -and $PSCmdlet.ShouldProcess('sshd', 'Start-Service')) {
        Start-Service -Name sshd
    }
}

# 3. The controller's key, forced to the agent.
$keyLine = if (Test-Path -LiteralPath $ControllerPublicKey -PathType Leaf) { (Get-Content -LiteralPath $ControllerPublicKey -Raw).Trim() } else { $ControllerPublicKey.Trim() }
if ($keyLine -notmatch '^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]+') {
    throw 'The controller key must be an Ed25519 or ECDSA public key line (libssh2 1.10 cannot sign RSA keys for modern servers).'
}
$keyBody = ($keyLine -split ' ')[1]
# Win32-OpenSSH hands the forced command to its DefaultShell. cmd.exe (the default) cuts an
# unquoted "C:\Program Files\..." at the space, so the path is quoted; PowerShell would print a
# quoted path, so it runs it with its call operator. (PowerShell/Win32-OpenSSH issues #524 and
# #1164; openssh-portable contrib/win32/win32compat/w32-doexec.c.)
# The other values sshd reads with DefaultShell (pwd.c) change the forced command's line:
# DefaultShellCommandOption replaces /c (cmd.exe) or -c (the rest), and a shell that is neither
# cmd.exe nor PowerShell gets the command quoted another way (w32-doexec.c). The script refuses
# those rather than change a machine-wide setting other sessions may rely on, and says which.
# DefaultShellArguments only applies to sessions without a command, so never to this one.
$openSSH = Get-ItemProperty -LiteralPath 'HKLM:\SOFTWARE\OpenSSH' -ErrorAction SilentlyContinue
function Get-OpenSSHValue([string] $Name) {
    if ($null -ne $openSSH -and @($openSSH.PSObject.Properties.Name) -contains $Name) { return [string]$openSSH.$Name }
    return ''
}
$defaultShell = Get-OpenSSHValue 'DefaultShell'
$shellOption = Get-OpenSSHValue 'DefaultShellCommandOption'
$shellIsCmd = ($defaultShell -eq '') -or ($defaultShell -match 'system32\\cmd')
$shellIsPowerShell = (-not $shellIsCmd) -and ($defaultShell -match 'powershell')
if (-not $shellIsCmd -and -not $shellIsPowerShell) {
    throw "HKLM:\SOFTWARE\OpenSSH DefaultShell is '$defaultShell', neither cmd.exe nor PowerShell; the forced command is written for those two. Point DefaultShell at cmd.exe or powershell.exe, or remove it."
}
if ($defaultShell -ne '' -and $shellOption -ne '') {
    $expectedOptions = if ($shellIsCmd) { @('/c', '/d /c') } else { @('-c', '-command') }
    if ($expectedOptions -notcontains $shellOption.ToLowerInvariant()) {
        throw "HKLM:\SOFTWARE\OpenSSH DefaultShellCommandOption is '$shellOption'; sshd puts it in place of $($expectedOptions[0]) before the forced command, which then does not start the agent as written. Remove it (Remove-ItemProperty -LiteralPath HKLM:\SOFTWARE\OpenSSH -Name DefaultShellCommandOption) or set it to $($expectedOptions[0])."
    }
}
$forcedCommand = if ($shellIsPowerShell) { '& "{0}" serve' -f $agentPath } else { '"{0}" serve' -f $agentPath }
# Inside the authorized_keys option every quote is written \".
$entry = 'command="{0}",restrict {1}' -f ($forcedCommand -replace '"', '\"'), $keyLine
$sshFolder = Join-Path $env:ProgramData 'ssh'
$authorizedKeys = Join-Path $sshFolder 'administrators_authorized_keys'
# sshd creates the folder when it first starts; it may not have yet.
if (-not (Test-Path -LiteralPath $sshFolder)) {
    if ($PSCmdlet.ShouldProcess($sshFolder, 'Create the OpenSSH configuration folder')) {
        New-Item -ItemType Directory -Force -Path $sshFolder | Out-Null
    }
}
$lines = @()
if (Test-Path -LiteralPath $authorizedKeys) { $lines = @(Get-Content -LiteralPath $authorizedKeys) }
$existing = @($lines | Where-Object { $_ -like "*$keyBody*" })
if ($existing.Count -ne 1 -or $existing[0] -ne $entry) {
    if ($PSCmdlet.ShouldProcess($authorizedKeys, 'Add the controller key with a forced command running only the agent')) {
        $kept = @($lines | Where-Object { $_ -notlike "*$keyBody*" })
        Set-Content -LiteralPath $authorizedKeys -Value ($kept + $entry) -Encoding ascii
    }
}
# OpenSSH ignores this file unless only Administrators and SYSTEM can touch it. Both are named by
# their well-known SIDs (S-1-5-32-544, S-1-5-18): their names are translated on a localized Windows
# ("Administratoren"), where icacls /grant Administrators:F fails and a comparison with
# BUILTIN\Administrators never matches (MicrosoftDocs/windowsserverdocs issue 6185 and PR 7392;
# PowerShell/Win32-OpenSSH issue 1757). icacls takes a SID written *S-1-5-32-544.
if (Test-Path -LiteralPath $authorizedKeys) {
    $acl = Get-Acl -LiteralPath $authorizedKeys
    $allowed = @('S-1-5-32-544', 'S-1-5-18')
    $holders = @($acl.GetAccessRules($true, $true, [Security.Principal.SecurityIdentifier]) | ForEach-Object { $_.IdentityReference.Value } | Sort-Object -Unique)
    if ($acl.AreAccessRulesProtected -eq $false -or @($holders | Where-Object { $allowed -notcontains $_ }).Count -gt 0) {
        if ($PSCmdlet.ShouldProcess($authorizedKeys, 'Restrict the ACL to Administrators and SYSTEM (by SID)')) {
            icacls.exe $authorizedKeys /inheritance:r /grant '*S-1-5-32-544:F' /grant '*S-1-5-18:F' | Out-Null
            if ($LASTEXITCODE -ne 0) { throw "icacls failed on $authorizedKeys (exit $LASTEXITCODE)" }
        }
    }
}

# 4. Firewall: sshd to the jump host only. The OpenSSH.Server capability creates the rule
# 'OpenSSH-Server-In-TCP', which allows TCP 22 from any address (Microsoft Learn, "Get started with
# OpenSSH for Windows"); left enabled it would open sshd to everyone whatever the rule below says.
$defaultRule = @(Get-NetFirewallRule -Name 'OpenSSH-Server-In-TCP' -ErrorAction SilentlyContinue)
if (@($defaultRule | Where-Object { [string]$_.Enabled -eq 'True' }).Count -gt 0) {
    if ($PSCmdlet.ShouldProcess('OpenSSH-Server-In-TCP', 'Disable the rule that opens sshd to every address')) {
        Disable-NetFirewallRule -Name 'OpenSSH-Server-In-TCP'
    }
}
$rule = Get-NetFirewallRule -DisplayName $FirewallRuleName -ErrorAction SilentlyContinue
$ruleAddress = if ($null -ne $rule) { ($rule | Get-NetFirewallAddressFilter).RemoteAddress } else { $null }
if ($null -eq $rule) {
    if ($PSCmdlet.ShouldProcess($FirewallRuleName, "Allow TCP 22 from $JumpHostAddress")) {
        New-NetFirewallRule -DisplayName $FirewallRuleName -Direction Inbound -Protocol TCP -LocalPort 22 -RemoteAddress $JumpHostAddress -Action Allow | Out-Null
    }
} elseif ($ruleAddress -ne $JumpHostAddress) {
    if ($PSCmdlet.ShouldProcess($FirewallRuleName, "Limit to $JumpHostAddress")) {
        Set-NetFirewallRule -DisplayName $FirewallRuleName -RemoteAddress $JumpHostAddress
    }
}

Write-Output "osfarm agent: $agentPath (forced command: $forcedCommand)"
if (Test-Path -LiteralPath "$env:ProgramData\ssh\ssh_host_ed25519_key.pub") {
    Write-Output 'Host key to enrol on the jump host (compare with osfarm hosts enroll):'
    & "$env:SystemRoot\System32\OpenSSH\ssh-keygen.exe" -l -f "$env:ProgramData\ssh\ssh_host_ed25519_key.pub"
}
