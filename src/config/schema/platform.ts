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

const jsonlSink = z.strictObject({
  type: z.literal('jsonl'),
  name: dnsLabel.describe('Sink name, used in logs and dead-letter files.'),
  path: z.string().min(1).describe('File to append OCSF events to, one JSON object per line.'),
  maxBytes: z
    .int()
    .min(1024)
    .default(100 * 1024 * 1024)
    .describe('Rotate after this many bytes. Default 100 MiB.'),
});
const syslogSink = z.strictObject({
  type: z.literal('syslog'),
  name: dnsLabel.describe('Sink name.'),
  host: z.string().min(1).describe('Syslog collector host.'),
  port: z.int().min(1).max(65535).describe('Collector port.'),
  tls: z.boolean().default(false).describe('Use TLS (RFC 5425). Default false.'),
});
const splunkSink = z.strictObject({
  type: z.literal('splunk-hec'),
  name: dnsLabel.describe('Sink name.'),
  url: z.url().describe('HTTP Event Collector URL.'),
  tokenSecret: dnsLabel.describe('Name of the secret holding the HEC token.'),
});
const azureSink = z.strictObject({
  type: z.literal('azure-monitor'),
  name: dnsLabel.describe('Sink name.'),
  endpoint: z.url().describe('Data collection endpoint (Logs Ingestion API).'),
  ruleId: z.string().min(1).describe('Data collection rule immutable id.'),
  stream: z.string().min(1).describe('DCR stream name, e.g. Custom-PaddockOCSF.'),
});
const otlpSink = z.strictObject({
  type: z.literal('otlp'),
  name: dnsLabel.describe('Sink name.'),
  url: z.url().describe('OTLP/HTTP logs endpoint, e.g. https://collector:4318/v1/logs.'),
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
