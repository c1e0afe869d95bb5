# Trust a certificate (the platform's self-signed one) on Windows: imports it into the local
# machine's Trusted Root Certification Authorities store. Run in an elevated PowerShell.
#   powershell -ExecutionPolicy Bypass -File install-cert-windows.ps1 -Cert server.crt
#   ... -Remove  removes it again;  -Help  prints this.
param(
    [string]$Cert = "",
    [switch]$Remove,
    [switch]$Help
)
$ErrorActionPreference = "Stop"
Set-StrictMode -Version Latest

if ($Help -or -not $Cert) {
    Write-Output "usage: install-cert-windows.ps1 -Cert CERT.crt [-Remove]"
    Write-Output "Adds CERT.crt to Cert:\LocalMachine\Root (or removes it with -Remove). Needs an elevated shell."
    if ($Help) { exit 0 } else { exit 2 }
}
if (-not (Test-Path -LiteralPath $Cert)) { Write-Error "no such file: $Cert"; exit 1 }
$principal = New-Object Security.Principal.WindowsPrincipal([Security.Principal.WindowsIdentity]::GetCurrent())
if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
    Write-Error "run this in an elevated PowerShell (Run as administrator)"; exit 1
}
$x509 = New-Object System.Security.Cryptography.X509Certificates.X509Certificate2((Resolve-Path -LiteralPath $Cert).Path)
if ($Remove) {
    Get-ChildItem Cert:\LocalMachine\Root | Where-Object { $_.Thumbprint -eq $x509.Thumbprint } | Remove-Item
    Write-Output "removed $($x509.Subject) ($($x509.Thumbprint)) from the trusted roots"
} else {
    Import-Certificate -FilePath (Resolve-Path -LiteralPath $Cert).Path -CertStoreLocation Cert:\LocalMachine\Root | Out-Null
    Write-Output "trusted $($x509.Subject) ($($x509.Thumbprint)) as a root certificate"
}
