import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse } from 'yaml';

// A STAND-IN for the Kubernetes API server (no cluster can run here): a loopback HTTP server
// that serves discovery for the kinds the kubevirt provider uses and implements, per object,
// server-side apply (PATCH, application/apply-patch+yaml, fieldManager required, force
// recorded), JSON merge patch, GET, list with an equality label selector, and DELETE. It keeps
// the objects in memory and records every request, so tests can check what was sent, and can
// fail or hold a request (holdNext: a race made deterministic). It does not implement field
// ownership or conflicts: an apply replaces the object.

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  readonly contentType: string | undefined;
  readonly authorization: string | undefined;
  readonly body: unknown;
}

interface ResourceInfo {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly plural: string;
  readonly namespaced: boolean;
}

const RESOURCES: readonly ResourceInfo[] = [
  { group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false },
  { group: '', version: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true },
  {
    group: 'kubevirt.io',
    version: 'v1',
    kind: 'VirtualMachine',
    plural: 'virtualmachines',
    namespaced: true,
  },
  {
    group: 'kubevirt.io',
    version: 'v1',
    kind: 'VirtualMachineInstance',
    plural: 'virtualmachineinstances',
    namespaced: true,
  },
  {
    group: 'cdi.kubevirt.io',
    version: 'v1beta1',
    kind: 'DataVolume',
    plural: 'datavolumes',
    namespaced: true,
  },
  {
    group: 'networking.k8s.io',
    version: 'v1',
    kind: 'NetworkPolicy',
    plural: 'networkpolicies',
    namespaced: true,
  },
  {
    group: 'k8s.ovn.org',
    version: 'v1',
    kind: 'EgressFirewall',
    plural: 'egressfirewalls',
    namespaced: true,
  },
  {
    group: 'policy.networking.k8s.io',
    version: 'v1alpha1',
    kind: 'AdminNetworkPolicy',
    plural: 'adminnetworkpolicies',
    namespaced: false,
  },
];

// biome-ignore lint/suspicious/noExplicitAny: JSON documents
type Json = Record<string, any>;

export interface StandInApiServer {
  readonly url: string;
  readonly token: string;
  readonly requests: RecordedRequest[];
  /** Stored objects by `group/version/kind/namespace/name`. */
  readonly objects: Map<string, Json>;
  get(apiVersion: string, kind: string, name: string, namespace?: string): Json | undefined;
  /** Answers the next request matching `predicate` with this status instead (once). */
  failNext(predicate: (request: RecordedRequest) => boolean, status: number, reason: string): void;
  /**
   * Holds the next request matching `predicate` before it is carried out (once), so a test can
   * run other requests meanwhile: `reached` resolves when it arrives, `release()` carries it out.
   */
  holdNext(predicate: (request: RecordedRequest) => boolean): { reached: Promise<void>; release(): void };
  close(): Promise<void>;
}

function key(apiVersion: string, kind: string, namespace: string | undefined, name: string): string {
  return `${apiVersion}/${kind}/${namespace ?? ''}/${name}`;
}

function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Json =
    target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Json) } : {};
  for (const [name, value] of Object.entries(patch as Json)) {
    if (value === null) delete out[name];
    else out[name] = mergePatch(out[name], value);
  }
  return out;
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

function status(response: ServerResponse, code: number, reason: string, message: string): void {
  send(response, code, { apiVersion: 'v1', kind: 'Status', status: 'Failure', code, reason, message });
}

export async function startStandInApiServer(token = 'stand-in-token'): Promise<StandInApiServer> {
  const requests: RecordedRequest[] = [];
  const objects = new Map<string, Json>();
  const failures: { predicate: (request: RecordedRequest) => boolean; status: number; reason: string }[] = [];
  const holds: {
    predicate: (request: RecordedRequest) => boolean;
    arrived: () => void;
    released: Promise<void>;
  }[] = [];
  let resourceVersion = 1;

  const record = (request: IncomingMessage, raw: string): RecordedRequest => {
    const url = new URL(request.url ?? '/', 'http://stand-in');
    const contentType = request.headers['content-type'];
    let body: unknown;
    if (raw) body = contentType?.includes('yaml') ? parse(raw) : JSON.parse(raw);
    return {
      method: request.method ?? '',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      contentType,
      authorization: request.headers.authorization,
      body,
    };
  };

  const handle = (request: IncomingMessage, recorded: RecordedRequest, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://stand-in');
    const contentType = request.headers['content-type'];
    const body = recorded.body;
    if (request.headers.authorization !== `Bearer ${token}`)
      return status(response, 401, 'Unauthorized', 'bad token');
    const failure = failures.findIndex((entry) => entry.predicate(recorded));
    if (failure >= 0) {
      const [entry] = failures.splice(failure, 1);
      return status(response, entry!.status, entry!.reason, 'injected by the test');
    }

    // Discovery: /api/v1 and /apis/GROUP/VERSION.
    const parts = url.pathname.split('/').filter(Boolean);
    const core = parts[0] === 'api';
    const group = core ? '' : (parts[1] ?? '');
    const version = core ? parts[1] : parts[2];
    const rest = parts.slice(core ? 2 : 3);
    const apiVersion = core ? `${version}` : `${group}/${version}`;
    if (request.method === 'GET' && rest.length === 0) {
      const resources = RESOURCES.filter((r) => r.group === group && r.version === version);
      if (resources.length === 0) return status(response, 404, 'NotFound', `no API ${apiVersion}`);
      return send(response, 200, {
        kind: 'APIResourceList',
        apiVersion: 'v1',
        groupVersion: apiVersion,
        resources: resources.map((r) => ({
          name: r.plural,
          singularName: r.kind.toLowerCase(),
          namespaced: r.namespaced,
          kind: r.kind,
          verbs: ['create', 'delete', 'get', 'list', 'patch', 'update'],
        })),
      });
    }
    let namespace: string | undefined;
    let tail = rest;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      namespace = rest[1];
      tail = rest.slice(2);
    }
    const resource = RESOURCES.find(
      (r) => r.group === group && r.version === version && r.plural === tail[0],
    );
    if (!resource) return status(response, 404, 'NotFound', `no resource ${url.pathname}`);
    const name = tail[1];
    if (resource.namespaced && name !== undefined && namespace === undefined)
      return status(response, 400, 'BadRequest', 'namespaced resource without a namespace');

    if (request.method === 'GET' && name === undefined) {
      const selector = url.searchParams.get('labelSelector') ?? '';
      const wanted = selector
        .split(',')
        .filter(Boolean)
        .map((term) => term.split('='));
      const items = [...objects.values()].filter(
        (object) =>
          object['apiVersion'] === apiVersion &&
          object['kind'] === resource.kind &&
          (namespace === undefined || object['metadata']['namespace'] === namespace) &&
          wanted.every(([label, value]) => object['metadata']['labels']?.[label!] === value),
      );
      return send(response, 200, { apiVersion, kind: `${resource.kind}List`, metadata: {}, items });
    }
    if (name === undefined)
      return status(response, 405, 'MethodNotAllowed', 'collection writes are not used');
    const objectKey = key(apiVersion, resource.kind, namespace, name);
    const existing = objects.get(objectKey);

    if (request.method === 'GET')
      return existing
        ? send(response, 200, existing)
        : status(response, 404, 'NotFound', `${name} not found`);
    if (request.method === 'DELETE') {
      if (!existing) return status(response, 404, 'NotFound', `${name} not found`);
      objects.delete(objectKey);
      // Deleting a namespace deletes what is in it (the namespace controller, done at once here).
      if (resource.kind === 'Namespace')
        for (const [stored, object] of objects)
          if (object['metadata']['namespace'] === name) objects.delete(stored);
      return send(response, 200, { apiVersion: 'v1', kind: 'Status', status: 'Success' });
    }
    if (request.method !== 'PATCH') return status(response, 405, 'MethodNotAllowed', `${request.method}`);

    if (contentType === 'application/apply-patch+yaml') {
      if (!url.searchParams.get('fieldManager'))
        return status(response, 400, 'BadRequest', 'fieldManager is required for apply patch');
      const object = body as Json;
      if (
        object?.['apiVersion'] !== apiVersion ||
        object['kind'] !== resource.kind ||
        object['metadata']?.['name'] !== name ||
        (object['metadata']?.['namespace'] ?? undefined) !== namespace
      )
        return status(
          response,
          400,
          'BadRequest',
          'body does not match the URL (apiVersion, kind, name, namespace)',
        );
      const stored = structuredClone(object);
      stored['metadata']['resourceVersion'] = String(resourceVersion++);
      stored['metadata']['managedFields'] = [
        { manager: url.searchParams.get('fieldManager'), operation: 'Apply' },
      ];
      objects.set(objectKey, stored);
      return send(response, existing ? 200 : 201, stored);
    }
    if (contentType === 'application/merge-patch+json') {
      if (!existing) return status(response, 404, 'NotFound', `${name} not found`);
      const merged = mergePatch(existing, body) as Json;
      merged['metadata']['resourceVersion'] = String(resourceVersion++);
      objects.set(objectKey, merged);
      return send(response, 200, merged);
    }
    return status(response, 415, 'UnsupportedMediaType', `content type ${contentType} is not supported`);
  };

  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      try {
        const recorded = record(request, Buffer.concat(chunks).toString('utf8'));
        requests.push(recorded);
        const held = holds.findIndex((entry) => entry.predicate(recorded));
        if (held >= 0) {
          const [entry] = holds.splice(held, 1);
          entry!.arrived();
          await entry!.released;
        }
        handle(request, recorded, response);
      } catch (error) {
        status(response, 500, 'InternalError', (error as Error).message);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    requests,
    objects,
    get: (apiVersion, kind, name, namespace) => objects.get(key(apiVersion, kind, namespace, name)),
    failNext: (predicate, code, reason) => failures.push({ predicate, status: code, reason }),
    holdNext: (predicate) => {
      let arrived!: () => void;
      let release!: () => void;
      const reached = new Promise<void>((resolve) => {
        arrived = resolve;
      });
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      holds.push({ predicate, arrived, released });
      return { reached, release };
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
