// oidc-provider ships no types: the small part of its API the embedded IdP uses.
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export interface ProviderGrant {
    readonly jti: string;
    readonly accountId?: string;
    addOIDCScope(scope: string): void;
    addOIDCClaims(claims: readonly string[]): void;
    save(): Promise<string>;
  }

  export interface InteractionDetails {
    readonly uid: string;
    readonly exp: number;
    save(ttlSeconds: number): Promise<string>;
    readonly prompt: { readonly name: string; readonly details: Record<string, unknown> };
    readonly params: Record<string, unknown>;
    readonly session?: { readonly accountId?: string; uid?: string; readonly cookie?: string };
    readonly grantId?: string;
  }

  export interface ProviderContext {
    readonly oidc: {
      readonly client: { readonly clientId: string; readonly clientName?: string };
      readonly session: { readonly accountId?: string; grantIdFor(clientId: string): string | undefined };
      readonly result?: { readonly consent?: { readonly grantId?: string } };
      readonly requestParamScopes: ReadonlySet<string>;
      readonly provider: Provider;
    };
    body: unknown;
    type: string;
    set(header: string, value: string): void;
  }

  export class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>);
    readonly issuer: string;
    proxy: boolean;
    readonly Session: {
      find(id: string): Promise<{ destroy(): Promise<void> } | undefined>;
    };
    readonly Grant: {
      new (init: { accountId?: string; clientId: string }): ProviderGrant;
      find(id: string): Promise<ProviderGrant | undefined>;
    };
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>;
    interactionFinished(
      req: IncomingMessage,
      res: ServerResponse,
      result: Record<string, unknown>,
      options?: { mergeWithLastSubmission?: boolean },
    ): Promise<void>;
    on(event: string, listener: (...args: unknown[]) => void): void;
  }
  export default Provider;
}
