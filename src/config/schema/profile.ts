import { z } from 'zod';
import { apiVersion, dnsLabel, duration, metadataName } from './common.ts';

export const PROVIDERS = ['local', 'kubevirt', 'azure'] as const;

const DIGEST_PINNED = /^[a-z0-9][a-z0-9._\-/:]*@sha256:[0-9a-f]{64}$/;
const GALLERY_VERSION =
  /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Compute\/galleries\/[^/]+\/images\/[^/]+\/versions\/\d+\.\d+\.\d+$/;

export const profileSpec = z
  .strictObject({
    provider: z.enum(PROVIDERS).describe('Where workspaces of this profile run.'),
    os: z.enum(['linux', 'windows']).default('linux').describe('Workspace operating system. Default linux.'),
    image: z
      .string()
      .refine(
        (image) => DIGEST_PINNED.test(image) || GALLERY_VERSION.test(image),
        'must be pinned: an image reference with @sha256:<digest>, or an Azure Compute Gallery image version id with an explicit version',
      )
      .optional()
      .describe(
        'Workspace image, pinned by digest (kubevirt) or gallery image version (azure). Not used by the local provider.',
      ),
    size: z
      .strictObject({
        cpus: z.int().min(1).max(256).describe('Virtual CPUs.'),
        memoryMiB: z.int().min(256).max(4_194_304).describe('Memory in MiB.'),
        diskGiB: z.int().min(1).max(65_536).default(32).describe('Disk in GiB. Default 32.'),
      })
      .describe('Workspace size.'),
    limits: z
      .strictObject({
        processes: z
          .int()
          .min(8)
          .max(1_000_000)
          .default(512)
          .describe('Most processes in the sandbox. Default 512.'),
        openFiles: z
          .int()
          .min(64)
          .max(1_048_576)
          .default(4096)
          .describe('Most open files per process. Default 4096.'),
        memoryMiB: z
          .int()
          .min(64)
          .max(4_194_304)
          .optional()
          .describe('Most memory for the sandbox, in MiB. Default: size.memoryMiB.'),
      })
      .default({ processes: 512, openFiles: 4096 })
      .describe('Resource limits on the agent sandbox.'),
    idleTimeout: duration
      .default('30m')
      .describe('Stop the workspace after this long without a session. Default 30m.'),
    maxLifetime: duration.default('7d').describe('Rebuild the workspace after this long. Default 7d.'),
    releaseChannel: dnsLabel
      .optional()
      .describe(
        "The policy release channel this profile's workspaces follow (a name in paddock.yaml spec.releases.channels). Default: the first channel declared (canary), the one the reconciler releases to; later ones (stable) advance only by `paddock policy promote`.",
      ),
  })
  .superRefine((spec, ctx) => {
    if (spec.provider !== 'local' && spec.image === undefined) {
      ctx.addIssue({ code: 'custom', path: ['image'], message: `is required for provider ${spec.provider}` });
    }
  });

export const profileSchema = z
  .strictObject({
    apiVersion,
    kind: z.literal('Profile').describe('Always "Profile".'),
    metadata: metadataName.describe('Name assignments use for this profile.'),
    spec: profileSpec.describe('Provider, image, size, limits and lifetime of the workspace.'),
  })
  .describe('A workspace profile: provider, image, size and lifetime.');

export type Profile = z.infer<typeof profileSchema>;
