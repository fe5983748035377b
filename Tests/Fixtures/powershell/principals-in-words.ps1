# What scripts/parse-powershell.py must refuse: each statement names a principal in words, which a
# localized Windows translates. Taken from Install-OsfarmAgent.ps1 before it used SIDs, plus the
# other shapes the check knows. check-windows-files.sh requires exactly these 8 findings and no other..
$allowed = @('BUILTIN\Administrators', 'NT AUTHORITY\SYSTEM')
icacls.exe $authorizedKeys /inheritance:r /grant 'Administrators:F' /grant 'SYSTEM:F'
icacls.exe $authorizedKeys /grant Everyone:R /grant "Users:(OI)(CI)R"
$group = "$env:COMPUTERNAME\Administrators"
if ($holder -eq 'Authenticated Users') { throw 'open to every user' }
# Not principals: paths, prose, SIDs.
$profiles = 'C:\Users'
Write-Output 'Restrict the ACL to Administrators and SYSTEM'
icacls.exe $authorizedKeys /grant '*S-1-5-32-544:F' /grant '*S-1-5-18:F'
