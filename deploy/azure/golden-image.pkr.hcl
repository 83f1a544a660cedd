# Paddock workspace golden images for Azure (docs/azure.md, "The gallery and Packer").
#
# Builds a Trusted Launch (Gen2, secure boot, vTPM) image with Paddock installed and publishes it
# as a new version of an Azure Compute Gallery image definition whose security type is
# TrustedLaunch. Profiles pin that version: spec.image = .../galleries/G/images/I/versions/X.Y.Z.
#
#   packer init deploy/azure/golden-image.pkr.hcl
#   packer build -only='azure-arm.linux' \
#     -var subscription_id=... -var tenant_id=... -var client_id=... \
#     -var gallery_resource_group=rg-paddock-images -var gallery_name=paddockGallery \
#     -var image_version=1.4.2 -var paddock_bundle=dist/paddock-workspace-linux-x64.tar.gz \
#     -var inspection_ca=certs/paddock-inspection-ca.pem \
#     deploy/azure/golden-image.pkr.hcl
#
# Authentication: from CI, workload identity federation (oidc_request_url / oidc_request_token,
# e.g. GitHub Actions' ACTIONS_ID_TOKEN_REQUEST_URL and _TOKEN); on a workstation, the Azure CLI
# login (use_azure_cli_auth). No client secret is ever needed.
#
# The build VM gets no public IP: it is placed in build_subnet (a subnet whose egress reaches the
# image's package sources), and Packer connects to its private IP.

packer {
  required_plugins {
    azure = {
      source  = "github.com/hashicorp/azure"
      version = "~> 2.3"
    }
  }
}

variable "subscription_id" { type = string }
variable "tenant_id" { type = string }
variable "client_id" {
  type    = string
  default = ""
}
variable "oidc_request_url" {
  type    = string
  default = env("ACTIONS_ID_TOKEN_REQUEST_URL")
}
variable "oidc_request_token" {
  type      = string
  default   = env("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
  sensitive = true
}
variable "use_azure_cli_auth" {
  type    = bool
  default = false
}
variable "location" {
  type    = string
  default = "westeurope"
}
variable "gallery_resource_group" { type = string }
variable "gallery_name" { type = string }
variable "linux_image_name" {
  type    = string
  default = "workspace-linux"
}
variable "windows_image_name" {
  type    = string
  default = "workspace-windows"
}
variable "image_version" {
  type = string
  validation {
    condition     = can(regex("^\\d+\\.\\d+\\.\\d+$", var.image_version))
    error_message = "The image version must be MAJOR.MINOR.PATCH (profiles pin it)."
  }
}
variable "replication_regions" {
  type    = list(string)
  default = []
}
variable "build_resource_group" { type = string }
variable "build_vnet" { type = string }
variable "build_subnet" { type = string }
variable "build_vm_size" {
  type    = string
  default = "Standard_D4s_v3"
}
variable "paddock_bundle" {
  type        = string
  description = "Tarball (Linux) or zip (Windows) from CI: the pinned Node.js runtime and the Paddock package with its node_modules."
}
variable "inspection_ca" {
  type        = string
  description = "PEM of the Azure Firewall Premium TLS inspection CA: the image trusts it, or inspected services fail TLS."
}

locals {
  gallery_tags = {
    "paddock.dev/image-version" = var.image_version
  }
}

source "azure-arm" "linux" {
  subscription_id    = var.subscription_id
  tenant_id          = var.tenant_id
  client_id          = var.client_id
  oidc_request_url   = var.oidc_request_url
  oidc_request_token = var.oidc_request_token
  use_azure_cli_auth = var.use_azure_cli_auth

  os_type         = "Linux"
  image_publisher = "Canonical"
  image_offer     = "ubuntu-24_04-lts"
  image_sku       = "server"
  vm_size         = var.build_vm_size

  # Trusted Launch: the image is measured and booted with secure boot and a vTPM.
  security_type       = "TrustedLaunch"
  secure_boot_enabled = true
  vtpm_enabled        = true

  build_resource_group_name              = var.build_resource_group
  virtual_network_name                   = var.build_vnet
  virtual_network_subnet_name            = var.build_subnet
  virtual_network_resource_group_name    = var.build_resource_group
  private_virtual_network_with_public_ip = false

  shared_image_gallery_destination {
    subscription         = var.subscription_id
    resource_group       = var.gallery_resource_group
    gallery_name         = var.gallery_name
    image_name           = var.linux_image_name
    image_version        = var.image_version
    replication_regions  = concat([var.location], var.replication_regions)
    storage_account_type = "Standard_ZRS"
  }
  shared_gallery_image_version_exclude_from_latest = true
  azure_tags                                       = local.gallery_tags
}

source "azure-arm" "windows" {
  subscription_id    = var.subscription_id
  tenant_id          = var.tenant_id
  client_id          = var.client_id
  oidc_request_url   = var.oidc_request_url
  oidc_request_token = var.oidc_request_token
  use_azure_cli_auth = var.use_azure_cli_auth

  os_type         = "Windows"
  image_publisher = "MicrosoftWindowsServer"
  image_offer     = "WindowsServer"
  image_sku       = "2022-datacenter-azure-edition"
  vm_size         = var.build_vm_size

  security_type       = "TrustedLaunch"
  secure_boot_enabled = true
  vtpm_enabled        = true

  communicator   = "winrm"
  winrm_use_ssl  = true
  winrm_insecure = true
  winrm_timeout  = "10m"
  winrm_username = "packer"

  build_resource_group_name              = var.build_resource_group
  virtual_network_name                   = var.build_vnet
  virtual_network_subnet_name            = var.build_subnet
  virtual_network_resource_group_name    = var.build_resource_group
  private_virtual_network_with_public_ip = false

  shared_image_gallery_destination {
    subscription         = var.subscription_id
    resource_group       = var.gallery_resource_group
    gallery_name         = var.gallery_name
    image_name           = var.windows_image_name
    image_version        = var.image_version
    replication_regions  = concat([var.location], var.replication_regions)
    storage_account_type = "Standard_ZRS"
  }
  shared_gallery_image_version_exclude_from_latest = true
  azure_tags                                       = local.gallery_tags
}

build {
  name    = "paddock-workspace"
  sources = ["source.azure-arm.linux", "source.azure-arm.windows"]

  # Linux: Paddock, its systemd unit, the inspection CA; then generalize.
  provisioner "file" {
    only        = ["azure-arm.linux"]
    source      = var.paddock_bundle
    destination = "/tmp/paddock-bundle.tar.gz"
  }
  provisioner "file" {
    only        = ["azure-arm.linux"]
    source      = var.inspection_ca
    destination = "/tmp/paddock-inspection-ca.pem"
  }
  provisioner "file" {
    only        = ["azure-arm.linux"]
    source      = "${path.root}/scripts/paddock-supervisor.service"
    destination = "/tmp/paddock-supervisor.service"
  }
  provisioner "shell" {
    only            = ["azure-arm.linux"]
    execute_command = "chmod +x {{ .Path }}; sudo sh -c '{{ .Vars }} {{ .Path }}'"
    script          = "${path.root}/scripts/install-paddock.sh"
  }
  provisioner "shell" {
    only            = ["azure-arm.linux"]
    execute_command = "chmod +x {{ .Path }}; sudo sh -c '{{ .Vars }} {{ .Path }}'"
    inline          = ["/usr/sbin/waagent -force -deprovision+user && export HISTSIZE=0 && sync"]
  }

  # Windows: Paddock with its PaddockSupervisor scheduled task (disabled until first boot), the host's
  # OpenSSH server on loopback (no host keys: each VM makes its own), the inspection CA; then sysprep.
  # Installing OpenSSH Server needs Windows Update (features on demand) reachable from build_subnet.
  provisioner "file" {
    only        = ["azure-arm.windows"]
    source      = var.paddock_bundle
    destination = "C:\\Windows\\Temp\\paddock-bundle.zip"
  }
  provisioner "file" {
    only        = ["azure-arm.windows"]
    source      = var.inspection_ca
    destination = "C:\\Windows\\Temp\\paddock-inspection-ca.pem"
  }
  provisioner "powershell" {
    only   = ["azure-arm.windows"]
    script = "${path.root}/scripts/install-paddock.ps1"
  }
  provisioner "powershell" {
    only = ["azure-arm.windows"]
    inline = [
      "& $env:SystemRoot\\System32\\Sysprep\\Sysprep.exe /oobe /generalize /quiet /quit /mode:vm",
      "while ($true) { $state = (Get-ItemProperty HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Setup\\State).ImageState; if ($state -eq 'IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE') { break }; Start-Sleep -Seconds 10 }",
    ]
  }
}
