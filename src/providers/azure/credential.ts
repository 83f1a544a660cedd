import type { TokenCredential } from '@azure/core-auth';
import { ManagedIdentityCredential, WorkloadIdentityCredential } from '@azure/identity';
import { PaddockError } from '../../core/errors.ts';
import type { AzureSettings } from './settings.ts';

// How Paddock authenticates to ARM, chosen by settings.auth.mode, never by probing: from CI,
// workload identity federation (the CI's OIDC token exchanged for an Entra token, no secret
// stored); inside Azure, the managed identity of the VM or container the control plane runs in.

export interface AzureCredentialOptions {
  /** Extra CA certificates (PEM) to trust for the authority host (a private cloud's). */
  readonly ca?: string;
}

export function azureCredential(
  auth: AzureSettings['auth'],
  options: AzureCredentialOptions = {},
): TokenCredential {
  try {
    if (auth.mode === 'workload-identity') {
      // Unset fields come from AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_FEDERATED_TOKEN_FILE
      // (and AZURE_AUTHORITY_HOST). Instance discovery is skipped only when the settings say so.
      return new WorkloadIdentityCredential({
        ...(auth.clientId ? { clientId: auth.clientId } : {}),
        ...(auth.tenantId ? { tenantId: auth.tenantId } : {}),
        ...(auth.tokenFilePath ? { tokenFilePath: auth.tokenFilePath } : {}),
        ...(auth.authorityHost ? { authorityHost: auth.authorityHost } : {}),
        ...(auth.disableInstanceDiscovery ? { disableInstanceDiscovery: true } : {}),
        ...(options.ca ? { tlsOptions: { ca: options.ca } } : {}),
      });
    }
    return auth.clientId
      ? new ManagedIdentityCredential({ clientId: auth.clientId })
      : new ManagedIdentityCredential();
  } catch (error) {
    throw new PaddockError(
      'PDK_AZURE_CREDENTIAL',
      `azure ${auth.mode} credential: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}
