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
    kind: z.literal('Service').describe('Always "Service".'),
    metadata: metadataName.describe('Name blueprints use for this service in spec.services[].name.'),
    spec: serviceSpec.describe('Hosts, ports and L7 rules of the service.'),
  })
  .describe('A shared service definition that blueprints reference by name.');

export type Service = z.infer<typeof serviceSchema>;
