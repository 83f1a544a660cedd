import { z } from 'zod';
import {
  absolutePath,
  apiVersion,
  dnsLabel,
  duration,
  email,
  hostPattern,
  httpMethod,
  port,
  redactPattern,
  semver,
  urlPathGlob,
} from './common.ts';

// Blueprint v1: the contract of DESIGN.md §3. Tests and users depend on these field names.

export const ACCESS_LEVELS = ['read-only', 'read-write', 'full'] as const;
export const TOOL_ARGUMENT_LOGGING = ['none', 'redacted', 'full'] as const;

const commandPattern = z
  .string()
  .min(1)
  .describe(
    'An argv glob: words separated by spaces, "*" matches any run of characters (e.g. "git *", "npm test").',
  );

export const httpRule = z
  .strictObject({
    methods: z.array(httpMethod).min(1).describe('Methods this rule allows.'),
    paths: z.array(urlPathGlob).min(1).describe('Path globs this rule allows.'),
  })
  .describe('An L7 rule: a request is allowed when its method and path both match.');

export const blueprintService = z
  .strictObject({
    name: dnsLabel.describe(
      'Service name; when hosts are omitted, the shared service of this name (services/*.yaml) supplies them.',
    ),
    hosts: z
      .array(hostPattern)
      .min(1)
      .optional()
      .describe("Hosts this service may reach. Default: the shared service's hosts."),
    ports: z
      .array(port)
      .min(1)
      .optional()
      .describe("Ports allowed on those hosts. Default: the shared service's ports, else [443]."),
    access: z
      .enum(ACCESS_LEVELS)
      .optional()
      .describe(
        'L7 method class: read-only (GET, HEAD, OPTIONS), read-write (also POST, PUT, PATCH, DELETE), full (any). Needs TLS inspection.',
      ),
    rules: z
      .array(httpRule)
      .optional()
      .describe('Finer L7 rules; with rules, a request must match one of them.'),
    credential: dnsLabel
      .optional()
      .describe('Name of a secret the gateway injects; the agent only ever sees a placeholder.'),
    credentialHeader: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be a lower-case header name such as x-api-key')
      .optional()
      .describe(
        'Header the gateway puts the credential in. Default authorization (as "Bearer SECRET" unless the request carries the placeholder in its own scheme). Needs credential.',
      ),
    cidrs: z
      .array(z.string().regex(/^[0-9a-fA-F.:]+\/\d{1,3}$/, 'must be a CIDR such as 10.20.0.0/16'))
      .optional()
      .describe(
        'Private address ranges this service may resolve to (private ranges are otherwise always denied).',
      ),
  })
  .describe('A service the agent may reach: the egress allowlist entry (default deny).');

export const blueprintWrite = z
  .strictObject({
    service: dnsLabel.describe('The service (from spec.services) this write goes to.'),
    methods: z.array(httpMethod).min(1).describe('State-changing methods covered.'),
    paths: z.array(urlPathGlob).min(1).describe('Path globs covered.'),
    review: z.enum(['none', 'required']).describe('Whether a human must approve each such write.'),
  })
  .describe('A state-changing action on a service, and whether it needs review.');

export const reviewGates = z
  .strictObject({
    reviewers: z
      .array(z.string().regex(/^(group|user):.+$/, 'must be "group:NAME" or "user:EMAIL"'))
      .min(1)
      .describe('Who may approve: "group:NAME" or "user:EMAIL".'),
    minApprovals: z
      .int()
      .min(1)
      .max(10)
      .default(1)
      .describe('Distinct approvals needed (never the requester). Default 1.'),
    timeout: duration.default('4h').describe('How long a request waits for review. Default 4h.'),
    onTimeout: z
      .enum(['deny', 'allow'])
      .default('deny')
      .describe('Outcome when the timeout passes. Default deny.'),
  })
  .describe('Who reviews gated writes and how.');

export const loggingSpec = z
  .strictObject({
    toolArguments: z
      .enum(TOOL_ARGUMENT_LOGGING)
      .default('redacted')
      .describe('How tool arguments are recorded in audit events: full, redacted or none. Default redacted.'),
    redact: z
      .array(redactPattern)
      .default([])
      .describe('Patterns whose matches are replaced before events leave the supervisor.'),
    retention: duration.default('365d').describe('How long audit events are kept. Default 365d.'),
  })
  .describe("What the audit trail records of this blueprint's sessions.");

/** Sandbox layers a blueprint may run without when the kernel lacks them (docs/sandbox.md). */
export const SANDBOX_WAIVABLE_FEATURES = ['landlock'] as const;

export const sandboxSpec = z
  .strictObject({
    allowMissing: z
      .array(z.enum(SANDBOX_WAIVABLE_FEATURES))
      .default([])
      .describe(
        'Kernel features the sandbox may start without, weakening it: "landlock" (the second filesystem layer). Each use is logged and audited. Default [] (every layer required).',
      ),
  })
  .describe(
    "Sandbox options. Omitted: the parent's (extends), else every layer is required and a missing one stops the launch. A child may drop waivers, never add one.",
  );

export const blueprintSpec = z.strictObject({
  goal: z.string().min(1).describe('What the agent is for, in a sentence.'),
  tools: z
    .strictObject({
      commands: z
        .strictObject({
          allow: z.array(commandPattern).default([]).describe('Commands the agent may run. Empty: none.'),
          deny: z
            .array(commandPattern)
            .default([])
            .describe('Commands always refused; deny wins over allow.'),
        })
        .optional()
        .describe('What the agent may execute.'),
      mcp: z
        .array(
          z.strictObject({
            server: dnsLabel.describe('MCP server name.'),
            allow: z
              .array(z.string().min(1))
              .describe('Tools of that server the agent may call. Empty: none.'),
          }),
        )
        .optional()
        .describe('MCP servers reached through the MCP gateway, and their allowed tools.'),
    })
    .optional()
    .describe('Tools the agent may use. Omitted: none.'),
  services: z
    .array(blueprintService)
    .optional()
    .describe('The egress allowlist. Omitted or empty: no egress.'),
  dataScope: z
    .strictObject({
      read: z.array(absolutePath).default([]).describe('Paths the agent may read.'),
      write: z.array(absolutePath).default([]).describe('Paths the agent may write (each also readable).'),
      deny: z
        .array(absolutePath)
        .default([])
        .describe('Paths hidden from the agent, even under read or write.'),
    })
    .optional()
    .describe('Filesystem scope inside the sandbox. Omitted: /workspace read-only.'),
  writes: z
    .array(blueprintWrite)
    .optional()
    .describe('State-changing service actions and their review requirement.'),
  reviewGates: reviewGates.optional(),
  logging: loggingSpec.optional(),
  sandbox: sandboxSpec.optional(),
});

export const blueprintMetadata = z.strictObject({
  name: dnsLabel.describe('Blueprint name (a DNS label), unique in the repository.'),
  version: semver.describe('Blueprint version, carried into bundles and events.'),
  owner: email.describe('Team or person accountable for this blueprint.'),
  incidentContact: email.describe('Who to contact when this blueprint is involved in an incident.'),
  reviewCadence: duration.describe('How often the blueprint must be reviewed (for example 90d).'),
});

export const blueprintSchema = z
  .strictObject({
    apiVersion,
    kind: z.literal('Blueprint').describe('Always "Blueprint".'),
    metadata: blueprintMetadata.describe('Name, version and the people accountable for this blueprint.'),
    extends: dnsLabel.optional().describe('Parent blueprint; this one may only narrow it.'),
    spec: blueprintSpec.describe('What the agent may do, reach and write.'),
  })
  .describe('A workflow template: what an agent may do, reach and write.');

export type Blueprint = z.infer<typeof blueprintSchema>;
export type BlueprintSpec = z.infer<typeof blueprintSpec>;
export type BlueprintService = z.infer<typeof blueprintService>;
export type BlueprintWrite = z.infer<typeof blueprintWrite>;
export type HttpRule = z.infer<typeof httpRule>;
export type ReviewGates = z.infer<typeof reviewGates>;
export type LoggingSpec = z.infer<typeof loggingSpec>;
export type SandboxSpec = z.infer<typeof sandboxSpec>;
