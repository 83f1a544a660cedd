import { type Blueprint, defaultToolPrefix, type Service } from '../../config/index.ts';
import { PaddockError } from '../../core/index.ts';
import type { McpServerPlan } from './types.ts';

// The seam between the desired state and the gateway: each server a blueprint names in
// spec.tools.mcp, with how to reach it from its shared service (services/NAME.yaml, spec.mcp).
// `paddock validate` already checks these references; this repeats the check because the
// supervisor must never start with a server it cannot account for.

/**
 * The gateway's servers for an effective blueprint. Omitted or empty tools.mcp: none.
 * Throws PDK_MCP_CONFIG_INVALID naming each server without a spec.mcp definition.
 * @example const servers = mcpServerPlans(resolved.blueprint, (name) => state.services.get(name)?.value);
 */
export function mcpServerPlans(
  blueprint: Blueprint,
  serviceNamed: (name: string) => Service | undefined,
): McpServerPlan[] {
  const plans: McpServerPlan[] = [];
  const missing: string[] = [];
  for (const entry of blueprint.spec.tools?.mcp ?? []) {
    const service = serviceNamed(entry.server);
    const spec = service?.spec;
    const mcp = spec?.mcp;
    if (!spec || !mcp) {
      missing.push(`"${entry.server}" (add spec.mcp to services/${entry.server}.yaml)`);
      continue;
    }
    plans.push({
      name: entry.server,
      allow: [...entry.allow],
      toolPrefix: mcp.toolPrefix ?? defaultToolPrefix(entry.server),
      connection:
        mcp.transport === 'http'
          ? { transport: 'http', url: mcp.url }
          : {
              transport: 'stdio',
              command: [...mcp.command],
              ...(mcp.env ? { env: { ...mcp.env } } : {}),
              ...(mcp.credentialEnv ? { credentialEnv: mcp.credentialEnv } : {}),
              ...(mcp.read ? { read: [...mcp.read] } : {}),
            },
      ...(spec.credential ? { credential: spec.credential } : {}),
      ...(spec.credentialHeader ? { credentialHeader: spec.credentialHeader } : {}),
      ...(mcp.transport === 'stdio' && spec.hosts
        ? {
            egress: {
              hosts: [...spec.hosts],
              ...(spec.ports ? { ports: [...spec.ports] } : {}),
              ...(spec.access ? { access: spec.access } : {}),
              ...(spec.rules
                ? {
                    rules: spec.rules.map((rule) => ({ methods: [...rule.methods], paths: [...rule.paths] })),
                  }
                : {}),
              ...(spec.cidrs ? { cidrs: [...spec.cidrs] } : {}),
            },
          }
        : {}),
    });
  }
  if (missing.length > 0) {
    throw new PaddockError(
      'PDK_MCP_CONFIG_INVALID',
      `blueprint "${blueprint.metadata.name}" names MCP servers with no definition: ${missing.join(', ')}`,
      { details: missing },
    );
  }
  return plans;
}
