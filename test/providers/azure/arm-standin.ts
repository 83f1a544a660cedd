import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AccessToken, TokenCredential } from '@azure/core-auth';
import type { ArmSchemas } from './arm-schemas.ts';

// A STAND-IN for the Azure Resource Manager endpoint: nothing real can run Azure here. It speaks
// HTTPS (the SDK refuses bearer tokens over plain HTTP) with a throwaway certificate, and
// implements what Paddock uses, by ARM's documented contracts:
//   - resource-group deployments: PUT answers 201 + Azure-AsyncOperation, the operation is polled
//     (InProgress, then Succeeded or Failed), then the deployment is read back; on success the
//     template's resources exist (every resource is first checked against the official schema);
//   - generic resources by id: GET, PUT, DELETE (202 + Location, polled to 200; absent: 204);
//   - VM actions start / powerOff / deallocate (202 + Azure-AsyncOperation or Location) and the
//     instance view's PowerState;
//   - ARM's real refusals Paddock must survive: changing osProfile.customData of an existing VM
//     (PropertyChangeNotAllowed) and attaching a data disk that does not exist (NotFound).
// A test can hold a request before it is carried out (holdNext: a race made deterministic).
// Tokens are checked: requests without the stand-in credential's bearer token get 401.

export const STAND_IN_TOKEN = 'stand-in-arm-token';

/** A stand-in TokenCredential (there is no Entra ID here): returns a fixed token and counts calls. */
export class StandInCredential implements TokenCredential {
  scopes: string[] = [];
  async getToken(scopes: string | string[]): Promise<AccessToken> {
    this.scopes.push(...(Array.isArray(scopes) ? scopes : [scopes]));
    return { token: STAND_IN_TOKEN, expiresOnTimestamp: Date.now() + 3_600_000 };
  }
}

export interface LoggedRequest {
  readonly method: string;
  readonly path: string;
  readonly apiVersion: string | null;
  readonly query: URLSearchParams;
  readonly body: unknown;
}

interface Operation {
  polls: number;
  readonly finish: () => { ok: true } | { ok: false; code: string; message: string };
  result?: { ok: true } | { ok: false; code: string; message: string };
}

type Json = Record<string, unknown>;

export interface ArmStandIn {
  readonly url: string;
  readonly ca: string;
  readonly requests: LoggedRequest[];
  /** Resources by lower-case id. */
  readonly resources: Map<string, Json>;
  readonly power: Map<string, string>;
  /** The next deployment fails with this ARM error code. */
  failNextDeployment: { code: string; message: string } | undefined;
  /**
   * Holds the next request matching `predicate` before it is carried out (once), so a test can
   * run other requests meanwhile: `reached` resolves when it arrives, `release()` carries it out.
   */
  holdNext(predicate: (request: LoggedRequest) => boolean): { reached: Promise<void>; release(): void };
  close(): Promise<void>;
}

const RESOURCE_GROUP = /^\/subscriptions\/([^/]+)\/resourcegroups\/([^/]+)/i;

function idOf(prefix: string, type: string, name: string): string {
  const [namespace = '', ...types] = type.split('/');
  const names = name.split('/');
  return `${prefix}/providers/${namespace}/${types.map((part, index) => `${part}/${names[index] ?? ''}`).join('/')}`;
}

/**
 * `acceptedToken`: the only bearer token ARM takes (default the stand-in credential's; a test of a
 * real credential passes the token its stand-in token endpoint issues).
 */
export async function startArmStandIn(
  schemas: ArmSchemas,
  pollsPerOperation = 2,
  acceptedToken = STAND_IN_TOKEN,
): Promise<ArmStandIn> {
  const dir = mkdtempSync(join(tmpdir(), 'arm-stand-in-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  const key = readFileSync(join(dir, 'key.pem'), 'utf8');
  const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
  rmSync(dir, { recursive: true, force: true });

  const operations = new Map<string, Operation>();
  const deployments = new Map<string, Json>();
  let sequence = 0;
  let base = '';
  const holds: {
    predicate: (request: LoggedRequest) => boolean;
    arrived(): void;
    released: Promise<void>;
  }[] = [];
  const state: ArmStandIn = {
    url: '',
    ca: cert,
    requests: [],
    resources: new Map(),
    power: new Map(),
    failNextDeployment: undefined,
    holdNext: (predicate) => {
      const reached = Promise.withResolvers<void>();
      const released = Promise.withResolvers<void>();
      holds.push({ predicate, arrived: reached.resolve, released: released.promise });
      return { reached: reached.promise, release: () => released.resolve() };
    },
    close: async () => {},
  };

  const send = (
    res: ServerResponse,
    status: number,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(body === undefined ? '' : JSON.stringify(body));
  };
  const armError = (res: ServerResponse, status: number, code: string, message: string) =>
    send(res, status, { error: { code, message } });
  const newOperation = (finish: Operation['finish']) => {
    sequence += 1;
    const id = `op${sequence}`;
    operations.set(id, { polls: pollsPerOperation, finish });
    return id;
  };

  /** Applies a template's resources; the ARM error that stops it, if any. */
  const apply = (
    prefix: string,
    template: Json,
    parameters: Json,
  ): { ok: true } | { ok: false; code: string; message: string } => {
    const resources = (template['resources'] ?? []) as Json[];
    for (const resource of resources) {
      const type = String(resource['type']);
      const apiVersion = String(resource['apiVersion']);
      if (schemas.definitionOf(type, apiVersion)) {
        const errors = schemas.validate(resource as { type: string; apiVersion: string });
        if (errors.length > 0)
          return { ok: false, code: 'InvalidTemplate', message: `${type}: ${errors.join('; ')}` };
      }
    }
    for (const [name, definition] of Object.entries((template['parameters'] ?? {}) as Json)) {
      if ((definition as Json)['defaultValue'] === undefined && !(name in parameters))
        return { ok: false, code: 'InvalidTemplate', message: `parameter ${name} has no value` };
    }
    for (const resource of resources) {
      const type = String(resource['type']);
      // Extension resources (a scope) live under their scope's id.
      const id = (
        resource['scope']
          ? `${prefix}/providers/${String(resource['scope'])}/providers/${type}/${String(resource['name'])}`
          : idOf(prefix, type, String(resource['name']))
      ).toLowerCase();
      if (type === 'Microsoft.Compute/virtualMachines') {
        const existing = state.resources.get(id);
        const before = ((existing?.['properties'] as Json | undefined)?.['osProfile'] as Json | undefined)?.[
          'customData'
        ];
        const after = ((resource['properties'] as Json)['osProfile'] as Json)['customData'];
        if (existing && before !== after)
          return {
            ok: false,
            code: 'PropertyChangeNotAllowed',
            message: "Changing property 'customData' is not allowed.",
          };
        const storage = (resource['properties'] as Json)['storageProfile'] as Json;
        for (const disk of (storage['dataDisks'] ?? []) as Json[]) {
          const diskId = idOf(prefix, 'Microsoft.Compute/disks', String(disk['name'])).toLowerCase();
          if (disk['createOption'] === 'Attach' && !state.resources.has(diskId))
            return { ok: false, code: 'NotFound', message: `disk ${String(disk['name'])} was not found` };
          if (disk['createOption'] === 'Empty' && state.resources.has(diskId))
            return { ok: false, code: 'Conflict', message: `disk ${String(disk['name'])} already exists` };
          state.resources.set(diskId, { type: 'Microsoft.Compute/disks', name: disk['name'] });
        }
        state.power.set(id, 'running');
      }
      state.resources.set(id, resource);
    }
    return { ok: true };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    // ARM collapses repeated slashes (the SDK's by-id operations send `//subscriptions/...`).
    const url = new URL((req.url ?? '/').replace(/^\/{2,}/, '/'), base);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const body = text ? (JSON.parse(text) as Json) : undefined;
    const method = req.method ?? 'GET';
    const logged: LoggedRequest = {
      method,
      path: url.pathname,
      apiVersion: url.searchParams.get('api-version'),
      query: url.searchParams,
      body,
    };
    state.requests.push(logged);
    const hold = holds.findIndex((candidate) => candidate.predicate(logged));
    if (hold >= 0) {
      const [held] = holds.splice(hold, 1);
      held?.arrived();
      await held?.released;
    }
    if (req.headers.authorization !== `Bearer ${acceptedToken}`)
      return armError(res, 401, 'AuthenticationFailed', 'missing or wrong bearer token');

    const operationMatch = /^\/(operations|locations)\/(op\d+)$/.exec(url.pathname);
    if (operationMatch) {
      const operation = operations.get(operationMatch[2] ?? '');
      if (!operation) return armError(res, 404, 'NotFound', 'no such operation');
      if (operation.polls > 0) {
        operation.polls -= 1;
        return operationMatch[1] === 'operations'
          ? send(res, 200, { status: 'InProgress' })
          : send(res, 202, undefined, { location: url.href });
      }
      operation.result ??= operation.finish();
      const result = operation.result;
      if (operationMatch[1] === 'locations')
        return result.ok ? send(res, 200, {}) : armError(res, 500, result.code, result.message);
      return send(
        res,
        200,
        result.ok
          ? { status: 'Succeeded' }
          : { status: 'Failed', error: { code: result.code, message: result.message } },
      );
    }

    if (!url.searchParams.get('api-version'))
      return armError(res, 400, 'MissingApiVersionParameter', 'api-version is required');
    const group = RESOURCE_GROUP.exec(url.pathname);
    if (!group) return armError(res, 404, 'NotFound', 'outside a resource group');
    const prefix = group[0];
    const path = url.pathname.toLowerCase();

    // Deployments.
    const deployment = /\/providers\/microsoft\.resources\/deployments\/([^/]+)$/.exec(path);
    if (deployment) {
      if (method === 'GET') {
        const found = deployments.get(path);
        return found ? send(res, 200, found) : armError(res, 404, 'DeploymentNotFound', 'no such deployment');
      }
      if (method !== 'PUT') return armError(res, 405, 'MethodNotAllowed', method);
      const properties = (body?.['properties'] ?? {}) as Json;
      if (properties['mode'] !== 'Incremental')
        return armError(res, 400, 'InvalidDeploymentMode', 'Paddock deploys in Incremental mode only');
      const record: Json = {
        id: url.pathname,
        name: deployment[1],
        properties: { provisioningState: 'Running', mode: 'Incremental' },
      };
      deployments.set(path, record);
      const failure = state.failNextDeployment;
      state.failNextDeployment = undefined;
      const op = newOperation(() => {
        const outcome = failure
          ? ({ ok: false, ...failure } as const)
          : apply(prefix, (properties['template'] ?? {}) as Json, (properties['parameters'] ?? {}) as Json);
        record['properties'] = {
          mode: 'Incremental',
          provisioningState: outcome.ok ? 'Succeeded' : 'Failed',
          ...(outcome.ok ? {} : { error: { code: outcome.code, message: outcome.message } }),
        };
        return outcome;
      });
      return send(res, 201, record, { 'azure-asyncoperation': `${base}/operations/${op}` });
    }

    // VM actions and instance view.
    const vm =
      /(\/providers\/microsoft\.compute\/virtualmachines\/[^/]+)\/(start|poweroff|deallocate|instanceview)$/.exec(
        path,
      );
    if (vm) {
      const vmId = path.slice(0, path.length - (vm[2]?.length ?? 0) - 1);
      if (!state.resources.has(vmId)) return armError(res, 404, 'ResourceNotFound', 'no such VM');
      if (vm[2] === 'instanceview') {
        return send(res, 200, {
          statuses: [
            { code: 'ProvisioningState/succeeded' },
            { code: `PowerState/${state.power.get(vmId) ?? 'running'}` },
          ],
        });
      }
      if (method !== 'POST') return armError(res, 405, 'MethodNotAllowed', method);
      const target =
        { start: 'running', poweroff: 'stopped', deallocate: 'deallocated' }[vm[2] as 'start'] ?? 'unknown';
      state.power.set(
        vmId,
        { running: 'starting', stopped: 'stopping', deallocated: 'deallocating' }[target] ?? 'unknown',
      );
      const op = newOperation(() => {
        state.power.set(vmId, target);
        return { ok: true };
      });
      // start answers with Azure-AsyncOperation, the others with Location: both paths get exercised.
      return send(
        res,
        202,
        undefined,
        vm[2] === 'start'
          ? { 'azure-asyncoperation': `${base}/operations/${op}` }
          : { location: `${base}/locations/${op}` },
      );
    }

    // Generic resources by id.
    if (method === 'GET') {
      const found = state.resources.get(path);
      return found
        ? send(res, 200, { id: url.pathname, ...found })
        : armError(res, 404, 'ResourceNotFound', 'not found');
    }
    if (method === 'PUT') {
      const existing = state.resources.get(path) ?? {};
      state.resources.set(path, { ...existing, ...body });
      return send(res, 200, {
        id: url.pathname,
        ...body,
        properties: { ...((body?.['properties'] as Json) ?? {}), provisioningState: 'Succeeded' },
      });
    }
    if (method === 'DELETE') {
      if (!state.resources.has(path)) return send(res, 204);
      const op = newOperation(() => {
        const resource = state.resources.get(path);
        state.resources.delete(path);
        state.power.delete(path);
        // deleteOption Delete: the VM takes its NIC with it (the data disk is Detach: it stays).
        const nics = ((
          (resource?.['properties'] as Json | undefined)?.['networkProfile'] as Json | undefined
        )?.['networkInterfaces'] ?? []) as Json[];
        for (const nic of nics) {
          const name = /'([^']+)'\)\]$/.exec(String(nic['id']))?.[1];
          if (name && (nic['properties'] as Json | undefined)?.['deleteOption'] === 'Delete')
            state.resources.delete(idOf(prefix, 'Microsoft.Network/networkInterfaces', name).toLowerCase());
        }
        return { ok: true };
      });
      return send(res, 202, undefined, { location: `${base}/locations/${op}` });
    }
    return armError(res, 405, 'MethodNotAllowed', method);
  };

  const server = createServer({ key, cert }, (req, res) => {
    handle(req, res).catch((error: unknown) => armError(res, 500, 'InternalServerError', String(error)));
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(state, {
    url: base,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  });
}
