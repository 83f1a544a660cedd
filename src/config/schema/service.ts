import { z } from 'zod';
import { blueprintService } from './blueprint.ts';
import { absolutePath, apiVersion, type dnsLabel, metadataName } from './common.ts';

// A shared service: hosts, ports and L7 rules (the egress allowlist entry blueprints name), and
// optionally how to reach it as an MCP server (`mcp`), which the MCP gateway fronts for every
// blueprint naming it in spec.tools.mcp (docs/mcp.md).

const ENV_NAME = /^[A-Z_][A-Z0-9_]{0,127}$/;

const envName = z
  .string()
  .regex(ENV_NAME, 'must be an environment variable name such as GITHUB_TOKEN')
  .describe('An environment variable name: upper-case letters, digits and "_".');

const toolPrefix = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{0,64}$/, 'must be at most 64 letters, digits, "_", "-" or "."')
  .optional()
  .describe(
    'What the gateway puts before each tool name it exposes (server "github", tool "get_issue" → "github__get_issue"). Default: the service name and "__". "" exposes bare names; two servers a blueprint names must then not expose the same name.',
  );

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

const mcpUrl = z
  .string()
  .refine((text) => {
    if (!URL.canParse(text)) return false;
    const url = new URL(text);
    if (url.username || url.password || url.hash) return false;
    return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname));
  }, 'must be an https:// URL without user, password or fragment (http:// only for 127.0.0.1, [::1] or localhost)')
  .describe('The Streamable HTTP endpoint, e.g. https://mcp.example.com/mcp.');

export const mcpStdioServer = z
  .strictObject({
    transport: z
      .literal('stdio')
      .describe('A local server the gateway starts, speaking MCP on stdin/stdout.'),
    command: z
      .array(z.string().min(1))
      .min(1)
      .describe(
        "The server program and its arguments (PATH is searched). It runs in its own sandbox: a private /workspace, the system view, `read`, and egress only to this service's hosts.",
      ),
    env: z
      // Keys are checked by a refinement: JSON Schema's propertyNames reads differently in draft-07 editors.
      .object({})
      .catchall(z.string())
      .refine(
        (env) => Object.keys(env).every((key) => ENV_NAME.test(key)),
        'variable names must be upper-case letters, digits and "_", such as GITHUB_HOST',
      )
      .optional()
      .describe('Environment of the server (not secrets: use credential and credentialEnv). Default: none.'),
    credentialEnv: envName
      .optional()
      .describe(
        "Variable that receives the placeholder of this service's credential; the server's egress gateway swaps it for the secret on requests to this service's hosts, so the server never holds the secret. Needs credential.",
      ),
    read: z
      .array(absolutePath)
      .optional()
      .describe(
        'Host paths the server may read (its program and packages), beyond the system view. Default: none.',
      ),
    toolPrefix,
  })
  .describe('An MCP server started on demand, in its own sandbox.');

export const mcpHttpServer = z
  .strictObject({
    transport: z.literal('http').describe('A remote server reached over Streamable HTTP.'),
    url: mcpUrl,
    toolPrefix,
  })
  .describe(
    "A remote MCP server. The gateway adds this service's credential to every request (header credentialHeader, default authorization: Bearer); the agent never sees it.",
  );

export const mcpServerSpec = z
  .discriminatedUnion('transport', [mcpStdioServer, mcpHttpServer])
  .describe('How the MCP gateway reaches this service as an MCP server.');

export const serviceSpec = blueprintService
  .omit({ name: true })
  .extend({
    description: z.string().optional().describe('What this service is, for people reading the repository.'),
    mcp: mcpServerSpec.optional(),
  })
  .superRefine((spec, ctx) => {
    if (spec.hosts === undefined && spec.mcp?.transport !== 'stdio') {
      ctx.addIssue({
        code: 'custom',
        path: ['hosts'],
        message:
          'hosts is required (only an MCP server with transport stdio may have none: then it has no network)',
      });
    }
    if (spec.mcp?.transport === 'stdio' && spec.mcp.credentialEnv !== undefined && !spec.credential) {
      ctx.addIssue({
        code: 'custom',
        path: ['mcp', 'credentialEnv'],
        message: 'credentialEnv needs spec.credential: name the secret whose placeholder the server receives',
      });
    }
    if (spec.mcp?.transport === 'http' && URL.canParse(spec.mcp.url)) {
      const host = new URL(spec.mcp.url).hostname;
      const listed = (spec.hosts ?? []).find(
        (pattern) => pattern === host || (pattern.startsWith('*.') && host.endsWith(pattern.slice(1))),
      );
      if (listed !== undefined) {
        // An agent allowed this service could then call the MCP server directly, with the credential
        // injected by the egress gateway, and skip every tool check of the MCP gateway.
        ctx.addIssue({
          code: 'custom',
          path: ['mcp', 'url'],
          message: `the MCP server's host ${host} is also in hosts (${listed}), so an agent allowed this service could call it directly and bypass the MCP gateway: serve MCP from a host not in hosts, or define it as a separate service`,
        });
      }
    }
  });

export const serviceSchema = z
  .strictObject({
    apiVersion,
    kind: z.literal('Service').describe('Always "Service".'),
    metadata: metadataName.describe('Name blueprints use for this service in spec.services[].name.'),
    spec: serviceSpec.describe(
      'Hosts, ports and L7 rules of the service; hosts is required unless mcp.transport is stdio.',
    ),
  })
  .describe('A shared service definition that blueprints reference by name.');

export type Service = z.infer<typeof serviceSchema>;
export type McpServerSpec = z.infer<typeof mcpServerSpec>;

/** The tool prefix a server's tools get when its service sets none: `NAME__`. */
export function defaultToolPrefix(serviceName: z.infer<typeof dnsLabel>): string {
  return `${serviceName}__`;
}
