import { BlockList, isIPv4 } from 'node:net';
import { z } from 'zod';
import { PaddockError } from '../../core/errors.ts';

// The Azure environment a platform deploys into: subscription, region, address plan, the
// ranges workspaces must never reach, and how Paddock authenticates to ARM. It is a file of its
// own (`paddock render azure --settings FILE`), not part of paddock.yaml: it names one cloud
// landing zone, and the same desired state can be rendered into several.

const cidr = z
  .string()
  .regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, 'must be an IPv4 CIDR such as 10.0.0.0/16')
  .refine((text) => isIPv4(text.split('/')[0] ?? '') && Number(text.split('/')[1]) <= 32, 'not an IPv4 CIDR');
const ipv4 = z.string().refine((text) => isIPv4(text), 'must be an IPv4 address');
const azureName = z
  .string()
  .regex(/^[a-z][a-z0-9-]{1,20}[a-z0-9]$/, 'must be 3-22 lower-case letters, digits and "-"');
const uuid = z
  .string()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'must be a GUID');

export const azureSettingsSchema = z
  .strictObject({
    subscriptionId: uuid.describe('Subscription the resource group is in.'),
    tenantId: uuid.describe('Entra tenant of the subscription (Key Vault access).'),
    resourceGroup: z
      .string()
      .regex(/^[-\w.()]{1,90}$/)
      .describe('Resource group of hub and workspaces.'),
    location: z
      .string()
      .regex(/^[a-z0-9]+$/)
      .describe('Azure region, e.g. westeurope.'),
    prefix: azureName.describe('Name prefix of every rendered resource, e.g. pdk.'),
    channelUrl: z
      .url()
      .refine((url) => url.startsWith('wss://'), 'must be a wss:// URL')
      .describe("The control plane's channel the supervisors dial (wss://HOST/channel)."),
    hub: z.strictObject({
      addressSpace: cidr.describe('Hub VNet range.'),
      firewallSubnet: cidr.describe('AzureFirewallSubnet (at least /26).'),
      privateEndpointSubnet: cidr.describe('Subnet of the Key Vault private endpoint.'),
      firewallPrivateIp: ipv4.describe("The firewall's private IP (the 4th address of AzureFirewallSubnet)."),
      tlsInspectionCaSecretId: z
        .url()
        .describe(
          'Key Vault secret id of the intermediate CA Azure Firewall Premium signs inspected TLS with (PKCS#12).',
        ),
      tlsInspectionIdentityId: z
        .string()
        .regex(/^\/subscriptions\/.+\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\/[^/]+$/)
        .describe('User-assigned identity the firewall policy reads that CA with (Key Vault Secrets User).'),
    }),
    workspaces: z.strictObject({
      addressSpace: cidr.describe('Spoke VNet range; each workspace gets a /28 of it (16 addresses).'),
    }),
    corporateCidrs: z
      .array(cidr)
      .min(1)
      .max(100)
      .describe('Ranges workspaces must never reach (on-premises, other VNets): denied in both directions.'),
    logAnalyticsWorkspaceId: z
      .string()
      .regex(/^\/subscriptions\/.+\/providers\/Microsoft\.OperationalInsights\/workspaces\/[^/]+$/)
      .describe('Log Analytics workspace that receives firewall and Key Vault diagnostics (and Sentinel).'),
    vmSize: z
      .string()
      .regex(/^Standard_[A-Za-z0-9_]+$/)
      .optional()
      .describe('VM size. Default: chosen from the profile size (D-series v5).'),
    auth: z
      .discriminatedUnion('mode', [
        z.strictObject({
          mode: z.literal('workload-identity'),
          clientId: z.string().min(1).optional(),
          tenantId: uuid.optional(),
          tokenFilePath: z.string().min(1).optional(),
          authorityHost: z
            .url({ protocol: /^https$/ })
            .optional()
            .describe(
              'Entra ID authority host, e.g. https://login.microsoftonline.us (Azure Government). Default the public cloud (https://login.microsoftonline.com).',
            ),
          disableInstanceDiscovery: z
            .boolean()
            .optional()
            .describe(
              'Skip Entra instance discovery and authority validation: only for an authority host that cannot reach login.microsoft.com (Azure Stack, private clouds). Default false.',
            ),
        }),
        z.strictObject({ mode: z.literal('managed-identity'), clientId: z.string().min(1).optional() }),
      ])
      .default({ mode: 'managed-identity' })
      .describe('How Paddock authenticates to ARM: CI federation or the managed identity it runs as.'),
  })
  .superRefine((settings, ctx) => {
    const within = (outer: string, inner: string): boolean => {
      const [net = '', bits = ''] = outer.split('/');
      const list = new BlockList();
      list.addSubnet(net, Number(bits), 'ipv4');
      const [innerNet = '', innerBits = ''] = inner.split('/');
      return list.check(innerNet, 'ipv4') && Number(innerBits) >= Number(bits);
    };
    const { hub } = settings;
    for (const field of ['firewallSubnet', 'privateEndpointSubnet'] as const) {
      if (!within(hub.addressSpace, hub[field]))
        ctx.addIssue({
          code: 'custom',
          path: ['hub', field],
          message: `is not inside hub.addressSpace ${hub.addressSpace}`,
        });
    }
    if (Number(hub.firewallSubnet.split('/')[1]) > 26)
      ctx.addIssue({
        code: 'custom',
        path: ['hub', 'firewallSubnet'],
        message: 'must be /26 or larger (Azure Firewall)',
      });
    if (!within(hub.firewallSubnet, `${hub.firewallPrivateIp}/32`))
      ctx.addIssue({
        code: 'custom',
        path: ['hub', 'firewallPrivateIp'],
        message: `is not inside hub.firewallSubnet ${hub.firewallSubnet}`,
      });
    if (Number(settings.workspaces.addressSpace.split('/')[1]) > 27)
      ctx.addIssue({
        code: 'custom',
        path: ['workspaces', 'addressSpace'],
        message: 'must hold at least two /28 subnets',
      });
  });

export type AzureSettings = z.infer<typeof azureSettingsSchema>;

/** Parses settings; throws PDK_AZURE_SETTINGS_INVALID listing every field that is wrong. */
export function parseAzureSettings(value: unknown): AzureSettings {
  const parsed = azureSettingsSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map(
    (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
  );
  throw new PaddockError('PDK_AZURE_SETTINGS_INVALID', `azure settings are invalid: ${problems.join('; ')}`, {
    details: problems,
  });
}
