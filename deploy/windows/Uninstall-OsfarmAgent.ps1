<#
.SYNOPSIS
    Undoes Install-OsfarmAgent.ps1: removes the controller's key, the firewall rule and the agent.

.DESCRIPTION
    Idempotent and supports -WhatIf. Leaves the OpenSSH Server capability installed (other tools may
    use it); pass -RemoveOpenSSHServer to remove it too.
#>
[CmdletBinding(SupportsShouldProcess = $true)]
param(
    [Parameter(Mandatory = $true)] [string] $ControllerPublicKey,
    [string] $InstallDirectory = "$env:ProgramFiles\osfarm",
    [string] $FirewallRuleName = 'osfarm - OpenSSH Server from the jump host',
    [switch] $RemoveOpenSSHServer
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$keyLine = if (Test-Path -LiteralPath $ControllerPublicKey -PathType Leaf) { (Get-Content -LiteralPath $ControllerPublicKey -Raw).Trim() } else { $ControllerPublicKey.Trim() }
$keyBody = ($keyLine -split ' ')[1]
$authorizedKeys = Join-Path $env:ProgramData 'ssh\administrators_authorized_keys'
if ((Test-Path -LiteralPath $authorizedKeys) -and (Select-String -LiteralPath $authorizedKeys -SimpleMatch $keyBody -Quiet)) {
    if ($PSCmdlet.ShouldProcess($authorizedKeys, 'Remove the controller key')) {
        $kept = @(Get-Content -LiteralPath $authorizedKeys | Where-Object { $_ -notlike "*$keyBody*" })
        Set-Content -LiteralPath $authorizedKeys -Value $kept -Encoding ascii
    }
}

if (Get-NetFirewallRule -DisplayName $FirewallRuleName -ErrorAction SilentlyContinue) {
    if ($PSCmdlet.ShouldProcess($FirewallRuleName, 'Remove-NetFirewallRule')) { Remove-NetFirewallRule -DisplayName $FirewallRuleName }
}

if (Test-Path -LiteralPath $InstallDirectory) {
    if ($PSCmdlet.ShouldProcess($InstallDirectory, 'Remove the agent and its previous and staged binaries')) {
        Remove-Item -LiteralPath $InstallDirectory -Recurse -Force
    }
}

if ($RemoveOpenSSHServer) {
    $capability = Get-WindowsCapability -Online | Where-Object { $_.Name -like 'OpenSSH.Server*' -and $_.State -eq 'Installed' } | Select-Object -First 1
    if ($null -ne $capability -and $PSCmdlet.ShouldProcess($capability.Name, 'Remove-WindowsCapability')) {
        Stop-Service -Name sshd -ErrorAction SilentlyContinue
        Remove-WindowsCapability -Online -Name $capability.Name | Out-Null
    }
}
