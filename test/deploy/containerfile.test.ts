import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

// deploy/Containerfile, checked statically: no container engine runs here (and base images
// cannot be pulled), so the build itself is not exercised. What is checked is what the image
// promises: multi-stage, non-root, root-owned read-only application, paths that exist.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TEXT = readFileSync(new URL('../../deploy/Containerfile', import.meta.url), 'utf8');

interface Instruction {
  readonly op: string;
  readonly args: string;
}

function instructions(text: string): Instruction[] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const [op = '', ...rest] = line.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(' ') };
    });
}

function stages(list: Instruction[]): Instruction[][] {
  const out: Instruction[][] = [];
  for (const instruction of list) {
    if (instruction.op === 'FROM') out.push([]);
    out.at(-1)?.push(instruction);
  }
  return out;
}

describe('deploy/Containerfile (static checks)', () => {
  const all = instructions(TEXT);
  const [build, runtime, ...extra] = stages(all);

  it('is multi-stage: a build stage and a runtime stage', () => {
    assert.ok(build && runtime);
    assert.equal(extra.length, 0);
    assert.match(build[0]!.args, / AS build$/);
    assert.match(runtime[0]!.args, / AS runtime$/);
    assert.ok(
      !runtime.some((instruction) => instruction.op === 'RUN' && /apt-get|npm/.test(instruction.args)),
      'no toolchain in the runtime stage',
    );
  });

  it('runs as a numeric non-root user in group 0, set last', () => {
    const users = runtime!.filter((instruction) => instruction.op === 'USER');
    assert.equal(users.length, 1);
    const [uid, gid] = users[0]!.args.split(':');
    assert.match(uid ?? '', /^[1-9]\d*$/);
    assert.equal(gid, '0', 'group 0, so an arbitrary OpenShift UID can read what the group may');
    const afterUser = runtime!.slice(runtime!.indexOf(users[0]!) + 1);
    assert.ok(!afterUser.some((instruction) => ['RUN', 'COPY', 'ADD'].includes(instruction.op)));
  });

  it('the application is root-owned (the process cannot rewrite its own code)', () => {
    const copies = runtime!.filter((instruction) => instruction.op === 'COPY');
    assert.ok(copies.length > 0);
    for (const copy of copies) assert.match(copy.args, /--chown=0:0/);
    assert.ok(!/chmod\s+(-R\s+)?(777|a\+w|o\+w)/.test(TEXT));
  });

  it('every build-context path it copies, and its entry point, exist in the repository', () => {
    for (const copy of build!.filter((instruction) => instruction.op === 'COPY')) {
      const parts = copy.args.split(/\s+/).filter((part) => !part.startsWith('--'));
      for (const source of parts.slice(0, -1))
        assert.ok(existsSync(`${ROOT}${source}`), `${source} is missing`);
    }
    const entry = all.find((instruction) => instruction.op === 'ENTRYPOINT');
    assert.deepEqual(JSON.parse(entry?.args ?? '[]'), ['node', '/opt/paddock/bin/paddock.js']);
    assert.ok(existsSync(`${ROOT}bin/paddock.js`));
  });

  it('its writable paths are outside the root filesystem image (data and /tmp)', () => {
    const env = runtime!
      .filter((instruction) => instruction.op === 'ENV')
      .map((instruction) => instruction.args)
      .join(' ');
    assert.match(env, /PADDOCK_DATA_DIR=\/var\/lib\/paddock/);
    assert.match(env, /HOME=\/tmp/);
  });
});
