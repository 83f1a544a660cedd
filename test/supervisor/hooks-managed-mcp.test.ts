// The harnesses' managed settings with the MCP shim (what `paddock run` writes when the
// blueprint names MCP servers): each harness gets exactly one MCP server, `paddock`, running
// the shim, in the file that administrators control, and other servers are shut out where the
// harness lets an administrator say so.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { managedSettingsFiles } from '../../src/supervisor/hooks/index.ts';

const options = { clientPath: '/etc/paddock-hook', mcp: { shimPath: '/etc/paddock-mcp-shim' } };
const fileAt = (harness: 'claude-code' | 'codex' | 'gemini', path: string) =>
  managedSettingsFiles(harness, options).find((file) => file.sandboxPath === path)?.contents ?? '';

describe('managed settings: the MCP shim as the one MCP server', () => {
  it('Claude Code: managed-mcp.json (exclusive) names only the shim', () => {
    const settings = JSON.parse(fileAt('claude-code', '/etc/claude-code/managed-mcp.json'));
    assert.deepEqual(settings, {
      mcpServers: { paddock: { type: 'stdio', command: '/etc/paddock-mcp-shim', args: [] } },
    });
    // The hooks file is unchanged by MCP.
    assert.match(fileAt('claude-code', '/etc/claude-code/managed-settings.json'), /allowManagedHooksOnly/);
  });

  it('Codex: managed_config.toml defines it and requirements.toml allows no other server', () => {
    const config = fileAt('codex', '/etc/codex/managed_config.toml');
    assert.match(config, /^\[mcp_servers\.paddock\]\ncommand = "\/etc\/paddock-mcp-shim"\nargs = \[\]$/m);
    const requirements = fileAt('codex', '/etc/codex/requirements.toml');
    assert.match(requirements, /^\[mcp_servers\.paddock\.identity\]\ncommand = "\/etc\/paddock-mcp-shim"$/m);
    assert.match(requirements, /^allow_managed_hooks_only = true$/m);
  });

  it('Gemini CLI: the system settings define it and allow only it', () => {
    const settings = JSON.parse(fileAt('gemini', '/etc/gemini-cli/settings.json'));
    assert.deepEqual(settings.mcpServers, { paddock: { command: '/etc/paddock-mcp-shim', args: [] } });
    assert.deepEqual(settings.mcp, { allowed: ['paddock'] });
    assert.ok(settings.hooks.BeforeTool);
  });

  it('passes a non-default socket to the shim, and writes no MCP settings without a shim', () => {
    const custom = managedSettingsFiles('claude-code', {
      ...options,
      mcp: { shimPath: '/etc/paddock-mcp-shim', socketPath: '/run/paddock/other.sock' },
    });
    const mcp = JSON.parse(custom.find((file) => file.sandboxPath.endsWith('managed-mcp.json'))!.contents);
    assert.deepEqual(mcp.mcpServers.paddock.args, ['--socket', '/run/paddock/other.sock']);
    for (const harness of ['claude-code', 'codex', 'gemini'] as const) {
      const files = managedSettingsFiles(harness, { clientPath: '/etc/paddock-hook' });
      assert.ok(!files.some((file) => /mcp|managed_config/.test(file.sandboxPath)), harness);
      assert.ok(
        !files.some((file) => file.contents.includes('mcp_servers') || file.contents.includes('mcpServers')),
      );
    }
  });
});
