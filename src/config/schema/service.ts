import { z } from 'zod';
import { blueprintService } from './blueprint.ts';
import { apiVersion, metadataName } from './common.ts';

export const serviceSpec = blueprintService
  .omit({ name: true })
  .extend({
    description: z.string().optional().describe('What this service is, for people reading the repository.'),
  })
  .required({ hosts: true });

export const serviceSchema = z
  .strictObject({
    apiVersion,
    kind: z.literal('Service'),
    metadata: metadataName,
    spec: serviceSpec,
  })
  .describe('A shared service definition that blueprints reference by name.');

export type Service = z.infer<typeof serviceSchema>;
