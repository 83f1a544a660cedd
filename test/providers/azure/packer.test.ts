import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { linuxCloudInit } from '../../../src/providers/azure/index.ts';

// The golden-image Packer template and the files it installs. Packer is not installed here and a
// build needs Azure, so these are static checks: every source is Trusted Launch and publishes to
// the gallery, no secret is configured, every file it references exists, and the paths the image
// installs agree with what the renderer's custom data writes.

const DEPLOY = fileURLToPath(new URL('../../../deploy/azure/', import.meta.url));
const template = readFileSync(`${DEPLOY}golden-image.pkr.hcl`, 'utf8');

/** The body of `source "azure-arm" "NAME" { ... }` (brace-matched). */
function sourceBlock(name: string): string {
  const start = template.indexOf(`source "azure-arm" "${name}" {`);
  assert.ok(start >= 0, `source ${name}`);
  let depth = 0;
  for (let index = template.indexOf('{', start); index < template.length; index += 1) {
    if (template[index] === '{') depth += 1;
    if (template[index] === '}') depth -= 1;
    if (depth === 0) return template.slice(start, index + 1);
  }
  throw new Error('unbalanced braces');
}

describe('azure golden image (Packer template, static checks: packer is not installed here)', () => {
  it('every source builds a Trusted Launch image with secure boot and vTPM, published to the gallery', () => {
    for (const name of ['linux', 'windows']) {
      const block = sourceBlock(name);
      assert.match(block, /security_type\s*=\s*"TrustedLaunch"/);
      assert.match(block, /secure_boot_enabled\s*=\s*true/);
      assert.match(block, /vtpm_enabled\s*=\s*true/);
      assert.match(
        block,
        /shared_image_gallery_destination\s*{[^}]*gallery_name\s*=\s*var\.gallery_name[^}]*image_version\s*=\s*var\.image_version/s,
      );
      assert.match(block, /private_virtual_network_with_public_ip\s*=\s*false/);
    }
  });

  it('authenticates without a stored secret (federation or the CLI login)', () => {
    assert.doesNotMatch(template, /client_secret|client_cert/);
    assert.match(template, /oidc_request_token\s*=\s*var\.oidc_request_token/);
  });

  it('references only files that exist, and the Linux install script parses', () => {
    for (const match of template.matchAll(/\$\{path\.root\}\/([\w./-]+)/g))
      assert.ok(existsSync(`${DEPLOY}${match[1]}`), match[1]);
    execFileSync('sh', ['-n', `${DEPLOY}scripts/install-paddock.sh`]);
  });

  it("the image's supervisor unit reads the config and identity files the renderer's custom data writes", () => {
    const unit = readFileSync(`${DEPLOY}scripts/paddock-supervisor.service`, 'utf8');
    const cloudInit = linuxCloudInit({
      workspaceId: 'ws',
      channelUrl: 'wss://paddock.example.com/channel',
      blueprint: 'b',
      profile: 'p',
      files: [],
      identitySecretUrl: 'https://v.vault.azure.net/secrets/s',
      managedIdentityId:
        '/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/i',
    });
    const configPath = /--config (\S+)/.exec(unit)?.[1];
    const fetchPath = /ExecStartPre=(\S+)/.exec(unit)?.[1];
    assert.ok(configPath && fetchPath);
    assert.match(cloudInit, new RegExp(`path: ${configPath}`));
    assert.match(cloudInit, new RegExp(`path: ${fetchPath}`));
    assert.match(cloudInit, /systemctl, enable, --now, paddock-supervisor\.service/);
    assert.match(
      unit,
      /ExecStart=\/opt\/paddock\/node\/bin\/node \/opt\/paddock\/app\/src\/supervisor\/workspace\/main\.ts/,
    );
    assert.ok(
      existsSync(fileURLToPath(new URL('../../../src/supervisor/workspace/main.ts', import.meta.url))),
    );
  });
});
