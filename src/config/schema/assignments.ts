import { z } from 'zod';
import { apiVersion, dnsLabel, email } from './common.ts';

export const assignment = z
  .strictObject({
    users: z.array(email).default([]).describe('Users (by e-mail) this assignment applies to.'),
    groups: z.array(z.string().min(1)).default([]).describe('IdP groups this assignment applies to.'),
    profile: dnsLabel.describe('The workspace profile they get.'),
    blueprints: z.array(dnsLabel).min(1).describe('The blueprints they may run.'),
  })
  .refine((a) => a.users.length + a.groups.length > 0, 'must name at least one user or group');

export const assignmentsSchema = z
  .strictObject({
    apiVersion,
    kind: z.literal('Assignments').describe('Always "Assignments".'),
    spec: z.strictObject({
      assignments: z.array(assignment).describe('Who gets which profile and blueprints.'),
    }),
  })
  .describe('Which users and groups get which profile and blueprints.');

export type Assignments = z.infer<typeof assignmentsSchema>;
