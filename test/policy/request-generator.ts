import type { DecisionRequest, PolicyBundle } from '../../src/policy/index.ts';

// Random decision requests for a bundle, drawn mostly from the bundle's own vocabulary (command
// words, scope paths, hosts, path globs, tools) so that most requests land near a policy's
// edge, mixed with noise that lands nowhere. Seeded, so a failing case can be replayed.

/** A small deterministic PRNG (mulberry32). */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NOISE_WORDS = [
  '-f',
  '--force',
  'main',
  'origin',
  '+main',
  'x y',
  "it's",
  '',
  '*',
  '\\',
  '-rf',
  '/',
  '--global',
  'push',
  'HEAD:main',
];
const NOISE_PATHS = [
  '/etc/passwd',
  '/workspace',
  '/workspacex',
  '/tmp/x',
  '/',
  '/workspace/.git',
  '/workspace/a/.git/hooks/pre-push',
];
const NOISE_HOSTS = [
  'evil.example.com',
  'a.b.example.com',
  'example.com',
  '127.0.0.1',
  '[::1]',
  'xn--nxasmq6b.com',
  '0x7f.1',
];
const METHODS = ['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH', 'DELETE', 'CONNECT', 'TRACE', 'PROPFIND'];
const SEGMENTS = [
  'repos',
  'a',
  'b',
  'pulls',
  '1',
  'reviews',
  'comments',
  'x.git',
  'info',
  'refs',
  'v1',
  'api',
  'v2',
  '..',
  '%2F',
  'issue',
  'PROJ-1',
];

/** A generator of requests for one bundle. */
export function requestGenerator(bundle: PolicyBundle, seed: number): () => DecisionRequest {
  const next = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const texts = bundle.policies.map((policy) => policy.text).join('\n');
  const literals = [...texts.matchAll(/"((?:[^"\\]|\\.)*)"/gu)].map((match) =>
    match[1]!.replaceAll('\\', ''),
  );
  const words = [
    ...new Set(literals.flatMap((text) => text.split(' ')).filter((word) => !word.includes('::'))),
  ];
  const paths = literals.filter((text) => text.startsWith('/'));
  const hosts = bundle.services.flatMap((service) =>
    service.hosts.map((host) => (host.startsWith('*.') ? `${pick(['a', 'b.c', ''])}${host.slice(1)}` : host)),
  );
  const tools = literals.filter((text) => /^[a-z_]+$/u.test(text));
  const servers = [...bundle.services.map((service) => service.name), 'github', 'wiki', 'jira'];

  const argv = (): string[] => {
    const length = 1 + Math.floor(next() * 5);
    const out = Array.from({ length }, () => (next() < 0.8 ? pick(words) : pick(NOISE_WORDS)));
    if (next() < 0.1) out[0] = `/usr/bin/${out[0]}`;
    if (out[0] === '') out[0] = 'git';
    return out;
  };
  const path = (): string => {
    if (next() < 0.2) return pick(NOISE_PATHS);
    const base = pick(paths.length > 0 ? paths : NOISE_PATHS)
      .replace(/\*.*$/u, '')
      .replace(/\/$/u, '');
    const tail = Array.from({ length: Math.floor(next() * 3) }, () =>
      pick(['.env', '.git', 'hooks', 'src', 'a.ts', '.claude', 'x']),
    );
    return [base || '', ...tail].join('/') || '/';
  };
  const globs = bundle.pathGlobs.map((glob) => glob.split('/').slice(1));
  const urlPath = (): string => {
    if (next() < 0.5 && globs.length > 0) {
      // A path shaped like one of the bundle's globs, its wildcards filled in (or not).
      const segments = pick(globs).flatMap((segment) => {
        if (segment === '**') return Array.from({ length: Math.floor(next() * 3) }, () => pick(SEGMENTS));
        return [segment.replaceAll('*', () => (next() < 0.8 ? pick(['a', 'PROJ-1', '42', 'x.git']) : ''))];
      });
      if (next() < 0.2) segments.push(pick(SEGMENTS));
      return `/${segments.join('/')}`;
    }
    const length = Math.floor(next() * 7);
    const parts = Array.from({ length }, () =>
      next() < 0.7 ? pick(SEGMENTS) : pick(words).replace(/[/\s]/gu, ''),
    );
    return `/${parts.join('/')}${next() < 0.1 ? '?q=1' : ''}`;
  };
  const host = () => (next() < 0.75 && hosts.length > 0 ? pick(hosts) : pick(NOISE_HOSTS));
  const port = () => pick([443, 443, 443, 80, 8443, 22]);

  return () => {
    switch (Math.floor(next() * 6)) {
      case 0:
        return { action: 'exec', argv: argv() };
      case 1:
        return { action: 'read_file', path: path() };
      case 2:
        return { action: 'write_file', path: path() };
      case 3:
        return { action: 'connect', host: host(), port: port() };
      case 4:
        return { action: 'http_request', method: pick(METHODS), host: host(), port: port(), path: urlPath() };
      default:
        return {
          action: 'mcp_call',
          server: pick(servers),
          tool: next() < 0.8 && tools.length > 0 ? pick(tools) : 'delete_everything',
          arguments: { n: Math.floor(next() * 10) },
        };
    }
  };
}
