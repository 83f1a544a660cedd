import type { Command } from '../command.ts';
import { doctorCommand } from './doctor.ts';
import { hookCommand, hookInstallCommand } from './hook.ts';
import { mcpShimCommand } from './mcp-shim.ts';
import { runCommand } from './run.ts';
import { reviewApproveCommand, reviewDenyCommand, reviewListCommand, reviewShowCommand } from './review.ts';
import { auditVerifyCommand } from './audit-verify.ts';
import { blueprintExplainCommand } from './blueprint-explain.ts';
import { policyExplainCommand } from './policy-explain.ts';
import { schemaCommand } from './schema.ts';
import { upCommand } from './up.ts';
import { validateCommand } from './validate.ts';

// Every CLI command, in the order `paddock --help` lists them.
export const COMMANDS: readonly Command[] = [
  upCommand,
  runCommand,
  doctorCommand,
  validateCommand,
  schemaCommand,
  blueprintExplainCommand,
  policyExplainCommand,
  auditVerifyCommand,
  hookCommand,
  hookInstallCommand,
  reviewListCommand,
  reviewShowCommand,
  reviewApproveCommand,
  reviewDenyCommand,
  mcpShimCommand,
];
