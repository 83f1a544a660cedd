import {
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { WORKSPACE_OWNER } from '../../support/sandbox-harness.ts';
import { type Attack, outcome } from '../attack.ts';
import { hostSecret, inWorkspace, marker } from '../fixtures.ts';

// Reading and writing outside the sandbox's scope: host secrets, symlink, hard-link and ".."
// escapes, the read-only system, and a read-only scope.

const attack = (id: string, title: string, run: Attack['run']): Attack => ({
  id,
  title,
  category: 'filesystem',
  expected: 'blocked',
  run,
});

/** Files under `dir` on the host with a set-user-id or set-group-id bit, as `name mode`. */
function setIdFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).flatMap((name) => {
    const mode = lstatSync(join(dir, name)).mode;
    return mode & 0o6000 ? [`${name} ${(mode & 0o7777).toString(8)}`] : [];
  });
}

/** Runs `script` in a workspace holding an ordinary file `f`; blocked when no set-id file is left. */
async function leaveSetId(script: string) {
  const run = await inWorkspace(script, (dir) => {
    writeFileSync(join(dir, 'f'), '#!/bin/sh\nid\n', { mode: 0o755 });
    chownSync(join(dir, 'f'), WORKSPACE_OWNER, WORKSPACE_OWNER);
  });
  const left = setIdFiles(run.dir);
  run.cleanup();
  return outcome(
    left.length === 0,
    left.length > 0 ? `set-id file on the host: ${left.join(', ')}` : run.stdout || run.stderr,
  );
}

/** Runs `script` with a host secret's path in $SECRET; blocked when its marker never shows up. */
async function readSecret(script: string, prepare?: (dir: string, secret: string) => void) {
  const secret = hostSecret();
  try {
    const run = await inWorkspace(`SECRET=${secret.file}; ${script}`, (dir) => prepare?.(dir, secret.file));
    run.cleanup();
    const leaked = run.stdout.includes(secret.marker) || run.stderr.includes(secret.marker);
    return outcome(!leaked, leaked ? 'host secret read' : run.stderr || run.stdout || `exit ${run.code}`);
  } finally {
    secret.remove();
  }
}

export const attacks: Attack[] = [
  attack('fs.read-root-home', 'read /root', async () => {
    const run = await inWorkspace('ls -la /root; cat /root/.bashrc /root/.profile');
    run.cleanup();
    return outcome(run.code !== 0 && !/\.bashrc|total/.test(run.stdout), run.stderr);
  }),
  attack('fs.read-etc-shadow', 'read /etc/shadow', async () => {
    const run = await inWorkspace('cat /etc/shadow; cat /etc/gshadow; cat /etc/sudoers');
    run.cleanup();
    return outcome(!/root:/.test(run.stdout), run.stderr);
  }),
  attack('fs.read-host-home', 'read a file in a host home directory', () =>
    readSecret('cat "$SECRET"; ls /home'),
  ),
  attack('fs.symlink-planted', 'follow a symlink planted in the workspace to a host file', () =>
    readSecret('cat /workspace/link; cat /workspace/rootlink/.bashrc', (dir, secret) => {
      symlinkSync(secret, join(dir, 'link'));
      symlinkSync('/root', join(dir, 'rootlink'));
    }),
  ),
  attack('fs.symlink-created', 'create a symlink to a host file and read through it', () =>
    readSecret(
      'ln -s "$SECRET" /workspace/s && cat /workspace/s; ln -s / /workspace/r && cat /workspace/r"$SECRET"',
    ),
  ),
  attack('fs.hardlink-escape', 'hard-link a host file into the workspace', async () => {
    const secret = hostSecret();
    try {
      const run = await inWorkspace(
        `ln "${secret.file}" /workspace/hl; ln /etc/passwd /workspace/pw; ln /usr/bin/su /workspace/su; ls -li /workspace`,
      );
      const inode = statSync(secret.file).ino;
      const linked = readdirSync(run.dir).some((name) => statSync(join(run.dir, name)).ino === inode);
      const made = ['hl', 'pw', 'su'].filter((name) => existsSync(join(run.dir, name)));
      run.cleanup();
      return outcome(!linked && made.length === 0, made.length ? `created ${made.join(', ')}` : run.stderr);
    } finally {
      secret.remove();
    }
  }),
  attack('fs.dotdot-traversal', 'walk out of /workspace with ..', async () => {
    const secret = hostSecret();
    try {
      const run = await inWorkspace(
        `cat /workspace/../../../../etc/shadow; cat /workspace/../..${secret.file}; cd /workspace && cat ../../../..${secret.file}; cat "$(pwd)/../../..${secret.file}"`,
      );
      run.cleanup();
      return outcome(!run.stdout.includes(secret.marker) && !/root:/.test(run.stdout), run.stderr);
    } finally {
      secret.remove();
    }
  }),
  attack('fs.workspace-host-path', 'reach a sibling of the workspace through its host path', async () => {
    const value = marker();
    const sibling = `${Date.now()}-sibling`;
    const run = await inWorkspace(
      (dir) => `cat "${dir}/../${sibling}" 2>&1; cat /workspace/../${sibling} 2>&1; ls "${dir}" 2>&1`,
      (dir) => writeFileSync(join(dir, '..', sibling), value, { mode: 0o644 }),
    );
    rmSync(join(run.dir, '..', sibling), { force: true });
    run.cleanup();
    return outcome(!run.stdout.includes(value), run.stdout);
  }),
  attack('fs.write-usr', 'write into /usr', async () => {
    const run = await inWorkspace(
      'touch /usr/bin/paddock-evil; echo x > /usr/lib/paddock-evil; echo code=$?',
    );
    run.cleanup();
    return outcome(!existsSync('/usr/bin/paddock-evil') && !existsSync('/usr/lib/paddock-evil'), run.stderr);
  }),
  attack('fs.write-root-dir', 'create files at / and in /etc', async () => {
    const run = await inWorkspace(
      'touch /evil; mkdir /evil.d; echo pwned >> /etc/passwd; echo x > /etc/paddock/evil; ls -d /evil /evil.d /etc/paddock/evil; grep -c pwned /etc/passwd',
    );
    run.cleanup();
    return outcome(
      !/^\/evil|\/etc\/paddock\/evil/m.test(run.stdout) && /^0$/m.test(run.stdout),
      run.stderr.split('\n')[0] ?? '',
    );
  }),
  attack('fs.write-readonly-scope', 'write into a read-only /workspace', async () => {
    const run = await inWorkspace(
      'echo owned > /workspace/new; echo owned > /workspace/existing',
      (dir) => {
        writeFileSync(join(dir, 'existing'), 'original');
        chownSync(join(dir, 'existing'), 4242, 4242);
      },
      { dataScope: { read: ['/workspace'], write: [], deny: [] } },
    );
    const wrote = existsSync(join(run.dir, 'new'));
    run.cleanup();
    return outcome(!wrote && run.code !== 0, run.stderr);
  }),
  attack('fs.write-root-owned', 'modify a root-owned file inside the writable workspace', async () => {
    const run = await inWorkspace(
      'echo owned > /workspace/rootfile; rm -f /workspace/rootfile; cat /workspace/rootfile',
      (dir) => {
        writeFileSync(join(dir, 'rootfile'), 'root data', { mode: 0o644 });
      },
    );
    const intact = existsSync(join(run.dir, 'rootfile'));
    run.cleanup();
    return outcome(intact && run.stdout.includes('root data'), run.stderr);
  }),
  attack('fs.read-denied-path', 'read a path the blueprint denies', async () => {
    const value = marker();
    const run = await inWorkspace(
      'cat /workspace/.env /workspace/secrets/key; echo x > /workspace/.env; ls /workspace/secrets',
      (dir) => {
        writeFileSync(join(dir, '.env'), value);
        mkdirSync(join(dir, 'secrets'));
        writeFileSync(join(dir, 'secrets', 'key'), value);
      },
      { dataScope: { read: [], write: ['/workspace'], deny: ['/workspace/.env', '/workspace/secrets'] } },
    );
    const intact = readFileSync(join(run.dir, '.env'), 'utf8') === value;
    run.cleanup();
    return outcome(
      !run.stdout.includes(value) && intact,
      run.stdout.includes(value) ? 'denied file read' : (run.stderr.split('\n')[0] ?? ''),
    );
  }),
  attack('fs.setuid-chmod', 'chmod u+s / g+s a workspace file, left on the host disk', () =>
    leaveSetId(
      'chmod u+s f 2>&1; chmod g+s f 2>&1; chmod 6755 f 2>&1; cp /bin/sh sh && chmod 4755 sh 2>&1; ls -l f sh',
    ),
  ),
  attack('fs.setuid-python', 'set the setuid bit with python os.chmod and os.fchmod', () =>
    leaveSetId(
      `python3 -c 'import os
for f in (lambda: os.chmod("f", 0o4755), lambda: os.fchmod(os.open("f", os.O_RDONLY), 0o2755)):
    try: f(); print("SET")
    except OSError as e: print(e)'`,
    ),
  ),
  attack('fs.setuid-create', 'create a file setuid from the start (open O_CREAT, mknod)', () =>
    leaveSetId(
      `python3 -c 'import os, stat
for f in (lambda: os.close(os.open("g", os.O_CREAT | os.O_WRONLY, 0o4755)), lambda: os.mknod("h", stat.S_IFREG | 0o6755)):
    try: f(); print("CREATED")
    except OSError as e: print(e)'`,
    ),
  ),
  attack('fs.sys-and-devices', 'reach /sys, block devices and mknod', async () => {
    const run = await inWorkspace(
      'ls /sys/class 2>&1; ls /dev; cat /dev/vda /dev/sda 2>&1 | head -c 10; mknod /tmp/disk b 8 0; echo mknod=$?',
    );
    run.cleanup();
    const exposed =
      /net|block/.test(run.stdout.split('\n')[0] ?? '') ||
      /\b(vda|sda|nvme)/.test(run.stdout) ||
      /mknod=0/.test(run.stdout);
    return outcome(!exposed, run.stdout.split('\n').slice(-1)[0] ?? '');
  }),
];
