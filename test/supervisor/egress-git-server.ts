import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UPSTREAM_CA } from './egress-fixtures.ts';

// A real git smart-HTTP server for the egress tests: `git http-backend` behind a small CGI
// bridge on an HTTPS server signed by the upstream test CA. It serves one bare repository,
// repo.git, with one commit, and requires `Authorization: Bearer <token>` when given a token.

export interface GitServer {
  readonly port: number;
  /** Authorization headers the server received, in order (for asserting injection). */
  readonly authorizations: string[];
  close(): Promise<void>;
}

export async function startGitServer(options: { token?: string } = {}): Promise<GitServer> {
  const root = mkdtempSync(join(tmpdir(), 'pdk-git-'));
  const work = join(root, 'work');
  mkdirSync(work);
  const git = (args: string[], cwd: string) =>
    execFileSync('git', args, {
      cwd,
      stdio: 'ignore',
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 't',
        GIT_AUTHOR_EMAIL: 't@example.test',
        GIT_COMMITTER_NAME: 't',
        GIT_COMMITTER_EMAIL: 't@example.test',
      },
    });
  git(['init', '-q', '-b', 'main'], work);
  writeFileSync(join(work, 'README.md'), 'hello through the gateway\n');
  git(['add', 'README.md'], work);
  git(['commit', '-q', '-m', 'first'], work);
  git(['clone', '-q', '--bare', work, join(root, 'repo.git')], root);
  const authorizations: string[] = [];

  const handler = (request: IncomingMessage, response: ServerResponse) => {
    const authorization = request.headers.authorization ?? '';
    authorizations.push(authorization);
    if (options.token && authorization !== `Bearer ${options.token}`) {
      response.writeHead(401, { 'www-authenticate': 'Bearer realm="test"' });
      response.end('unauthorized\n');
      return;
    }
    const url = new URL(request.url ?? '/', 'https://git.invalid');
    const child = spawn('git', ['http-backend'], {
      env: {
        PATH: process.env.PATH,
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: '1',
        PATH_INFO: url.pathname,
        QUERY_STRING: url.search.slice(1),
        REQUEST_METHOD: request.method,
        CONTENT_TYPE: request.headers['content-type'] ?? '',
        REMOTE_ADDR: '127.0.0.1',
        ...(request.headers['git-protocol'] ? { GIT_PROTOCOL: String(request.headers['git-protocol']) } : {}),
      },
    });
    request.pipe(child.stdin);
    let head = Buffer.alloc(0);
    let headDone = false;
    child.stdout.on('data', (chunk: Buffer) => {
      if (headDone) return void response.write(chunk);
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      headDone = true;
      let status = 200;
      for (const line of head.subarray(0, end).toString().split('\r\n')) {
        const colon = line.indexOf(':');
        const name = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
        else response.setHeader(name, value);
      }
      response.writeHead(status);
      response.write(head.subarray(end + 4));
    });
    child.on('close', () => response.end());
  };
  const server = createServer(
    { SNICallback: (name, callback) => callback(null, UPSTREAM_CA.secureContextFor(name)) },
    handler,
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    authorizations,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          rmSync(root, { recursive: true, force: true });
          resolve();
        });
      }),
  };
}
