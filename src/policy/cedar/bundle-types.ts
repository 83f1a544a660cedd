import type { EgressServiceSpec } from '../egress/types.ts';

// The policy compiler's vocabulary. Policy imports only core, so the blueprint arrives as plain
// data that mirrors `spec` of a resolved blueprint (src/config/schema/blueprint.ts) field for
// field; the supervisor maps one onto the other (src/supervisor/pdp/blueprint-input.ts).

/** The six actions an agent can ask about (DESIGN.md §4). */
export const POLICY_ACTIONS = [
  'read_file',
  'write_file',
  'exec',
  'connect',
  'http_request',
  'mcp_call',
] as const;
export type PolicyAction = (typeof POLICY_ACTIONS)[number];

/** One `writes` entry of a blueprint: state-changing requests to a service and their review need. */
export interface PolicyWriteSpec {
  readonly service: string;
  readonly methods: readonly string[];
  /** URL path globs (`*` within one segment, `**` any number of segments). */
  readonly paths: readonly string[];
  readonly review: 'none' | 'required';
}

/** What the compiler needs of an effective blueprint. Omitted fields mean what the blueprint schema says. */
export interface PolicyBlueprint {
  /** `metadata.name`: the Blueprint entity every generated policy is scoped to. */
  readonly name: string;
  /** `metadata.version`: the default bundle version. */
  readonly version: string;
  /** `spec.tools.commands`. Omitted: no command may run. */
  readonly commands?: { readonly allow?: readonly string[]; readonly deny?: readonly string[] };
  /** `spec.tools.mcp`. Omitted: no MCP server. */
  readonly mcp?: readonly { readonly server: string; readonly allow: readonly string[] }[];
  /** `spec.services`, with shared services expanded (every entry has hosts). Omitted: no egress. */
  readonly services?: readonly EgressServiceSpec[];
  /** `spec.dataScope`. Omitted: /workspace read-only (the blueprint schema's default). */
  readonly dataScope?: {
    readonly read?: readonly string[];
    readonly write?: readonly string[];
    readonly deny?: readonly string[];
  };
  /** `spec.writes`. Entries with `review: none` compile to nothing (the service rules decide). */
  readonly writes?: readonly PolicyWriteSpec[];
}

/**
 * Paths never writable, relative to each writable scope; a trailing "/" marks a directory
 * (the directory and everything under it). The supervisor passes the sandbox's own list so the
 * PDP and the kernel sandbox protect the same names.
 */
export interface ProtectedPaths {
  /** Protected at the top of every writable scope, e.g. `.claude/`, `.bashrc`, `.git/hooks/`. */
  readonly top: readonly string[];
  /** Protected at any depth under a writable scope, e.g. `.git/hooks/` of nested repositories. */
  readonly anyDepth: readonly string[];
}

/** A `policies/*.cedar` file of the desired-state repository. */
export interface ExtraPolicyFile {
  /** Name relative to the repository root, e.g. `policies/no-force-push.cedar`. */
  readonly file: string;
  readonly text: string;
}

/** Everything a bundle is compiled from. */
export interface PolicyBundleInput {
  readonly blueprint: PolicyBlueprint;
  readonly protectedPaths: ProtectedPaths;
  /** Extra Cedar policies merged into the bundle (scope them with `principal in Blueprint::"NAME"`). */
  readonly extraPolicies?: readonly ExtraPolicyFile[];
  /** Id and version as a release signs them. Default: `NAME:DIGEST16` and the blueprint's version. */
  readonly bundle?: { readonly id?: string; readonly version?: string };
}

/** Where a policy came from: a blueprint field (`spec.tools.commands.deny[0]`) or an extra file. */
export interface PolicySource {
  /** The blueprint field path as `formatFieldPath` prints it; absent for extra policies. */
  readonly field?: string;
  /** For extra policies: the file and the 1-based line the policy starts on. */
  readonly file?: string;
  readonly line?: number;
}

/** One policy of a bundle. */
export interface BundlePolicy {
  /** Stable id: `commands.allow[2]`, `services[github].rules[1]`, `extra:policies/x.cedar#0`, … */
  readonly id: string;
  readonly effect: 'permit' | 'forbid';
  /** The policy's Cedar text (annotations included). */
  readonly text: string;
  readonly source: PolicySource;
}

/**
 * A compiled policy bundle: plain, JSON-safe data that a release can sign and a supervisor can
 * load. `createDecisionPoint` derives its matchers from it.
 */
export interface PolicyBundle {
  readonly id: string;
  readonly version: string;
  readonly blueprint: { readonly name: string; readonly version: string };
  /** Generated policies first (in blueprint order), then extra policies (by file, then position). */
  readonly policies: readonly BundlePolicy[];
  /** The Cedar schema every policy validates against (docs/policy.md). */
  readonly schema: string;
  /** The services, for the precomputed `context.service` of connect and http_request. */
  readonly services: readonly EgressServiceSpec[];
  /** Every URL path glob the policies test through `context.pathMatches`. */
  readonly pathGlobs: readonly string[];
}
