import type { Command } from '../command.ts';
import { auditVerifyCommand } from './audit-verify.ts';
import { blueprintExplainCommand } from './blueprint-explain.ts';
import { schemaCommand } from './schema.ts';
import { validateCommand } from './validate.ts';

// Every CLI command, in the order `paddock --help` lists them.
export const COMMANDS: readonly Command[] = [
  validateCommand,
  schemaCommand,
  blueprintExplainCommand,
  auditVerifyCommand,
];
