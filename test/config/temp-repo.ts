import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after } from 'node:test';

// Small desired-state repositories written to a temp directory per test. Each
// test states the files it needs next to its assertions, so line numbers in the
// assertions can be read off the text right there.

export const PLATFORM = `apiVersion: paddock.dev/v1
kind: Platform
metadata:
  name: test
spec:
  identity:
    provider: embedded
`;

export const PROFILE = `apiVersion: paddock.dev/v1
kind: Profile
metadata:
  name: standard
spec:
  provider: local
  size:
    cpus: 2
    memoryMiB: 4096
`;

export const SERVICE = `apiVersion: paddock.dev/v1
kind: Service
metadata:
  name: github
spec:
  hosts: [api.github.com]
  ports: [443]
`;

export const BLUEPRINT = `apiVersion: paddock.dev/v1
kind: Blueprint
metadata:
  name: code-review
  version: 1.3.0
  owner: appsec@example.com
  incidentContact: secops@example.com
  reviewCadence: 90d
spec:
  goal: Review pull requests.
  services:
    - name: github
  writes:
    - service: github
      methods: [POST]
      paths: ["/repos/*/*/pulls/*/reviews"]
      review: required
  reviewGates:
    reviewers: ["group:appsec"]
`;

export const ASSIGNMENTS = `apiVersion: paddock.dev/v1
kind: Assignments
spec:
  assignments:
    - groups: [engineering]
      users: [ada@example.com]
      profile: standard
      blueprints: [code-review]
`;

/** A repository that validates cleanly: one of each kind and a Cedar policy. */
export const VALID_REPO: Readonly<Record<string, string>> = {
  'paddock.yaml': PLATFORM,
  'profiles/standard.yaml': PROFILE,
  'services/github.yaml': SERVICE,
  'blueprints/code-review.yaml': BLUEPRINT,
  'assignments.yaml': ASSIGNMENTS,
  'policies/extra.cedar': 'forbid (principal, action, resource);\n',
};

/** Writes `files` (relative path -> content) into a fresh temp directory removed after the test file. */
export function writeRepo(files: Readonly<Record<string, string | Uint8Array>>): string {
  const root = mkdtempSync(join(tmpdir(), 'paddock-config-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), content);
  }
  return root;
}

/** The billion-laughs document: ten levels of nine aliases, 10^9 strings if expanded. */
export function billionLaughs(): string {
  let text = 'a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n';
  for (let i = 1; i < 10; i++) text += `a${i}: &a${i} [${new Array(9).fill(`*a${i - 1}`).join(', ')}]\n`;
  return text;
}
