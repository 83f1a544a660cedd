# Golden image (Windows): installs Paddock from the CI bundle as the PaddockSupervisor service
# (manual start; the VM's first-boot script enables it) and trusts the firewall's inspection CA.
# Shared by Azure (custom data run by the CustomScript extension) and KubeVirt (cloudbase-init
# user data; that image also carries the virtio-win drivers and cloudbase-init, and is sysprepped).
$ErrorActionPreference = 'Stop'

$root = 'C:\Program Files\Paddock'
New-Item -ItemType Directory -Force -Path $root | Out-Null
# The bundle holds node\ (the pinned Node.js 24 runtime) and app\ (Paddock with node_modules).
Expand-Archive -Path 'C:\Windows\Temp\paddock-bundle.zip' -DestinationPath $root -Force
if (-not (Test-Path "$root\node\node.exe")) { throw 'bundle has no node\node.exe' }

# Azure Firewall Premium's TLS inspection CA; a KubeVirt image has no inspecting firewall and no CA file.
$inspectionCa = 'C:\Windows\Temp\paddock-inspection-ca.pem'
if (Test-Path $inspectionCa) { Import-Certificate -FilePath $inspectionCa -CertStoreLocation Cert:\LocalMachine\Root | Out-Null }

# The service runs a wrapper that fetches the channel identity from Key Vault (fetch-identity.ps1,
# written by the bootstrap) before starting the supervisor. That Windows service entry and a
# Windows sandbox are NOT part of Paddock yet (docs/azure.md, "Windows"): until a bundle carries
# them, the image build stops here rather than produce a workspace without its boundary.
$entry = "$root\app\src\supervisor\workspace\windows-service.ts"
if (-not (Test-Path $entry)) { throw "this Paddock bundle has no Windows supervisor service ($entry); see docs/azure.md, Windows" }
$command = "`"$root\node\node.exe`" `"$entry`" --config C:\ProgramData\Paddock\supervisor.json"
New-Service -Name PaddockSupervisor -DisplayName 'Paddock workspace supervisor' -BinaryPathName $command -StartupType Manual | Out-Null
sc.exe failure PaddockSupervisor reset= 86400 actions= restart/5000/restart/5000/restart/5000 | Out-Null

# No inbound path is used: WinRM (Packer's) is removed by sysprep; RDP stays disabled.
Set-ItemProperty -Path 'HKLM:\System\CurrentControlSet\Control\Terminal Server' -Name fDenyTSConnections -Value 1

Remove-Item 'C:\Windows\Temp\paddock-bundle.zip', $inspectionCa -Force -ErrorAction SilentlyContinue
