# Golden image (Windows): installs Paddock from the CI bundle, the host's own OpenSSH server that
# workspace terminals log in to (loopback only, one account, keys only), and the PaddockSupervisor
# scheduled task (registered disabled: the VM's first-boot script makes the agent's account, cuts
# its network, then enables and starts it), and trusts the firewall's inspection CA. Shared by
# Azure (custom data run by the CustomScript extension) and KubeVirt (cloudbase-init user data; that
# image also carries the virtio-win drivers and cloudbase-init, and is sysprepped). docs/windows.md.
$ErrorActionPreference = 'Stop'

$root = 'C:\Program Files\Paddock'
New-Item -ItemType Directory -Force -Path $root | Out-Null
# The bundle holds node\ (the pinned Node.js 24 runtime) and app\ (Paddock with node_modules).
Expand-Archive -Path 'C:\Windows\Temp\paddock-bundle.zip' -DestinationPath $root -Force
if (-not (Test-Path "$root\node\node.exe")) { throw 'bundle has no node\node.exe' }
$entry = "$root\app\src\supervisor\workspace\windows-service.ts"
if (-not (Test-Path $entry)) { throw "this Paddock bundle has no Windows supervisor wrapper ($entry)" }

# Azure Firewall Premium's TLS inspection CA; a KubeVirt image has no inspecting firewall and no CA file.
$inspectionCa = 'C:\Windows\Temp\paddock-inspection-ca.pem'
if (Test-Path $inspectionCa) { Import-Certificate -FilePath $inspectionCa -CertStoreLocation Cert:\LocalMachine\Root | Out-Null }

# The host's OpenSSH server (a Windows capability: the build subnet must reach Windows Update).
$capability = Get-WindowsCapability -Online -Name 'OpenSSH.Server*' | Select-Object -First 1
if (-not $capability) { throw 'this Windows offers no OpenSSH.Server capability' }
if ($capability.State -ne 'Installed') { Add-WindowsCapability -Online -Name $capability.Name | Out-Null }
if (-not (Get-Service -Name sshd -ErrorAction SilentlyContinue)) { throw 'OpenSSH Server installed no sshd service' }
Stop-Service -Name sshd
# Manual: the first-boot script starts it once the agent's account and firewall rule exist.
Set-Service -Name sshd -StartupType Manual
# The capability opens port 22 inbound; nothing outside the VM may reach sshd (it listens on loopback anyway).
Get-NetFirewallRule -Name 'OpenSSH-Server-In-TCP' -ErrorAction SilentlyContinue | Remove-NetFirewallRule

# sshd's directories, with the ACLs sshd gives them when it makes them (it refuses to start when
# anyone but SYSTEM and Administrators may write there).
$sshData = 'C:\ProgramData\ssh'
function Set-Sddl([string]$path, [string]$sddl) {
  New-Item -ItemType Directory -Force -Path $path | Out-Null
  $acl = Get-Acl -Path $path
  $acl.SetSecurityDescriptorSddlForm($sddl)
  Set-Acl -Path $path -AclObject $acl
}
Set-Sddl $sshData 'O:BAD:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1200a9;;;AU)'
Set-Sddl "$sshData\logs" 'O:BAD:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)'

# The whole sshd_config (none of the default's: no `Match Group administrators`, no sftp). Loopback
# only; one unprivileged account, by key only; no forwarding or tunnel of any kind; the ed25519
# host key only (the one the supervisor announces and pins).
$sshdConfig = @'
# Paddock: the host's OpenSSH server, for workspace terminals only (docs/windows.md).
ListenAddress 127.0.0.1
Port 22
HostKey __PROGRAMDATA__/ssh/ssh_host_ed25519_key
AllowUsers paddock-agent
PubkeyAuthentication yes
AuthorizedKeysFile .ssh/authorized_keys __PROGRAMDATA__/Paddock/ssh/supervisor_authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitEmptyPasswords no
AllowTcpForwarding no
AllowStreamLocalForwarding no
AllowAgentForwarding no
PermitTunnel no
X11Forwarding no
GatewayPorts no
PermitUserEnvironment no
LogLevel VERBOSE
'@
Set-Content -Path "$sshData\sshd_config" -Value $sshdConfig -Encoding Ascii

# No host key may ship in the image (sysprep keeps them): every VM's sshd makes its own at its first start.
Remove-Item -Path "$sshData\ssh_host_*" -Force
if (Get-ChildItem -Path $sshData -Filter 'ssh_host_*') { throw 'host keys are still in the image' }

# The PaddockSupervisor task: node windows-service.ts at startup as SYSTEM, no time limit, restarted
# on failure. Node cannot be a Windows service (the service control manager needs a native service
# entry), so a task starts the wrapper, which keeps the supervisor running. Disabled until first boot.
$arguments = "`"$entry`" --config C:\ProgramData\Paddock\supervisor.json --identity-sync C:\ProgramData\Paddock\fetch-identity.ps1 --log C:\ProgramData\Paddock\logs\supervisor.log"
$action = New-ScheduledTaskAction -Execute "$root\node\node.exe" -Argument $arguments -WorkingDirectory "$root\app"
$trigger = New-ScheduledTaskTrigger -AtStartup
$principal = New-ScheduledTaskPrincipal -UserId 'NT AUTHORITY\SYSTEM' -LogonType ServiceAccount -RunLevel Highest
$settings = New-ScheduledTaskSettingsSet -ExecutionTimeLimit ([TimeSpan]::Zero) -RestartCount 999 -RestartInterval (New-TimeSpan -Minutes 1) -StartWhenAvailable -AllowStartIfOnBatteries -DontStopIfGoingOnBatteries
Register-ScheduledTask -TaskName 'PaddockSupervisor' -Description 'Paddock workspace supervisor (docs/windows.md)' -Action $action -Trigger $trigger -Principal $principal -Settings $settings -Force | Out-Null
Disable-ScheduledTask -TaskName 'PaddockSupervisor' | Out-Null

# No inbound path is used: WinRM (Packer's) is removed by sysprep; RDP stays disabled.
Set-ItemProperty -Path 'HKLM:\System\CurrentControlSet\Control\Terminal Server' -Name fDenyTSConnections -Value 1

Remove-Item 'C:\Windows\Temp\paddock-bundle.zip', $inspectionCa -Force -ErrorAction SilentlyContinue
