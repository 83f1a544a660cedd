import type { TokenCredential } from '@azure/core-auth';
import {
  createDefaultHttpClient,
  createPipelineRequest,
  type HttpClient,
  type PipelineResponse,
} from '@azure/core-rest-pipeline';
import { ResourceManagementClient } from '@azure/arm-resources';
import { PaddockError } from '../../core/errors.ts';
import { type ArmTemplate, apiVersionOf, API_VERSIONS } from './arm.ts';

// Paddock's ARM calls, on @azure/arm-resources. Templates are deployed as resource-group
// deployments (Microsoft.Resources/deployments, Incremental mode) through the client's generic
// resource operations, which carry ARM's long-running-operation protocol. VM power actions
// (start, powerOff, deallocate) have no generic operation and @azure/arm-compute is not a
// dependency, so they are POSTs sent through the same client's pipeline (same credential,
// retries, endpoint), polled here by the same protocol: Azure-AsyncOperation, else Location.

export interface ArmClientOptions {
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  /** ARM endpoint. Default the public cloud's (https://management.azure.com). */
  readonly endpoint?: string;
  /** Extra CA certificates to trust (PEM), e.g. a private cloud endpoint's. */
  readonly ca?: string;
  /** Longest wait between polls of a long-running operation (ARM's Retry-After is honoured up to it). Default 15 s. */
  readonly pollIntervalMs?: number;
  /** Longest a long-running operation may take. Default 60 min. */
  readonly operationTimeoutMs?: number;
}

export type VmAction = 'start' | 'powerOff' | 'deallocate';
export type PowerState =
  | 'running'
  | 'stopped'
  | 'deallocated'
  | 'starting'
  | 'stopping'
  | 'deallocating'
  | 'unknown';

/** Parameter values for a deployment (`{ name: { value } }` is built here). */
export type DeploymentParameters = Readonly<Record<string, unknown>>;

export class ArmClient {
  readonly #client: ResourceManagementClient;
  readonly #http: HttpClient = createDefaultHttpClient();
  readonly #options: ArmClientOptions;
  readonly #endpoint: string;

  constructor(credential: TokenCredential, options: ArmClientOptions) {
    this.#options = options;
    this.#endpoint = (options.endpoint ?? 'https://management.azure.com').replace(/\/$/, '');
    this.#client = new ResourceManagementClient(credential, options.subscriptionId, {
      endpoint: this.#endpoint,
      ...(options.ca ? { tlsOptions: { ca: options.ca } } : {}),
      retryOptions: { maxRetries: 3 },
    });
  }

  /** `/subscriptions/S/resourceGroups/G/providers/TYPE/NAME[/CHILD/NAME]`. */
  resourceId(type: string, ...names: string[]): string {
    const [namespace = '', ...types] = type.split('/');
    const segments = types.map((part, index) => `${part}/${names[index] ?? ''}`).join('/');
    return `/subscriptions/${this.#options.subscriptionId}/resourceGroups/${this.#options.resourceGroup}/providers/${namespace}/${segments}`;
  }

  /** Deploys `template` as deployment `name` (Incremental), waiting for it to finish. */
  async deploy(name: string, template: ArmTemplate, parameters: DeploymentParameters = {}): Promise<void> {
    const id = this.resourceId('Microsoft.Resources/deployments', name);
    await this.#call(`deployment ${name}`, () =>
      this.#client.resources.beginCreateOrUpdateByIdAndWait(
        id,
        API_VERSIONS['Microsoft.Resources/deployments'],
        {
          properties: {
            mode: 'Incremental',
            template,
            parameters: Object.fromEntries(
              Object.entries(parameters).map(([key, value]) => [key, { value }]),
            ),
          },
        },
        { updateIntervalInMs: this.#pollMs() },
      ),
    );
  }

  /** The resource, or undefined when ARM answers 404. */
  async get(id: string, type: string): Promise<Record<string, unknown> | undefined> {
    try {
      return (await this.#client.resources.getById(id, apiVersionOf(type))) as Record<string, unknown>;
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return undefined;
      throw armError(`GET ${type}`, error);
    }
  }

  /** Creates or replaces a resource by id (Key Vault secrets through the control plane). */
  async put(id: string, type: string, body: Record<string, unknown>): Promise<void> {
    await this.#call(`PUT ${type}`, () =>
      this.#client.resources.beginCreateOrUpdateByIdAndWait(id, apiVersionOf(type), body, {
        updateIntervalInMs: this.#pollMs(),
      }),
    );
  }

  /** Deletes a resource by id, waiting for it; a resource already gone is not an error. */
  async delete(id: string, type: string): Promise<void> {
    try {
      await this.#client.resources.beginDeleteByIdAndWait(id, apiVersionOf(type), {
        updateIntervalInMs: this.#pollMs(),
      });
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return;
      throw armError(`DELETE ${type}`, error);
    }
  }

  /** POST .../virtualMachines/NAME/ACTION and wait for the operation. */
  async vmAction(vmName: string, action: VmAction, query: Record<string, string> = {}): Promise<void> {
    const id = this.resourceId('Microsoft.Compute/virtualMachines', vmName);
    const search = new URLSearchParams({
      ...query,
      'api-version': API_VERSIONS['Microsoft.Compute/virtualMachines'],
    });
    const response = await this.#send('POST', `${this.#endpoint}${id}/${action}?${search}`);
    if (response.status !== 200 && response.status !== 202)
      throw armError(`${action} ${vmName}`, undefined, response);
    if (response.status === 202) await this.#poll(`${action} ${vmName}`, response);
  }

  /** The VM's power state from its instance view, or undefined when the VM does not exist. */
  async powerState(vmName: string): Promise<PowerState | undefined> {
    const id = this.resourceId('Microsoft.Compute/virtualMachines', vmName);
    const search = new URLSearchParams({ 'api-version': API_VERSIONS['Microsoft.Compute/virtualMachines'] });
    const response = await this.#send('GET', `${this.#endpoint}${id}/instanceView?${search}`);
    if (response.status === 404) return undefined;
    if (response.status !== 200) throw armError(`instanceView ${vmName}`, undefined, response);
    const statuses =
      (JSON.parse(response.bodyAsText ?? '{}') as { statuses?: { code?: string }[] }).statuses ?? [];
    const code = statuses.map((status) => status.code ?? '').find((text) => text.startsWith('PowerState/'));
    const state = code?.slice('PowerState/'.length);
    const known: readonly string[] = [
      'running',
      'stopped',
      'deallocated',
      'starting',
      'stopping',
      'deallocating',
    ];
    return state && known.includes(state) ? (state as PowerState) : 'unknown';
  }

  #pollMs(): number {
    return this.#options.pollIntervalMs ?? 15_000;
  }

  async #call<T>(what: string, operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw armError(what, error);
    }
  }

  async #send(method: 'GET' | 'POST', url: string): Promise<PipelineResponse> {
    const request = createPipelineRequest({ url, method, ...(method === 'POST' ? { body: '{}' } : {}) });
    request.headers.set('content-type', 'application/json');
    return this.#call(`${method} ${new URL(url).pathname}`, () =>
      this.#client.pipeline.sendRequest(this.#http, request),
    );
  }

  /** ARM's asynchronous operation protocol for an action answered 202. */
  async #poll(what: string, accepted: PipelineResponse): Promise<void> {
    const asyncOperation = accepted.headers.get('azure-asyncoperation');
    const location = accepted.headers.get('location');
    const url = asyncOperation ?? location;
    if (!url) throw armError(what, undefined, accepted, 'a 202 without Azure-AsyncOperation or Location');
    const deadline = Date.now() + (this.#options.operationTimeoutMs ?? 3_600_000);
    let last = accepted;
    for (;;) {
      const retryAfter = Number(last.headers.get('retry-after') ?? '1') * 1000;
      await new Promise((done) =>
        setTimeout(done, Math.min(Number.isFinite(retryAfter) ? retryAfter : 1000, this.#pollMs())),
      );
      if (Date.now() > deadline)
        throw armError(what, undefined, last, 'the operation did not finish in time');
      last = await this.#send('GET', url);
      if (asyncOperation) {
        if (last.status !== 200) throw armError(what, undefined, last);
        const body = JSON.parse(last.bodyAsText ?? '{}') as {
          status?: string;
          error?: { code?: string; message?: string };
        };
        if (body.status === 'Succeeded') return;
        if (body.status === 'Failed' || body.status === 'Canceled')
          throw armError(
            what,
            undefined,
            last,
            `${body.status}: ${body.error?.code ?? ''} ${body.error?.message ?? ''}`.trim(),
          );
      } else {
        if (last.status === 200 || last.status === 204) return;
        if (last.status !== 202) throw armError(what, undefined, last);
      }
    }
  }
}

/** A PDK_AZURE_ARM naming the operation, the status and ARM's error code. */
function armError(what: string, cause?: unknown, response?: PipelineResponse, detail?: string): PaddockError {
  const status = response?.status ?? (cause as { statusCode?: number } | undefined)?.statusCode;
  let code = (cause as { code?: string } | undefined)?.code;
  let message = detail ?? (cause as Error | undefined)?.message;
  if (response?.bodyAsText && !detail) {
    try {
      const body = JSON.parse(response.bodyAsText) as { error?: { code?: string; message?: string } };
      code = body.error?.code ?? code;
      message = body.error?.message ?? message;
    } catch {
      message ??= response.bodyAsText.slice(0, 200);
    }
  }
  return new PaddockError(
    'PDK_AZURE_ARM',
    `azure ${what} failed${status ? ` (HTTP ${status})` : ''}${code ? ` ${code}` : ''}${message ? `: ${message}` : ''}`,
    { cause, details: { status, code } },
  );
}
