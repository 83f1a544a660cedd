#!/bin/sh
# Golden image (Linux): installs Paddock from the CI bundle, the sandbox's OS dependencies, the
# supervisor unit (disabled until custom data configures it) and the firewall's inspection CA.
set -eu
export DEBIAN_FRONTEND=noninteractive

apt-get update
apt-get install -y --no-install-recommends bubblewrap nftables iproute2 curl ca-certificates git
apt-get -y upgrade

# The bundle holds node/ (the pinned Node.js 24 runtime) and app/ (Paddock with node_modules).
mkdir -p /opt/paddock
tar -xzf /tmp/paddock-bundle.tar.gz -C /opt/paddock
test -x /opt/paddock/node/bin/node
test -f /opt/paddock/app/src/supervisor/workspace/main.ts
ln -sf /opt/paddock/node/bin/node /usr/local/bin/node
chown -R root:root /opt/paddock
chmod -R go-w /opt/paddock

# Azure Firewall Premium re-signs inspected TLS with this CA; the sandbox's egress gateway and
# every tool in the VM must trust it.
install -m 0644 /tmp/paddock-inspection-ca.pem /usr/local/share/ca-certificates/paddock-inspection-ca.crt
update-ca-certificates

install -m 0644 /tmp/paddock-supervisor.service /etc/systemd/system/paddock-supervisor.service
mkdir -p /etc/paddock /usr/local/lib/paddock /var/lib/paddock
chmod 0700 /etc/paddock /var/lib/paddock
systemctl daemon-reload
systemctl disable paddock-supervisor.service

# No inbound path is used: sshd is off in the image (the NSG denies inbound anyway).
systemctl disable ssh.service || true

rm -f /tmp/paddock-bundle.tar.gz /tmp/paddock-inspection-ca.pem /tmp/paddock-supervisor.service
