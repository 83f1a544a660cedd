import { resolveBlueprints } from '../../src/config/inheritance/resolve-blueprints.ts';
import { blueprintYaml, serviceYaml, stateOf } from './inheritance-state.ts';

// The parent every narrowing-table case starts from ("base"), and the case shape
// shared by inheritance-widening.test.ts and inheritance-narrowing.test.ts.

export const GITHUB = {
  name: 'github',
  hosts: ['api.github.com', '*.githubusercontent.com'],
  ports: [443],
  access: 'read-write',
  rules: [
    { methods: ['GET'], paths: ['/repos/**'] },
    { methods: ['POST'], paths: ['/repos/*/*/pulls/*/reviews'] },
  ],
  credential: 'github-pat',
};
export const REGISTRY = { name: 'registry', hosts: ['npm.mirror.example.com'] }; // L4-only
export const WAREHOUSE = {
  name: 'warehouse',
  hosts: ['db.internal.example.com'],
  ports: [5432],
  cidrs: ['10.20.0.0/16'],
};
export const REVIEWS_WRITE = {
  service: 'github',
  methods: ['POST'],
  paths: ['/repos/*/*/pulls/*/reviews'],
  review: 'required',
};

/** The weaker-mode waiver (spec.sandbox): run without Landlock on a kernel that lacks it. */
export const LANDLOCK_WAIVER = { allowMissing: ['landlock'] };

export const BASE = {
  tools: {
    commands: { allow: ['git *', 'npm run *', 'node *'], deny: ['git push *', 'curl *'] },
    mcp: [{ server: 'github', allow: ['get_pull_request', 'create_pending_review'] }],
  },
  services: [GITHUB, REGISTRY, WAREHOUSE],
  dataScope: { read: ['/workspace', '/usr'], write: ['/workspace'], deny: ['/workspace/.env'] },
  writes: [REVIEWS_WRITE],
  reviewGates: {
    reviewers: ['group:appsec', 'user:lead@example.com'],
    minApprovals: 2,
    timeout: '4h',
    onTimeout: 'deny',
  },
  logging: { toolArguments: 'redacted', redact: ['(?i)password'], retention: '365d' },
};

export const github = (changes: Record<string, unknown>) => ({ ...GITHUB, ...changes });
export const without = (object: Record<string, unknown>, key: string) =>
  Object.fromEntries(Object.entries(object).filter(([k]) => k !== key));

export interface Case {
  readonly name: string;
  readonly child: Record<string, unknown>;
  /** Parent spec; default BASE. */
  readonly parent?: Record<string, unknown>;
  readonly services?: Record<string, Record<string, unknown>>;
  /** [path, message] of each expected problem, in order. */
  readonly widens?: readonly (readonly [string, string])[];
}

/** The message of a widening of "base". */
export const W = (field: string, detail: string) => `${field} widens parent "base": ${detail}`;

/** Resolves "base" (the case's parent, default BASE) and "child" with the case's shared services. */
export function problemsOf(testCase: Case) {
  const files: Record<string, string> = {
    'blueprints/base.yaml': blueprintYaml('base', testCase.parent ?? BASE),
    'blueprints/child.yaml': blueprintYaml('child', testCase.child, 'base'),
  };
  for (const [name, spec] of Object.entries(testCase.services ?? {}))
    files[`services/${name}.yaml`] = serviceYaml(name, spec);
  return resolveBlueprints(stateOf(files));
}
