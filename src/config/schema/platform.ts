import { z } from 'zod';
import { PROVIDERS } from './profile.ts';
import { apiVersion, dnsLabel, duration, email, metadataName } from './common.ts';

const demoUser = z.strictObject({
  email: email.describe('Sign-in e-mail (also the user id).'),
  name: z.string().min(1).describe('Display name.'),
  groups: z.array(z.string().min(1)).default([]).describe('Groups the embedded IdP asserts for this user.'),
});

export const identitySpec = z
  .strictObject({
    provider: z
      .enum(['oidc', 'embedded'])
      .describe(
        'oidc: an enterprise IdP by discovery; embedded: the development IdP (never for production).',
      ),
    issuer: z.url().optional().describe('OIDC issuer URL (provider oidc).'),
    clientId: z.string().min(1).optional().describe('OIDC client id (provider oidc).'),
    clientSecretEnv: z
      .string()
      .regex(/^[A-Z_][A-Z0-9_]{0,127}$/, 'must be an environment variable name such as PADDOCK_OIDC_SECRET')
      .optional()
      .describe(
        'Environment variable holding the client secret (provider oidc). Unset: a public client (PKCE only).',
      ),
    cliClientId: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Public client id `paddock login` uses for the device flow (provider oidc). Default: clientId.',
      ),
    extraScopes: z
      .array(z.string().regex(/^[!#-[\]-~]+$/, 'must be one OAuth scope token'))
      .default([])
      .describe(
        'Scopes requested beyond openid, email and profile, e.g. offline_access or groups. Default none.',
      ),
    groupsClaim: z
      .string()
      .min(1)
      .default('groups')
      .describe('ID token claim that carries the user\'s groups. Default "groups".'),
    adminGroups: z
      .array(z.string().min(1))
      .default([])
      .describe('Groups whose members are Paddock administrators.'),
    sessionMaxAge: duration.default('8h').describe('Longest a session lives. Default 8h.'),
    sessionIdleTimeout: duration.default('30m').describe('A session idle this long ends. Default 30m.'),
    demoUsers: z.array(demoUser).default([]).describe('Users of the embedded IdP (provider embedded only).'),
  })
  .superRefine((identity, ctx) => {
    if (identity.provider === 'oidc') {
      if (!identity.issuer)
        ctx.addIssue({ code: 'custom', path: ['issuer'], message: 'is required when provider is oidc' });
      if (!identity.clientId)
        ctx.addIssue({ code: 'custom', path: ['clientId'], message: 'is required when provider is oidc' });
      if (identity.demoUsers.length > 0)
        ctx.addIssue({
          code: 'custom',
          path: ['demoUsers'],
          message: 'is only allowed when provider is embedded',
        });
    }
  });

const channel = z.strictObject({
  name: dnsLabel.describe('Channel name, e.g. canary or stable.'),
  threshold: z
    .int()
    .min(1)
    .max(10)
    .default(1)
    .describe("Signatures required on this channel's metadata. Default 1."),
});

/** Delivery settings every sink shares (docs/audit-sinks.md): batching, queue bound, retry, dead letters. */
const sinkDelivery = z
  .strictObject({
    batchSize: z
      .int()
      .min(1)
      .max(10_000)
      .default(100)
      .describe('Most events sent in one batch. Default 100.'),
    batchWait: duration
      .default('1s')
      .describe('Longest an event waits for its batch to fill before the batch is sent. Default 1s.'),
    queueSize: z
      .int()
      .min(1)
      .max(10_000_000)
      .default(100_000)
      .describe(
        'Events held in memory for this sink; beyond it new events go to the dead-letter file. Default 100000.',
      ),
    retries: z
      .int()
      .min(0)
      .max(1000)
      .default(10)
      .describe('Retries of a failed batch before it is dead-lettered. Default 10.'),
    backoff: duration
      .default('500ms')
      .describe('Delay before the first retry; doubles each retry, with jitter. Default 500ms.'),
    maxBackoff: duration.default('1m').describe('Longest delay between retries. Default 1m.'),
    deadLetter: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Dead-letter file (JSON lines, mode 0600). Default <data dir>/audit/dead-letter/<sink name>.jsonl.',
      ),
  })
  .default({
    batchSize: 100,
    batchWait: '1s',
    queueSize: 100_000,
    retries: 10,
    backoff: '500ms',
    maxBackoff: '1m',
  })
  .describe('Batching, queue bound, retry and dead-letter settings of this sink.');

const envName = z
  .string()
  .regex(/^[A-Z_][A-Z0-9_]{0,127}$/, 'must be an environment variable name such as PADDOCK_HEC_TOKEN');

const jsonlSink = z.strictObject({
  type: z.literal('jsonl'),
  name: dnsLabel.describe('Sink name, used in logs and dead-letter files.'),
  path: z
    .string()
    .min(1)
    .describe(
      'File to append OCSF events to, one JSON object per line (relative: under the data directory).',
    ),
  maxBytes: z
    .int()
    .min(1024)
    .default(100 * 1024 * 1024)
    .describe('Rotate after this many bytes. Default 100 MiB.'),
  daily: z.boolean().default(false).describe('Also rotate when the UTC day changes. Default false.'),
  keep: z
    .int()
    .min(1)
    .max(10_000)
    .default(10)
    .describe('Rotated files kept; older ones are deleted. Default 10.'),
  delivery: sinkDelivery,
});
const syslogSink = z.strictObject({
  type: z.literal('syslog'),
  name: dnsLabel.describe('Sink name.'),
  host: z.string().min(1).describe('Syslog collector host.'),
  port: z.int().min(1).max(65535).describe('Collector port.'),
  tls: z.boolean().default(false).describe('Use TLS (RFC 5425). Default false.'),
  caFile: z
    .string()
    .min(1)
    .optional()
    .describe("PEM file of the CA that signed the collector's certificate (tls). Default: the system CAs."),
  serverName: z
    .string()
    .min(1)
    .optional()
    .describe("Name the collector's certificate must carry (tls). Default: host."),
  facility: z
    .int()
    .min(0)
    .max(23)
    .default(13)
    .describe('Syslog facility number, 0..23. Default 13 (log audit).'),
  delivery: sinkDelivery,
});
const splunkSink = z.strictObject({
  type: z.literal('splunk-hec'),
  name: dnsLabel.describe('Sink name.'),
  url: z
    .url()
    .describe(
      'HTTP Event Collector base URL, e.g. https://splunk:8088 (the sink posts to /services/collector/event).',
    ),
  tokenEnv: envName.describe('Environment variable holding the HEC token.'),
  index: z.string().min(1).optional().describe("Splunk index. Default: the token's default index."),
  sourcetype: z.string().min(1).default('paddock:ocsf').describe('Splunk sourcetype. Default paddock:ocsf.'),
  gzip: z.boolean().default(false).describe('Compress request bodies. Default false.'),
  delivery: sinkDelivery,
});
const azureSink = z.strictObject({
  type: z.literal('azure-monitor'),
  name: dnsLabel.describe('Sink name.'),
  endpoint: z.url().describe('Data collection endpoint (Logs Ingestion API).'),
  ruleId: z.string().min(1).describe('Data collection rule immutable id.'),
  stream: z.string().min(1).describe('DCR stream name, e.g. Custom-PaddockOCSF.'),
  tenantId: z.string().min(1).optional().describe('Entra tenant id (with clientId and clientSecretEnv).'),
  clientId: z.string().min(1).optional().describe('Entra application (client) id.'),
  clientSecretEnv: envName
    .optional()
    .describe(
      'Environment variable holding the client secret. Unset: DefaultAzureCredential (workload identity, managed identity, environment).',
    ),
  delivery: sinkDelivery,
});
const otlpSink = z.strictObject({
  type: z.literal('otlp'),
  name: dnsLabel.describe('Sink name.'),
  url: z.url().describe('OTLP/HTTP logs endpoint, e.g. https://collector:4318/v1/logs.'),
  headersEnv: envName
    .optional()
    .describe(
      'Environment variable holding extra request headers, "name=value" pairs separated by commas (OTLP style).',
    ),
  gzip: z.boolean().default(false).describe('Compress request bodies. Default false.'),
  delivery: sinkDelivery,
});
export const auditSink = z.discriminatedUnion('type', [
  jsonlSink,
  syslogSink,
  splunkSink,
  azureSink,
  otlpSink,
]);

export const platformSchema = z
  .strictObject({
    apiVersion,
    kind: z.literal('Platform').describe('Always "Platform".'),
    metadata: metadataName.describe('Name of this platform (a DNS label).'),
    spec: z.strictObject({
      identity: identitySpec,
      provider: z.enum(PROVIDERS).default('local').describe('Default workspace provider. Default local.'),
      releases: z
        .strictObject({
          channels: z.array(channel).min(1).describe('Release channels, in promotion order.'),
        })
        .default({
          channels: [
            { name: 'canary', threshold: 1 },
            { name: 'stable', threshold: 1 },
          ],
        })
        .describe('Policy release channels. Default canary then stable, one signature each.'),
      reviews: z
        .strictObject({
          webhook: z
            .strictObject({
              urlEnv: z
                .string()
                .regex(
                  /^[A-Z_][A-Z0-9_]{0,127}$/,
                  'must be an environment variable name such as PADDOCK_REVIEW_WEBHOOK',
                )
                .describe(
                  'Environment variable holding the webhook URL (Slack-style URLs carry a secret, so the file names only the variable).',
                ),
            })
            .optional()
            .describe('Slack-compatible webhook called on each new review request. Default: none.'),
        })
        .default({})
        .describe('Review inbox settings.'),
      audit: z
        .strictObject({
          sinks: z
            .array(auditSink)
            .default([])
            .describe('Where audit events are exported (several at once).'),
        })
        .default({ sinks: [] })
        .describe('Audit export settings.'),
    }),
  })
  .describe('Platform settings: identity, provider, release channels and audit sinks (paddock.yaml).');

export type Platform = z.infer<typeof platformSchema>;
