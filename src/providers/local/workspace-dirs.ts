import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { PaddockError } from '../../core/errors.ts';

// A local workspace's files under the data directory, outside any sandbox:
//   workspaces/ID/            root, 0711
//     meta.json               the data owner uid the workspace's files belong to on the host
//     identity.json           the supervisor's channel identity (0600)
//     supervisor.json         the supervisor's config (0600)
//     supervisor.log          its stdout and stderr
//     audit.jsonl             its hash-chained audit log
//     home/                   the sandbox user's persistent HOME     (owned by the data owner)
//     workspace/              the persistent /workspace              (owned by the data owner)
// The sandbox shows the data owner's files as its own (idmapped mounts), and every sandbox
// runs as a fresh leased uid; the data owner is a uid no account and no sandbox uses, one per
// workspace, so one workspace's files are never another's.
//
// bubblewrap resolves even a descriptor-bound source by its path as the sandbox uid, so the
// directories down to home/ and workspace/ must be traversable by others (o+x, not listable):
// the provider adds o+x to the data directory and its workspaces/ tree, and refuses a data
// directory beneath one that is not traversable (e.g. /root).

/** First data owner uid: above distributions' and container ranges, below the sandbox uids. */
export const DATA_UID_BASE = 1_990_000_000;
const DATA_UID_SLOTS = 1_000_000;

const WORKSPACE_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

export interface WorkspaceDirs {
  readonly root: string;
  readonly home: string;
  readonly workspace: string;
  readonly identityFile: string;
  readonly configFile: string;
  readonly logFile: string;
  readonly auditLog: string;
}

export function workspaceDirs(dataDir: string, workspaceId: string): WorkspaceDirs {
  if (!WORKSPACE_ID.test(workspaceId))
    throw new PaddockError(
      'PDK_WORKSPACE_PROVIDER',
      `local provider: workspace id ${JSON.stringify(workspaceId)} is not a DNS label`,
    );
  const root = join(dataDir, 'workspaces', workspaceId);
  return {
    root,
    home: join(root, 'home'),
    workspace: join(root, 'workspace'),
    identityFile: join(root, 'identity.json'),
    configFile: join(root, 'supervisor.json'),
    logFile: join(root, 'supervisor.log'),
    auditLog: join(root, 'audit.jsonl'),
  };
}

function readDataUid(root: string): number | undefined {
  try {
    const meta = JSON.parse(readFileSync(join(root, 'meta.json'), 'utf8')) as { dataUid?: unknown };
    return typeof meta.dataUid === 'number' ? meta.dataUid : undefined;
  } catch {
    return undefined;
  }
}

/** The workspace's data owner: kept in meta.json, else the lowest one no other workspace has. */
function dataUidFor(dataDir: string, root: string): number {
  const existing = readDataUid(root);
  if (existing !== undefined) return existing;
  const all = join(dataDir, 'workspaces');
  const used = new Set(readdirSync(all).map((name) => readDataUid(join(all, name))));
  for (let slot = 0; slot < DATA_UID_SLOTS; slot++) {
    const uid = DATA_UID_BASE + slot;
    if (!used.has(uid)) {
      writeFileSync(join(root, 'meta.json'), `${JSON.stringify({ dataUid: uid })}\n`, { mode: 0o600 });
      return uid;
    }
  }
  throw new PaddockError('PDK_WORKSPACE_PROVIDER', 'local provider: no free data owner uid');
}

/** Adds o+x to `path` (search only: names inside stay unlistable). */
function allowTraversal(path: string): void {
  const mode = statSync(path).mode & 0o7777;
  if ((mode & 0o001) === 0) chmodSync(path, mode | 0o001);
}

/** PDK_WORKSPACE_PROVIDER when an ancestor of the data directory is not traversable by others. */
function checkAncestors(dataDir: string): void {
  for (let dir = dirname(dataDir); ; dir = dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0)
      throw new PaddockError(
        'PDK_WORKSPACE_PROVIDER',
        `local provider: ${dir} is not traversable by others (o+x), so sandboxes cannot reach the workspaces under ${dataDir}; choose a --data-dir outside it`,
      );
    if (dir === dirname(dir)) return;
  }
}

/** Creates the workspace's directories (missing ones only) and returns them. */
export function provisionDirs(dataDir: string, workspaceId: string): WorkspaceDirs {
  const dirs = workspaceDirs(dataDir, workspaceId);
  checkAncestors(dataDir);
  mkdirSync(join(dataDir, 'workspaces'), { recursive: true, mode: 0o711 });
  mkdirSync(dirs.root, { recursive: true, mode: 0o711 });
  for (const dir of [dataDir, join(dataDir, 'workspaces'), dirs.root]) allowTraversal(dir);
  const uid = dataUidFor(dataDir, dirs.root);
  for (const dir of [dirs.home, dirs.workspace]) {
    if (existsSync(dir)) continue;
    mkdirSync(dir, { mode: 0o700 });
    chownSync(dir, uid, uid);
  }
  return dirs;
}

/** A fresh, empty home (a rebuild): what the agent left in HOME is gone; /workspace stays. */
export function recreateHome(dataDir: string, workspaceId: string): void {
  const dirs = workspaceDirs(dataDir, workspaceId);
  rmSync(dirs.home, { recursive: true, force: true });
  provisionDirs(dataDir, workspaceId);
}

export function removeDirs(dataDir: string, workspaceId: string): void {
  rmSync(workspaceDirs(dataDir, workspaceId).root, { recursive: true, force: true });
}
