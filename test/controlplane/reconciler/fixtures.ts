import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// A real desired-state repository for reconciler tests: the example platform with local-only
// profiles and assignments the test chooses, optionally committed to a real Git repository.

export const EXAMPLES = fileURLToPath(new URL('../../../examples/platform/', import.meta.url));

export interface AssignmentSpec {
  readonly users?: readonly string[];
  readonly groups?: readonly string[];
  readonly profile: string;
  readonly blueprints: readonly string[];
}

/** Copies the example platform into `dir` (kubevirt/azure profiles dropped) with these assignments. */
export function writeDesiredState(dir: string, assignments: readonly AssignmentSpec[]): void {
  cpSync(EXAMPLES, dir, { recursive: true });
  for (const name of ['large-kubevirt', 'analyst-azure'])
    execFileSync('rm', ['-f', join(dir, 'profiles', `${name}.yaml`)]);
  writeProfile(dir, 'large-local', 8192);
  writeAssignments(dir, assignments);
}

export function writeAssignments(dir: string, assignments: readonly AssignmentSpec[]): void {
  const lines = ['apiVersion: paddock.dev/v1', 'kind: Assignments', 'spec:', '  assignments:'];
  for (const a of assignments) {
    lines.push(`    - users: [${(a.users ?? []).join(', ')}]`);
    lines.push(`      groups: [${(a.groups ?? []).join(', ')}]`);
    lines.push(`      profile: ${a.profile}`);
    lines.push(`      blueprints: [${a.blueprints.join(', ')}]`);
  }
  writeFileSync(join(dir, 'assignments.yaml'), `${lines.join('\n')}\n`);
}

export function writeProfile(dir: string, name: string, memoryMiB: number): void {
  mkdirSync(join(dir, 'profiles'), { recursive: true });
  writeFileSync(
    join(dir, 'profiles', `${name}.yaml`),
    [
      'apiVersion: paddock.dev/v1',
      'kind: Profile',
      'metadata:',
      `  name: ${name}`,
      'spec:',
      '  provider: local',
      `  size: { cpus: 2, memoryMiB: ${memoryMiB}, diskGiB: 20 }`,
      '',
    ].join('\n'),
  );
}

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'Alice Admin',
      GIT_AUTHOR_EMAIL: 'alice@example.com',
      GIT_COMMITTER_NAME: 'Alice Admin',
      GIT_COMMITTER_EMAIL: 'alice@example.com',
      GIT_CONFIG_NOSYSTEM: '1',
      HOME: cwd,
    },
  }).trim();
}

/** A bare repository at `bare` and a working clone at `work`, the desired state committed and pushed. */
export function initGitRepository(
  bare: string,
  work: string,
  assignments: readonly AssignmentSpec[],
): string {
  git(join(bare, '..'), 'init', '--quiet', '--bare', '--initial-branch=main', bare);
  git(join(work, '..'), 'init', '--quiet', '--initial-branch=main', work);
  writeDesiredState(work, assignments);
  return commitAndPush(work, bare, 'initial desired state');
}

/** Commits everything in `work` and pushes it to `bare`; resolves to the commit id. */
export function commitAndPush(work: string, bare: string, message: string): string {
  git(work, 'add', '-A');
  git(work, 'commit', '--quiet', '-m', message);
  git(work, 'push', '--quiet', `file://${bare}`, 'HEAD:main');
  return git(work, 'rev-parse', 'HEAD');
}
