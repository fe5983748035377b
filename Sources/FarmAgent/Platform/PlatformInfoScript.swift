// Generated from deploy/windows/Get-OsfarmPlatformInfo.ps1 (PlatformInfoScriptTests checks they are equal).
// swift-format-ignore-file

/// The fixed PowerShell script that calls GetPlatformInfo over HTTPS, as the agent starts it.
enum PlatformInfoScript {
    static let text = #"""
# osfarm-platform-info 1
# Service Center's GetPlatformInfo over HTTPS, as osfarm-agent calls it on each server
# (get-platform-info with the inventory's service-center.scheme: https). Fixed text: the agent
# embeds it and starts it as powershell.exe -NoProfile -NonInteractive -EncodedCommand <this script>,
# with its input, one JSON document, on stdin. It uses .NET Framework's HttpWebRequest, the client
# under the SoapHttpClientProtocol proxy OutSystems.SetupTools builds with New-WebServiceProxy, so
# the TLS handshake is the server's own (Schannel); the agent's plain HTTP client has no TLS.
# Certificates: one without errors is accepted. One with errors (a name that is not 127.0.0.1, a
# self-signed chain) is accepted only when the URL's host is a loopback address, so the connection
# never leaves this server, and the certificate presented is one of this server's own: its
# thumbprint is in the machine's Personal (My) or Web Hosting store, where IIS keeps the
# certificates its bindings use. Anything else is refused, and the output says why.
# Input:  {"url":"https://127.0.0.1:443/ServiceCenter/OutSystemsPlatform.asmx","host":"..." or null,
#          "soapAction":"..","envelope":"..","timeoutSeconds":30}
# Output: one JSON line, ASCII only: {"status":200,"reason":"OK","server":"..","location":"..",
#          "body":"..","certificate":{..}} or {"status":0,"failure":"TrustFailure","message":"..",
#          "certificate":{..}}; certificate: {"subject":"..","thumbprint":"..","errors":"..",
#          "loopback":true,"inMachineStore":true,"accepted":true}.
$ErrorActionPreference = 'Stop'
$request = [Console]::In.ReadToEnd() | ConvertFrom-Json

function Write-Line($record) {
    $json = ConvertTo-Json -InputObject $record -Compress -Depth 4
    $ascii = [regex]::Replace($json, '[^\x00-\x7F]', { param($m) '\u{0:x4}' -f [int][char]$m.Value })
    [Console]::Out.WriteLine($ascii)
}

# The thumbprints of the certificates this server holds for its own sites.
$own = @()
foreach ($storeName in @('My', 'WebHosting')) {
    $store = New-Object System.Security.Cryptography.X509Certificates.X509Store($storeName, 'LocalMachine')
    try {
        $store.Open('ReadOnly, OpenExistingOnly')
        foreach ($held in $store.Certificates) { $own += $held.Thumbprint }
    } catch {
        # A store that does not exist holds nothing (Web Hosting comes with IIS 8 and later).
    } finally {
        $store.Close()
    }
}

$uri = [Uri][string]$request.url
$address = $null
$loopback = [System.Net.IPAddress]::TryParse($uri.DnsSafeHost, [ref]$address) -and [System.Net.IPAddress]::IsLoopback($address)
$script:certificate = $null

# SetupTools asks for TLS 1.2 the same way before it downloads (Lib/PlatformSetup.ps1); added to
# what the process allows, never taking a protocol away.
[System.Net.ServicePointManager]::SecurityProtocol = [System.Net.ServicePointManager]::SecurityProtocol -bor [System.Net.SecurityProtocolType]::Tls12

$web = [System.Net.HttpWebRequest][System.Net.WebRequest]::Create($uri)
$web.Method = 'POST'
$web.ContentType = 'text/xml; charset=utf-8'
$web.Headers.Add('SOAPAction', [string]$request.soapAction)
if ($request.host) { $web.Host = [string]$request.host }
$web.AllowAutoRedirect = $false
$web.KeepAlive = $false
$web.Timeout = [int]([double]$request.timeoutSeconds * 1000)
$web.ReadWriteTimeout = $web.Timeout
# Called on this thread during the synchronous GetRequestStream, for this request only.
$web.ServerCertificateValidationCallback = {
    param($sender, $presented, $chain, $errors)
    $thumbprint = $presented.GetCertHashString()
    $held = $own -contains $thumbprint
    $accepted = ($errors -eq [System.Net.Security.SslPolicyErrors]::None) -or ($loopback -and $held)
    $script:certificate = @{
        subject = [string]$presented.Subject; thumbprint = $thumbprint; errors = [string]$errors
        loopback = $loopback; inMachineStore = $held; accepted = $accepted
    }
    return $accepted
}

$body = [System.Text.Encoding]::UTF8.GetBytes([string]$request.envelope)
$web.ContentLength = $body.Length
$response = $null
try {
    $stream = $web.GetRequestStream()
    $stream.Write($body, 0, $body.Length)
    $stream.Close()
    $response = $web.GetResponse()
} catch {
    # PowerShell wraps what a .NET method throws; the WebException is inside.
    $failure = $_.Exception
    while ($failure -isnot [System.Net.WebException] -and $null -ne $failure.InnerException) { $failure = $failure.InnerException }
    if ($failure -is [System.Net.WebException] -and $null -ne $failure.Response) {
        $response = $failure.Response
    } else {
        $status = if ($failure -is [System.Net.WebException]) { [string]$failure.Status } else { 'UnknownError' }
        Write-Line @{ status = 0; failure = $status; message = $failure.Message; certificate = $script:certificate }
        exit 0
    }
}
try {
    $reader = New-Object System.IO.StreamReader($response.GetResponseStream(), [System.Text.Encoding]::UTF8)
    $text = $reader.ReadToEnd()
    Write-Line @{
        status = [int]$response.StatusCode; reason = [string]$response.StatusDescription
        server = [string]$response.Headers['Server']; location = [string]$response.Headers['Location']
        body = $text; certificate = $script:certificate
    }
} finally {
    $response.Close()
}
"""#
}
